//! A set of files under an output directory, written all or nothing.
//!
//! The directory given (`--out DIR`) is the caller's and may itself be a symbolic link; below
//! it, every component is opened relative to its parent with `O_NOFOLLOW`, so a symbolic link
//! planted inside the tree can never redirect a write outside it. The write happens in phases:
//!
//! 1. Check: every path is resolved without creating anything; a symbolic link, device, FIFO,
//!    socket or directory where a file or directory belongs is refused, and so is an existing
//!    file unless replacing was asked for. A refusal here writes nothing.
//! 2. Stage: missing directories are created, every file is written to a temporary file next
//!    to its target and synced, and every file to be replaced gets a second name (a hard link)
//!    to restore it from. A failure here (a read-only directory, a full disk) removes what was
//!    staged and created: nothing was written.
//! 3. Commit: each temporary file is renamed over its target. Should a rename fail, the ones
//!    done are undone (new files removed, replaced files restored) before the error is reported.
//!
//! The report says exactly which files were created and replaced, and which directories were
//! created; an error says whether anything is left behind.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, Mode, OFlags};

use crate::write::{create_dirs, entry_kind, fill, open_dir, remove_created, rename_noreplace};
use crate::{FileKind, temp};

/// One file to write: its path relative to the output directory, its content and mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub path: String,
    pub content: Vec<u8>,
    pub mode: u32,
}

/// What a successful write did, with paths relative to the output directory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TreeReport {
    pub created: Vec<String>,
    pub replaced: Vec<String>,
    pub created_dirs: Vec<String>,
}

/// Why the tree was not written.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{} is not a path inside the output directory (it must be relative, without `.` or `..`)", .0)]
    BadPath(String),
    #[error("{} is listed twice", .0)]
    Duplicate(String),
    #[error("{} is {kind}; kube6 creates real directories only and never follows a link inside the output directory", .path.display())]
    NotDirectory { path: PathBuf, kind: FileKind },
    #[error("{} is {kind}; kube6 writes and replaces only regular files", .path.display())]
    NotRegular { path: PathBuf, kind: FileKind },
    #[error("{} already exist{}", list(.0), if .0.len() == 1 { "s" } else { "" })]
    Exist(Vec<PathBuf>),
    #[error("cannot {action} {}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The commit failed and could not be undone completely.
    #[error("cannot write {}, and the files written before it could not all be restored: {}", .path.display(), list(.left))]
    Partial {
        path: PathBuf,
        /// Paths that are left in a changed state.
        left: Vec<PathBuf>,
        #[source]
        source: io::Error,
    },
}

