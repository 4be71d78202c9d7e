//! `kube6 render FILE --target T [--cni C] --out DIR`: every file a distribution, its CNI and
//! the nodes need, from one valid plan. Refuses an invalid plan (diagnostics, exit 1) and a
//! cluster the target cannot express (exit 1). Writes all files or none (`kube6_fs::tree`):
//! never overwrites a file without `--force` (exit 2), never follows a symbolic link inside
//! DIR, never writes onto anything but a regular file, and lists exactly what it wrote;
//! `--dry-run` prints instead of writing.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use kube6_fs::{TreeError, TreeFile, TreeReport};
use kube6_render::{KubeadmApi, RenderedFile, Request, Target};

use super::emit::{print_notes, recheck, refuse_invalid};
use super::input::{InputArgs, read_input};
use crate::exit::{CommandResult, Failure, Status};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (any format kube6 reads).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The distribution to write files for.
    #[arg(long, value_name = "TARGET", value_parser = crate::values::target())]
    pub target: Target,
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory the files are written to (created if missing). Symbolic links inside it are
    /// never followed.
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    pub out: Option<PathBuf>,
    /// Replace files that already exist (regular files only; other files in DIR are left alone).
    #[arg(long)]
    pub force: bool,
    /// Print the files that would be written (paths and contents) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// kubeadm API version to write (v1beta4 writes extraArgs as name/value lists, v1beta3
    /// as mappings).
    #[arg(long, value_name = "VERSION", default_value = "v1beta4", value_parser = crate::values::kubeadm_api())]
    pub kubeadm_api: KubeadmApi,
}

pub fn run(args: Args) -> CommandResult {
    let (source, analysis) = read_input(args.file.as_deref(), &args.input)?;
    if let Some(status) = refuse_invalid(&source, &analysis, "render") {
        return Ok(status);
    }
    let request = Request {
        target: args.target,
        cni: args.input.cni,
        kubeadm_api: args.kubeadm_api,
    };
    let rendered = match kube6_render::render(&analysis.network, &analysis.plan, &request) {
        Ok(r) => r,
        Err(e) => {
            output::error(&e);
            return Ok(Status::Invalid);
        }
    };
    print_notes(&rendered);
    let format = kube6_render::format_of(args.target);
    if let Some(status) = recheck(&analysis, format, args.kubeadm_api) {
        return Ok(status);
    }
    if args.dry_run {
        let base = args.out.as_deref().unwrap_or(Path::new("."));
        output::write_stdout(&dry_run_text(base, &rendered.files))?;
        return Ok(Status::Ok);
    }
    let Some(out) = args.out.as_deref() else {
        return Err(Failure::usage(anyhow!("give --out DIR (or --dry-run)")));
    };
    let files: Vec<TreeFile> = rendered
        .files
        .iter()
        .map(|f| TreeFile {
            path: f.path.clone(),
            content: f.content.as_bytes().to_vec(),
            mode: f.mode,
        })
        .collect();
    let report =
        kube6_fs::tree::write_tree(out, &files, args.force).map_err(|e| write_failure(out, e))?;
    output::write_stdout(&listing(out, args.target, &report))?;
    Ok(Status::Ok)
}

/// What was written, file by file: created or replaced.
fn listing(out: &Path, target: Target, report: &TreeReport) -> String {
    let count = report.created.len() + report.replaced.len();
    let mut text = format!(
        "wrote {count} file{} for {target} to {}",
        if count == 1 { "" } else { "s" },
        out.display()
    );
    if !report.replaced.is_empty() {
        text.push_str(&format!(
            " ({} new, {} replaced)",
            report.created.len(),
            report.replaced.len()
        ));
    }
    text.push('\n');
    let mut all: Vec<(&str, &str)> = report
        .created
        .iter()
        .map(|p| (p.as_str(), ""))
        .chain(report.replaced.iter().map(|p| (p.as_str(), "  (replaced)")))
        .collect();
    all.sort();
    for (path, note) in all {
        text.push_str(&format!("  {path}{note}\n"));
    }
    text
}

/// A write that did not happen: usage (exit 2) when the output directory is in the way
/// (existing files without --force, links, devices), failure (exit 1) when the system refused.
/// The message always says whether anything was written.
fn write_failure(out: &Path, err: TreeError) -> Failure {
    let written = if err.nothing_written() {
        "nothing was written"
    } else {
        "the output directory is left changed as listed"
    };
    match err {
        TreeError::Exist(ref paths) => Failure::usage(anyhow!(
            "{err}; {written}. Pass --force to replace {}",
            if paths.len() == 1 { "it" } else { "them" }
        )),
        TreeError::NotDirectory { .. } | TreeError::NotRegular { .. } => Failure::usage(anyhow!(
            "{err}; {written}. Remove it or choose another --out than {}",
            out.display()
        )),
        TreeError::BadPath(_) | TreeError::Duplicate(_) => Failure::failed(anyhow!(
            "internal error: the renderer produced an unsafe file list ({err}); {written}"
        )),
        TreeError::Io { .. } | TreeError::Partial { .. } => {
            Failure::failed(anyhow!("{}; {written}", crate::exit::Chain(&err)))
        }
    }
}

/// What `--dry-run` prints: each file's path (under `base`), mode and content.
pub fn dry_run_text(base: &Path, files: &[RenderedFile]) -> String {
    let mut s = String::new();
    for file in files {
        s.push_str(&format!(
            "==> {} (mode {:04o}) <==\n{}",
            base.join(&file.path).display(),
            file.mode,
            file.content
        ));
        if !file.content.ends_with('\n') {
            s.push('\n');
        }
        s.push('\n');
    }
    s
}
