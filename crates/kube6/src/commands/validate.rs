//! `kube6 validate FILE...`: diagnostics only. A file that holds only CNI configuration
//! (Cilium values, a net-conf.json, a CNI's ConfigMap, DaemonSet or HelmChartConfig) is read
//! with the cluster configuration before it and judged by the same rules.

use std::path::PathBuf;

use kube6_model::diagnostic::Diagnostic;
use kube6_model::model::Format;
use serde::Serialize;

use super::input::{InputArgs, add_target_rules, analyze_with};
use crate::exit::{CommandResult, Status};
use crate::output::{self, OutputFormat, paint};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration files to check (kube6, k0s, kubeadm, k3s/RKE2, KKP). A file of CNI
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
    format: Format,
    valid: bool,
    diagnostics: Vec<Diagnostic>,
}

#[derive(Serialize)]
struct Report {
    valid: bool,
    files: Vec<FileReport>,
}

/// The files in groups: each cluster configuration with the CNI configuration files after it.
fn groups(files: &[PathBuf]) -> Result<Vec<(&PathBuf, Vec<PathBuf>)>, crate::exit::Failure> {
    let mut out: Vec<(&PathBuf, Vec<PathBuf>)> = Vec::new();
    for path in files {
        // Unreadable files are reported when analyzed; here they start a group of their own.
        let cni_only = super::input::read(path)
            .map(|s| super::input::is_cni_only(&s))
            .unwrap_or(false);
        match out.last_mut() {
            Some((_, cni)) if cni_only => cni.push(path.clone()),
            None if cni_only => {
                return Err(crate::exit::Failure::usage(anyhow::anyhow!(
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
    let mut first_failure = None;
    let mut inputs: Vec<Result<_, _>> = groups(&args.files)?
        .into_iter()
        .map(|(cluster, cni_files)| {
            let (source, mut analysis) = analyze_with(cluster, &cni_files, &args.input)?;
            add_target_rules(&source, &mut analysis, args.target, args.input.cni);
            Ok((source, analysis))
        })
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
