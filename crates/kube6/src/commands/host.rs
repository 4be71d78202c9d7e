//! `kube6 host check` and `kube6 host fix`: this node's readiness for IPv6, and the kernel
//! settings that make it ready. The expectation flags are shared with `kube6 node-ip`.

use std::path::PathBuf;

use kube6_host::catalog::{self, IgnoreSet};
use kube6_host::checks::run_checks;
use kube6_host::dns::SystemResolver;
use kube6_host::expect::{
    Expectations, Upstream, families_to_string, parse_families, parse_node_ips,
};
use kube6_host::fix::{self, Applied, FixPlan};
use kube6_host::{CheckStatus, HostPaths, Report, Snapshot};
use serde::Serialize;

use crate::exit::{CommandResult, Failure, Status};
use crate::output::{self, OutputFormat, paint};

/// What the cluster expects of this node, as flags or from a plan. Becomes a
/// [`kube6_host::Expectations`]; flags given explicitly win over the plan.
#[derive(Debug, Clone, clap::Args)]
pub struct ExpectationArgs {
    /// Address families, primary first: IPv4, IPv6, dual (IPv4 first), dual6 (IPv6 first), or a
    /// comma list such as IPv6,IPv4. Default: the plan's families, else IPv6.
    #[arg(long, value_name = "FAMILIES")]
    pub family: Option<String>,
    /// The node IPs the kubelet will use (at most one per family), e.g. 2001:db8::10,192.0.2.10.
    #[arg(long = "node-ip", value_name = "ADDR[,ADDR]")]
    pub node_ip: Option<String>,
    /// The node name to resolve (default: this host's hostname).
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// A cluster configuration (any format kube6 reads) whose plan says what to expect: families,
    /// this node's IPs (from its entry in `nodes`), the upstream mode and uplink, NAT64.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// This node's name in the plan's `nodes` (default: --hostname, else this host's hostname).
    #[arg(long, value_name = "NAME", requires = "plan")]
    pub node: Option<String>,
    #[command(flatten)]
    pub input: crate::commands::input::InputArgs,
}

impl ExpectationArgs {
    pub fn to_expectations(&self) -> Result<Expectations, Failure> {
        let mut exp = match &self.plan {
            Some(path) => self.expectations_of_plan(path)?,
            None => Expectations::default(),
        };
        if let Some(family) = &self.family {
            exp.families = parse_families(family).map_err(Failure::usage)?;
        }
        if let Some(ips) = &self.node_ip {
            exp.node_ips = parse_node_ips(ips).map_err(Failure::usage)?;
        }
        if self.hostname.is_some() {
            exp.hostname = self.hostname.clone();
        }
        exp.kernel = kube6_host::expect::kernel_requirements(&exp.families);
        exp.validate().map_err(Failure::usage)?;
        Ok(exp)
    }

