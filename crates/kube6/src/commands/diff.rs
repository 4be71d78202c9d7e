//! `kube6 diff CURRENT PROPOSED`: what a running cluster can change in its network, and how.

use std::path::PathBuf;

use anyhow::anyhow;
use kube6_diff::state::Origin;
use kube6_diff::{Class, Files, NetworkState, Options, Report};

use super::cluster::ClusterArgs;
use super::input::{InputArgs, analyze_file};
use super::verify::{ClusterSource, load_cluster, parse_size};
use crate::exit::{CommandResult, Failure, Status};
use crate::output::{self, OutputFormat, paint};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when every change is allowed (live or with steps), \
1 when any is refused or unsafe, 2 when an input cannot be read."
)]
pub struct Args {
    /// CURRENT and PROPOSED configurations (any input format kube6 reads; `-` for standard
    /// input, once); with --cluster or --dump, only PROPOSED.
    #[arg(value_name = "FILE", num_args = 1..=2, required = true)]
    pub files: Vec<PathBuf>,
    /// The current side is the live cluster (implied by --kubeconfig and --context).
    #[arg(long)]
    pub cluster: bool,
    /// The current side is a kubectl dump of the cluster (`kubectl get
    /// nodes,pods,services,endpointslices -A -o json`, as `kube6 verify --dump` reads); repeat
    /// it for several files of one cluster.
    #[arg(long, value_name = "FILE")]
    pub dump: Vec<PathBuf>,
    #[command(flatten)]
    pub cluster_args: ClusterArgs,
    /// The most bytes read of each dump.
    #[arg(long, value_name = "SIZE", env = "KUBE6_MAX_DUMP_SIZE",
          default_value = "4Gi", value_parser = parse_size)]
    pub max_dump_size: u64,
    /// Objects per list request to a live cluster.
    #[arg(long, value_name = "N", default_value_t = kube6_verify::live::DEFAULT_PAGE_SIZE,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_size: u32,
    /// The kubeadm cluster is managed by Cluster API: its KubeadmControlPlane refuses network
    /// edits.
    #[arg(long)]
    pub cluster_api: bool,
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub fn run(args: Args) -> CommandResult {
    if args.input.k3s_args.is_some() {
        return Err(Failure::usage(anyhow!(
            "kube6 diff reads files: write the k3s command line to a file (k3s-args format) for each side"
        )));
    }
    let from_cluster = args.cluster || !args.dump.is_empty() || args.cluster_args.given();
    args.cluster_args
        .check_not_with_dump(&args.dump, "--cluster, --kubeconfig, --context")?;
    args.cluster_args.check()?;
    super::input::stdin_at_most_once(
        args.files.iter().chain(&args.dump).map(PathBuf::as_path),
        "give it for one file only",
    )?;
    let (current, proposed_path, current_file) = match (from_cluster, args.files.as_slice()) {
        (true, [proposed]) => {
            let (snapshot, name) = load_cluster(&ClusterSource {
                dump: &args.dump,
                cluster: &args.cluster_args,
                chunk_size: args.chunk_size,
                max_dump_size: args.max_dump_size,
            })?;
            // Without Nodes and Services nothing of the network shows, and every change would
            // look allowed: a file that is no dump of a cluster is an input error.
            if snapshot.nodes.is_empty() || snapshot.services.is_empty() {
                return Err(Failure::usage(anyhow!(
                    "{name} holds no {}: dump the cluster with `kubectl get nodes,pods,services,endpointslices -A -o json`",
                    if snapshot.nodes.is_empty() {
                        "Nodes"
                    } else {
                        "Services"
                    }
                )));
            }
            (
                NetworkState::from_snapshot(&snapshot, &name, args.input.cni),
                proposed,
                None,
            )
        }
        (true, _) => {
            return Err(Failure::usage(anyhow!(
                "with --cluster or --dump the cluster is the current side: give only the PROPOSED file"
            )));
        }
        (false, [current, proposed]) => {
            let (source, analysis) = analyze_file(current, &args.input)?;
            (
                NetworkState::from_analysis(&analysis),
                proposed,
                Some(source.name),
            )
        }
        (false, _) => {
            return Err(Failure::usage(anyhow!(
                "give CURRENT and PROPOSED, or --cluster (or --dump FILE) and PROPOSED"
            )));
        }
    };
    let (source, analysis) = analyze_file(proposed_path, &args.input)?;
    let proposed = NetworkState::from_analysis(&analysis);
    let files = Files {
        current: current_file,
        proposed: source.name.clone(),
    };
    let errors: Vec<_> = analysis
        .plan
        .diagnostics
        .iter()
        .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
        .cloned()
        .collect();
    let report = kube6_diff::diff(
        current,
        proposed,
        &files,
        &Options {
            cluster_api: args.cluster_api,
        },
    )
    .with_proposed_errors(errors);
    match args.output {
        OutputFormat::Text => {
            let mut text = String::new();
            if !report.proposed_errors.is_empty() {
                text.push_str(&format!(
                    "{}\n",
                    paint(
                        output::RED,
                        format!(
                            "The proposed configuration {} is not valid: fix it first (kube6 validate {0}).",
                            files.proposed
                        )
                    )
                ));
                for d in &report.proposed_errors {
                    text.push_str(&source.render(d));
                }
                text.push('\n');
            }
            text.push_str(&render_text(&report));
            output::write_stdout(&text)?
        }
        format => output::print_structured(&report, format)?,
    }
    Ok(if report.blocked() {
        Status::Invalid
    } else {
        Status::Ok
    })
}

