//! Throwaway network namespaces for the host and node-ip tests: unique names (pid and a
//! counter), daemons started inside them, and everything removed on drop, also when a test
//! panics. Only documentation and ULA prefixes are used, and nothing leaves the namespaces.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The kube6 binary under test.
pub const KUBE6: &str = env!("CARGO_BIN_EXE_kube6");

/// Full path of a program, also from the sbin directories a non-login PATH may lack.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// Whether this test can run: root and the programs it drives. Under `CI=true` a missing
/// requirement is a failure; elsewhere the test is skipped with the reason printed.
pub fn can_run(test: &str, programs: &[&str]) -> bool {
    let mut missing = Vec::new();
    if !is_root() {
        missing.push("root".to_string());
    }
    for p in ["ip"].iter().chain(programs) {
        if which(p).is_none() {
            missing.push(format!("the program {p}"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = format!("{test} needs {}", missing.join(", "));
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{why}; under CI=true this is a failure, not a skip");
    }
    eprintln!("skipping: {why}");
    false
}

fn run(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn check(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A network namespace with the daemons started in it.
pub struct Netns {
    pub name: String,
    daemons: Vec<Child>,
}

impl Netns {
    /// Creates `k6<tag>-<pid>-<n>` with its loopback up.
    pub fn new(tag: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let name = format!("k6{tag}-{}-{n}", std::process::id());
        check(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns {
            name,
            daemons: Vec::new(),
        };
        ns.ip("link set lo up");
        // A resolver configuration of the namespace's own, so lookups never use the host's.
        ns.etc_file(
            "resolv.conf",
            "nameserver ::1\noptions timeout:1 attempts:1\n",
        );
        ns.etc_file("hosts", "127.0.0.1 localhost\n::1 localhost\n");
        ns
    }

    /// `ip -n NS <args>`, split on whitespace; panics on failure.
    pub fn ip(&self, args: &str) -> Output {
        check(
            Command::new("ip")
                .args(["-n", &self.name])
                .args(args.split_whitespace()),
        )
    }

    /// Runs a command inside the namespace and returns its output, whatever the status.
    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        let program = which(program).unwrap_or_else(|| PathBuf::from(program));
        run(Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(program)
            .args(args))
    }

    /// Runs kube6 inside the namespace.
    pub fn kube6(&self, args: &[&str]) -> Output {
        self.exec(KUBE6, args)
    }

    pub fn sysctl_set(&self, key: &str, value: &str) {
        let out = self.exec("sysctl", &["-q", "-w", &format!("{key}={value}")]);
        assert!(out.status.success(), "sysctl {key}={value}: {out:?}");
    }

    pub fn sysctl(&self, key: &str) -> String {
        let out = self.exec("sysctl", &["-n", key]);
        assert!(out.status.success(), "sysctl {key}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A file `ip netns exec` mounts over `/etc/<name>` in this namespace.
    pub fn etc_file(&self, name: &str, content: &str) {
        let dir = self.etc_dir();
        fs::create_dir_all(&dir).expect("create /etc/netns dir");
        fs::write(dir.join(name), content).expect("write /etc/netns file");
    }

    fn etc_dir(&self) -> PathBuf {
        Path::new("/etc/netns").join(&self.name)
    }

    /// Starts a daemon in the foreground inside the namespace; it is killed on drop.
    pub fn spawn(&mut self, program: &str, args: &[&str]) {
        let program = which(program).unwrap_or_else(|| panic!("{program} not found"));
        let child = Command::new("ip")
            .args(["netns", "exec", &self.name])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn daemon");
        self.daemons.push(child);
    }

    /// Waits until something listens on a UDP port in this namespace.
    pub fn wait_udp_listener(&self, port: u16) {
        wait_for(Duration::from_secs(10), &format!("UDP port {port}"), || {
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

/// Connects two namespaces with a veth pair.
pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    a.ip(&format!(
        "link add {a_if} type veth peer name {b_if} netns {}",
        b.name
    ));
    a.ip(&format!("link set {a_if} up"));
    b.ip(&format!("link set {b_if} up"));
}

pub fn wait_for(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        sleep(Duration::from_millis(100));
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for child in &mut self.daemons {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
        let _ = fs::remove_dir_all(self.etc_dir());
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("kube6-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create temporary directory");
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
