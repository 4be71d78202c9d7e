//! `kube6 probe`: real traffic through a running cluster, in every family (agents as
//! DaemonSets, runners as pods); `kube6 probe local` from this host; `kube6 probe agent`, the
//! agent the image runs.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow};
use ipnet::Ipv6Net;
use kube6_net::Family;
use kube6_probe::agent::{self, net::SystemProber, serve::Server};
use kube6_probe::catalog;
use kube6_probe::cause;
use kube6_probe::cluster::{self, Event, Expect, RunOptions};
use kube6_probe::plan;
use kube6_probe::report::{CheckReport, LocalReport, Report, Status};
use kube6_probe::spec::{self, Agent, ExpectationSource, Expectations, External, Options, Spec};

use super::cluster::{ClusterArgs, live_failure};
use super::input::{InputArgs, analyze_file};
use crate::exit::{CommandResult, Failure, Status as ExitStatus};
use crate::output::{self, Progress, paint, table};

/// The image `--image` names when it is not given: the one deploy/probe/build.sh tags.
/// The spec an agent runs: kube6 probe hands it over in a ConfigMap, which holds at most 1 MiB
/// (the API server's object size limit), so twice that is more than any real spec.
const SPEC_LIMIT: kube6_fs::Limit = kube6_fs::Limit {
    bytes: 2 << 20,
    what: "a probe spec",
    raise: None,
};

/// A resolver configuration: a few lines in practice.
const RESOLV_CONF_LIMIT: kube6_fs::Limit = kube6_fs::Limit {
    bytes: 1 << 20,
    what: "a resolver configuration",
    raise: None,
};

/// The resolver configuration's text, when it can be read (a missing or unreadable one means
/// no name servers from it, as in the C library).
fn read_resolv_conf(path: &std::path::Path) -> Option<String> {
    kube6_fs::read::text(path, &RESOLV_CONF_LIMIT)
        .ok()
        .map(|t| t.text)
}

const DEFAULT_IMAGE: &str = concat!("localhost/kube6-probe:", env!("CARGO_PKG_VERSION"));

/// `-o` for probe: the usual formats, and JUnit XML for CI systems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ProbeFormat {
    /// For people: a matrix per check and family, then every failure with its cause.
    #[default]
    Text,
    Json,
    Yaml,
    /// JUnit XML: a test suite per check, a test case per cell.
    Junit,
}

