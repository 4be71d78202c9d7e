//! `kube6 convert FILE --to FORMAT [-o FILE]`: the same cluster in another input format,
//! written by the renderers, so a converted file reads back as the same plan. Refuses (exit 1)
//! an invalid plan and what the target cannot express, with the reason.

use std::path::PathBuf;

use anyhow::anyhow;
use kube6_model::model::Format;
use kube6_render::KubeadmApi;

use super::input::InputArgs;
use super::render::{print_notes, read_input, recheck, refuse_invalid, write_atomic};
use crate::exit::{CommandResult, Failure, Status};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (any format kube6 reads).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The format to write.
    #[arg(long, value_name = "FORMAT", value_parser = crate::values::output_format())]
    pub to: Format,
    #[command(flatten)]
    pub input: InputArgs,
    /// Write to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(long)]
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
    let text: String = converted
        .files
        .iter()
        .map(|f| f.content.as_str())
        .collect::<Vec<_>>()
        .join("---\n");
    match &args.output {
        None => output::write_stdout(&text)?,
        Some(path) => {
            if !args.force && path.symlink_metadata().is_ok() {
                return Err(Failure::usage(anyhow!(
                    "{} already exists; nothing was written. Pass --force to replace it",
                    path.display()
                )));
            }
            write_atomic(path, text.as_bytes(), 0o644, args.force).map_err(Failure::failed)?;
        }
    }
    Ok(Status::Ok)
}
