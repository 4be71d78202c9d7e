//! Hostile and unusual input, for every command that reads a file and every command that
//! writes one.
//!
//! Readers: each command that takes a file is run against every kind of input an attacker or an
//! accident hands it (a character device, a FIFO, a symbolic link to /dev/zero, endless standard
//! input, a huge file, binary data, a byte-order mark, CRLF line ends, UTF-16, an empty file, a
//! directory, a file its user cannot read). Each run must end with the exit status the contract
//! gives, a one-line message naming the file, within a few seconds and a few tens of megabytes of
//! memory (the child's peak resident set, from wait4).
//!
//! Writers: each command that writes is pointed at symbolic links, devices, FIFOs and read-only
//! directories inside and around its output; nothing outside the output may change, and a
//! refused render leaves its output directory as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_kube6");
/// The most a run may take: reading is refused up front or cut at a limit.
const TIME_LIMIT: Duration = Duration::from_secs(10);
/// The most memory a run may use (its peak resident set): tens of megabytes, not gigabytes.
const RSS_LIMIT_KB: i64 = 64 * 1024;
/// `nobody`, to read as a user that root's file permissions apply to.
const NOBODY: u32 = 65534;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What a run of the binary did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
    max_rss_kb: i64,
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "exit {:?} after {:?}, peak RSS {} KiB\nstdout: {}\nstderr: {}",
            self.code, self.elapsed, self.max_rss_kb, self.stdout, self.stderr
        )
    }
}

enum Input {
    Null,
    /// An endless stream of `y` lines, as `yes` writes.
    Endless,
}