/// A duration: `500ms`, `2s`, `1.5s`, `3m`, `1h`, or a number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (write 500ms, 2s, 3m)"))?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (use ms, s, m or h)"
            ));
        }
    };
    if !(seconds > 0.0 && seconds < 86_400.0 * 7.0) {
        return Err(format!(
            "{text:?}: give a duration above zero and below a week"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_external(text: &str) -> Result<External, String> {
    text.parse().map_err(|e: spec::BadTarget| e.to_string())
}

fn parse_nat64(text: &str) -> Result<Ipv6Net, String> {
    let net: Ipv6Net = text
        .parse()
        .map_err(|_| format!("{text:?} is not an IPv6 prefix (64:ff9b::/96)"))?;
    if ![32, 40, 48, 56, 64, 96].contains(&net.prefix_len()) {
        return Err(format!(
            "{text}: a NAT64 prefix is /32, /40, /48, /56, /64 or /96 (RFC 6052)"
        ));
    }
    Ok(net.trunc())
}

/// Options of the tests themselves, shared by the cluster run and `probe local`.
#[derive(Debug, Clone, clap::Args)]
pub struct TestArgs {
    /// How long one test waits for an answer.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration)]
    pub test_timeout: Duration,
    /// Tests an agent runs at once.
    #[arg(long, value_name = "N", default_value_t = 32,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub parallel: u16,
    /// Checks whose failures do not count (ids or names, `all`; see --list-checks): they are
    /// reported as ignored and do not make the exit status 1.
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
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: ProbeFormat,
}

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<ProbeCommand>,
    /// The plan the cluster should follow (any input format `kube6 plan` reads): its families
    /// are expected to work and no others, NAT64 when it has NAT64. Without one, the families
    /// come from the cluster (the `kubernetes` Service).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The agent image (built by deploy/probe/build.sh and pushed where the nodes pull from).
    #[arg(long, value_name = "IMAGE", env = "KUBE6_PROBE_IMAGE", default_value = DEFAULT_IMAGE)]
    pub image: String,
    /// The agents' imagePullPolicy (Always, IfNotPresent, Never).
    #[arg(long, value_name = "POLICY", value_parser = ["Always", "IfNotPresent", "Never"])]
    pub image_pull_policy: Option<String>,
    /// A destination outside the cluster, HOST or HOST:PORT (IPv6: ADDRESS, [ADDRESS] or
    /// [ADDRESS]:PORT), tested from every pod and node in every family it has; repeat it or
    /// separate with commas.
    #[arg(long, value_name = "TARGET", value_delimiter = ',', value_parser = parse_external)]
    pub external: Vec<External>,
    /// Expect NAT64 through this prefix without a plan (64:ff9b::/96 is the well-known one):
    /// IPv4-only destinations are then tested over IPv6.
    #[arg(long, value_name = "PREFIX", value_parser = parse_nat64)]
    pub nat64_prefix: Option<Ipv6Net>,
    /// The cluster domain (default: the plan's, else what the runners' resolv.conf says).
    #[arg(long, value_name = "DOMAIN")]
    pub cluster_domain: Option<String>,
    /// The agents' port (TCP), on pod and node addresses.
    #[arg(long, value_name = "PORT", default_value_t = spec::DEFAULT_PORT,
          value_parser = clap::value_parser!(u16).range(1..))]
    pub port: u16,
    /// How long to wait for the agents to become ready, and then for the tests to finish.
    #[arg(long, value_name = "DURATION", default_value = "3m", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Skip the path MTU tests.
    #[arg(long)]
    pub no_mtu: bool,
    /// Leave the probe's namespace in place afterwards (remove it with --cleanup).
    #[arg(long)]
    pub keep: bool,
    /// Remove what earlier runs left behind (namespaces labelled
    /// app.kubernetes.io/name=kube6-probe), and exit.
    #[arg(long)]
    pub cleanup: bool,
    /// List the checks (id, name, what passes) and exit.
    #[arg(long)]
    pub list_checks: bool,
    /// With --list-checks: the table of docs/probe.md (Markdown).
    #[arg(long, requires = "list_checks")]
    pub markdown: bool,
    #[command(flatten)]
    pub tests: TestArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum ProbeCommand {
    /// Test targets from this host (a node or a jump host), without a cluster: per family, ICMP
    /// echo, TCP where a port is given, A/AAAA for names, and path MTU with --mtu.
    Local(LocalArgs),
    /// The agent in the probe's pods (the image's command).
    #[command(subcommand)]
    Agent(AgentCommand),
}

#[derive(Debug, clap::Args)]
pub struct LocalArgs {
    /// HOST or HOST:PORT (IPv6: ADDRESS, [ADDRESS] or [ADDRESS]:PORT) to test; repeat it or
    /// separate with commas.
    #[arg(long, value_name = "HOST[:PORT]", required = true, value_delimiter = ',',
          value_parser = parse_external)]
    pub target: Vec<External>,
    /// Names to resolve (A and AAAA), besides the targets that are names.
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub dns: Vec<String>,
    /// Also test the path MTU (a full-size echo with don't-fragment).
    #[arg(long)]
    pub mtu: bool,
    /// The DNS servers to ask (default: those of /etc/resolv.conf).
    #[arg(long, value_name = "IP", value_delimiter = ',')]
    pub nameserver: Vec<IpAddr>,
    /// Test one family only.
    #[arg(long, value_name = "FAMILY", value_parser = ["IPv4", "IPv6", "ipv4", "ipv6"])]
    pub family: Option<String>,
    /// Expect NAT64 through this prefix: IPv4 addresses are also tested over IPv6 through it,
    /// and names answered inside it count as NAT64.
    #[arg(long, value_name = "PREFIX", value_parser = parse_nat64)]
    pub nat64_prefix: Option<Ipv6Net>,
    #[command(flatten)]
    pub tests: TestArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum AgentCommand {
    /// Answer on the probe port with this agent's greeting, until stopped.
    Serve {
        /// This agent's id, `NODE/pod` or `NODE/host`.
        #[arg(long, value_name = "ID")]
        agent: String,
        #[arg(long, value_name = "PORT", default_value_t = spec::DEFAULT_PORT)]
        port: u16,
        /// Listen on these addresses only (default: every address, both families).
        #[arg(long, value_name = "ADDRESS", value_delimiter = ',')]
        listen: Vec<IpAddr>,
    },
    /// Run one agent's tests from a spec and print the results (one line of JSON).
    Run {
        /// The spec the orchestrator wrote.
        #[arg(long, value_name = "FILE")]
        spec: PathBuf,
        /// The agent to run for, `NODE/pod` or `NODE/host`.
        #[arg(long, value_name = "ID")]
        agent: String,
        /// The resolv.conf to take the cluster domain and DNS servers from, when the spec has
        /// none.
        #[arg(long, value_name = "FILE", default_value = "/etc/resolv.conf")]
        resolv_conf: PathBuf,
    },
}

