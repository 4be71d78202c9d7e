//! `kube6 verify`: check a running cluster, or a kubectl dump of it, against its plan.

use std::path::PathBuf;

use anyhow::anyhow;
use kube6_verify::expect::ExpectationSource;
use kube6_verify::{Expectations, Report, Snapshot, Status as CheckStatus};

use super::input::{InputArgs, analyze_file};
use crate::exit::{CommandResult, Failure, Status};
use crate::output::{self, OutputFormat, paint, table};

/// Findings shown per check in text output; `-o json` lists all of them.
const SHOWN_FINDINGS: usize = 10;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Read the output of `kubectl get nodes,pods,services,endpointslices -A -o json` instead of
    /// a live cluster (`-` for standard input); several files are merged into one cluster.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub dump: Vec<PathBuf>,
    /// The plan to compare with (any input format `kube6 plan` reads); without one, families
    /// and node masks are inferred from the cluster and ranges are not checked.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// The kubeconfig file of the live cluster (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The most bytes read of each dump (e.g. 8Gi, 512Mi). Dumps are streamed, so memory does
    /// not grow with it; it stops an endless input.
    #[arg(long, value_name = "SIZE", env = "KUBE6_MAX_DUMP_SIZE",
          default_value = "4Gi", value_parser = parse_size)]
    pub max_dump_size: u64,
    /// Objects per list request to a live cluster (as kubectl's --chunk-size).
    #[arg(long, value_name = "N", default_value_t = kube6_verify::live::DEFAULT_PAGE_SIZE,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_size: u32,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
}

fn parse_size(s: &str) -> Result<u64, String> {
    kube6_fs::size::parse(s)
}

pub fn run(args: Args) -> CommandResult {
    if !args.dump.is_empty() && (args.kubeconfig.is_some() || args.context.is_some()) {
        return Err(Failure::usage(anyhow!(
            "give either --dump FILE... or a live cluster (--kubeconfig, --context), not both"
        )));
    }
    let stdin_readers = args
        .dump
        .iter()
        .chain(&args.plan)
        .chain(&args.kubeconfig)
        .filter(|p| kube6_fs::read::is_stdin(p))
        .count();
    if stdin_readers > 1 {
        return Err(Failure::usage(anyhow!(
            "standard input (-) can be read once: give it to one of --dump and --plan"
        )));
    }
    if args
        .kubeconfig
        .as_deref()
        .is_some_and(kube6_fs::read::is_stdin)
    {
        return Err(Failure::usage(anyhow!(
            "--kubeconfig takes a file, not standard input"
        )));
    }
    let expect_plan = match (&args.plan, &args.input.k3s_args) {
        (Some(_), Some(_)) => {
            return Err(Failure::usage(anyhow!(
                "give either --plan FILE or --k3s-args, not both"
            )));
        }
        (Some(path), None) => Some(analyze_file(path, &args.input)?.1.plan),
        (None, Some(line)) => Some(super::input::analyze_k3s_args(&args.input, line)?.1.plan),
        (None, None) => None,
    };
    let (snapshot, origin) = if args.dump.is_empty() {
        live(&args)?
    } else {
        let limit = kube6_verify::DUMP_LIMIT.with_bytes(args.max_dump_size);
        let snapshot = kube6_verify::read_dumps(&args.dump, &limit).map_err(Failure::usage)?;
        let names = args
            .dump
            .iter()
            .map(|p| kube6_fs::read::display_name(p))
            .collect::<Vec<_>>()
            .join(", ");
        (snapshot, names)
    };
    let expectations = match &expect_plan {
        Some(plan) => Expectations::from_plan(plan),
        None => Expectations::infer(&snapshot),
    };
    let report = kube6_verify::verify(&snapshot, &expectations);
    match args.output {
        OutputFormat::Text => output::write_stdout(&render_text(&report, &origin))?,
        format => output::print_structured(&report, format)?,
    }
    Ok(if report.failed() {
        Status::Invalid
    } else {
        Status::Ok
    })
}

fn live(args: &Args) -> Result<(Snapshot, String), Failure> {
    use kube6_verify::live;
    let options = live::Options {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        page_size: args.chunk_size,
    };
    live::read(&options).map_err(|e| {
        if e.is_configuration() {
            Failure::usage(e)
        } else {
            Failure::failed(e)
        }
    })
}

