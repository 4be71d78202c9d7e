//! Kernel parameters: runtime values under a `/proc/sys` directory and persisted values in the
//! files `sysctl --system` and `systemd-sysctl` read at boot.

use std::fmt;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use crate::Error;

/// A sysctl name, kept as its path components so that interface names with dots
/// (`eth0.100`) survive. Shown with dots, or with slashes when a component has a dot, as
/// `sysctl.d(5)` allows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub Vec<String>);

impl Key {
    /// Parses `net.ipv6.conf.all.forwarding` or `net/ipv6/conf/eth0.100/forwarding`.
    pub fn parse(s: &str) -> Key {
        let s = s.trim();
        let slash_first = match (s.find('/'), s.find('.')) {
            (Some(slash), Some(dot)) => slash < dot,
            (Some(_), None) => true,
            _ => false,
        };
        let sep = if slash_first { '/' } else { '.' };
        Key(s
            .split(sep)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect())
    }

    /// `net.ipv6.conf.<iface>.<name>`.
    pub fn ipv6_conf(iface: &str, name: &str) -> Key {
        Key(["net", "ipv6", "conf", iface, name]
            .iter()
            .map(|c| c.to_string())
            .collect())
    }

    /// The file under a `/proc/sys` directory.
    pub fn path_under(&self, proc_sys: &Path) -> PathBuf {
        self.0.iter().fold(proc_sys.to_path_buf(), |p, c| p.join(c))
    }

    /// Whether a (possibly globbed) key from a configuration file names this key.
    pub fn matched_by(&self, pattern: &Key) -> bool {
        pattern.0.len() == self.0.len()
            && pattern
                .0
                .iter()
                .zip(&self.0)
                .all(|(p, c)| glob_match(p.as_bytes(), c.as_bytes()))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.0.iter().any(|c| c.contains('.')) {
            "/"
        } else {
            "."
        };
        f.write_str(&self.0.join(sep))
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `*` and `?` as in shell globs, the only patterns `systemd-sysctl` supports.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|i| glob_match(rest, &text[i..])),
        Some((b'?', rest)) => !text.is_empty() && glob_match(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob_match(rest, &text[1..]),
    }
}

/// Values compare the way the kernel prints them: whitespace-separated fields.
pub fn normalize(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// How much of a sysctl configuration file kube6 reads (they hold a few lines).
pub const FILE_LIMIT: kube6_fs::Limit = kube6_fs::Limit {
    bytes: 4 << 20,
    what: "a sysctl configuration file",
    raise: None,
};

/// How much of one `/proc` value kube6 reads (the longest, /proc/cmdline, are a few KiB).
pub(crate) const VALUE_LIMIT: kube6_fs::Limit = kube6_fs::Limit {
    bytes: 64 << 10,
    what: "a kernel parameter",
    raise: None,
};

/// Reads `path` as text; None when it does not exist.
fn read_optional(path: &Path, limit: &kube6_fs::Limit) -> Result<Option<String>, Error> {
    match kube6_fs::read::text(path, limit) {
        Ok(text) => Ok(Some(text.text)),
        Err(kube6_fs::ReadError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The runtime values: the files under a `/proc/sys` directory (the real one, or a copy for
/// tests and image builds).
#[derive(Debug, Clone)]
pub struct Runtime {
    pub dir: PathBuf,
}

impl Runtime {
    /// The value, or `None` when the parameter does not exist (module not loaded, IPv6 off, no
    /// such interface).
    pub fn read(&self, key: &Key) -> Result<Option<String>, Error> {
        let path = key.path_under(&self.dir);
        Ok(read_optional(&path, &VALUE_LIMIT)?.map(|v| normalize(&v)))
    }

    pub fn write(&self, key: &Key, value: &str) -> Result<(), Error> {
        let path = key.path_under(&self.dir);
        Ok(kube6_fs::write::overwrite_existing(
            &path,
            format!("{value}\n").as_bytes(),
        )?)
    }
}

/// One `key = value` line of a sysctl configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub key: Key,
    pub value: String,
    pub file: PathBuf,
    pub line: usize,
}

/// Every persisted setting, in the order they are applied at boot (later wins).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Persisted {
    pub entries: Vec<Entry>,
}

/// Directories of `sysctl.d(5)`, highest precedence first: a file name in an earlier directory
/// hides the same name in later ones.
pub const SYSCTL_DIRS: [&str; 5] = [
    "etc/sysctl.d",
    "run/sysctl.d",
    "usr/local/lib/sysctl.d",
    "usr/lib/sysctl.d",
    "lib/sysctl.d",
];

impl Persisted {
    /// Reads the files under `root` (`/` on a live system): every `*.conf` of [`SYSCTL_DIRS`]
    /// sorted by file name, then `/etc/sysctl.conf`, as `sysctl --system` does.
    pub fn read(root: &Path) -> Result<Persisted, Error> {
        let mut by_name: std::collections::BTreeMap<String, PathBuf> = Default::default();
        for dir in SYSCTL_DIRS {
            let dir = root.join(dir);
            let listing = match fs::read_dir(&dir) {
                Ok(l) => l,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("list", dir, e)),
            };
            for item in listing {
                let item = item.map_err(|e| Error::io("list", &dir, e))?;
                let name = item.file_name().to_string_lossy().into_owned();
                if name.ends_with(".conf") && !by_name.contains_key(&name) {
                    by_name.insert(name, item.path());
                }
            }
        }
        let mut files: Vec<PathBuf> = by_name.into_values().collect();
        files.push(root.join("etc/sysctl.conf"));
        let mut persisted = Persisted::default();
        for file in files {
            match read_optional(&file, &FILE_LIMIT) {
                Ok(Some(text)) => persisted.entries.extend(parse_file(&text, &file)),
                Ok(None) => {}
                // Too large or not text: the settings in it would be missed; say so.
                Err(Error::Read(
                    e
                    @ (kube6_fs::ReadError::TooLarge { .. } | kube6_fs::ReadError::NotText { .. }),
                )) => return Err(Error::Read(e)),
                // A dangling symlink, an unreadable file, or something that is not a regular
                // file (a FIFO would block): skipped, as `sysctl --system` skips what it
                // cannot read.
                Err(_) => {}
            }
        }
        Ok(persisted)
    }

    /// The value a key gets at boot and the entry that sets it.
    pub fn effective(&self, key: &Key) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| key.matched_by(&e.key))
    }
}

