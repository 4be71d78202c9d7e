//! `kube6 render FILE --target T [--cni C] --out DIR`: every file a distribution, its CNI and
//! the nodes need, from one valid plan. Refuses an invalid plan (diagnostics, exit 1) and a
//! cluster the target cannot express (exit 1); never overwrites a file without `--force`
//! (exit 2); writes each file atomically; `--dry-run` prints instead of writing.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use kube6_model::Analysis;
use kube6_model::import::ImportOptions;
use kube6_model::model::{FeatureGate, Format};
use kube6_model::source::{Located, Origin};
use kube6_render::{KubeadmApi, Rendered, RenderedFile, Request, Target};

use super::input::{InputArgs, Source, analyze_file};
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
    /// Directory the files are written to (created if missing).
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    pub out: Option<PathBuf>,
    /// Replace files that already exist.
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
    // What the target distribution refuses, with rule ids, before anything is rendered.
    if let Some(status) = refuse_for_target(&source, &analysis, args.target, args.input.cni) {
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
    write_all(out, &rendered.files, args.force)?;
    let mut listing = format!(
        "wrote {} files for {} to {}\n",
        rendered.files.len(),
        args.target,
        out.display()
    );
    for file in &rendered.files {
        listing.push_str(&format!("  {}\n", file.path));
    }
    output::write_stdout(&listing)?;
    Ok(Status::Ok)
}

/// Reads FILE or `--k3s-args`.
pub fn read_input(file: Option<&Path>, input: &InputArgs) -> Result<(Source, Analysis), Failure> {
    match (file, &input.k3s_args) {
        (Some(_), Some(_)) => Err(Failure::usage(anyhow!(
            "give either FILE or --k3s-args, not both"
        ))),
        (None, Some(line)) => super::input::analyze_k3s_args(input, line),
        (Some(path), None) => analyze_file(path, input),
        (None, None) => Err(Failure::usage(anyhow!(
            "give the configuration FILE (or --k3s-args)"
        ))),
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

/// For an invalid plan: prints its diagnostics to stderr and returns exit status 1.
pub fn refuse_invalid(source: &Source, analysis: &Analysis, what: &str) -> Option<Status> {
    if analysis.plan.valid {
        return None;
    }
    let mut text = String::new();
    for d in analysis.diagnostics() {
        text.push_str(&source.render(d));
    }
    text.push_str(&format!(
        "kube6: {} is not valid ({}); {what} writes nothing for an invalid plan\n",
        source.name,
        output::summary(analysis.diagnostics())
    ));
    output::write_stderr(&text);
    Some(Status::Invalid)
}

/// Reads the target's rendered document back and plans it: a plan that is not valid for the
/// target's own distribution (the input was checked for its distribution, which may differ)
/// is refused with the diagnostics, exit 1.
pub fn recheck(analysis: &Analysis, format: Format, api: KubeadmApi) -> Option<Status> {
    let converted = kube6_render::convert(&analysis.network, &analysis.plan, format, api).ok()?;
    let text: String = converted
        .files
        .iter()
        .map(|f| f.content.as_str())
        .collect::<Vec<_>>()
        .join("---\n");
    let mut options = ImportOptions {
        format: Some(format),
        ..ImportOptions::default()
    };
    // The rendered command lines carry these gates (k0s --feature-gates).
    options.feature_gates = analysis
        .network
        .feature_gates
        .iter()
        .filter(|g| g.name.value == "IPv6SingleStack")
        .cloned()
        .collect();
    if format == Format::K0s
        && analysis.plan.families == [kube6_net::Family::IPv6]
        && options.feature_gates.is_empty()
    {
        options.feature_gates.push(FeatureGate {
            name: Located::new(
                "IPv6SingleStack".to_string(),
                Origin::input("--feature-gates", None),
            ),
            enabled: Located::new(true, Origin::input("--feature-gates", None)),
        });
    }
    let name = format!("rendered {format} configuration");
    let checked = match kube6_model::analyze(&name, &text, &options) {
        Ok(a) => a,
        Err(e) => {
            output::error(&*anyhow::Error::new(e).context(format!(
                "internal error: the rendered {format} configuration does not read back"
            )));
            return Some(Status::Invalid);
        }
    };
    if checked.plan.valid {
        return None;
    }
    let source = Source::new(name, text);
    let mut out = String::new();
    for d in checked.diagnostics() {
        if d.severity == kube6_model::diagnostic::Severity::Error {
            out.push_str(&source.render(d));
        }
    }
    out.push_str(&format!(
        "kube6: the cluster is valid as given, but not for {format}: the errors above are what {format} would refuse; nothing was written\n"
    ));
    output::write_stderr(&out);
    Some(Status::Invalid)
}

/// Notes from the renderers, one line each on stderr.
pub fn print_notes(rendered: &Rendered) {
    for note in &rendered.notes {
        output::note(note);
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

/// Writes every file under `dir`; without `force`, refuses (exit 2) before writing anything
/// if one of them exists.
pub fn write_all(dir: &Path, files: &[RenderedFile], force: bool) -> Result<(), Failure> {
    if !force {
        let existing: Vec<String> = files
            .iter()
            .map(|f| dir.join(&f.path))
            .filter(|p| p.symlink_metadata().is_ok())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(Failure::usage(anyhow!(
                "{} already exist{}; nothing was written. Pass --force to replace {}",
                existing.join(", "),
                if existing.len() == 1 { "s" } else { "" },
                if existing.len() == 1 { "it" } else { "them" }
            )));
        }
    }
    for file in files {
        write_atomic(
            &dir.join(&file.path),
            file.content.as_bytes(),
            file.mode,
            force,
        )
        .map_err(Failure::failed)?;
    }
    Ok(())
}

/// Writes `path` through a temporary file in the same directory: write, set the mode, fsync,
/// rename over the target (without `replace`, fail if it appeared meanwhile), fsync the
/// directory.
pub fn write_atomic(path: &Path, content: &[u8], mode: u32, replace: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".kube6-")
        .tempfile_in(&parent)
        .with_context(|| format!("cannot create a temporary file in {}", parent.display()))?;
    tmp.write_all(content)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))?;
    tmp.as_file()
        .sync_all()
        .with_context(|| format!("cannot sync {}", path.display()))?;
    if replace {
        tmp.persist(path)
            .map_err(|e| anyhow!("cannot write {}: {}", path.display(), e.error))?;
    } else {
        tmp.persist_noclobber(path).map_err(|e| {
            anyhow!(
                "cannot write {}: {}; pass --force to replace it",
                path.display(),
                e.error
            )
        })?;
    }
    if let Ok(dir) = std::fs::File::open(&parent) {
        let _ = dir.sync_all();
    }
    Ok(())
}