pub fn run(args: Args) -> CommandResult {
    match args.command {
        Some(ProbeCommand::Local(local)) => return run_local(local),
        Some(ProbeCommand::Agent(agent)) => return run_agent(agent),
        None => {}
    }
    if args.list_checks {
        return super::checks::list::<catalog::ProbeChecks>(
            match args.tests.output {
                // A catalog is no test run: JUnit shows it as the text table.
                ProbeFormat::Text | ProbeFormat::Junit => output::OutputFormat::Text,
                ProbeFormat::Json => output::OutputFormat::Json,
                ProbeFormat::Yaml => output::OutputFormat::Yaml,
            },
            args.markdown,
        );
    }
    let ignore =
        super::checks::ignore_set::<catalog::ProbeChecks>(&args.tests.ignore, &args.tests.only)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(anyhow!(e).context("cannot start the I/O runtime")))?;
    args.cluster.check()?;
    let live = args.cluster.options(kube6_verify::live::DEFAULT_PAGE_SIZE);
    let (client, origin) = runtime
        .block_on(kube6_verify::live::client(&live))
        .map_err(|e| match e {
            kube6_verify::live::LiveError::NoCluster(source) => Failure::usage(
                anyhow!(source).context(
                    "no cluster to probe (give --kubeconfig FILE or set KUBECONFIG; `kube6 probe local` tests from this host)",
                ),
            ),
            e => live_failure(e),
        })?;
    let api = kube6_probe::live::KubeApi::new(client, live.max_response_size);
    if args.cleanup {
        let names = runtime.block_on(cluster::cleanup(&api)).map_err(|e| {
            Failure::failed(anyhow!(e).context("cannot remove the probe's namespaces"))
        })?;
        let text = if names.is_empty() {
            "nothing to clean up: no namespace labelled app.kubernetes.io/name=kube6-probe\n"
                .to_string()
        } else {
            names
                .iter()
                .map(|n| format!("namespace/{n} deleted\n"))
                .collect()
        };
        output::write_stdout(&text)?;
        return Ok(ExitStatus::Ok);
    }
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
    let cluster_domain = args
        .cluster_domain
        .clone()
        .or_else(|| analysis.as_ref().map(|a| a.plan.cluster_domain.clone()));
    let expect = match &analysis {
        Some(analysis) => {
            let mut e = Expectations::from_analysis(analysis);
            if let Some(prefix) = args.nat64_prefix {
                e.nat64 = Some(prefix);
            }
            Expect::Plan(e)
        }
        None => Expect::Infer {
            nat64: args.nat64_prefix,
        },
    };
    let options = RunOptions {
        image: args.image.clone(),
        image_pull_policy: args.image_pull_policy.clone(),
        port: args.port,
        wait: args.timeout,
        poll: poll_interval(),
        externals: args.external.clone(),
        cluster_domain,
        tests: Options {
            timeout_ms: u64::try_from(args.tests.test_timeout.as_millis()).unwrap_or(u64::MAX),
            parallel: usize::from(args.tests.parallel),
            mtu: !args.no_mtu,
        },
        keep: args.keep,
    };
    let mut progress = Progress::new();
    let tty = crate::output::stderr_is_terminal();
    let mut on_event = |event: Event| match event {
        Event::Created { what } => progress.line(&format!("created {what}")),
        Event::Waiting {
            what,
            done,
            total,
            elapsed,
        } => {
            if tty {
                progress.update(&format!(
                    "waiting: {what} {done}/{total} ({} s)",
                    elapsed.as_secs()
                ));
            } else {
                progress.update(&format!("waiting: {what} {done}/{total}"));
            }
        }
        Event::TimedOut { what } => {
            progress.line(&format!(
                "gave up waiting for {what} after {} s",
                options.wait.as_secs()
            ));
        }
        Event::CleanedUp { namespace } => {
            progress.finish();
            progress.line(&format!("deleted namespace/{namespace}"));
        }
        Event::Kept { namespace } => {
            progress.finish();
            progress.line(&format!(
                "kept namespace/{namespace} (--keep); remove it with `kube6 probe --cleanup`"
            ));
        }
    };
    let result = runtime.block_on(cluster::run(
        &api,
        &origin,
        &options,
        expect,
        &mut on_event,
        interrupted(),
    ));
    let finished = match result {
        Ok(f) => f,
        Err(cluster::RunError::Interrupted { namespace, cleanup }) => {
            return Err(Failure::Logged(interrupted_exit(&namespace, &cleanup)));
        }
        Err(e @ cluster::RunError::NoNodes) => return Err(Failure::failed(e)),
        Err(e) => return Err(Failure::failed(e)),
    };
    if let Some(e) = &finished.cleanup_error {
        output::warning(&format!(
            "cannot delete namespace/{}: {e}; run `kube6 probe --cleanup`",
            finished.namespace
        ));
    }
    let mut report = finished.report;
    report.ignore(&ignore);
    print_report(&report, args.tests.output)?;
    Ok(if report.failed() {
        ExitStatus::Invalid
    } else {
        ExitStatus::Ok
    })
}

