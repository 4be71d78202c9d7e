//! `kube6 convert FILE --to FORMAT [-o yaml|json] [--out FILE]`: the same cluster in another
//! input format, written by the renderers, so a converted file reads back as the same plan.
//! Refuses (exit 1) an invalid plan and what the target cannot express, with the reason.
//! `-o` is the output format, as everywhere else; `--out FILE` writes the result atomically
//! (never onto a symbolic link, device or FIFO; an existing file only with `--force`).

use std::path::PathBuf;

use anyhow::anyhow;
use kube6_fs::write::{Replace, WriteError};
use kube6_model::model::Format;
use kube6_render::KubeadmApi;

use super::emit::{print_notes, recheck, refuse_invalid};
use super::input::{InputArgs, read_input};
use crate::exit::{CommandResult, Failure, Status};
use crate::output;

/// `-o yaml|json`: how the converted configuration is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvertOutput {
    /// YAML, as the distribution reads it (several documents separated by `---`).
    #[default]
    Yaml,
    /// One JSON document: the object, or a kubectl-style `List` of several.
    Json,
}

fn parse_output(s: &str) -> Result<ConvertOutput, String> {
    match s.to_ascii_lowercase().as_str() {
        "yaml" | "yml" => Ok(ConvertOutput::Yaml),
        "json" => Ok(ConvertOutput::Json),
        _ => Err(format!(
            "{s:?} is not an output format (yaml or json); -o is the format now, write the \
             file with --out FILE"
        )),
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (any format kube6 reads; - for standard input).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The format to write.
    #[arg(long, value_name = "FORMAT", value_parser = crate::values::output_format())]
    pub to: Format,
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format: yaml (what the distribution reads) or json.
    #[arg(short = 'o', long = "output", value_name = "FORMAT", default_value = "yaml",
          value_parser = parse_output)]
    pub output: ConvertOutput,
    /// Write to FILE (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists (a regular file only; never a link, device or FIFO).
    #[arg(long, requires = "out")]
    pub force: bool,
    /// kubeadm API version to write.
    #[arg(long, value_name = "VERSION", default_value = "v1beta4", value_parser = crate::values::kubeadm_api())]
    pub kubeadm_api: KubeadmApi,
}

pub fn run(args: Args) -> CommandResult {
    let (source, analysis) = read_input(args.file.as_deref(), &args.input)?;
    if let Some(status) = refuse_invalid(&source, &analysis, "convert") {
        return Ok(status);
    }
    let converted =
        match kube6_render::convert(&analysis.network, &analysis.plan, args.to, args.kubeadm_api) {
            Ok(c) => c,
            Err(e) => {
                output::error(
                    &*anyhow::Error::new(e).context(format!("cannot convert to {}", args.to)),
                );
                return Ok(Status::Invalid);
            }
        };
    print_notes(&converted);
    if let Some(status) = recheck(&analysis, args.to, args.kubeadm_api) {
        return Ok(status);
    }
    let yaml: String = converted
        .files
        .iter()
        .map(|f| f.content.as_str())
        .collect::<Vec<_>>()
        .join("---\n");
    let text = match args.output {
        ConvertOutput::Yaml => yaml,
        ConvertOutput::Json => to_json(&yaml)?,
    };
    match &args.out {
        None => output::write_stdout(&text)?,
        Some(path) => {
            let replace = if args.force {
                Replace::RegularFile
            } else {
                Replace::No
            };
            kube6_fs::write::write_atomic(path, text.as_bytes(), 0o644, replace)
                .map_err(write_failure)?;
            output::write_stdout(&format!(
                "wrote {} ({} {})\n",
                path.display(),
                args.to,
                match args.output {
                    ConvertOutput::Yaml => "YAML",
                    ConvertOutput::Json => "JSON",
                }
            ))?;
        }
    }
    Ok(Status::Ok)
}

/// The converted documents as one JSON document: the object itself, or a `List` (as kubectl
/// prints several objects) when the target writes several documents (kubeadm).
fn to_json(yaml: &str) -> Result<String, Failure> {
    let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(yaml).map_err(|e| {
        Failure::failed(anyhow!(
            "internal error: the converted configuration is not YAML kube6 can read back: {e}"
        ))
    })?;
    let mut docs: Vec<serde_json::Value> = docs.into_iter().filter(|d| !d.is_null()).collect();
    let value = if docs.len() == 1 {
        docs.remove(0)
    } else {
        serde_json::json!({"apiVersion": "v1", "kind": "List", "items": docs})
    };
    serde_json::to_string_pretty(&value)
        .map(|s| s + "\n")
        .map_err(Failure::failed)
}

/// An existing file without --force, or something that is not a regular file, is a usage
/// error (exit 2); a refusal by the system is a failure (exit 1). Nothing was written either way.
fn write_failure(err: WriteError) -> Failure {
    match err {
        WriteError::Exists { .. } => Failure::usage(anyhow!("{err}. Pass --force to replace it")),
        WriteError::NotRegular { .. } | WriteError::NoFileName { .. } => Failure::usage(err),
        WriteError::Io { .. } => Failure::failed(err),
    }
}