    /// Expectations from a plan: what the cluster's configuration says this node needs.
    fn expectations_of_plan(&self, path: &std::path::Path) -> Result<Expectations, Failure> {
        let (source, analysis) = crate::commands::input::analyze_file(path, &self.input)?;
        if !analysis.plan.valid {
            output::warning(&format!(
                "{} has errors (see `kube6 validate {}`); checking against it anyway",
                source.name, source.name
            ));
        }
        let net = &analysis.network;
        let mut exp = Expectations::default();
        if !analysis.plan.families.is_empty() {
            exp.families = analysis.plan.families.clone();
        }
        let name = self
            .node
            .clone()
            .or_else(|| self.hostname.clone())
            .or_else(|| {
                let name = kube6_host::snapshot::node_name(
                    &Expectations::default(),
                    &kube6_host::HostPaths::system(),
                );
                (!name.is_empty()).then_some(name)
            });
        if let Some(name) = &name {
            match net.nodes.iter().find(|n| &n.name.value == name) {
                Some(node) => {
                    exp.node_ips = node
                        .addresses
                        .iter()
                        .filter_map(|a| a.value.parsed)
                        .collect();
                    // The hybrid layout: this node of an IPv6-only cluster has IPv4 too, for the
                    // container runtime; the kubelet gets only its IPv6 address.
                    if exp.families == [kube6_net::Family::IPv6]
                        && exp.node_ips.iter().any(|ip| ip.is_ipv4())
                    {
                        exp.keep_ipv4_route = true;
                        exp.node_ips.retain(|ip| ip.is_ipv6());
                    }
                    exp.hostname = Some(name.clone());
                }
                None if self.node.is_some() => {
                    let known: Vec<&str> =
                        net.nodes.iter().map(|n| n.name.value.as_str()).collect();
                    return Err(Failure::usage(anyhow::anyhow!(
                        "{}: no node named {name:?} (nodes: {})",
                        source.name,
                        if known.is_empty() {
                            "none declared".to_string()
                        } else {
                            known.join(", ")
                        }
                    )));
                }
                None => {}
            }
        }
        if let Some(upstream) = net
            .upstream_for(kube6_net::Family::IPv6)
            .or_else(|| net.upstream.first())
        {
            let mode = match upstream.mode.value {
                kube6_model::model::UpstreamMode::Masquerade => "nat",
                other => other.as_str(),
            };
            exp.upstream = mode.parse::<Upstream>().ok();
            exp.uplink = upstream.uplink.as_ref().map(|u| u.value.clone());
        }
        // An IPv6-only cluster that declares NAT64 depends on DNS64 to reach IPv4-only hosts.
        exp.require_dns64 = net.nat64.is_some() && exp.families == [kube6_net::Family::IPv6];
        if let Some(ipnet::IpNet::V6(prefix)) =
            net.nat64.as_ref().and_then(|n| n.prefix.value.net())
        {
            exp.nat64_prefix = Some(kube6_host::dns::Nat64Prefix {
                prefix: prefix.trunc().network(),
                len: prefix.prefix_len(),
            });
        }
        // The plan says which registries the nodes pull from: host check looks at each, and
        // tries NAT64 against the first.
        exp.registries =
            kube6_model::facts::registries::defaults(net.distribution.value, net.cni.value)
                .into_iter()
                .map(|(registry, images)| registry_target(registry, images))
                .collect();
        Ok(exp)
    }
}