fn status_cell(status: CheckStatus) -> String {
    let style = match status {
        CheckStatus::Pass => output::GREEN,
        CheckStatus::Skip => output::DIM,
        CheckStatus::Warn => output::YELLOW,
        CheckStatus::Fail => output::RED,
    };
    // Pad before painting so that the escapes do not upset the alignment.
    paint(style, format!("{:<4}", status.as_str()))
}

fn families_line(expect: &Expectations) -> String {
    match expect.families.as_slice() {
        [one] => format!("{one} single-stack"),
        [first, second] => format!("dual-stack, {first} primary ({first}, {second})"),
        _ => "no families".to_string(),
    }
}

/// The report for people.
pub fn render_text(report: &Report, origin: &str) -> String {
    let mut out = String::new();
    let o = &report.objects;
    out.push_str(&format!(
        "{} {origin}: {} nodes, {} pods, {} services, {} EndpointSlices\n",
        paint(output::BOLD, "Verifying"),
        o.nodes,
        o.pods,
        o.services,
        o.endpoint_slices
    ));
    let e = &report.expectations;
    match &e.source {
        ExpectationSource::Plan { file, distribution } => out.push_str(&format!(
            "against the plan {file} ({distribution}): {}\n",
            families_line(e)
        )),
        ExpectationSource::Cluster => out.push_str(&format!(
            "against the cluster itself: {} {}\n",
            families_line(e),
            paint(
                output::DIM,
                "(no --plan: ranges and the distribution's addresses are not checked)"
            )
        )),
    }
    out.push('\n');

    let id_width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
    for check in &report.checks {
        let mut line = format!(
            "  {}  {:<id_width$}  {}",
            status_cell(check.status),
            check.id,
            check.title
        );
        if check.checked > 0 {
            line.push_str(&paint(
                output::DIM,
                format!("  ({} checked)", check.checked),
            ));
        }
        out.push_str(&line);
        out.push('\n');
        if let Some(note) = &check.note {
            out.push_str(&format!(
                "        {:<id_width$}  {}\n",
                "",
                paint(output::DIM, note)
            ));
        }
        for finding in check.findings.iter().take(SHOWN_FINDINGS) {
            let objects = if finding.objects.is_empty() {
                String::new()
            } else {
                format!("{}: ", finding.objects.join(", "))
            };
            out.push_str(&format!(
                "        {:<id_width$}  {} {objects}{}\n",
                "",
                status_cell(finding.status),
                finding.message
            ));
        }
        if check.findings.len() > SHOWN_FINDINGS {
            out.push_str(&format!(
                "        {:<id_width$}  … and {} more (-o json lists every one)\n",
                "",
                check.findings.len() - SHOWN_FINDINGS
            ));
        }
    }

    out.push_str(&format!("\n{}\n", paint(output::BOLD, "Families")));
    let s = &report.summary;
    let mut rows = vec![vec![
        String::new(),
        "IPv4 only".to_string(),
        "IPv6 only".to_string(),
        "dual".to_string(),
        "none".to_string(),
    ]];
    for (name, t) in [
        ("nodes", s.nodes),
        ("pods", s.pods),
        ("services", s.services),
    ] {
        rows.push(vec![
            name.to_string(),
            t.ipv4_only.to_string(),
            t.ipv6_only.to_string(),
            t.dual.to_string(),
            t.none.to_string(),
        ]);
    }
    out.push_str(&table(&rows, "  "));
    out.push_str(&paint(
        output::DIM,
        "  nodes by InternalIP, pods (not hostNetwork) by pod IP, services by ipFamilies\n",
    ));

    let count = |status: CheckStatus| report.checks.iter().filter(|c| c.status == status).count();
    let (failed, warned, skipped) = (
        count(CheckStatus::Fail),
        count(CheckStatus::Warn),
        count(CheckStatus::Skip),
    );
    let mut parts = Vec::new();
    if failed > 0 {
        parts.push(paint(output::RED, format!("{failed} failed")));
    }
    if warned > 0 {
        parts.push(paint(output::YELLOW, format!("{warned} with warnings")));
    }
    if skipped > 0 {
        parts.push(format!("{skipped} skipped"));
    }
    let passed = report.checks.len() - failed - warned - skipped;
    parts.push(paint(output::GREEN, format!("{passed} passed")));
    out.push_str(&format!(
        "\n{} {}\n",
        paint(output::BOLD, "Result:"),
        parts.join(", ")
    ));
    out
}
