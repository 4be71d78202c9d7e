//! `kube6 host fix`: the settings the checks want, written into one file under
//! `/etc/sysctl.d` (atomically; every other file is left alone) and applied at runtime.
//! Running it twice changes nothing the second time.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::Error;
use crate::checks::{Setting, desired_settings};
use crate::expect::Expectations;
use crate::snapshot::{HostPaths, Snapshot};
use crate::sysctl::{Entry, Key, Persisted, parse_file};

/// The one file kube6 writes, relative to the root.
pub const FILE: &str = "etc/sysctl.d/90-kube6.conf";

const HEADER: &str = "# Kernel settings for an IPv6 Kubernetes node, written by `kube6 host fix`.\n\
# kube6 rewrites this file; put your own settings in another file.\n";

/// A runtime value to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeChange {
    pub key: Key,
    pub from: Option<String>,
    pub to: String,
}

/// A setting that still gets another value at boot, from a file read after ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overridden {
    pub key: Key,
    pub wanted: String,
    pub by: Entry,
}

/// What `fix` will do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FixPlan {
    pub file: PathBuf,
    /// The file's content now (`None`: it does not exist).
    pub old: Option<String>,
    /// The content it gets; equal to `old` when nothing is missing.
    pub new: Option<String>,
    pub runtime: Vec<RuntimeChange>,
    /// Settings that cannot be applied at runtime (the parameter does not exist).
    pub absent: Vec<Key>,
    /// There is no runtime tree (an image being built): only the file is written.
    pub offline: bool,
    pub overridden: Vec<Overridden>,
}

impl FixPlan {
    pub fn file_changes(&self) -> bool {
        self.new.is_some() && self.new != self.old
    }

    /// Nothing to write and nothing to apply.
    pub fn is_noop(&self) -> bool {
        !self.file_changes() && self.runtime.is_empty()
    }

    /// A line diff of the file, `-`/`+`/` ` prefixed, empty when it does not change.
    pub fn diff(&self) -> String {
        if !self.file_changes() {
            return String::new();
        }
        let old = self.old.as_deref().unwrap_or("");
        let new = self.new.as_deref().unwrap_or("");
        let name = self.file.display();
        let mut out = format!(
            "--- {}\n+++ {name}\n",
            if self.old.is_some() {
                name.to_string()
            } else {
                "/dev/null".to_string()
            }
        );
        out.push_str(&line_diff(old, new));
        out
    }
}

