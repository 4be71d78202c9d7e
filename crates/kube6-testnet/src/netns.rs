//! One network namespace, the processes started in it, and veth pairs between namespaces.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::{describe, which};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The prefix of every namespace this crate names: `k6-<pid>-<counter>-<tag>`.
const PREFIX: &str = "k6-";

/// A name unique to this process (and to this call): `k6-<pid>-<n>-<tag>`.
pub(crate) fn unique_name(tag: &str) -> String {
    sweep_stale();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("{PREFIX}{}-{n}-{tag}", std::process::id())
}

/// Removes the namespaces (and their /etc/netns files) that test processes which no longer exist
/// left behind, once per process: a test killed with SIGKILL cannot clean up after itself. Only
/// names of this crate's form whose pid is gone are touched; namespaces of live processes, other
/// tools and other naming schemes are left alone.
fn sweep_stale() {
    static SWEEP: Once = Once::new();
    SWEEP.call_once(|| {
        let Ok(entries) = fs::read_dir("/var/run/netns") else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix(PREFIX)
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                continue;
            };
            if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
                let _ = Command::new("ip")
                    .args(["netns", "del", &name])
                    .stdin(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                let _ = fs::remove_dir_all(Path::new("/etc/netns").join(&name));
            }
        }
    });
}

/// Runs a command; panics with its output when it fails.
fn check(cmd: &mut Command) -> Output {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", describe(&out));
    out
}

/// A network namespace with its loopback up, duplicate address detection off (addresses are
/// usable at once) and a resolver configuration and hosts file of its own (lookups never use the
/// host's). Deleted on drop, after the processes started in it are killed.
pub struct Netns {
    name: String,
    processes: Vec<Child>,
}

impl Netns {
    /// Creates `k6-<pid>-<n>-<tag>`.
    pub fn new(tag: &str) -> Netns {
        let name = unique_name(tag);
        check(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns {
            name,
            processes: Vec::new(),
        };
        ns.ip("link set lo up");
        ns.sysctl_set("net.ipv6.conf.all.accept_dad", "0");
        ns.sysctl_set("net.ipv6.conf.default.accept_dad", "0");
        ns.etc_file(
            "resolv.conf",
            "nameserver ::1\noptions timeout:1 attempts:1\n",
        );
        ns.etc_file("hosts", "127.0.0.1 localhost\n::1 localhost\n");
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `ip -n NS <args>`, split on whitespace; panics on failure.
    pub fn ip(&self, args: &str) -> Output {
        check(
            Command::new("ip")
                .args(["-n", &self.name])
                .args(args.split_whitespace()),
        )
    }

    /// `ip netns exec NS PROGRAM`, ready for arguments and stdio. A bare program name is looked
    /// up on PATH and in the sbin directories.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let program = program.as_ref();
        let resolved = program
            .to_str()
            .filter(|p| !p.contains('/'))
            .and_then(which)
            .map_or_else(|| program.to_os_string(), PathBuf::into_os_string);
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name])
            .arg(resolved)
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a program inside the namespace and returns its output, whatever the status.
    pub fn exec(&self, program: impl AsRef<OsStr>, args: &[&str]) -> Output {
        let mut cmd = self.command(program);
        cmd.args(args);
        cmd.output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
    }

    /// Runs a program inside the namespace; panics unless it succeeds. Returns its stdout.
    pub fn exec_ok(&self, program: impl AsRef<OsStr>, args: &[&str]) -> String {
        let mut cmd = self.command(program);
        cmd.args(args);
        String::from_utf8_lossy(&check(&mut cmd).stdout).into_owned()
    }

    pub fn sysctl_set(&self, key: &str, value: &str) {
        self.exec_ok("sysctl", &["-q", "-w", &format!("{key}={value}")]);
    }

    pub fn sysctl(&self, key: &str) -> String {
        self.exec_ok("sysctl", &["-n", key]).trim().to_string()
    }

    /// A file `ip netns exec` mounts over `/etc/<name>` in this namespace.
    pub fn etc_file(&self, name: &str, content: &str) {
        let dir = self.etc_dir();
        fs::create_dir_all(&dir).expect("create the /etc/netns directory");
        fs::write(dir.join(name), content).expect("write an /etc/netns file");
    }

    fn etc_dir(&self) -> PathBuf {
        Path::new("/etc/netns").join(&self.name)
    }

    /// Starts a program in the foreground inside the namespace, stdout and stderr to `log` (or,
    /// without one, stdout discarded and stderr the test's, which the harness shows when the test
    /// fails); it is killed when the namespace is dropped. Returns its pid (`ip netns exec`
    /// execs the program, so the pid is the program's).
    pub fn spawn(&mut self, program: impl AsRef<OsStr>, args: &[&str], log: Option<&Path>) -> u32 {
        let mut cmd = self.command(program);
        cmd.args(args);
        match log {
            Some(path) => {
                let file = fs::File::create(path).expect("create the log file");
                cmd.stdout(file.try_clone().expect("clone the log file"))
                    .stderr(file);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::inherit());
            }
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let pid = child.id();
        self.processes.push(child);
        pid
    }

    /// Kills (SIGKILL) a process started with [`Netns::spawn`] and waits for it.
    pub fn kill(&mut self, pid: u32) {
        if let Some(pos) = self.processes.iter().position(|c| c.id() == pid) {
            let mut child = self.processes.remove(pos);
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits until something listens on a UDP port in this namespace.
    pub fn wait_udp_listener(&self, port: u16) {
        crate::wait_for(Duration::from_secs(10), &format!("UDP port {port}"), || {
            let out = self.exec("ss", &["-Hlun", &format!("sport = :{port}")]);
            !String::from_utf8_lossy(&out.stdout).trim().is_empty()
        });
    }

    /// The output of `ip -6 route show default` in this namespace.
    pub fn default_route6(&self) -> String {
        let out = self.ip("-6 route show default");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for child in &mut self.processes {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = fs::remove_dir_all(self.etc_dir());
    }
}

/// Connects two namespaces with a veth pair, both ends up.
pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    a.ip(&format!(
        "link add {a_if} type veth peer name {b_if} netns {}",
        b.name
    ));
    a.ip(&format!("link set {a_if} up"));
    b.ip(&format!("link set {b_if} up"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_carry_the_pid() {
        let a = unique_name("x");
        let b = unique_name("x");
        assert_ne!(a, b);
        assert!(a.starts_with(&format!("k6-{}-", std::process::id())), "{a}");
        assert!(a.ends_with("-x"));
    }

    /// Namespaces and processes go away on drop, also when the test panics.
    #[test]
    fn everything_is_removed_also_on_panic() {
        if !crate::require("testnet cleanup test", &["sleep"]) {
            return;
        }
        let (name, pid) = std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::channel();
            let result = s
                .spawn(move || {
                    let mut ns = Netns::new("panic");
                    let pid = ns.spawn("sleep", &["600"], None);
                    tx.send((ns.name().to_string(), pid)).unwrap();
                    panic!("a test failing half-way");
                })
                .join();
            assert!(result.is_err());
            rx.recv().unwrap()
        });
        assert!(!Path::new("/var/run/netns").join(&name).exists(), "{name}");
        assert!(!Path::new("/etc/netns").join(&name).exists(), "{name}");
        // The process was killed and reaped: its pid is no longer a live sleep.
        let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_ne!(comm.trim(), "sleep", "pid {pid} still runs");
    }
}