fn class_cell(class: Class) -> String {
    let style = match class {
        Class::AllowedLive => output::GREEN,
        Class::AllowedWithSteps => output::YELLOW,
        Class::Unsafe | Class::Refused => output::RED,
    };
    paint(style, format!("{:<18}", class.as_str()))
}

fn side(state: &NetworkState) -> String {
    let name = match &state.origin {
        Origin::Configuration { file, .. } => file.clone(),
        Origin::Cluster { name } => format!("the cluster ({name})"),
    };
    let families = match state.families.as_slice() {
        [] => "no family".to_string(),
        [one] => format!("{one} single-stack"),
        [first, ..] => format!("dual-stack, {first} primary"),
    };
    match (state.distribution, state.cni) {
        (Some(d), Some(c)) => format!("{name} ({d}, {c}, {families})"),
        (None, Some(c)) => format!("{name} ({c}, {families})"),
        _ => format!("{name} ({families})"),
    }
}

/// The report for people.
pub fn render_text(report: &Report) -> String {
    let mut out = format!(
        "{} {}\n{} {}\n",
        paint(output::BOLD, "Current: "),
        side(&report.current),
        paint(output::BOLD, "Proposed:"),
        side(&report.proposed)
    );
    for note in &report.notes {
        out.push_str(&paint(output::DIM, format!("note: {note}\n")));
    }
    out.push('\n');
    if report.changes.is_empty() {
        out.push_str("No network changes.\n");
        return out;
    }
    out.push_str(&format!("{}\n", paint(output::BOLD, "Changes")));
    for c in &report.changes {
        out.push_str(&format!(
            "  {}  {}\n",
            class_cell(c.class),
            c.change.summary
        ));
        for v in &c.verdicts {
            out.push_str(&format!(
                "      {} {} ({}): {}\n",
                class_marker(v.class),
                v.rule,
                v.enforced_by,
                v.reason
            ));
        }
        let affected = &c.change.affected;
        for block in affected.node_blocks.iter().take(5) {
            out.push_str(&paint(
                output::DIM,
                format!("      node {} holds {}\n", block.node, block.cidr),
            ));
        }
        for svc in affected.service_addresses.iter().take(5) {
            out.push_str(&paint(
                output::DIM,
                format!("      Service {} holds {}\n", svc.service, svc.ip),
            ));
        }
        let more = affected.node_blocks.len().saturating_sub(5)
            + affected.service_addresses.len().saturating_sub(5);
        if more > 0 {
            out.push_str(&paint(
                output::DIM,
                format!("      … and {more} more (-o json lists every one)\n"),
            ));
        }
    }

    let runbook = &report.runbook;
    if !runbook.blocked.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            paint(
                output::BOLD,
                format!("Not possible in place on {}", runbook.distribution)
            )
        ));
        for b in &runbook.blocked {
            out.push_str(&format!(
                "  {} {} ({}): {}\n      instead: {}\n",
                paint(output::RED, "✗"),
                b.rules.join(", "),
                b.enforced_by.join(", "),
                b.change,
                b.alternative
            ));
        }
    }
    if !runbook.steps.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            paint(
                output::BOLD,
                format!("Runbook for {}", runbook.distribution)
            )
        ));
        for (n, step) in runbook.steps.iter().enumerate() {
            let rules = if step.rules.is_empty() {
                String::new()
            } else {
                paint(output::DIM, format!("  ({})", step.rules.join(", ")))
            };
            out.push_str(&format!("  {}. {}{rules}\n", n + 1, step.title));
            if let Some(warning) = &step.warning {
                out.push_str(&format!(
                    "     {} {warning}\n",
                    paint(output::RED, "unsafe:")
                ));
            }
            for command in &step.commands {
                for (i, line) in command.lines().enumerate() {
                    let lead = if i == 0 && !line.starts_with('#') {
                        "$ "
                    } else {
                        "  "
                    };
                    out.push_str(&format!("     {lead}{line}\n"));
                }
            }
            for check in &step.checks {
                out.push_str(&format!(
                    "     {} {} {} {}: {}\n",
                    paint(output::GREEN, "check"),
                    check.tool,
                    check.id,
                    check.name,
                    paint(output::DIM, &check.command)
                ));
            }
        }
    }

    let t = &report.totals;
    let mut parts = Vec::new();
    for (n, class) in [
        (t.refused, Class::Refused),
        (t.unsafe_, Class::Unsafe),
        (t.allowed_with_steps, Class::AllowedWithSteps),
        (t.allowed_live, Class::AllowedLive),
    ] {
        if n > 0 {
            let style = match class {
                Class::Refused | Class::Unsafe => output::RED,
                Class::AllowedWithSteps => output::YELLOW,
                Class::AllowedLive => output::GREEN,
            };
            parts.push(paint(style, format!("{n} {}", class.as_str())));
        }
    }
    out.push_str(&format!(
        "\n{} {}\n",
        paint(output::BOLD, "Result:"),
        parts.join(", ")
    ));
    out
}

fn class_marker(class: Class) -> String {
    match class {
        Class::AllowedLive => paint(output::GREEN, "✓"),
        Class::AllowedWithSteps => paint(output::YELLOW, "→"),
        Class::Unsafe => paint(output::RED, "!"),
        Class::Refused => paint(output::RED, "✗"),
    }
}