/// Works out the file content and the runtime writes for the settings the checks want.
pub fn plan(snap: &Snapshot, exp: &Expectations, paths: &HostPaths) -> Result<FixPlan, Error> {
    let wanted = desired_settings(snap, exp);
    let file = paths.root.join(FILE);
    let old = match kube6_fs::read::text(&file, &crate::sysctl::FILE_LIMIT) {
        Ok(text) => Some(text.text),
        Err(kube6_fs::ReadError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    let ours = old
        .as_deref()
        .map(|t| parse_file(t, &file))
        .unwrap_or_default();

    // Our entries, updated; then the settings nobody persists yet.
    let mut entries: Vec<(Key, String)> = ours
        .iter()
        .map(|e| (e.key.clone(), e.value.clone()))
        .collect();
    for s in &wanted {
        if let Some(slot) = entries.iter_mut().find(|(k, _)| *k == s.key) {
            slot.1 = s.value.clone();
        } else if !s.persisted(&snap.persisted) {
            entries.push((s.key.clone(), s.value.clone()));
        }
    }
    let unchanged = entries.len() == ours.len()
        && entries
            .iter()
            .zip(&ours)
            .all(|((k, v), e)| *k == e.key && *v == e.value);
    let new = if unchanged {
        old.clone()
    } else {
        Some(render(&entries, &wanted))
    };

    let overridden = match &new {
        Some(content) => overridden_after(snap, &file, content, &wanted),
        None => Vec::new(),
    };

    let mut runtime = Vec::new();
    let mut absent = Vec::new();
    let rt = paths.runtime();
    let offline = !paths.proc_sys.is_dir();
    for s in wanted.iter().filter(|_| !offline) {
        match rt.read(&s.key)? {
            None => absent.push(s.key.clone()),
            Some(v) if v == s.value => {}
            Some(v) => runtime.push(RuntimeChange {
                key: s.key.clone(),
                from: Some(v),
                to: s.value.clone(),
            }),
        }
    }
    Ok(FixPlan {
        file,
        old,
        new,
        runtime,
        absent,
        offline,
        overridden,
    })
}

fn render(entries: &[(Key, String)], wanted: &[Setting]) -> String {
    let mut out = String::from(HEADER);
    let mut last_why = "";
    for (key, value) in entries {
        if let Some(s) = wanted.iter().find(|s| s.key == *key)
            && s.why != last_why
        {
            out.push_str(&format!("# {}\n", s.why));
            last_why = &s.why;
        }
        out.push_str(&format!("{key} = {value}\n"));
    }
    out
}

/// Settings whose boot value still differs once our file has `content`.
fn overridden_after(
    snap: &Snapshot,
    file: &Path,
    content: &str,
    wanted: &[Setting],
) -> Vec<Overridden> {
    // Replace our file's entries in place, keeping the order files are applied in.
    let mut entries: Vec<Entry> = Vec::new();
    let mut placed = false;
    for e in &snap.persisted.entries {
        if e.file == file {
            if !placed {
                entries.extend(parse_file(content, file));
                placed = true;
            }
        } else {
            entries.push(e.clone());
        }
    }
    if !placed {
        // Files are applied sorted by name, then /etc/sysctl.conf.
        let name = file
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        let at = entries
            .iter()
            .position(|e| {
                e.file
                    .file_name()
                    .map(|n| n.to_os_string())
                    .unwrap_or_default()
                    > name
                    || e.file.ends_with("etc/sysctl.conf")
            })
            .unwrap_or(entries.len());
        let ours = parse_file(content, file);
        entries.splice(at..at, ours);
    }
    let after = Persisted { entries };
    wanted
        .iter()
        .filter_map(|s| {
            let e = after.effective(&s.key)?;
            (e.value != s.value).then(|| Overridden {
                key: s.key.clone(),
                wanted: s.value.clone(),
                by: e.clone(),
            })
        })
        .collect()
}

/// What `apply` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    pub file_written: bool,
    pub runtime: Vec<RuntimeChange>,
    /// Runtime writes the kernel refused.
    pub errors: Vec<String>,
}

/// Writes the file (if it changes) and the runtime values, in order.
pub fn apply(plan: &FixPlan, paths: &HostPaths) -> Result<Applied, Error> {
    let mut applied = Applied::default();
    if plan.file_changes()
        && let Some(content) = &plan.new
    {
        kube6_fs::write::write_atomic(
            &plan.file,
            content.as_bytes(),
            0o644,
            kube6_fs::Replace::RegularFile,
        )?;
        applied.file_written = true;
    }
    let rt = paths.runtime();
    for change in &plan.runtime {
        match rt.write(&change.key, &change.to) {
            Ok(()) => applied.runtime.push(change.clone()),
            Err(e) => applied.errors.push(e.to_string()),
        }
    }
    Ok(applied)
}

/// A minimal line diff (longest common subsequence); the files are a few lines long.
pub fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!(" {}\n", a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push_str(&format!("+{}\n", b[j]));
            j += 1;
        } else {
            out.push_str(&format!("-{}\n", a[i]));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sysctl::Persisted;
    use std::fs;

    /// A root with a runtime tree holding the values of `snap`, and the persisted files read
    /// back from it.
    fn live_root(snap: &mut Snapshot, files: &[(&str, &str)]) -> (tempfile::TempDir, HostPaths) {
        let dir = tempfile::tempdir().unwrap();
        let paths = HostPaths::new(dir.path(), None);
        for (key, value) in &snap.sysctl {
            let path = key.path_under(&paths.proc_sys);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, format!("{}\n", value.as_deref().unwrap_or(""))).unwrap();
        }
        for (name, text) in files {
            let path = dir.path().join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        snap.persisted = Persisted::read(dir.path()).unwrap();
        (dir, paths)
    }

    #[test]
    fn fix_writes_applies_and_then_has_nothing_to_do() {
        let mut snap = crate::checks::tests::snapshot();
        snap.sysctl
            .insert(Key::ipv6_conf("all", "forwarding"), Some("0".into()));
        let (_dir, paths) = live_root(&mut snap, &[]);
        let exp = crate::checks::tests::exp();
        let p = plan(&snap, &exp, &paths).unwrap();
        assert!(p.file_changes());
        assert!(
            p.diff().contains("+net.ipv6.conf.all.forwarding = 1"),
            "{}",
            p.diff()
        );
        assert_eq!(p.runtime.len(), 1);
        apply(&p, &paths).unwrap();
        assert_eq!(
            paths
                .runtime()
                .read(&Key::ipv6_conf("all", "forwarding"))
                .unwrap()
                .as_deref(),
            Some("1")
        );
        // Read the node again: nothing left to do.
        snap.sysctl
            .insert(Key::ipv6_conf("all", "forwarding"), Some("1".into()));
        snap.persisted = Persisted::read(&paths.root).unwrap();
        let again = plan(&snap, &exp, &paths).unwrap();
        assert!(again.is_noop(), "{again:?}");
    }

    #[test]
    fn a_later_file_that_overrides_ours_is_reported_not_edited() {
        let mut snap = crate::checks::tests::snapshot();
        let later = "net.ipv6.conf.all.forwarding = 0\n";
        let (dir, paths) = live_root(&mut snap, &[("etc/sysctl.d/99-zz.conf", later)]);
        let p = plan(&snap, &crate::checks::tests::exp(), &paths).unwrap();
        assert_eq!(p.overridden.len(), 1, "{p:?}");
        assert!(p.overridden[0].by.file.ends_with("99-zz.conf"));
        apply(&p, &paths).unwrap();
        let text = fs::read_to_string(dir.path().join("etc/sysctl.d/99-zz.conf")).unwrap();
        assert_eq!(text, later);
    }

    #[test]
    fn diff_marks_changes() {
        assert_eq!(line_diff("a\nb\n", "a\nc\nb\n"), " a\n+c\n b\n");
        assert_eq!(line_diff("a\nb\n", "a\n"), " a\n-b\n");
        assert_eq!(line_diff("", "x\n"), "+x\n");
    }

    #[test]
    fn the_file_is_never_written_through_a_link() {
        let mut snap = crate::checks::tests::snapshot();
        snap.sysctl
            .insert(Key::ipv6_conf("all", "forwarding"), Some("0".into()));
        let (dir, paths) = live_root(&mut snap, &[("outside.conf", "keep\n")]);
        let outside = dir.path().join("outside.conf");
        let ours = dir.path().join(FILE);
        fs::create_dir_all(ours.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&outside, &ours).unwrap();
        let p = plan(&snap, &crate::checks::tests::exp(), &paths).unwrap();
        assert!(p.file_changes());
        let err = apply(&p, &paths).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep\n");
    }
}
