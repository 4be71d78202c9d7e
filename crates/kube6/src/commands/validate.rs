//! `kube6 validate FILE...`: diagnostics only.

use std::path::PathBuf;

use kube6_model::diagnostic::Diagnostic;
use kube6_model::model::Format;
use serde::Serialize;

use super::input::{InputArgs, analyze_file};
use crate::exit::{CommandResult, Status};
use crate::output::{self, OutputFormat, paint};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration files to check (kube6, k0s, kubeadm, k3s/RKE2, KKP).
    #[arg(required_unless_present = "k3s_args", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Serialize)]
struct FileReport {
    file: String,
    format: Format,
    valid: bool,
    diagnostics: Vec<Diagnostic>,
}

#[derive(Serialize)]
struct Report {
    valid: bool,
    files: Vec<FileReport>,
}

pub fn run(args: Args) -> CommandResult {
    let mut reports = Vec::new();
    let mut text = String::new();
    let mut first_failure = None;
    let mut inputs: Vec<Result<_, _>> = args
        .files
        .iter()
        .map(|path| analyze_file(path, &args.input))
        .collect();
    if let Some(line) = &args.input.k3s_args {
        inputs.push(super::input::analyze_k3s_args(&args.input, line));
    }
    for input in inputs {
        match input {
            Ok((source, analysis)) => {
                let diagnostics = analysis.plan.diagnostics.clone();
                let valid = analysis.plan.valid;
                for d in &diagnostics {
                    text.push_str(&source.render(d));
                    text.push('\n');
                }
                let verdict = if valid {
                    paint(output::GREEN, "valid")
                } else {
                    paint(output::RED, "invalid")
                };
                text.push_str(&format!(
                    "{}: {verdict} ({}, {})\n",
                    source.name,
                    super::plan::describe_source(&analysis.network),
                    output::summary(&diagnostics)
                ));
                reports.push(FileReport {
                    file: source.name,
                    format: analysis.network.format,
                    valid,
                    diagnostics,
                });
            }
            // An unreadable file is reported and the others still checked; exit status 2 at the end.
            Err(failure) => {
                if first_failure.is_none() {
                    first_failure = Some(failure);
                } else {
                    failure.report();
                }
            }
        }
    }
    let valid = reports.iter().all(|r| r.valid);
    match args.output {
        OutputFormat::Text => output::write_stdout(&text)?,
        format => output::print_structured(
            &Report {
                valid,
                files: reports,
            },
            format,
        )?,
    }
    if let Some(failure) = first_failure {
        return Err(failure);
    }
    Ok(if valid { Status::Ok } else { Status::Invalid })
}