/// How often the cluster is polled: 2 s, or `KUBE6_PROBE_POLL_MS` (the tests' API server answers
/// at once).
fn poll_interval() -> Duration {
    std::env::var("KUBE6_PROBE_POLL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Duration::from_secs(2), Duration::from_millis)
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn interrupted() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        () = term => {},
    }
}

/// Reports an interruption and gives the exit status (130, as a shell gives for SIGINT).
fn interrupted_exit(namespace: &str, cleanup: &str) -> u8 {
    output::error_line(&format!(
        "interrupted; the probe's namespace {namespace} was {cleanup}"
    ));
    130
}

fn print_report(report: &Report, format: ProbeFormat) -> Result<(), Failure> {
    match format {
        ProbeFormat::Text => output::write_stdout(&render_text(report)),
        ProbeFormat::Json => output::print_structured(report, output::OutputFormat::Json),
        ProbeFormat::Yaml => output::print_structured(report, output::OutputFormat::Yaml),
        ProbeFormat::Junit => output::write_stdout(&render_junit(report)?),
    }
}

// ---------------------------------------------------------------------------------------------
// probe local

fn run_local(args: LocalArgs) -> CommandResult {
    let ignore =
        super::checks::ignore_set::<catalog::ProbeChecks>(&args.tests.ignore, &args.tests.only)?;
    let families: Vec<Family> = match args.family.as_deref().map(str::to_ascii_lowercase) {
        Some(f) if f == "ipv4" => vec![Family::IPv4],
        Some(f) if f == "ipv6" => vec![Family::IPv6],
        _ => vec![Family::IPv6, Family::IPv4],
    };
    let mut names = Vec::new();
    for name in &args.dns {
        match name.parse::<External>() {
            Ok(External {
                host: spec::Host::Name(n),
                port: None,
            }) => names.push(n),
            _ => {
                return Err(Failure::usage(anyhow!(
                    "--dns {name:?}: give a DNS name (without a port)"
                )));
            }
        }
    }
    let servers = if args.nameserver.is_empty() {
        read_resolv_conf(std::path::Path::new("/etc/resolv.conf"))
            .map(|t| agent::nameservers_from_resolv_conf(&t))
            .unwrap_or_default()
    } else {
        args.nameserver.clone()
    };
    let tasks = plan::local_tasks(&args.target, &names, &families, args.mtu, args.nat64_prefix);
    let spec = Spec {
        version: spec::SPEC_VERSION,
        namespace: String::new(),
        cluster_domain: None,
        port: spec::DEFAULT_PORT,
        expect: Expectations {
            source: ExpectationSource::Host,
            families: families.clone(),
            nat64: args.nat64_prefix,
            upstream: Vec::new(),
            pod_ranges: Vec::new(),
            notes: Vec::new(),
        },
        nodes: Vec::new(),
        agents: Vec::new(),
        services: Vec::new(),
        kubernetes_ips: Vec::new(),
        dns_servers: servers.clone(),
        externals: args.target.clone(),
        options: Options {
            timeout_ms: u64::try_from(args.tests.test_timeout.as_millis()).unwrap_or(u64::MAX),
            parallel: usize::from(args.tests.parallel),
            mtu: args.mtu,
        },
    };
    let results = execute(&spec, plan::LOCAL, "", &servers, &tasks)?;
    let mut outputs = HashMap::new();
    outputs.insert(plan::LOCAL.to_string(), Ok(results));
    let mut report = Report::build("local", &spec, &tasks, &[], &outputs);
    report.ignore(&ignore);
    match args.tests.output {
        ProbeFormat::Text => output::write_stdout(&render_local(&report))?,
        ProbeFormat::Json => {
            output::print_structured(&LocalReport::from(&report), output::OutputFormat::Json)?
        }
        ProbeFormat::Yaml => {
            output::print_structured(&LocalReport::from(&report), output::OutputFormat::Yaml)?
        }
        ProbeFormat::Junit => print_report(&report, ProbeFormat::Junit)?,
    }
    Ok(if report.failed() {
        ExitStatus::Invalid
    } else {
        ExitStatus::Ok
    })
}

