//! `kube6 validate FILE...`: diagnostics only.

use std::path::PathBuf;

use kube6_model::diagnostic::Diagnostic;
use kube6_model::model::Format;
use serde::Serialize;

use super::input::{InputArgs, InputError, analyze_file};
use crate::exit::{CommandResult, Failure, Status};
use crate::output::{self, OutputFormat, paint};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration files to check (kube6, k0s, kubeadm, k3s/RKE2, KKP; - for standard input).
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
    /// The format read; null when the file could not be read or parsed.
    format: Option<Format>,
    valid: bool,
    diagnostics: Vec<Diagnostic>,
    /// Why the file could not be read or parsed (then `valid` is false and exit status 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<FileError>,
}

#[derive(Serialize)]
struct FileError {
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<u32>,
}

#[derive(Serialize)]
struct Report {
    valid: bool,
    files: Vec<FileReport>,
}

pub fn run(args: Args) -> CommandResult {
    let mut reports = Vec::new();
    let mut text = String::new();
    let mut unreadable = Vec::new();
    let total = args.files.len() + usize::from(args.input.k3s_args.is_some());
    let mut inputs: Vec<(String, Result<_, InputError>)> = args
        .files
        .iter()
        .map(|path| {
            (
                kube6_fs::read::display_name(path),
                analyze_file(path, &args.input),
            )
        })
        .collect();
    if let Some(line) = &args.input.k3s_args {
        inputs.push((
            "--k3s-args".to_string(),
            super::input::analyze_k3s_args(&args.input, line),
        ));
    }
    for (name, input) in inputs {
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
                    format: Some(analysis.network.format),
                    valid,
                    diagnostics,
                    error: None,
                });
            }
            // An unreadable file is reported where it stands and the others still checked;
            // exit status 2 at the end.
            Err(err) => {
                // With one input, its error is the command's (printed once, at the end).
                if total > 1 {
                    output::error_line(&err.one_line());
                }
                let pos = err.position();
                reports.push(FileReport {
                    file: err.file().map_or(name, str::to_string),
                    format: None,
                    valid: false,
                    diagnostics: Vec::new(),
                    error: Some(FileError {
                        message: err.one_line(),
                        line: pos.map(|p| p.line),
                        column: pos.map(|p| p.column),
                    }),
                });
                unreadable.push(err);
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
    if total == 1
        && let Some(err) = unreadable.pop()
    {
        return Err(err.into());
    }
    if !unreadable.is_empty() {
        return Err(Failure::usage(anyhow::anyhow!(
            "{} of {total} inputs could not be read",
            unreadable.len()
        )));
    }
    Ok(if valid { Status::Ok } else { Status::Invalid })
}
