//! `kube6 validate FILE...`: diagnostics only. A file that holds only CNI configuration
//! (Cilium values, a net-conf.json, a CNI's ConfigMap, DaemonSet or HelmChartConfig) is read
//! with the cluster configuration before it and judged by the same rules.

use std::path::PathBuf;

use kube6_model::diagnostic::Diagnostic;
use kube6_model::model::Format;
use serde::Serialize;

use super::input::{InputArgs, InputError, add_target_rules, analyze_with};
use crate::exit::{CommandResult, Failure, Status};
use crate::output::{self, OutputFormat, paint};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration files to check (kube6, k0s, kubeadm, k3s/RKE2, KKP; - for standard
    /// input). A file of CNI
    /// configuration only (Cilium values, net-conf.json, a CNI network configuration, a CNI's
    /// ConfigMap, DaemonSet or HelmChartConfig) goes with the cluster file before it.
    #[arg(required_unless_present = "k3s_args", value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Also check what this distribution would refuse or cannot express (the rules render
    /// applies before writing files for it).
    #[arg(long, value_name = "TARGET", value_parser = crate::values::target())]
    pub target: Option<kube6_render::Target>,
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

/// The files in groups: each cluster configuration with the CNI configuration files after it.
fn groups(files: &[PathBuf]) -> Result<Vec<(&PathBuf, Vec<PathBuf>)>, Failure> {
    let mut out: Vec<(&PathBuf, Vec<PathBuf>)> = Vec::new();
    for path in files {
        // Unreadable files are reported when analyzed; here they start a group of their own.
        // Standard input can be read once: it is a cluster configuration.
        let cni_only = !kube6_fs::read::is_stdin(path)
            && super::input::read(path)
                .map(|s| super::input::is_cni_only(&s))
                .unwrap_or(false);
        match out.last_mut() {
            Some((_, cni)) if cni_only => cni.push(path.clone()),
            None if cni_only => {
                return Err(Failure::usage(anyhow::anyhow!(
                    "{} holds only CNI configuration; give the cluster's configuration before it \
                     (kube6 validate cluster.yaml {})",
                    path.display(),
                    path.display()
                )));
            }
            _ => out.push((path, Vec::new())),
        }
    }
    Ok(out)
}

pub fn run(args: Args) -> CommandResult {
    let mut reports = Vec::new();
    let mut text = String::new();
    let mut unreadable = Vec::new();
    let groups = groups(&args.files)?;
    let total = groups.len() + usize::from(args.input.k3s_args.is_some());
    let mut inputs: Vec<(String, Result<_, InputError>)> = groups
        .into_iter()
        .map(|(cluster, cni_files)| {
            let analyzed =
                analyze_with(cluster, &cni_files, &args.input).map(|(source, mut analysis)| {
                    add_target_rules(&source, &mut analysis, args.target, args.input.cni);
                    (source, analysis)
                });
            (kube6_fs::read::display_name(cluster), analyzed)
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