/// Runs tasks on this machine's network.
fn execute(
    spec: &Spec,
    agent_id: &str,
    domain: &str,
    servers: &[IpAddr],
    tasks: &[plan::Task],
) -> Result<kube6_probe::AgentResults, Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::failed(anyhow!(e).context("cannot start the I/O runtime")))?;
    let timeout = Duration::from_millis(spec.options.timeout_ms.max(1));
    runtime.block_on(async {
        let prober =
            SystemProber::new(servers, timeout).map_err(|e| Failure::failed(anyhow!(e)))?;
        Ok(agent::run(spec, agent_id, domain, servers, tasks, &prober).await)
    })
}

// ---------------------------------------------------------------------------------------------
// probe agent

fn run_agent(command: AgentCommand) -> CommandResult {
    match command {
        AgentCommand::Serve {
            agent,
            port,
            listen,
        } => {
            let server = Server::bind(&agent, port, &listen)
                .with_context(|| format!("cannot listen on port {port}"))
                .map_err(Failure::failed)?;
            output::write_stderr(&format!(
                "kube6 probe agent {agent} listening on {}\n",
                server
                    .addresses()
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            server
                .run()
                .context("the agent stopped")
                .map_err(Failure::failed)?;
            Ok(ExitStatus::Ok)
        }
        AgentCommand::Run {
            spec,
            agent: id,
            resolv_conf,
        } => {
            let text = kube6_fs::read::text(&spec, &SPEC_LIMIT)
                .context("cannot read the probe spec")
                .map_err(Failure::usage)?
                .text;
            let spec = Spec::from_json(&text).map_err(Failure::usage)?;
            if spec.agent(&id).is_none() {
                return Err(Failure::usage(anyhow!(
                    "the spec has no agent {id:?} (it has {})",
                    spec.agents
                        .iter()
                        .map(Agent::id)
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            let resolv = read_resolv_conf(&resolv_conf);
            let domain = agent::cluster_domain(&spec, resolv.as_deref());
            let servers = if spec.dns_servers.is_empty() {
                resolv
                    .as_deref()
                    .map(agent::nameservers_from_resolv_conf)
                    .unwrap_or_default()
            } else {
                spec.dns_servers.clone()
            };
            let tasks = plan::tasks_for(&spec, &id, &domain);
            let results = execute(&spec, &id, &domain, &servers, &tasks)?;
            output::write_stdout(&results.to_line())?;
            Ok(ExitStatus::Ok)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Text output

fn status_word(status: Status) -> String {
    let (style, word) = match status {
        Status::Pass => (output::GREEN, "pass"),
        Status::Skip => (output::DIM, "skip"),
        Status::Ignored => (output::BLUE, "ignored"),
        Status::Fail => (output::RED, "FAIL"),
    };
    paint(style, word)
}

fn families_line(e: &Expectations) -> String {
    let families = match e.families.as_slice() {
        [one] => format!("{one} single-stack"),
        [a, b] => format!("dual-stack ({a}, {b})"),
        _ => "no families".to_string(),
    };
    let from = match &e.source {
        ExpectationSource::Plan { file, distribution } => {
            format!("from the plan {file} ({distribution})")
        }
        ExpectationSource::Cluster => "from the cluster".to_string(),
        ExpectationSource::Host => "from this host".to_string(),
    };
    let nat64 = e
        .nat64
        .map(|p| format!(", NAT64 through {p}"))
        .unwrap_or_default();
    format!("{families}{nat64}, {from}")
}

/// The label of a matrix row: `a (pod)`, `a (host)`.
fn agent_label(agent: &str) -> String {
    match agent.rsplit_once('/') {
        Some((node, kind)) => format!("{node} ({kind})"),
        None => agent.to_string(),
    }
}

/// The largest cluster whose matrices are printed whole; beyond it, checks without failures
/// are one line each.
const MATRIX_NODES: usize = 12;

/// A check's matrix for one family: rows are senders, columns destinations (transposed when
/// the destinations are long names). Several cells of one row and column (a node with two
/// addresses of a family) show the worst. Nodes come in the cluster's order, as rows and as
/// columns, whatever order the cells are in; other destinations follow, as they come.
fn matrix(check: &CheckReport, family: Family, nodes: &[String]) -> String {
    let cells: Vec<_> = check.cells.iter().filter(|c| c.family == family).collect();
    let mut rows: Vec<&str> = Vec::new();
    let mut cols: Vec<&str> = Vec::new();
    for c in &cells {
        if !rows.contains(&c.from.as_str()) {
            rows.push(&c.from);
        }
        if !cols.contains(&c.to.as_str()) {
            cols.push(&c.to);
        }
    }
    let node_order = |name: &str| {
        let node = name.split_once('/').map_or(name, |(n, _)| n);
        nodes.iter().position(|n| n == node).unwrap_or(usize::MAX)
    };
    rows.sort_by_key(|r| node_order(r));
    cols.sort_by_key(|c| node_order(c));
    let transpose = cols.iter().any(|c| c.len() > 14);
    let status = |from: &str, to: &str| -> String {
        cells
            .iter()
            .filter(|c| c.from == from && c.to == to)
            .map(|c| c.status)
            .max()
            .map_or_else(|| "·".to_string(), status_word)
    };
    let mut table_rows = Vec::new();
    if transpose {
        let mut header = vec![format!("{family}")];
        header.extend(rows.iter().map(|r| agent_label(r)));
        table_rows.push(header);
        for to in &cols {
            let mut row = vec![to.to_string()];
            row.extend(rows.iter().map(|from| status(from, to)));
            table_rows.push(row);
        }
    } else {
        let mut header = vec![format!("{family}")];
        header.extend(cols.iter().map(|c| c.to_string()));
        table_rows.push(header);
        for from in &rows {
            let mut row = vec![agent_label(from)];
            row.extend(cols.iter().map(|to| status(from, to)));
            table_rows.push(row);
        }
    }
    output::table(&table_rows, "          ")
}

fn totals_line(report: &Report) -> String {
    let t = &report.totals;
    let mut parts = Vec::new();
    if t.failed > 0 {
        parts.push(paint(output::RED, format!("{} failed", t.failed)));
    }
    if t.ignored > 0 {
        parts.push(paint(output::BLUE, format!("{} ignored", t.ignored)));
    }
    if t.skipped > 0 {
        parts.push(format!("{} skipped", t.skipped));
    }
    parts.push(paint(output::GREEN, format!("{} passed", t.passed)));
    format!("{} {}\n", paint(output::BOLD, "Result:"), parts.join(", "))
}

fn failures_text(report: &Report) -> String {
    let mut out = String::new();
    let failures: Vec<_> = report
        .checks
        .iter()
        .flat_map(|c| c.cells.iter().map(move |cell| (c, cell)))
        .filter(|(_, c)| matches!(c.status, Status::Fail | Status::Ignored))
        .collect();
    if failures.is_empty() {
        return out;
    }
    out.push_str(&format!("\n{}\n", paint(output::BOLD, "Failures")));
    for (check, cell) in failures {
        out.push_str(&format!(
            "  {} {} {} {} {} → {}\n",
            status_word(cell.status),
            check.id,
            check.name,
            cell.family,
            agent_label(&cell.from),
            cell.to
        ));
        out.push_str(&format!("      {}\n", cell.detail));
        if !cell.objects.is_empty() {
            out.push_str(&format!(
                "      {}\n",
                paint(output::DIM, format!("objects: {}", cell.objects.join(", ")))
            ));
        }
        if let Some(c) = &cell.cause {
            out.push_str(&format!(
                "      {} {}\n",
                paint(
                    output::YELLOW,
                    format!("likely cause ({}):", kind_name(c.kind))
                ),
                c.message
            ));
        }
    }
    let groups = cause::summary(&report.checks);
    if groups.len() > 1 {
        out.push_str(&format!("\n{}\n", paint(output::BOLD, "Causes")));
        for (kind, message, n) in groups {
            out.push_str(&format!("  {n:>3} × {}: {message}\n", kind_name(kind)));
        }
    }
    out
}

fn kind_name(kind: cause::CauseKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The cluster report for people.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} {}{}: {} nodes\n",
        paint(output::BOLD, "Probed"),
        report.origin,
        report
            .namespace
            .as_deref()
            .map(|n| format!(" (namespace {n})"))
            .unwrap_or_default(),
        report.nodes.len()
    ));
    out.push_str(&format!(
        "expected: {}\n",
        families_line(&report.expectations)
    ));
    if let Some(domain) = &report.cluster_domain {
        out.push_str(&format!(
            "cluster DNS: {} (domain {domain})\n",
            if report.dns_servers.is_empty() {
                "unknown".to_string()
            } else {
                report
                    .dns_servers
                    .iter()
                    .map(IpAddr::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ));
    }
    for note in report.expectations.notes.iter().chain(&report.notes) {
        out.push_str(&format!(
            "{}\n",
            paint(output::DIM, format!("note: {note}"))
        ));
    }
    out.push('\n');
    let small = report.nodes.len() <= MATRIX_NODES;
    let name_width = report
        .checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(0);
    for check in &report.checks {
        let counts = |s: Status| check.cells.iter().filter(|c| c.status == s).count();
        let mut line = format!(
            "  {}  {}  {:<name_width$}  {}",
            paint(
                match check.status {
                    Status::Pass => output::GREEN,
                    Status::Skip => output::DIM,
                    Status::Ignored => output::BLUE,
                    Status::Fail => output::RED,
                },
                format!("{:<7}", check.status.as_str())
            ),
            check.id,
            check.name,
            check.title
        );
        if !check.cells.is_empty() {
            line.push_str(&paint(
                output::DIM,
                format!(
                    "  ({} passed, {} failed, {} skipped)",
                    counts(Status::Pass),
                    counts(Status::Fail) + counts(Status::Ignored),
                    counts(Status::Skip)
                ),
            ));
        }
        out.push_str(&line);
        out.push('\n');
        for note in &check.notes {
            out.push_str(&format!("          {}\n", paint(output::DIM, note)));
        }
        if check.cells.is_empty() || (!small && check.status != Status::Fail) {
            continue;
        }
        for family in check.families() {
            out.push_str(&matrix(check, family, &report.nodes));
        }
    }
    out.push_str(&failures_text(report));
    out.push('\n');
    out.push_str(&totals_line(report));
    out
}

/// `probe local` for people: one row per target, family and test.
fn render_local(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{} from this host: {}\n",
        paint(output::BOLD, "Probed"),
        families_line(&report.expectations)
    ));
    for note in report.expectations.notes.iter().chain(&report.notes) {
        out.push_str(&format!(
            "{}\n",
            paint(output::DIM, format!("note: {note}"))
        ));
    }
    let mut rows = vec![vec![
        "target".to_string(),
        "family".to_string(),
        "test".to_string(),
        "status".to_string(),
        "what happened".to_string(),
    ]];
    for check in &report.checks {
        for cell in &check.cells {
            rows.push(vec![
                cell.to.clone(),
                cell.family.to_string(),
                check.name.to_string(),
                status_word(cell.status),
                cell.detail.clone(),
            ]);
        }
    }
    out.push('\n');
    out.push_str(&table(&rows, "  "));
    out.push_str(&failures_text(report));
    out.push('\n');
    out.push_str(&totals_line(report));
    out
}

// ---------------------------------------------------------------------------------------------
// JUnit

fn render_junit(report: &Report) -> Result<String, Failure> {
    use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
    let mut junit = Junit::new("kube6 probe");
    for check in report.checks.iter().filter(|c| !c.cells.is_empty()) {
        let mut suite = TestSuite::new(format!("{} {}", check.id, check.name));
        for cell in &check.cells {
            let name = format!("{} {} -> {}", cell.family, cell.from, cell.to);
            let status = match cell.status {
                Status::Pass => TestCaseStatus::success(),
                Status::Fail => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let message = match &cell.cause {
                        Some(c) => {
                            format!("{} ({}: {})", cell.detail, kind_name(c.kind), c.message)
                        }
                        None => cell.detail.clone(),
                    };
                    s.set_message(message);
                    if let Some(c) = &cell.cause {
                        s.set_type(kind_name(c.kind));
                    }
                    s.set_description(format!(
                        "{}\nobjects: {}",
                        cell.detail,
                        cell.objects.join(", ")
                    ));
                    s
                }
                Status::Skip | Status::Ignored => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(if cell.status == Status::Ignored {
                        format!("ignored (--ignore {}): {}", check.id, cell.detail)
                    } else {
                        cell.detail.clone()
                    });
                    s
                }
            };
            let mut case = TestCase::new(name, status);
            case.set_classname(format!("{}.{}", check.id, check.name));
            if let Some(ms) = cell.millis {
                case.set_time(Duration::from_millis(ms));
            }
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .map(|s| s + "\n")
        .map_err(|e| Failure::failed(anyhow!(e).context("cannot write JUnit XML")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("3m").unwrap(), Duration::from_secs(180));
        for bad in ["", "0", "-1s", "2 days", "s", "1y"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nat64_prefixes_have_an_rfc6052_length() {
        assert_eq!(
            parse_nat64("64:ff9b::1/96").unwrap().to_string(),
            "64:ff9b::/96"
        );
        assert!(parse_nat64("64:ff9b::/80").is_err());
        assert!(parse_nat64("192.0.2.0/24").is_err());
    }

    #[test]
    fn agent_labels_read_as_node_and_network() {
        assert_eq!(agent_label("cp-1/host"), "cp-1 (host)");
        assert_eq!(agent_label("local"), "local");
    }
}