/// Flags of `host check` and `host fix`.
#[derive(Debug, Clone, clap::Args)]
pub struct HostArgs {
    #[command(flatten)]
    pub expect: ExpectationArgs,
    /// The interface facing the upstream network (default: the interface of the default route).
    #[arg(long, value_name = "IF")]
    pub uplink: Option<String>,
    /// How pod ranges reach the upstream network.
    #[arg(long, value_name = "MODE", value_parser = crate::values::upstream())]
    pub upstream: Option<Upstream>,
    /// Fail (rather than warn) when no DNS64 resolver is found.
    #[arg(long)]
    pub require_dns64: bool,
    /// An IPv4-only host to connect to through NAT64 (HOST:PORT, [ADDR]:PORT for IPv6). Default
    /// with --plan: the first registry the plan's distribution pulls from.
    #[arg(long, value_name = "HOST:PORT", value_parser = parse_target)]
    pub nat64_target: Option<String>,
    /// Look up container registries and connect to them per family (NAME or NAME:PORT, comma
    /// separated or repeated; docker.io means its API host registry-1.docker.io). Without
    /// names (needs --plan): the registries the plan's distribution and CNI pull from. Not
    /// given: no registry is contacted.
    #[arg(long = "registry", value_name = "NAME", num_args = 0.., value_delimiter = ',', value_parser = parse_registry)]
    pub registries: Option<Vec<kube6_host::egress::RegistryTarget>>,
    /// Accept a unique local address (fc00::/7) as the uplink's IPv6 address.
    #[arg(long)]
    pub allow_ula: bool,
    /// Root of the file system holding etc/sysctl.d (for tests and image builds).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// The runtime sysctl tree (default: <root>/proc/sys).
    #[arg(long, value_name = "DIR")]
    pub proc_sys: Option<PathBuf>,
    /// Checks whose failures and warnings do not count (ids or names, case-insensitive, or
    /// `all`; see `host check --list-checks`): reported as ignored, they do not make the exit
    /// status 1.
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
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

impl HostArgs {
    fn expectations(&self) -> Result<Expectations, Failure> {
        let mut exp = self.expect.to_expectations()?;
        if self.uplink.is_some() {
            exp.uplink = self.uplink.clone();
        }
        if self.upstream.is_some() {
            exp.upstream = self.upstream;
        }
        exp.require_dns64 |= self.require_dns64;
        if self.nat64_target.is_some() {
            exp.nat64_target = self.nat64_target.clone();
        }
        // Registries are contacted only when asked for: the plan's list with a bare
        // --registry, the names given otherwise.
        match &self.registries {
            None => exp.registries.clear(),
            Some(list) if list.is_empty() => {
                if self.expect.plan.is_none() {
                    return Err(Failure::usage(anyhow::anyhow!(
                        "--registry without names takes the registries from the plan: add --plan FILE, or name them (--registry ghcr.io,quay.io)"
                    )));
                }
            }
            Some(list) => exp.registries = list.clone(),
        }
        // NAT64 is tried against the first registry when no target is named.
        if exp.nat64_target.is_none()
            && let Some(first) = exp.registries.first()
        {
            exp.nat64_target = Some(if first.host.contains(':') {
                format!("[{}]:{}", first.host, first.port)
            } else {
                format!("{}:{}", first.host, first.port)
            });
        }
        exp.allow_ula = self.allow_ula;
        Ok(exp)
    }

    fn paths(&self) -> HostPaths {
        HostPaths::new(self.root.clone(), self.proc_sys.clone())
    }

