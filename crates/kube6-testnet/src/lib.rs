//! Test networks for kube6: throwaway network namespaces joined by veth pairs, processes started
//! inside them, and (in [`ndp`]) the router ↔ node ↔ pod topology and raw NDP prober the NDP
//! proxy's tests and benchmark use. Not published: it serves kube6's own tests and the
//! `ndp-bench` benchmark binary.
//!
//! - Names are unique per process: `k6-<pid>-<counter>-<tag>`, so tests of several processes (and
//!   several helpers on one machine) run side by side. Namespaces a killed test process left
//!   behind (its pid is gone) are removed the next time a namespace is created.
//! - Everything a test creates is removed when its handle is dropped, also when the test panics:
//!   the processes it started are killed (by the pid this crate got when it started them), then
//!   the namespace and its `/etc/netns/<name>` files are deleted.
//! - Only documentation (2001:db8::/32, 192.0.2.0/24) and ULA (fd00::/8) addresses are used, and
//!   only inside the namespaces: nothing reaches the host's own network or services.
//! - [`require`] decides whether a test can run: root and the programs it drives. Under `CI=true`
//!   a missing requirement fails the test; elsewhere the test is skipped with the reason.

// A test-support crate: a failed setup step is a failed test, so it panics with the reason.
#![allow(clippy::expect_used, clippy::unwrap_used)]

pub mod kube_api;
pub mod ndp;
mod netns;
pub mod probe;
pub mod unbound;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

pub use netns::{Netns, veth};

/// Full path of a program, also from the sbin directories a non-login PATH may lack.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// The effective user is root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Why a test needing root and `programs` (and `ip`, always) cannot run here, if it cannot.
pub fn missing(programs: &[&str]) -> Option<String> {
    let mut missing = Vec::new();
    if !is_root() {
        missing.push("root".to_string());
    }
    for p in ["ip"].iter().chain(programs) {
        if which(p).is_none() {
            missing.push(format!("the program {p}"));
        }
    }
    (!missing.is_empty()).then(|| missing.join(", "))
}

/// Whether `test` can run: root and the programs it drives. Under `CI=true` a missing
/// requirement is a failure (panic); elsewhere the test is skipped, saying why on stderr.
pub fn require(test: &str, programs: &[&str]) -> bool {
    require_that(test, missing(programs))
}

/// Whether `test` can run, given why it cannot (`None`: it can); as [`require`].
pub fn require_that(test: &str, missing: Option<String>) -> bool {
    let Some(why) = missing else {
        return true;
    };
    let why = format!("{test} needs {why}");
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{why}; under CI=true this is a failure, not a skip"
    );
    // Written to the stderr handle directly, so that the test harness does not capture it.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "skipping: {why}");
    false
}

/// Polls `ok` every 100 ms until it holds; panics naming `what` after `limit`.
pub fn wait_for(limit: Duration, what: &str, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        sleep(Duration::from_millis(100));
    }
}

/// A command's status, stdout and stderr, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A command's stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A temporary directory named after the test, removed on drop.
pub fn scratch_dir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("kube6-{tag}-"))
        .tempdir()
        .expect("create a temporary directory")
}

/// The `ndp-bench` binary of this crate (the NDP proxy's thin front end and its benchmark), built
/// by Cargo for the profile the calling test was built with. Built once per process; Cargo finds
/// nothing to do when it is up to date, so tests never run a stale proxy.
pub fn ndp_bench() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let run = escargot::CargoBuild::new()
            .manifest_path(manifest)
            .package("kube6-testnet")
            .bin("ndp-bench")
            .current_release()
            .run()
            .unwrap_or_else(|e| panic!("cannot build ndp-bench: {e}"));
        run.path().to_path_buf()
    })
}