/// Parses `sysctl.d(5)` syntax: `key = value`, comments with `#` or `;`, a leading `-` on the
/// key (ignore errors).
pub fn parse_file(text: &str, file: &Path) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                return None;
            }
            let (key, value) = line.split_once('=')?;
            let key = key.trim().trim_start_matches('-');
            Some(Entry {
                key: Key::parse(key),
                value: normalize(value),
                file: file.to_path_buf(),
                line: i + 1,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_with_dotted_interfaces() {
        let k = Key::parse("net/ipv6/conf/eth0.100/accept_ra");
        assert_eq!(k, Key::ipv6_conf("eth0.100", "accept_ra"));
        assert_eq!(k.to_string(), "net/ipv6/conf/eth0.100/accept_ra");
        let k = Key::parse("net.ipv6.conf.all.forwarding");
        assert_eq!(k.to_string(), "net.ipv6.conf.all.forwarding");
        assert_eq!(
            k.path_under(Path::new("/proc/sys")),
            Path::new("/proc/sys/net/ipv6/conf/all/forwarding")
        );
    }

    #[test]
    fn globs() {
        let k = Key::ipv6_conf("eth0", "accept_ra");
        assert!(k.matched_by(&Key::parse("net.ipv6.conf.*.accept_ra")));
        assert!(k.matched_by(&Key::parse("net.ipv6.conf.eth?.accept_ra")));
        assert!(!k.matched_by(&Key::parse("net.ipv6.conf.all.accept_ra")));
    }

    #[test]
    fn later_files_win_and_etc_hides_usr_lib() {
        let root = tempfile::tempdir().unwrap();
        let w = |p: &str, t: &str| {
            let path = root.path().join(p);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, t).unwrap();
        };
        w(
            "usr/lib/sysctl.d/50-default.conf",
            "net.ipv6.conf.all.forwarding = 0\n",
        );
        w(
            "etc/sysctl.d/50-default.conf",
            "# hides /usr/lib\n; comment\n",
        );
        w(
            "usr/lib/sysctl.d/10-x.conf",
            "-net.ipv6.conf.all.forwarding=1\n",
        );
        w(
            "etc/sysctl.d/90-kube6.conf",
            "net.ipv6.conf.lo.disable_ipv6 = 0\n",
        );
        w("etc/sysctl.conf", "net.ipv6.conf.lo.disable_ipv6 =  1 \n");
        let p = Persisted::read(root.path()).unwrap();
        let fwd = p
            .effective(&Key::parse("net.ipv6.conf.all.forwarding"))
            .unwrap();
        assert_eq!(fwd.value, "1");
        assert!(fwd.file.ends_with("usr/lib/sysctl.d/10-x.conf"));
        let lo = p
            .effective(&Key::parse("net.ipv6.conf.lo.disable_ipv6"))
            .unwrap();
        assert_eq!((lo.value.as_str(), lo.line), ("1", 1));
        assert!(lo.file.ends_with("etc/sysctl.conf"));
    }

    #[test]
    fn runtime_read_write() {
        let dir = tempfile::tempdir().unwrap();
        let rt = Runtime {
            dir: dir.path().to_path_buf(),
        };
        let k = Key::parse("net.ipv6.conf.all.forwarding");
        assert_eq!(rt.read(&k).unwrap(), None);
        // A parameter that does not exist is not created (the kernel has no such setting).
        fs::create_dir_all(k.path_under(dir.path()).parent().unwrap()).unwrap();
        assert!(rt.write(&k, "1").is_err());
        assert_eq!(rt.read(&k).unwrap(), None);
        fs::write(k.path_under(dir.path()), "0\n").unwrap();
        rt.write(&k, "1").unwrap();
        assert_eq!(rt.read(&k).unwrap().as_deref(), Some("1"));
    }
}