    fn ignore_set(&self) -> Result<IgnoreSet, Failure> {
        super::checks::ignore_set::<catalog::HostChecks>(&self.ignore, &self.only)
    }
}

#[derive(Debug, clap::Subcommand)]
pub enum HostCommand {
    /// Check this node's readiness for IPv6: each check passes, warns or fails, with what was
    /// read, why it matters and the fix. Exit 1 when a check fails.
    Check {
        #[command(flatten)]
        args: HostArgs,
        /// Run `kube6 host fix` instead of only checking.
        #[arg(long)]
        fix: bool,
        /// List the checks (id, name, what passes) and exit.
        #[arg(long)]
        list_checks: bool,
        /// With --list-checks: the table of docs/host.md (Markdown).
        #[arg(long, requires = "list_checks")]
        markdown: bool,
    },
    /// Write the missing kernel settings into <root>/etc/sysctl.d/90-kube6.conf (atomically,
    /// leaving every other file alone), apply them, and check again. A second run changes nothing.
    Fix {
        #[command(flatten)]
        args: HostArgs,
        /// Show the diff and the runtime changes without making them.
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(cmd: HostCommand) -> CommandResult {
    match cmd {
        HostCommand::Check {
            args,
            list_checks: true,
            markdown,
            ..
        } => super::checks::list::<catalog::HostChecks>(args.output, markdown),
        HostCommand::Check {
            args, fix: false, ..
        } => check(&args),
        HostCommand::Check {
            args, fix: true, ..
        } => fix(&args, false),
        HostCommand::Fix { args, dry_run } => fix(&args, dry_run),
    }
}

fn read(args: &HostArgs, exp: &Expectations) -> Result<Snapshot, Failure> {
    Snapshot::read(&args.paths(), exp, &SystemResolver).map_err(Failure::failed)
}

fn status_of(report: &Report) -> Status {
    if report.failed() {
        Status::Invalid
    } else {
        Status::Ok
    }
}

/// The checks on the node as it is now, with `--ignore` applied.
fn checks(args: &HostArgs, snap: &Snapshot, exp: &Expectations) -> Result<Report, Failure> {
    let mut report = run_checks(snap, exp);
    report.ignore(&args.ignore_set()?);
    Ok(report)
}

fn check(args: &HostArgs) -> CommandResult {
    let ignore = args.ignore_set()?;
    let exp = args.expectations()?;
    let snap = read(args, &exp)?;
    let mut report = run_checks(&snap, &exp);
    report.ignore(&ignore);
    match args.output {
        OutputFormat::Text => output::write_stdout(&render_report(&report))?,
        format => output::print_structured(&report, format)?,
    }
    Ok(status_of(&report))
}

/// The `host fix -o json` document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FixDocument<'a> {
    dry_run: bool,
    file: String,
    file_changed: bool,
    diff: String,
    runtime: &'a [fix::RuntimeChange],
    absent: Vec<String>,
    offline: bool,
    overridden: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    applied: Option<&'a Applied>,
    /// The checks after the fix (before it, for a dry run).
    report: &'a Report,
}

fn fix(args: &HostArgs, dry_run: bool) -> CommandResult {
    args.ignore_set()?;
    let exp = args.expectations()?;
    let paths = args.paths();
    let snap = read(args, &exp)?;
    let plan = fix::plan(&snap, &exp, &paths).map_err(Failure::failed)?;
    let applied = if dry_run {
        None
    } else {
        Some(fix::apply(&plan, &paths).map_err(Failure::failed)?)
    };
    let report = if dry_run {
        checks(args, &snap, &exp)?
    } else {
        checks(args, &read(args, &exp)?, &exp)?
    };
    match args.output {
        OutputFormat::Text => output::write_stdout(&format!(
            "{}\n{}\n{}",
            render_plan(&plan, applied.as_ref(), dry_run),
            if dry_run {
                "checks now (before any change):"
            } else {
                "checks after the fix:"
            },
            render_report(&report)
        ))?,
        format => output::print_structured(
            &FixDocument {
                dry_run,
                file: plan.file.display().to_string(),
                file_changed: plan.file_changes(),
                diff: plan.diff(),
                runtime: &plan.runtime,
                absent: plan.absent.iter().map(|k| k.to_string()).collect(),
                offline: plan.offline,
                overridden: plan.overridden.iter().map(overridden_line).collect(),
                applied: applied.as_ref(),
                report: &report,
            },
            format,
        )?,
    }
    if let Some(a) = &applied
        && !a.errors.is_empty()
    {
        return Err(Failure::failed(anyhow::anyhow!(
            "some settings could not be applied: {}",
            a.errors.join("; ")
        )));
    }
    Ok(if dry_run {
        Status::Ok
    } else {
        status_of(&report)
    })
}

fn overridden_line(o: &fix::Overridden) -> String {
    format!(
        "{} = {} is overridden at boot by {}:{} ({})",
        o.key,
        o.wanted,
        o.by.file.display(),
        o.by.line,
        o.by.value
    )
}

fn render_plan(plan: &FixPlan, applied: Option<&Applied>, dry_run: bool) -> String {
    let mut out = String::new();
    if plan.is_noop() {
        out.push_str(&format!(
            "nothing to change: {} and the runtime values are up to date\n",
            plan.file.display()
        ));
    }
    if plan.file_changes() {
        out.push_str(&format!(
            "{} {}:\n",
            if dry_run { "would write" } else { "wrote" },
            plan.file.display()
        ));
        out.push_str(&plan.diff());
    }
    for change in &plan.runtime {
        out.push_str(&format!(
            "{} {}: {} -> {}\n",
            if dry_run { "would set" } else { "set" },
            change.key,
            change.from.as_deref().unwrap_or("(absent)"),
            change.to
        ));
    }
    if plan.offline {
        out.push_str("no runtime sysctl tree under the root: only the file is written (use --proc-sys to apply)\n");
    }
    for key in &plan.absent {
        out.push_str(&format!(
            "not applied now: {key} does not exist at runtime (module not loaded, interface missing or IPv6 off)\n"
        ));
    }
    for o in &plan.overridden {
        out.push_str(&format!("warning: {}\n", overridden_line(o)));
    }
    if let Some(a) = applied {
        for e in &a.errors {
            out.push_str(&format!("error: {e}\n"));
        }
    }
    out
}

/// The report for people: one line per check, then what was read, why and the fix for those
/// that did not pass.
pub fn render_report(report: &Report) -> String {
    let width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in &report.checks {
        // Padded before painting, so that the escapes do not upset the alignment; colour is
        // stripped on the way out when stdout is not a terminal or NO_COLOR is set.
        let word = format!("{:<7}", c.status.as_str().to_ascii_uppercase());
        let word = match c.status {
            CheckStatus::Pass => paint(output::GREEN, word),
            CheckStatus::Skip => paint(output::DIM, word),
            CheckStatus::Ignored => paint(output::BLUE, word),
            CheckStatus::Warn => paint(output::YELLOW, word),
            CheckStatus::Fail => paint(output::RED, word),
        };
        let ignored = match c.ignored_status {
            Some(was) => format!(" (would {}; ignored)", was.as_str()),
            None => String::new(),
        };
        out.push_str(&format!(
            "{word}  {}  {:width$}  {}{ignored}\n",
            c.id, c.name, c.summary
        ));
        let indent = " ".repeat(width + 19);
        for line in &c.read {
            out.push_str(&format!("{indent}read: {line}\n"));
        }
        if matches!(
            c.status,
            CheckStatus::Warn | CheckStatus::Fail | CheckStatus::Ignored
        ) {
            out.push_str(&format!("{indent}why:  {}\n", c.why));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("{indent}fix:  {fix}\n"));
            }
        }
    }
    let mut counts = vec![
        format!("{} passed", report.count(CheckStatus::Pass)),
        format!("{} warnings", report.count(CheckStatus::Warn)),
        format!("{} failed", report.count(CheckStatus::Fail)),
    ];
    for (status, word) in [
        (CheckStatus::Skip, "skipped"),
        (CheckStatus::Ignored, "ignored"),
    ] {
        let n = report.count(status);
        if n > 0 {
            counts.push(format!("{n} {word}"));
        }
    }
    out.push_str(&format!(
        "{}: {} (families {}{})\n",
        if report.failed() {
            "not ready"
        } else {
            "ready"
        },
        counts.join(", "),
        families_to_string(&report.families),
        report
            .uplink
            .as_deref()
            .map(|u| format!(", uplink {u}"))
            .unwrap_or_default()
    ));
    out
}