impl TreeError {
    /// True when the output directory is exactly as it was before.
    pub fn nothing_written(&self) -> bool {
        !matches!(self, TreeError::Partial { .. })
    }
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The components of a relative path written with `/`, or None when it is empty, absolute, or
/// has an empty, `.` or `..` component.
fn components(path: &str) -> Option<Vec<&str>> {
    if path.contains('\0') {
        return None;
    }
    let parts: Vec<&str> = path.split('/').collect();
    parts
        .iter()
        .all(|p| !p.is_empty() && *p != "." && *p != "..")
        .then_some(parts)
}

/// How a directory of the tree is reached.
enum Dir {
    /// It exists; the descriptor was opened without following links.
    Open(OwnedFd),
    /// It does not exist yet; created in the stage phase.
    Missing,
}

/// Writes every file under `root` (created if missing), all or nothing. With `replace`, an
/// existing regular file is replaced; without, any existing file refuses the whole write.
pub fn write_tree(root: &Path, files: &[TreeFile], replace: bool) -> Result<TreeReport, TreeError> {
    // Paths first: nothing is touched for a list with a bad entry.
    let mut parsed: Vec<(Vec<&str>, &TreeFile)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for file in files {
        let parts = components(&file.path).ok_or_else(|| TreeError::BadPath(file.path.clone()))?;
        if !seen.insert(parts.clone()) {
            return Err(TreeError::Duplicate(file.path.clone()));
        }
        parsed.push((parts, file));
    }

    // 1. Check.
    let root_existed = match std::fs::symlink_metadata(root) {
        Ok(_) => true,
        // Missing (or under a file): creating it says what is in the way.
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            false
        }
        Err(e) => return Err(io_error("inspect", root, e)),
    };
    let mut dirs: BTreeMap<Vec<&str>, Dir> = BTreeMap::new();
    if root_existed {
        // The output directory itself is the caller's choice and may be a link to a directory.
        let meta = std::fs::metadata(root).map_err(|e| io_error("open", root, e))?;
        if !meta.is_dir() {
            return Err(TreeError::NotDirectory {
                path: root.to_path_buf(),
                kind: FileKind::of_metadata(&meta),
            });
        }
        let fd = open_dir(root).map_err(|e| io_error("open", root, e))?;
        dirs.insert(Vec::new(), Dir::Open(fd));
    } else {
        dirs.insert(Vec::new(), Dir::Missing);
    }
    let mut existing = Vec::new();
    let mut replaced_set = std::collections::BTreeSet::new();
    for (parts, _) in &parsed {
        let (dir_parts, _) = parts.split_at(parts.len() - 1);
        for depth in 1..=dir_parts.len() {
            let key = dir_parts[..depth].to_vec();
            if dirs.contains_key(&key) {
                continue;
            }
            let dir = match &dirs[&dir_parts[..depth - 1].to_vec()] {
                Dir::Missing => Dir::Missing,
                Dir::Open(parent) => {
                    let path = join(root, &key);
                    match open_child_dir(parent, key[depth - 1]) {
                        Ok(Some(fd)) => Dir::Open(fd),
                        Ok(None) => Dir::Missing,
                        Err(ChildError::Kind(kind)) => {
                            return Err(TreeError::NotDirectory { path, kind });
                        }
                        Err(ChildError::Io(e)) => return Err(io_error("open", &path, e)),
                    }
                }
            };
            dirs.insert(key, dir);
        }
        if let Dir::Open(dir) = &dirs[&dir_parts.to_vec()] {
            let name = parts[parts.len() - 1];
            let path = join(root, parts);
            match entry_kind(dir, name).map_err(|e| io_error("inspect", &path, e))? {
                None => {}
                Some(FileKind::Regular) if replace => {
                    replaced_set.insert(parts.clone());
                }
                Some(FileKind::Regular) => existing.push(path),
                Some(kind) => return Err(TreeError::NotRegular { path, kind }),
            }
        }
    }
    if !existing.is_empty() {
        return Err(TreeError::Exist(existing));
    }

    // 2. Stage.
    let mut stage = Stage {
        root,
        root_created: Vec::new(),
        created_dirs: Vec::new(),
        temps: Vec::new(),
        backups: Vec::new(),
    };
    if let Err(e) = stage.run(&mut dirs, &parsed, &replaced_set) {
        stage.undo(&dirs);
        return Err(e);
    }

    // 3. Commit.
    let mut done: Vec<(Vec<&str>, Option<String>)> = Vec::new();
    for (i, (parts, _)) in parsed.iter().enumerate() {
        let dir = dir_fd(&dirs, &parts[..parts.len() - 1]);
        let name = parts[parts.len() - 1];
        let tmp = &stage.temps[i].1;
        let backup = stage
            .backups
            .iter()
            .find(|(p, _)| p == parts)
            .map(|(_, b)| b.clone());
        let result = match &backup {
            Some(_) => rustix::fs::renameat(dir, tmp.as_str(), dir, name).map_err(io::Error::from),
            None => rename_noreplace(dir, tmp, name),
        };
        if let Err(e) = result {
            let path = join(root, parts);
            let left = undo_commit(root, &dirs, &done);
            stage.undo(&dirs);
            if left.is_empty() {
                return Err(io_error("write", &path, e));
            }
            return Err(TreeError::Partial {
                path,
                left,
                source: e,
            });
        }
        done.push((parts.clone(), backup));
    }
    // Done: drop the backups and make the renames durable.
    for (parts, backup) in &stage.backups {
        let dir = dir_fd(&dirs, &parts[..parts.len() - 1]);
        let _ = rustix::fs::unlinkat(dir, backup.as_str(), AtFlags::empty());
    }
    for dir in dirs.values() {
        if let Dir::Open(fd) = dir {
            let _ = rustix::fs::fsync(fd);
        }
    }
    let mut report = TreeReport {
        created_dirs: stage.created_dirs.iter().map(|p| p.join("/")).collect(),
        ..TreeReport::default()
    };
    for (parts, _) in &parsed {
        let rel = parts.join("/");
        if replaced_set.contains(parts) {
            report.replaced.push(rel);
        } else {
            report.created.push(rel);
        }
    }
    Ok(report)
}

