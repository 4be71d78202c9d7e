//! `kube6 verify`: check a running cluster, or a kubectl dump of it, against its plan.

use std::path::PathBuf;

use anyhow::anyhow;
use kube6_verify::catalog;
use kube6_verify::expect::ExpectationSource;
use kube6_verify::{Expectations, Report, Snapshot, Status as CheckStatus};

use super::cluster::{ClusterArgs, live_failure};
use super::input::{InputArgs, analyze_file};
use crate::exit::{CommandResult, Failure, Status};
use crate::output::{self, OutputFormat, paint, table};

/// Findings shown per check in text output; `-o json` lists all of them.
const SHOWN_FINDINGS: usize = 10;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Read `kubectl get nodes,pods,services,endpointslices -A -o json` (or -o yaml) output
    /// instead of a live cluster (`-` for standard input); several files, or several documents
    /// in one, are merged into one cluster.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub dump: Vec<PathBuf>,
    /// The plan to compare with (any input format `kube6 plan` reads); without one, families
    /// and node masks are inferred from the cluster and ranges are not checked.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The most bytes read of each dump (e.g. 8Gi, 512Mi). Dumps are streamed, so memory does
    /// not grow with it; it stops an endless input.
    #[arg(long, value_name = "SIZE", env = "KUBE6_MAX_DUMP_SIZE",
          default_value = "4Gi", value_parser = parse_size)]
    pub max_dump_size: u64,
    /// Objects per list request to a live cluster (as kubectl's --chunk-size).
    #[arg(long, value_name = "N", default_value_t = kube6_verify::live::DEFAULT_PAGE_SIZE,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_size: u32,
    /// Checks whose failures and warnings do not count (ids or names, `all`; see
    /// --list-checks): they are reported as ignored and do not make the exit status 1.
    #[arg(long, value_name = "CHECK,...", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Only these checks count (ids or names): every other one still runs and is reported as
    /// ignored. The opposite of --ignore, for following one check at a time.
    #[arg(
        long,
        value_name = "CHECK,...",
        value_delimiter = ',',
        conflicts_with = "ignore"
    )]
    pub only: Vec<String>,
    /// List the checks (id, name, what each checks) and exit.
    #[arg(long)]
    pub list_checks: bool,
    /// With --list-checks: the table of docs/verify.md (Markdown).
    #[arg(long, requires = "list_checks")]
    pub markdown: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub fn parse_size(s: &str) -> Result<u64, String> {
    kube6_fs::size::parse(s)
}

pub fn run(args: Args) -> CommandResult {
    if args.list_checks {
        return super::checks::list::<catalog::VerifyChecks>(args.output, args.markdown);
    }
    let ignore = super::checks::ignore_set::<catalog::VerifyChecks>(&args.ignore, &args.only)?;
    args.cluster
        .check_not_with_dump(&args.dump, "--kubeconfig, --context")?;
    args.cluster.check()?;
    super::input::stdin_at_most_once(
        args.dump.iter().chain(&args.plan).map(PathBuf::as_path),
        "give it to one of --dump and --plan",
    )?;
    let analysis = match (&args.plan, &args.input.k3s_args) {
        (Some(_), Some(_)) => {
            return Err(Failure::usage(anyhow!(
                "give either --plan FILE or --k3s-args, not both"
            )));
        }
        (Some(path), None) => Some(analyze_file(path, &args.input)?.1),
        (None, Some(line)) => Some(super::input::analyze_k3s_args(&args.input, line)?.1),
        (None, None) => None,
    };
    let (snapshot, origin) = load_cluster(&ClusterSource {
        dump: &args.dump,
        cluster: &args.cluster,
        chunk_size: args.chunk_size,
        max_dump_size: args.max_dump_size,
    })?;
    // With a plan, --cni is already applied by its import.
    let expectations = match &analysis {
        Some(analysis) => Expectations::from_analysis(analysis),
        None => Expectations::infer(&snapshot, args.input.cni),
    };
    let mut report = kube6_verify::verify(&snapshot, &expectations);
    report.ignore(&ignore);
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

/// Where a cluster is read from: kubectl dumps, or a live API server.
pub struct ClusterSource<'a> {
    pub dump: &'a [PathBuf],
    pub cluster: &'a ClusterArgs,
    pub chunk_size: u32,
    pub max_dump_size: u64,
}