/// `--nat64-target`: HOST:PORT.
fn parse_target(text: &str) -> Result<String, String> {
    kube6_host::egress::split_target(text).map(|_| text.to_string())
}

/// A registry and its images, with the host and port a container runtime connects to.
fn registry_target(registry: &str, images: Vec<&str>) -> kube6_host::egress::RegistryTarget {
    kube6_host::egress::RegistryTarget {
        registry: registry.to_string(),
        host: kube6_model::facts::registries::api_host(registry).to_string(),
        port: kube6_model::facts::registries::REGISTRY_PORT,
        images: images.into_iter().map(str::to_string).collect(),
    }
}

/// `--registry`: NAME or NAME:PORT (as image references spell a registry with a port).
fn parse_registry(text: &str) -> Result<kube6_host::egress::RegistryTarget, String> {
    let text = text.trim();
    if text.is_empty() || text.contains('/') {
        return Err(format!(
            "{text:?}: a registry is a host name, optionally with :PORT (not an image reference)"
        ));
    }
    if text.contains(':') {
        let (host, port) = kube6_host::egress::split_target(text)?;
        return Ok(kube6_host::egress::RegistryTarget {
            registry: text.to_string(),
            host,
            port,
            images: Vec::new(),
        });
    }
    Ok(registry_target(text, Vec::new()))
}
