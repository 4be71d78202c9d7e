//! unbound as a DNS64 resolver inside a test namespace: one configuration shape for every test
//! that needs one (host check's DNS64 discovery, the NAT64 check, probe's cluster DNS).

use std::path::Path;

/// unbound's configuration for a DNS64 resolver: in the foreground, without privilege drop,
/// chroot or syslog, answering everyone on `interfaces` (port 53), synthesizing AAAA records
/// with `prefix`. `pidfile` is none when not given; `server_extra` adds lines to the `server:`
/// section (two-space indented), `sections` adds whole sections after it (forward zones,
/// remote control).
pub fn dns64_conf(
    interfaces: &[&str],
    prefix: &str,
    directory: &Path,
    pidfile: Option<&Path>,
    server_extra: &str,
    sections: &str,
) -> String {
    let interfaces: String = interfaces
        .iter()
        .map(|a| format!("  interface: {a}\n"))
        .collect();
    let pidfile = pidfile.map(|p| p.display().to_string()).unwrap_or_default();
    format!(
        "server:
{interfaces}  port: 53
  do-daemonize: no
  username: \"\"
  chroot: \"\"
  pidfile: \"{pidfile}\"
  use-syslog: no
  logfile: \"\"
  directory: \"{}\"
  access-control: 0.0.0.0/0 allow
  access-control: ::/0 allow
  do-not-query-localhost: no
  module-config: \"dns64 iterator\"
  dns64-prefix: {prefix}
{server_extra}{sections}",
        directory.display()
    )
}