/// Runs kube6 with `args` (as `nobody` when asked) under GNU time, which measures its peak
/// memory from wait4 (measuring here would count this test process too: a spawned child's
/// high-water mark starts from its parent's until it execs); kills the run's process group (by
/// the id this test gave it) after [`TIME_LIMIT`] and a few seconds more.
fn run(args: &[&str], input: Input, as_nobody: bool) -> Run {
    let rss_file = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new("/usr/bin/time");
    command.args(["-f", "%M", "-o", rss_file.path().to_str().unwrap()]);
    if as_nobody {
        command.args([
            "setpriv".to_string(),
            format!("--reuid={NOBODY}"),
            format!("--regid={NOBODY}"),
            "--clear-groups".to_string(),
        ]);
    }
    command
        .arg(BIN)
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        // A live cluster must never be reached from these tests.
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .process_group(0)
        .stdin(match input {
            Input::Null => Stdio::null(),
            Input::Endless => Stdio::piped(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let feeder = child.stdin.take().map(|mut stdin| {
        std::thread::spawn(move || {
            let chunk = b"y\n".repeat(32 << 10);
            // Until the reader stops reading (EPIPE).
            while stdin.write_all(&chunk).is_ok() {}
        })
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stdout, &mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let mut killed = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if !killed && started.elapsed() > TIME_LIMIT + Duration::from_secs(5) {
            // SAFETY: signals the process group this test created for the run.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    let max_rss_kb = std::fs::read_to_string(rss_file.path())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse::<i64>().ok())
        .next_back()
        .unwrap_or(i64::MAX);
    Run {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed,
        max_rss_kb,
    }
}

/// A kube6 configuration every configuration-reading command accepts.
fn good_config() -> String {
    std::fs::read_to_string(root().join("examples/kube6-ipv6-single-stack.yaml")).unwrap()
}

const GOOD_DUMP: &str = r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp1"},
   "spec": {"podCIDRs": ["2001:db8:7:1:a::/117"]},
   "status": {"addresses": [{"type": "InternalIP", "address": "2001:db8:7:1::10"}]}}
]}
"#;

const GOOD_NDP: &str = "uplink: n0\nmetrics: off\nprefixes:\n  - 2001:db8:1::/64\n";

/// A kubeconfig that reads fine and names a context it does not have: the command gets past
/// reading and stops at "cannot use", touching no network.
const GOOD_KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\ncurrent-context: nowhere\n";

/// What reading a hostile input must end in.
#[derive(Clone, Copy)]
enum Expect {
    /// Exit 2, one line naming the input, containing this text.
    Refused(&'static str),
    /// Read: the command went on (exit in the set), with no reading error on stderr.
    Read(&'static [i32]),
}

/// A command that reads a file, with what its good input is and what it makes of it.
struct Reader {
    name: &'static str,
    /// The arguments, with `{}` where the file goes.
    args: &'static [&'static str],
    good: fn() -> String,
    /// Exit statuses of a good input (some commands look at this host after reading).
    good_exits: &'static [i32],
    /// The input is a dump (its own reader: YAML or JSON, no UTF-16).
    dump: bool,
    /// The command also takes standard input as `-`.
    stdin: bool,
}

fn readers() -> Vec<Reader> {
    vec![
        Reader {
            name: "validate",
            args: &["validate", "{}"],
            good: good_config,
            good_exits: &[0],
            dump: false,
            stdin: true,
        },
        Reader {
            name: "plan",
            args: &["plan", "{}"],
            good: good_config,
            good_exits: &[0],
            dump: false,
            stdin: true,
        },
        Reader {
            name: "plan -o json",
            args: &["plan", "{}", "-o", "json"],
            good: good_config,
            good_exits: &[0],
            dump: false,
            stdin: true,
        },
        Reader {
            name: "render --dry-run",
            args: &["render", "{}", "--target", "k0s", "--dry-run"],
            good: good_config,
            good_exits: &[0],
            dump: false,
            stdin: true,
        },
        Reader {
            name: "convert",
            args: &["convert", "{}", "--to", "kubeadm"],
            good: good_config,
            good_exits: &[0, 1],
            dump: false,
            stdin: true,
        },
        Reader {
            name: "verify --dump",
            args: &["verify", "--dump", "{}"],
            good: || GOOD_DUMP.to_string(),
            good_exits: &[0, 1],
            dump: true,
            stdin: true,
        },
        Reader {
            name: "verify --plan",
            args: &["verify", "--plan", "{}", "--dump", "{dump}"],
            good: good_config,
            good_exits: &[0, 1],
            dump: false,
            stdin: true,
        },
        Reader {
            name: "verify --kubeconfig",
            args: &["verify", "--kubeconfig", "{}"],
            good: || GOOD_KUBECONFIG.to_string(),
            good_exits: &[2],
            dump: false,
            stdin: false,
        },
        Reader {
            name: "ndp-proxy --config",
            args: &["ndp-proxy", "--config", "{}", "--check"],
            good: || GOOD_NDP.to_string(),
            good_exits: &[0],
            dump: false,
            stdin: true,
        },
        Reader {
            name: "ndp-proxy --plan",
            args: &["ndp-proxy", "--plan", "{}", "--check"],
            good: good_config,
            good_exits: &[0],
            dump: false,
            stdin: true,
        },
        Reader {
            name: "host check --plan",
            args: &[
                "host",
                "check",
                "--plan",
                "{}",
                "--root",
                "/nonexistent-root",
                "--proc-sys",
                "/nonexistent-proc",
            ],
            good: good_config,
            good_exits: &[0, 1, 2],
            dump: false,
            stdin: true,
        },
        Reader {
            name: "node-ip --plan",
            args: &["node-ip", "--plan", "{}"],
            good: good_config,
            good_exits: &[0, 1, 2],
            dump: false,
            stdin: true,
        },
    ]
}

/// A hostile input: how to make it, and what each kind of reader must make of it.
struct Hostile {
    name: &'static str,
    /// Run as nobody (for the unreadable file).
    as_nobody: bool,
    make: fn(&Path, &Reader) -> String,
    expect: fn(&Reader) -> Expect,
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

fn utf16le(text: &str) -> Vec<u8> {
    [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect()
}

fn hostiles() -> Vec<Hostile> {
    vec![
        Hostile {
            name: "character device",
            as_nobody: false,
            make: |_, _| "/dev/zero".to_string(),
            expect: |_| Expect::Refused("is a character device"),
        },
        Hostile {
            name: "FIFO",
            as_nobody: false,
            make: |dir, _| {
                let path = dir.join("fifo.yaml");
                let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
                // SAFETY: a valid NUL-terminated path.
                assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
                path.display().to_string()
            },
            expect: |_| Expect::Refused("is a named pipe (FIFO)"),
        },
        Hostile {
            name: "symlink to /dev/zero",
            as_nobody: false,
            make: |dir, _| {
                let path = dir.join("zero.yaml");
                std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
                path.display().to_string()
            },
            expect: |_| Expect::Refused("is a symbolic link to a character device"),
        },
        Hostile {
            name: "endless standard input",
            as_nobody: false,
            make: |_, _| "-".to_string(),
            expect: |r| {
                if r.dump {
                    Expect::Refused("neither JSON nor a YAML mapping")
                } else if r.stdin {
                    Expect::Refused("larger than 16 MiB")
                } else {
                    Expect::Refused("takes a file, not standard input")
                }
            },
        },
        Hostile {
            name: "huge file",
            as_nobody: false,
            make: |dir, _| {
                // Sparse: 64 GiB on paper, nothing on disk.
                let path = dir.join("huge.yaml");
                let f = std::fs::File::create(&path).unwrap();
                f.set_len(64 << 30).unwrap();
                path.display().to_string()
            },
            expect: |_| Expect::Refused("is larger than"),
        },
        Hostile {
            name: "binary",
            as_nobody: false,
            make: |dir, _| {
                write(
                    dir,
                    "binary.yaml",
                    b"\x7fELF\x02\x01\x01\x00\x00\x00\x00garbage\xff\xfe",
                )
            },
            expect: |r| {
                if r.dump {
                    Expect::Refused("binary data")
                } else {
                    Expect::Refused("is not text: binary data")
                }
            },
        },
        Hostile {
            name: "byte-order mark",
            as_nobody: false,
            make: |dir, r| {
                let mut bytes = vec![0xEF, 0xBB, 0xBF];
                bytes.extend((r.good)().into_bytes());
                write(dir, "bom.yaml", &bytes)
            },
            expect: |r| Expect::Read(r.good_exits),
        },
        Hostile {
            name: "CRLF line ends",
            as_nobody: false,
            make: |dir, r| {
                write(
                    dir,
                    "crlf.yaml",
                    (r.good)().replace('\n', "\r\n").as_bytes(),
                )
            },
            expect: |r| Expect::Read(r.good_exits),
        },
        Hostile {
            name: "UTF-16",
            as_nobody: false,
            make: |dir, r| write(dir, "utf16.yaml", &utf16le(&(r.good)())),
            expect: |r| {
                if r.dump {
                    // kubectl dumps are UTF-8; the reader says how to write one.
                    Expect::Refused("UTF-16")
                } else {
                    Expect::Read(r.good_exits)
                }
            },
        },
        Hostile {
            name: "empty",
            as_nobody: false,
            make: |dir, _| write(dir, "empty.yaml", b""),
            expect: |r| match r.name {
                "verify --dump" => Expect::Refused("empty"),
                "verify --kubeconfig" => Expect::Refused("cannot use the kubeconfig"),
                "ndp-proxy --config" => Expect::Refused("holds no configuration"),
                _ => Expect::Refused("holds no YAML document"),
            },
        },
        Hostile {
            name: "directory",
            as_nobody: false,
            make: |dir, _| {
                let path = dir.join("a-directory.yaml");
                std::fs::create_dir(&path).unwrap();
                path.display().to_string()
            },
            expect: |_| Expect::Refused("is a directory"),
        },
        Hostile {
            name: "unreadable",
            as_nobody: true,
            make: |dir, r| {
                let path = write(dir, "secret.yaml", (r.good)().as_bytes());
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
                path
            },
            expect: |_| Expect::Refused("Permission denied"),
        },
    ]
}

#[test]
fn every_reader_survives_every_hostile_input() {
    if !kube6_testnet::require("hostile inputs", &["setpriv", "time"]) {
        return;
    }
    // The good dump for `verify --plan`.
    let dump_dir = tempfile::tempdir().unwrap();
    let dump = dump_dir.path().join("cluster.json");
    std::fs::write(&dump, GOOD_DUMP).unwrap();
    let dump = dump.display().to_string();
    let mut failures = Vec::new();
    for reader in readers() {
        for hostile in hostiles() {
            if hostile.name == "endless standard input"
                && !reader.stdin
                && reader.name != "verify --kubeconfig"
            {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            // nobody needs to reach the file (and its directory) to be refused by its mode.
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            let file = (hostile.make)(dir.path(), &reader);
            let args: Vec<&str> = reader
                .args
                .iter()
                .map(|a| match *a {
                    "{}" => file.as_str(),
                    "{dump}" => dump.as_str(),
                    other => other,
                })
                .collect();
            let input = if file == "-" {
                Input::Endless
            } else {
                Input::Null
            };
            let run = run(&args, input, hostile.as_nobody);
            let label = format!("{} / {}", reader.name, hostile.name);
            let mut problems = Vec::new();
            if run.elapsed > TIME_LIMIT {
                problems.push(format!("took {:?}", run.elapsed));
            }
            if run.max_rss_kb > RSS_LIMIT_KB {
                problems.push(format!("used {} KiB", run.max_rss_kb));
            }
            match (hostile.expect)(&reader) {
                Expect::Refused(text) => {
                    let lines: Vec<&str> = run.stderr.lines().collect();
                    if run.code != Some(2) {
                        problems.push("exit status is not 2".to_string());
                    }
                    if lines.len() != 1 {
                        problems.push(format!("{} lines on stderr, not one", lines.len()));
                    }
                    let shown = if file == "-" {
                        "standard input"
                    } else {
                        file.as_str()
                    };
                    let named = run.stderr.contains(shown)
                        // `--kubeconfig -` is refused for the flag, not for a file.
                        || (reader.name == "verify --kubeconfig" && file == "-");
                    if !named {
                        problems.push(format!("the message does not name {shown}"));
                    }
                    if !run.stderr.contains(text) {
                        problems.push(format!("the message lacks {text:?}"));
                    }
                    if !run.stdout.is_empty() && !reader.args.contains(&"json") {
                        problems.push("wrote to stdout".to_string());
                    }
                }
                Expect::Read(exits) => {
                    if !run.code.is_some_and(|c| exits.contains(&c)) {
                        problems.push(format!("exit status not in {exits:?}"));
                    }
                    for word in ["is not text", "cannot read", "not UTF-8", "placeholder"] {
                        if run.stderr.contains(word) {
                            problems.push(format!("stderr says {word:?}"));
                        }
                    }
                }
            }
            if !problems.is_empty() {
                failures.push(format!(
                    "{label}: {}\n{}",
                    problems.join("; "),
                    run.describe()
                ));
            } else if std::env::var_os("KUBE6_TEST_SHOW").is_some() {
                // KUBE6_TEST_SHOW=1 cargo test --test hostile -- --nocapture: every message.
                println!("{label}: {}", run.describe());
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// Every entry under `dir` (not following links), with file contents and modes: compared before
/// and after a write.
fn snapshot(dir: &Path) -> BTreeMap<String, String> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let path = e.unwrap().path();
            let rel = path.strip_prefix(base).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let t = meta.file_type();
            let what = if t.is_symlink() {
                format!("-> {}", std::fs::read_link(&path).unwrap().display())
            } else if t.is_dir() {
                walk(base, &path, out);
                format!("dir {:o}", meta.mode() & 0o7777)
            } else if t.is_file() {
                format!(
                    "file {:o} {}",
                    meta.mode() & 0o7777,
                    std::fs::read_to_string(&path).unwrap_or_else(|_| "<binary>".into())
                )
            } else {
                format!("special {:o} rdev {}", meta.mode(), meta.rdev())
            };
            out.insert(rel, what);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

/// A character device node like /dev/null (1:3), made here so that nothing real is at stake.
fn mknull(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path; root may make device nodes.
    let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
    assert_eq!(made, 0, "mknod {}", path.display());
}

fn chown_nobody(path: &Path) {
    std::os::unix::fs::chown(path, Some(NOBODY), Some(NOBODY)).unwrap();
}

/// One hazard around an output: how to set it up (in `world`, which holds `out` and
/// `outside`), whether to run as nobody, and the exit statuses allowed.
struct Hazard {
    name: &'static str,
    setup: fn(world: &Path, out: &Path, outside: &Path),
    as_nobody: bool,
    exits: &'static [i32],
}

/// The files `render --target k0s` writes for the example, to place hazards on.
const RENDERED_FILE: &str = "k0s/k0s.yaml";
const RENDERED_SUBDIR: &str = "host/cp1";

fn render_hazards() -> Vec<Hazard> {
    vec![
        Hazard {
            name: "symlinked subdirectory pointing outside",
            setup: |_, out, outside| {
                std::fs::create_dir_all(out.join("host")).unwrap();
                std::os::unix::fs::symlink(outside, out.join(RENDERED_SUBDIR)).unwrap();
            },
            as_nobody: false,
            exits: &[2],
        },
        Hazard {
            name: "symlinked file pointing outside",
            setup: |_, out, outside| {
                std::fs::create_dir_all(out.join("k0s")).unwrap();
                std::os::unix::fs::symlink(outside.join("victim"), out.join(RENDERED_FILE))
                    .unwrap();
            },
            as_nobody: false,
            exits: &[2],
        },
        Hazard {
            name: "symlink to /dev/null where a file goes",
            setup: |_, out, _| {
                std::fs::create_dir_all(out.join("k0s")).unwrap();
                std::os::unix::fs::symlink("/dev/null", out.join(RENDERED_FILE)).unwrap();
            },
            as_nobody: false,
            exits: &[2],
        },
        Hazard {
            name: "FIFO where a file goes",
            setup: |_, out, _| {
                std::fs::create_dir_all(out.join("k0s")).unwrap();
                mkfifo(&out.join(RENDERED_FILE));
            },
            as_nobody: false,
            exits: &[2],
        },
        Hazard {
            name: "device node where a file goes",
            setup: |_, out, _| {
                std::fs::create_dir_all(out.join("k0s")).unwrap();
                mknull(&out.join(RENDERED_FILE));
            },
            as_nobody: false,
            exits: &[2],
        },
        Hazard {
            name: "read-only subdirectory",
            setup: |world, out, _| {
                for d in [
                    world.to_path_buf(),
                    out.to_path_buf(),
                    out.join("host"),
                    out.join(RENDERED_SUBDIR),
                ] {
                    std::fs::create_dir_all(&d).unwrap();
                    chown_nobody(&d);
                }
                std::fs::set_permissions(
                    out.join(RENDERED_SUBDIR),
                    std::fs::Permissions::from_mode(0o555),
                )
                .unwrap();
            },
            as_nobody: true,
            exits: &[1],
        },
        Hazard {
            name: "output directory is a symbolic link to a device",
            setup: |_, out, _| std::os::unix::fs::symlink("/dev/null", out).unwrap(),
            as_nobody: false,
            exits: &[2],
        },
    ]
}

fn convert_hazards() -> Vec<Hazard> {
    vec![
        Hazard {
            name: "symlink pointing outside",
            setup: |_, out, outside| {
                std::os::unix::fs::symlink(outside.join("victim"), out).unwrap()
            },
            as_nobody: false,
            exits: &[2],
        },
        Hazard {
            name: "symlink to /dev/null",
            setup: |_, out, _| std::os::unix::fs::symlink("/dev/null", out).unwrap(),
            as_nobody: false,
            exits: &[2],
        },
        Hazard {
            name: "FIFO",
            setup: |_, out, _| mkfifo(out),
            as_nobody: false,
            exits: &[2],
        },
        Hazard {
            name: "device node",
            setup: |_, out, _| mknull(out),
            as_nobody: false,
            exits: &[2],
        },
        Hazard {
            name: "read-only directory",
            setup: |world, _, _| {
                chown_nobody(world);
                std::fs::set_permissions(world, std::fs::Permissions::from_mode(0o555)).unwrap();
            },
            as_nobody: true,
            exits: &[1],
        },
    ]
}

#[test]
fn writers_never_touch_anything_outside_their_output() {
    if !kube6_testnet::require("hostile outputs", &["setpriv", "time"]) {
        return;
    }
    let example = root().join("examples/kube6-ipv6-single-stack.yaml");
    let example = example.to_str().unwrap();
    let mut failures = Vec::new();
    let mut check =
        |label: String, hazard: &Hazard, args: &dyn Fn(&str) -> Vec<String>, out_name: &str| {
            for force in [false, true] {
                let top = tempfile::tempdir().unwrap();
                std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o755))
                    .unwrap();
                // `world` holds the output; `outside` holds what must not change.
                let world = top.path().join("world");
                let outside = top.path().join("outside");
                std::fs::create_dir_all(&world).unwrap();
                std::fs::create_dir_all(&outside).unwrap();
                std::fs::write(outside.join("victim"), "keep me\n").unwrap();
                let out = world.join(out_name);
                (hazard.setup)(&world, &out, &outside);
                let before_outside = snapshot(&outside);
                let before_world = snapshot(&world);
                let mut argv = args(out.to_str().unwrap());
                if force {
                    argv.push("--force".to_string());
                }
                let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
                let run = run(&argv, Input::Null, hazard.as_nobody);
                let label = format!(
                    "{label} / {}{}",
                    hazard.name,
                    if force { " --force" } else { "" }
                );
                let mut problems = Vec::new();
                if !run.code.is_some_and(|c| hazard.exits.contains(&c)) {
                    problems.push(format!("exit status not in {:?}", hazard.exits));
                }
                if run.elapsed > TIME_LIMIT {
                    problems.push(format!("took {:?}", run.elapsed));
                }
                if snapshot(&outside) != before_outside {
                    problems.push(format!("changed what is outside: {:?}", snapshot(&outside)));
                }
                // All or nothing: a refused write leaves the output as it was.
                if snapshot(&world) != before_world {
                    problems.push(format!(
                        "changed the output: {:?} -> {:?}",
                        before_world,
                        snapshot(&world)
                    ));
                }
                if !run.stderr.contains("nothing was written") {
                    problems.push("does not say that nothing was written".to_string());
                }
                // Renderer notes (`note: ...`) may come first; the failure is one line.
                if run
                    .stderr
                    .lines()
                    .filter(|l| l.starts_with("kube6:"))
                    .count()
                    != 1
                {
                    problems.push("not one error line on stderr".to_string());
                }
                if !problems.is_empty() {
                    failures.push(format!(
                        "{label}: {}\n{}",
                        problems.join("; "),
                        run.describe()
                    ));
                }
            }
        };
    for hazard in render_hazards() {
        check(
            "render".to_string(),
            &hazard,
            &|out| {
                vec![
                    "render".into(),
                    example.into(),
                    "--target".into(),
                    "k0s".into(),
                    "--out".into(),
                    out.into(),
                ]
            },
            "out",
        );
    }
    for hazard in convert_hazards() {
        check(
            "convert".to_string(),
            &hazard,
            &|out| {
                vec![
                    "convert".into(),
                    example.into(),
                    "--to".into(),
                    "k0s".into(),
                    "--out".into(),
                    out.into(),
                ]
            },
            "k0s.yaml",
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn a_render_that_succeeds_says_exactly_what_it_wrote() {
    let top = tempfile::tempdir().unwrap();
    let out = top.path().join("out");
    let example = root().join("examples/kube6-ipv6-single-stack.yaml");
    let args = [
        "render",
        example.to_str().unwrap(),
        "--target",
        "k0s",
        "--out",
        out.to_str().unwrap(),
    ];
    let first = run(&args, Input::Null, false);
    assert_eq!(first.code, Some(0), "{}", first.describe());
    let written: Vec<String> = snapshot(&out)
        .into_iter()
        .filter(|(_, what)| what.starts_with("file"))
        .map(|(path, _)| path)
        .collect();
    let listed: Vec<String> = first
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.trim().to_string())
        .collect();
    assert_eq!(listed, written, "{}", first.describe());
    // Again: refused as a whole without --force; with it, every file is listed as replaced, and
    // a file kube6 does not render is left alone.
    std::fs::write(out.join("mine.txt"), "mine\n").unwrap();
    let again = run(&args, Input::Null, false);
    assert_eq!(again.code, Some(2), "{}", again.describe());
    assert!(
        again.stderr.contains("nothing was written"),
        "{}",
        again.describe()
    );
    let mut forced: Vec<&str> = args.to_vec();
    forced.push("--force");
    let replaced = run(&forced, Input::Null, false);
    assert_eq!(replaced.code, Some(0), "{}", replaced.describe());
    assert!(
        replaced.stdout.starts_with(&format!(
            "wrote {} files for k0s to {} (0 new, {} replaced)",
            written.len(),
            out.display(),
            written.len()
        )),
        "{}",
        replaced.describe()
    );
    assert!(
        replaced
            .stdout
            .lines()
            .skip(1)
            .all(|l| l.ends_with("(replaced)"))
    );
    assert_eq!(
        std::fs::read_to_string(out.join("mine.txt")).unwrap(),
        "mine\n"
    );
}

#[test]
fn ndp_proxy_without_cap_net_raw_stops_with_a_clear_error() {
    if !kube6_testnet::require("ndp-proxy without CAP_NET_RAW", &["setpriv", "time"]) {
        return;
    }
    let run = run(
        &[
            "ndp-proxy",
            "--uplink",
            "lo",
            "--prefix",
            "2001:db8:1::/64",
            "--metrics",
            "off",
        ],
        Input::Null,
        true,
    );
    assert_eq!(run.code, Some(1), "{}", run.describe());
    assert!(run.stderr.contains("CAP_NET_RAW"), "{}", run.describe());
    assert!(run.elapsed < TIME_LIMIT, "{}", run.describe());
}

#[test]
fn ndp_proxy_reports_a_missing_uplink() {
    if !kube6_testnet::require("ndp-proxy missing uplink", &["unshare"]) {
        return;
    }
    // In a network namespace of its own, where no `up0` exists.
    let mut child = Command::new("unshare")
        .args([
            "--net",
            BIN,
            "ndp-proxy",
            "--uplink",
            "up0",
            "--prefix",
            "2001:db8:1::/64",
            "--metrics",
            "off",
        ])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + TIME_LIMIT;
    let mut seen = Vec::new();
    let found = loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) if line.contains("the uplink does not exist") && line.contains("up0") => {
                break true;
            }
            Ok(line) => seen.push(line),
            Err(_) => break false,
        }
    };
    // Stopped by its pid: SIGTERM ends the daemon cleanly.
    // SAFETY: signals our own child, not yet reaped.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = child.wait().unwrap();
    assert!(
        found,
        "no word about the missing uplink:\n{}",
        seen.join("\n")
    );
    assert!(status.success() || status.code() == Some(0), "{status:?}");
}

#[test]
fn machine_readable_output_is_whole_or_absent() {
    if !kube6_testnet::require("machine-readable output", &["time", "unshare"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.yaml", b"a: [\n");
    let invalid = write(
        dir.path(),
        "invalid.yaml",
        b"apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [fd00:10::/56]\n  services: [10.96.0.0/12]\n",
    );
    let dump = write(dir.path(), "cluster.json", GOOD_DUMP.as_bytes());
    let broken_dump = write(
        dir.path(),
        "broken.json",
        b"{\"kind\": \"List\", \"items\": [5]}",
    );
    let example = root().join("examples/kube6-ipv6-single-stack.yaml");
    let example = example.to_str().unwrap();
    let fake_root = dir.path().join("root");
    std::fs::create_dir_all(&fake_root).unwrap();
    let fake_root = fake_root.to_str().unwrap();
    let cases: Vec<Vec<&str>> = vec![
        vec!["plan", example, "-o", "json"],
        vec!["plan", &invalid, "-o", "json"],
        vec!["plan", &bad, "-o", "json"],
        vec!["plan", &invalid, "-o", "yaml"],
        vec!["validate", example, &bad, "/nonexistent.yaml", "-o", "json"],
        vec!["validate", &bad, "-o", "json"],
        vec!["convert", example, "--to", "k3s", "-o", "json"],
        vec!["convert", &invalid, "--to", "k3s", "-o", "json"],
        vec!["convert", &bad, "--to", "k3s", "-o", "json"],
        vec!["verify", "--dump", &dump, "-o", "json"],
        vec!["verify", "--dump", &broken_dump, "-o", "json"],
        vec!["verify", "--dump", &dump, "--plan", &bad, "-o", "json"],
        vec!["rules", "-o", "json"],
    ];
    let mut failures = Vec::new();
    let mut judge = |label: String, run: Run, yaml: bool| {
        let parsed = if yaml {
            serde_saphyr::from_str::<serde_json::Value>(&run.stdout).is_ok()
        } else {
            serde_json::from_str::<serde_json::Value>(&run.stdout).is_ok()
        };
        // Whole or absent: a complete document, or nothing. A command that ran to its end
        // (exit 0, or 1 for a report: plan, validate, verify, host, node-ip) prints its
        // document; validate reports every file, the unreadable ones too (exit 2); convert
        // prints nothing when it refuses (exit 1), and no command prints anything when it
        // cannot run to its end (exit 2).
        let report = !label.starts_with("convert");
        let whole = match run.code {
            Some(0) => parsed,
            Some(1) if report => parsed,
            Some(1) => run.stdout.is_empty(),
            Some(2) if label.starts_with("validate") => parsed,
            Some(2) => run.stdout.is_empty(),
            _ => false,
        };
        if !whole {
            failures.push(format!("{label}: {}", run.describe()));
        }
    };
    for args in &cases {
        let yaml = args.contains(&"yaml");
        judge(args.join(" "), run(args, Input::Null, false), yaml);
    }
    // Host and node-ip look at this machine: in an empty network namespace of their own.
    for args in [
        vec![
            "host",
            "check",
            "--root",
            fake_root,
            "--proc-sys",
            fake_root,
            "-o",
            "json",
        ],
        vec!["host", "check", "--plan", &bad, "-o", "json"],
        vec!["node-ip", "-o", "json"],
        vec!["node-ip", "--plan", &bad, "-o", "json"],
    ] {
        let mut argv = vec!["--net", BIN];
        argv.extend(&args);
        let out = Command::new("unshare")
            .args(&argv)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            elapsed: Duration::ZERO,
            max_rss_kb: 0,
        };
        judge(args.join(" "), run, false);
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn host_fix_never_writes_through_links_or_onto_devices() {
    if !kube6_testnet::require("host fix hazards", &["unshare"]) {
        return;
    }
    type Setup = fn(&Path, &Path, &Path);
    let hazards: [(&str, Setup); 4] = [
        (
            "its sysctl file is a symbolic link pointing outside",
            |root, _, outside| {
                std::os::unix::fs::symlink(
                    outside.join("victim"),
                    root.join("etc/sysctl.d/90-kube6.conf"),
                )
                .unwrap();
            },
        ),
        ("its sysctl file is a FIFO", |root, _, _| {
            mkfifo(&root.join("etc/sysctl.d/90-kube6.conf"));
        }),
        ("its sysctl file is a device node", |root, _, _| {
            mknull(&root.join("etc/sysctl.d/90-kube6.conf"));
        }),
        (
            "a kernel parameter is a symbolic link pointing outside",
            |_, proc_sys, outside| {
                let p = proc_sys.join("net/ipv6/conf/all/forwarding");
                std::fs::remove_file(&p).unwrap();
                std::os::unix::fs::symlink(outside.join("victim"), &p).unwrap();
            },
        ),
    ];
    let mut failures = Vec::new();
    for (name, setup) in hazards {
        let top = tempfile::tempdir().unwrap();
        let root = top.path().join("root");
        let proc_sys = top.path().join("proc/sys");
        let outside = top.path().join("outside");
        std::fs::create_dir_all(root.join("etc/sysctl.d")).unwrap();
        std::fs::create_dir_all(proc_sys.join("net/ipv6/conf/all")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(proc_sys.join("net/ipv6/conf/all/forwarding"), "0\n").unwrap();
        std::fs::write(outside.join("victim"), "keep me\n").unwrap();
        setup(&root, &proc_sys, &outside);
        let before = snapshot(&outside);
        // In an empty network namespace: host fix reads the interfaces there, not the host's.
        let started = Instant::now();
        let out = Command::new("unshare")
            .args([
                "--net",
                BIN,
                "host",
                "fix",
                "--hostname",
                "localhost",
                "--root",
            ])
            .arg(&root)
            .arg("--proc-sys")
            .arg(&proc_sys)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let mut problems = Vec::new();
        if out.status.code() != Some(1) {
            problems.push(format!("exit {:?}", out.status.code()));
        }
        if started.elapsed() > TIME_LIMIT {
            problems.push("too slow (blocked on a FIFO?)".to_string());
        }
        if snapshot(&outside) != before {
            problems.push("changed what is outside".to_string());
        }
        if !stderr.contains("regular files") && !stderr.contains("symbolic link") {
            problems.push("does not say why".to_string());
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}\n{stderr}", problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}