fn join(root: &Path, parts: &[&str]) -> PathBuf {
    let mut p = root.to_path_buf();
    for part in parts {
        p.push(part);
    }
    p
}

fn io_error(action: &'static str, path: &Path, source: impl Into<io::Error>) -> TreeError {
    TreeError::Io {
        action,
        path: path.to_path_buf(),
        source: source.into(),
    }
}

fn dir_fd<'a, 'p>(dirs: &'a BTreeMap<Vec<&'p str>, Dir>, parts: &[&'p str]) -> &'a OwnedFd {
    match dirs.get(parts) {
        Some(Dir::Open(fd)) => fd,
        // Every directory is open after the stage phase; reaching this is a bug.
        _ => unreachable!("directory {parts:?} was not staged"),
    }
}

enum ChildError {
    Kind(FileKind),
    Io(io::Error),
}

/// Opens the directory `name` in `parent` without following a link; None if it is missing.
fn open_child_dir(parent: impl AsFd, name: &str) -> Result<Option<OwnedFd>, ChildError> {
    match rustix::fs::openat(
        &parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => Ok(Some(fd)),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        // A link (ELOOP with O_NOFOLLOW) or not a directory: say what it is.
        Err(rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR) => {
            match entry_kind(&parent, name) {
                Ok(Some(kind)) => Err(ChildError::Kind(kind)),
                Ok(None) => Ok(None),
                Err(e) => Err(ChildError::Io(e)),
            }
        }
        Err(e) => Err(ChildError::Io(e.into())),
    }
}

/// What the stage phase made, to undo it.
struct Stage<'r, 'p> {
    root: &'r Path,
    /// The output directory and its ancestors, where this write created them.
    root_created: Vec<PathBuf>,
    created_dirs: Vec<Vec<&'p str>>,
    /// Per file, in order: its directory and the temporary name.
    temps: Vec<(Vec<&'p str>, String)>,
    /// Per replaced file: its path and the backup name.
    backups: Vec<(Vec<&'p str>, String)>,
}

impl<'p> Stage<'_, 'p> {
    fn run(
        &mut self,
        dirs: &mut BTreeMap<Vec<&'p str>, Dir>,
        files: &[(Vec<&'p str>, &TreeFile)],
        replaced: &std::collections::BTreeSet<Vec<&'p str>>,
    ) -> Result<(), TreeError> {
        if matches!(dirs.get(&Vec::new()), Some(Dir::Missing)) {
            self.root_created =
                create_dirs(self.root).map_err(|e| io_error("create", self.root, e))?;
            let fd = open_dir(self.root).map_err(|e| io_error("open", self.root, e))?;
            dirs.insert(Vec::new(), Dir::Open(fd));
        }
        // Parents sort before their children.
        let missing: Vec<Vec<&str>> = dirs
            .iter()
            .filter(|(_, d)| matches!(d, Dir::Missing))
            .map(|(k, _)| k.clone())
            .collect();
        for key in missing {
            let path = join(self.root, &key);
            let parent = dir_fd(dirs, &key[..key.len() - 1]);
            let name = key[key.len() - 1];
            rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755))
                .map_err(|e| io_error("create", &path, e))?;
            self.created_dirs.push(key.clone());
            let fd = match open_child_dir(parent, name) {
                Ok(Some(fd)) => fd,
                Ok(None) => {
                    return Err(io_error(
                        "open",
                        &path,
                        io::Error::from(io::ErrorKind::NotFound),
                    ));
                }
                Err(ChildError::Kind(kind)) => return Err(TreeError::NotDirectory { path, kind }),
                Err(ChildError::Io(e)) => return Err(io_error("open", &path, e)),
            };
            dirs.insert(key, Dir::Open(fd));
        }
        for (parts, file) in files {
            let dir_parts = parts[..parts.len() - 1].to_vec();
            let dir = dir_fd(dirs, &dir_parts);
            let path = join(self.root, parts);
            let (tmp, fd) = temp::create(dir).map_err(|e| {
                io_error(
                    "create a temporary file in",
                    &join(self.root, &dir_parts),
                    e,
                )
            })?;
            self.temps.push((dir_parts, tmp));
            fill(fd, &file.content, file.mode).map_err(|e| io_error("write", &path, e))?;
            if replaced.contains(parts) {
                let backup = temp::link_backup(dir, parts[parts.len() - 1])
                    .map_err(|e| io_error("keep a copy of", &path, e))?;
                self.backups.push((parts.clone(), backup));
            }
        }
        Ok(())
    }

    /// Removes temporary files, backups and created directories (best effort).
    fn undo(&self, dirs: &BTreeMap<Vec<&str>, Dir>) {
        for (dir_parts, tmp) in &self.temps {
            if let Some(Dir::Open(dir)) = dirs.get(dir_parts) {
                let _ = rustix::fs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
            }
        }
        for (parts, backup) in &self.backups {
            if let Some(Dir::Open(dir)) = dirs.get(&parts[..parts.len() - 1]) {
                let _ = rustix::fs::unlinkat(dir, backup.as_str(), AtFlags::empty());
            }
        }
        for key in self.created_dirs.iter().rev() {
            if let Some(Dir::Open(parent)) = dirs.get(&key[..key.len() - 1]) {
                let _ = rustix::fs::unlinkat(parent, key[key.len() - 1], AtFlags::REMOVEDIR);
            }
        }
        remove_created(&self.root_created);
    }
}

/// Undoes the renames done so far; returns the paths it could not restore.
fn undo_commit(
    root: &Path,
    dirs: &BTreeMap<Vec<&str>, Dir>,
    done: &[(Vec<&str>, Option<String>)],
) -> Vec<PathBuf> {
    let mut left = Vec::new();
    for (parts, backup) in done.iter().rev() {
        let dir = dir_fd(dirs, &parts[..parts.len() - 1]);
        let name = parts[parts.len() - 1];
        let undone = match backup {
            Some(backup) => rustix::fs::renameat(dir, backup.as_str(), dir, name),
            None => rustix::fs::unlinkat(dir, name, AtFlags::empty()),
        };
        if undone.is_err() {
            left.push(join(root, parts));
        }
    }
    left
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn file(path: &str, content: &str) -> TreeFile {
        TreeFile {
            path: path.to_string(),
            content: content.as_bytes().to_vec(),
            mode: 0o644,
        }
    }

    /// Every entry under `dir`, with file contents, for before/after comparisons.
    fn snapshot(dir: &Path) -> Vec<(String, String)> {
        let mut out = Vec::new();
        fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
            let mut entries: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap())
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let path = e.path();
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    out.push((rel, "<dir>".into()));
                    walk(base, &path, out);
                } else if meta.file_type().is_symlink() {
                    out.push((
                        rel,
                        format!("-> {}", std::fs::read_link(&path).unwrap().display()),
                    ));
                } else if meta.is_file() {
                    out.push((rel, std::fs::read_to_string(&path).unwrap()));
                } else {
                    out.push((rel, "<special>".into()));
                }
            }
        }
        walk(dir, dir, &mut out);
        out
    }

    #[test]
    fn writes_a_new_tree_and_reports_it() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let report = write_tree(
            &out,
            &[
                file("a.yaml", "a"),
                file("host/n1/b.conf", "b"),
                file("host/n2/c.conf", "c"),
            ],
            false,
        )
        .unwrap();
        assert_eq!(
            report.created,
            ["a.yaml", "host/n1/b.conf", "host/n2/c.conf"]
        );
        assert!(report.replaced.is_empty());
        assert_eq!(report.created_dirs, ["host", "host/n1", "host/n2"]);
        assert_eq!(
            std::fs::read_to_string(out.join("host/n1/b.conf")).unwrap(),
            "b"
        );
        // Again: refused as a whole, nothing changes.
        let before = snapshot(tmp.path());
        let err =
            write_tree(&out, &[file("new.yaml", "n"), file("a.yaml", "x")], false).unwrap_err();
        assert!(
            matches!(err, TreeError::Exist(ref p) if p.len() == 1),
            "{err}"
        );
        assert_eq!(snapshot(tmp.path()), before);
        // With replace: replaced and new files are told apart.
        let report = write_tree(&out, &[file("new.yaml", "n"), file("a.yaml", "x")], true).unwrap();
        assert_eq!(report.created, ["new.yaml"]);
        assert_eq!(report.replaced, ["a.yaml"]);
        assert_eq!(std::fs::read_to_string(out.join("a.yaml")).unwrap(), "x");
        assert!(
            snapshot(tmp.path())
                .iter()
                .all(|(p, _)| !p.contains(temp::PREFIX))
        );
    }

    #[test]
    fn never_follows_links_inside_the_tree() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(out.join("host")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("b.conf"), "theirs").unwrap();
        std::os::unix::fs::symlink(&outside, out.join("host/n1")).unwrap();
        std::os::unix::fs::symlink(outside.join("b.conf"), out.join("a.yaml")).unwrap();
        let before = snapshot(tmp.path());
        for replace in [false, true] {
            let err = write_tree(&out, &[file("host/n1/b.conf", "ours")], replace).unwrap_err();
            assert!(
                matches!(
                    err,
                    TreeError::NotDirectory {
                        kind: FileKind::Symlink,
                        ..
                    }
                ),
                "{err}"
            );
            let err = write_tree(&out, &[file("a.yaml", "ours")], replace).unwrap_err();
            assert!(
                matches!(
                    err,
                    TreeError::NotRegular {
                        kind: FileKind::Symlink,
                        ..
                    }
                ),
                "{err}"
            );
        }
        assert_eq!(snapshot(tmp.path()), before);
    }

    #[test]
    fn refuses_paths_that_leave_the_tree() {
        let tmp = tempfile::tempdir().unwrap();
        for bad in ["../x", "/etc/x", "a/../../x", "", ".", "a/./b"] {
            let err = write_tree(tmp.path(), &[file(bad, "x")], true).unwrap_err();
            assert!(matches!(err, TreeError::BadPath(_)), "{bad}: {err}");
        }
        let err = write_tree(tmp.path(), &[file("a", "1"), file("./a", "2")], true).unwrap_err();
        assert!(
            matches!(err, TreeError::BadPath(_) | TreeError::Duplicate(_)),
            "{err}"
        );
        assert!(snapshot(tmp.path()).is_empty());
    }

    #[test]
    fn a_failure_while_staging_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("a.yaml"), "old").unwrap();
        let before = snapshot(tmp.path());
        // A directory that cannot be created (its name is too long) fails while staging,
        // after the replaced file got its temporary file and backup.
        let long = "d".repeat(300);
        let err = write_tree(
            &out,
            &[
                file("a.yaml", "new"),
                file(&format!("new/{long}/y.conf"), "y"),
            ],
            true,
        )
        .unwrap_err();
        assert!(err.nothing_written(), "{err}");
        assert!(
            matches!(
                err,
                TreeError::Io {
                    action: "create",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(snapshot(tmp.path()), before);
        // A regular file where a directory belongs is refused before anything is staged.
        std::fs::write(out.join("blocker"), "").unwrap();
        let before = snapshot(tmp.path());
        let err = write_tree(&out, &[file("blocker/y.conf", "y")], true).unwrap_err();
        assert!(
            matches!(
                err,
                TreeError::NotDirectory {
                    kind: FileKind::Regular,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(snapshot(tmp.path()), before);
    }

    #[test]
    fn a_failed_write_into_a_new_directory_removes_it_and_its_new_parents() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("a/b/out");
        let long = "d".repeat(300);
        let err = write_tree(&out, &[file(&format!("{long}/x"), "x")], false).unwrap_err();
        assert!(err.nothing_written(), "{err}");
        assert!(
            snapshot(tmp.path()).is_empty(),
            "{:?}",
            snapshot(tmp.path())
        );
    }

    #[test]
    fn a_failure_while_committing_restores_what_was_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        std::fs::write(out.join("a.yaml"), "old").unwrap();
        let before = snapshot(tmp.path());
        // The temporary file is written under a short name; the rename to the too-long name
        // fails after a.yaml was replaced, which is then undone.
        let long = "f".repeat(300);
        let err = write_tree(
            &out,
            &[file("a.yaml", "new"), file("b.yaml", "b"), file(&long, "x")],
            true,
        )
        .unwrap_err();
        assert!(err.nothing_written(), "{err}");
        assert_eq!(snapshot(tmp.path()), before);
    }
}