/// Reads the cluster (`verify` and `diff --cluster` share it): the dumps when there are some,
/// else the live cluster. Returns the snapshot and the name it is reported under.
pub fn load_cluster(source: &ClusterSource<'_>) -> Result<(Snapshot, String), Failure> {
    if !source.dump.is_empty() {
        let limit = kube6_verify::DUMP_LIMIT.with_bytes(source.max_dump_size);
        let snapshot = kube6_verify::read_dumps(source.dump, &limit).map_err(Failure::usage)?;
        let names = source
            .dump
            .iter()
            .map(|p| kube6_fs::read::display_name(p))
            .collect::<Vec<_>>()
            .join(", ");
        return Ok((snapshot, names));
    }
    kube6_verify::live::read(&source.cluster.options(source.chunk_size)).map_err(live_failure)
}

fn status_cell(status: CheckStatus) -> String {
    let style = match status {
        CheckStatus::Pass => output::GREEN,
        CheckStatus::Skip => output::DIM,
        CheckStatus::Ignored => output::BLUE,
        CheckStatus::Warn => output::YELLOW,
        CheckStatus::Fail => output::RED,
    };
    // Pad before painting so that the escapes do not upset the alignment.
    paint(style, format!("{:<7}", status.as_str()))
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
    let mut held = format!(
        "{} nodes, {} pods, {} services, {} EndpointSlices",
        o.nodes, o.pods, o.services, o.endpoint_slices
    );
    for (n, what) in [
        (o.calico_ip_pools, "Calico IPPools"),
        (o.calico_ipam_blocks, "Calico IPAMBlocks"),
        (o.cilium_nodes, "CiliumNodes"),
        (o.cilium_pod_ip_pools, "CiliumPodIPPools"),
        (o.service_cidrs, "ServiceCIDRs"),
    ] {
        if n > 0 {
            held.push_str(&format!(", {n} {what}"));
        }
    }
    out.push_str(&format!(
        "{} {origin}: {held}\n",
        paint(output::BOLD, "Verifying")
    ));
    let e = &report.expectations;
    match &e.source {
        ExpectationSource::Plan {
            file,
            distribution,
            version,
        } => out.push_str(&format!(
            "against the plan {file} ({distribution}{}): {}\n",
            version
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default(),
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
    out.push_str(&format!(
        "pod addresses: {} {}\n",
        e.ipam.mode,
        paint(output::DIM, format!("({})", e.ipam.why))
    ));
    for note in &e.notes {
        out.push_str(&format!(
            "{}\n",
            paint(output::DIM, format!("note: {note}"))
        ));
    }
    out.push('\n');

    let name_width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let indent = " ".repeat(2 + 7 + 2 + 6 + 2);
    for check in &report.checks {
        let mut line = format!(
            "  {}  {}  {:<name_width$}  {}",
            status_cell(check.status),
            check.id,
            check.name,
            check.title
        );
        if check.checked > 0 {
            line.push_str(&paint(
                output::DIM,
                format!("  ({} checked)", check.checked),
            ));
        }
        if let Some(was) = check.ignored_status {
            line.push_str(&paint(output::DIM, format!("  (would {})", was.as_str())));
        }
        out.push_str(&line);
        out.push('\n');
        for note in &check.notes {
            out.push_str(&format!("{indent}{}\n", paint(output::DIM, note)));
        }
        for finding in check.findings.iter().take(SHOWN_FINDINGS) {
            let objects = if finding.objects.is_empty() {
                String::new()
            } else {
                format!("{}: ", finding.objects.join(", "))
            };
            out.push_str(&format!(
                "{indent}{} {objects}{}\n",
                status_cell(finding.status),
                finding.message
            ));
        }
        if check.findings.len() > SHOWN_FINDINGS {
            out.push_str(&format!(
                "{indent}… and {} more (-o json lists every one)\n",
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
        "  nodes by their IPs (InternalIPs, then ExternalIPs), pods (not hostNetwork) by pod IP, services by ipFamilies\n",
    ));

    let t = &report.totals;
    let mut parts = Vec::new();
    if t.failed > 0 {
        parts.push(paint(output::RED, format!("{} failed", t.failed)));
    }
    if t.warned > 0 {
        parts.push(paint(output::YELLOW, format!("{} with warnings", t.warned)));
    }
    if t.ignored > 0 {
        parts.push(paint(output::BLUE, format!("{} ignored", t.ignored)));
    }
    if t.skipped > 0 {
        parts.push(format!("{} skipped", t.skipped));
    }
    parts.push(paint(output::GREEN, format!("{} passed", t.passed)));
    out.push_str(&format!(
        "\n{} {}\n",
        paint(output::BOLD, "Result:"),
        parts.join(", ")
    ));
    out
}
