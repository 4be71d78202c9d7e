//! `kube6 render FILE --target T [--cni C] --out DIR`: every file a distribution, its CNI and
//! the nodes need, from one valid plan. Refuses an invalid plan (diagnostics, exit 1) and a
//! cluster the target cannot express (exit 1). Writes all files or none (`kube6_fs::tree`):
//! never overwrites a file without `--force` (exit 2), never follows a symbolic link inside
//! DIR, never writes onto anything but a regular file, and lists exactly what it wrote;
//! `--dry-run` prints instead of writing.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use kube6_fs::{TreeError, TreeFile, TreeReport};
use kube6_model::Analysis;
use kube6_render::{KubeadmApi, Rendered, RenderedFile, Request, Target};

use super::emit::{print_notes, recheck, refuse_invalid};
use super::input::{InputArgs, Source, read_input};
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
    /// The image of kube6 for workloads that run it in the cluster: the NDP proxy's watch-mode
    /// DaemonSet (spec.loadBalancer.ndpProxy: watch). Build it with deploy/probe/build.sh and
    /// push it where the nodes pull from; required only where such a workload is rendered.
    #[arg(long, value_name = "IMAGE", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub kube6_image: Option<String>,
}

pub fn run(args: Args) -> CommandResult {
    let (source, analysis) = read_input(args.file.as_deref(), &args.input)?;
    if let Some(status) = refuse_invalid(&source, &analysis, "render") {
        return Ok(status);
    }
    // What the target distribution refuses, with rule ids, before anything is rendered.
    if let Some(status) = refuse_for_target(&source, &analysis, args.target, args.input.cni) {
        return Ok(status);
    }
    let request = Request {
        target: args.target,
        cni: args.input.cni,
        kubeadm_api: args.kubeadm_api,
        kube6_image: args.kube6_image.clone(),
    };
    let rendered = match kube6_render::render(&analysis.network, &analysis.plan, &request) {
        Ok(r) => r,
        // A flag the plan needs is missing: a usage error (exit 2), like a missing --out.
        Err(e @ kube6_render::RenderError::Kube6ImageNeeded { .. }) => {
            return Err(Failure::usage(anyhow!(e)));
        }
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
    if let Some(status) = read_back_cni(&analysis, &request, &rendered) {
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

/// The errors the target distribution's rules find on the cluster (K6E0xx/K6E2xx: what it
/// refuses or cannot express), printed as diagnostics of the input; exit status 1.
pub fn refuse_for_target(
    source: &Source,
    analysis: &Analysis,
    target: Target,
    cni: Option<kube6_model::model::Cni>,
) -> Option<Status> {
    let mut found: Vec<_> = kube6_render::target_diagnostics(&analysis.network, target, cni)
        .into_iter()
        .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
        .collect();
    if found.is_empty() {
        return None;
    }
    source.relocate(&mut found);
    let mut text = String::new();
    for d in &found {
        text.push_str(&source.render(d));
    }
    text.push_str(&format!(
        "kube6: {target} cannot express {} ({}); nothing was written (`kube6 validate --target {target}` reports the same)\n",
        source.name,
        output::summary(&found)
    ));
    output::write_stderr(&text);
    Some(Status::Invalid)
}

/// The semantic round trip: the CNI configuration just rendered, read back next to the cluster
/// and judged by the same rules as any input. An error there is kube6's own mistake: nothing is
/// written (exit 1); warnings are shown as notes.
pub fn read_back_cni(
    analysis: &Analysis,
    request: &Request,
    rendered: &Rendered,
) -> Option<Status> {
    let (text, back) =
        match kube6_render::read_back(&analysis.network, &analysis.plan, request, rendered) {
            Ok(Some(found)) => found,
            Ok(None) => return None,
            Err(e) => {
                output::error(&*anyhow::Error::new(e).context("internal error"));
                return Some(Status::Invalid);
            }
        };
    let source = Source::new("rendered CNI configuration", text);
    let own = &analysis.plan.diagnostics;
    let new: Vec<_> = back
        .diagnostics()
        .iter()
        .filter(|d| d.id.starts_with("K6E2") || d.id.starts_with("K6W2"))
        .filter(|d| !own.iter().any(|o| o.id == d.id))
        .collect();
    let errors = new
        .iter()
        .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
        .count();
    for d in &new {
        if d.severity != kube6_model::diagnostic::Severity::Error {
            output::note(&format!(
                "the rendered CNI configuration: {} [{}]",
                d.message, d.id
            ));
        }
    }
    if errors == 0 {
        return None;
    }
    let mut out = String::new();
    for d in new
        .iter()
        .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
    {
        out.push_str(&source.render(d));
    }
    out.push_str(
        "kube6: internal error: the CNI configuration kube6 rendered fails its own rules (above); nothing was written, please report this\n",
    );
    output::write_stderr(&out);
    Some(Status::Invalid)
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
