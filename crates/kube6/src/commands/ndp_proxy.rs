//! `kube6 ndp-proxy`: answers neighbor solicitations for pod and service prefixes on the uplink.
//! The daemon lives in `kube6-ndp`; this file only turns flags and a config file into a
//! `kube6_ndp::Config`.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::anyhow;
use kube6_ndp::{Config, ConfigError, Control, Metrics, PrefixRule, RateLimit};

use crate::exit::{Chain, CommandResult, Failure, Status};
use crate::output;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// YAML configuration file (see docs/ndp-proxy.md); flags below override or extend it, and
    /// --plan adds its prefixes to it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Interface the router's solicitations arrive on.
    #[arg(long, value_name = "IF")]
    pub uplink: Option<String>,
    /// Prefix to answer for: PREFIX[=static|routed|watch|probe:IFACE] (static if no mode).
    /// Repeatable. `watch`: only the load-balancer addresses in it that this node announces,
    /// followed through the Kubernetes API.
    #[arg(long = "prefix", value_name = "SPEC")]
    pub prefixes: Vec<String>,
    /// Prometheus metrics address (loopback), or `off`. Default 127.0.0.1:9465.
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<String>,
    /// Solicitations per second accepted from one source (0: no limit). Default 1000.
    #[arg(long, value_name = "N")]
    pub rate_limit: Option<u32>,
    /// Keep reading the uplink this many microseconds after a solicitation before sleeping
    /// (lower latency under load, more CPU). Default 0.
    #[arg(long, value_name = "US")]
    pub busy_poll_us: Option<u64>,
    /// Take the prefixes from a cluster configuration (any format kube6 reads): this node's IPv6
    /// pod block (static) and a global IPv6 service range (static), or the whole IPv6 pod range
    /// (routed) without --node, and the load-balancer pools kube6 proxies (static; left out
    /// with spec.loadBalancer.ndpProxy: watch, where the watch DaemonSet answers), exactly as
    /// `kube6 render` writes them; the uplink from spec.upstream.IPv6.uplink unless --uplink is
    /// given.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// This node's name in the plan's `nodes`.
    #[arg(long, value_name = "NAME", requires = "plan")]
    pub node: Option<String>,
    /// With --plan: answer for the plan's load-balancer pools in watch mode (only the addresses
    /// this node announces), whatever spec.loadBalancer.ndpProxy says; run it instead of the
    /// rendered watch DaemonSet, not beside it.
    #[arg(long, requires = "plan")]
    pub watch_load_balancers: bool,
    /// This node's Kubernetes name, for watch prefixes (in a DaemonSet: NODE_NAME from the
    /// downward API's spec.nodeName). Default: watch.node-name, then --node.
    #[arg(long, value_name = "NAME", env = "NODE_NAME")]
    pub node_name: Option<String>,
    /// Watch mode: who elects the answering node: cilium-lease (Cilium's L2 announcement
    /// leases) or none (every node; with externalTrafficPolicy Local the nodes with a ready
    /// endpoint). Default cilium-lease.
    #[arg(long, value_name = "ELECTION")]
    pub election: Option<String>,
    /// Watch mode: the namespace Cilium runs in, where its leases are. Default kube-system.
    #[arg(long, value_name = "NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// Watch mode: the cluster (the same flags as verify, probe and diff).
    #[command(flatten)]
    pub cluster: crate::commands::cluster::ClusterArgs,
    #[command(flatten)]
    pub input: crate::commands::input::InputArgs,
    /// Validate the configuration and exit (0 valid, 1 invalid, 2 unreadable).
    #[arg(long)]
    pub check: bool,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Log every decision (debug level).
    #[arg(short, long)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Why no configuration could be built.
enum Problem {
    /// Unreadable file, unparsable YAML, missing flags: exit 2.
    Usage(anyhow::Error),
    /// A configuration (or the plan it comes from) that was read but is not valid: exit 1, with
    /// one line per problem.
    Invalid(Vec<String>),
}

fn invalid(e: ConfigError) -> Problem {
    Problem::Invalid(vec![e.to_string()])
}

/// Reads `--config FILE` (bounded, regular files only) into a configuration.
fn read_config_file(path: &std::path::Path) -> Result<Config, Problem> {
    let text = super::input::read(path).map_err(|e| Problem::Usage(anyhow::Error::new(e)))?;
    match Config::from_yaml(&text.text) {
        Ok(c) => Ok(c),
        Err(ConfigError::Syntax {
            line,
            column,
            message,
        }) => {
            let place = match (line, column) {
                (Some(l), Some(c)) => format!("{}:{l}:{c}", text.name),
                (Some(l), None) => format!("{}:{l}", text.name),
                _ => text.name.clone(),
            };
            Err(Problem::Usage(anyhow!("{place}: {message}")))
        }
        Err(e) => Err(invalid(e)),
    }
}

fn build_config(args: &Args) -> Result<Config, Problem> {
    let file = args.config.as_deref().map(read_config_file).transpose()?;
    let plan = args
        .plan
        .as_deref()
        .map(|path| plan_rules(args, path))
        .transpose()?;
    let mut config = match (file, plan) {
        (Some(file), Some(plan)) => merge(file, plan, args)?,
        (Some(file), None) => file,
        (None, Some(plan)) => {
            let uplink = args.uplink.clone().or(plan.uplink).ok_or_else(|| {
                Problem::Usage(anyhow!(
                    "{} names no uplink (spec.upstream.IPv6.uplink); pass --uplink IF",
                    plan.name
                ))
            })?;
            let mut config = Config::new(uplink, plan.prefixes);
            if let Some(election) = plan.election {
                config.watch.election = election;
            }
            config
        }
        (None, None) => {
            let uplink = args.uplink.clone().ok_or_else(|| {
                Problem::Usage(anyhow!(
                    "give --uplink IF and --prefix, --config FILE, or --plan FILE --node NAME"
                ))
            })?;
            Config::new(uplink, Vec::new())
        }
    };
    if let Some(uplink) = &args.uplink {
        config.uplink = uplink.clone();
    }
    for spec in &args.prefixes {
        let rule: PrefixRule = spec.parse().map_err(invalid)?;
        config.prefixes.push(rule);
    }
    if let Some(m) = &args.metrics {
        config.metrics = kube6_ndp::config::parse_metrics(m).map_err(invalid)?;
    }
    if let Some(n) = args.rate_limit {
        config.rate_limit = RateLimit {
            per_second: n,
            burst: n.max(1),
        };
    }
    if let Some(us) = args.busy_poll_us {
        config.busy_poll = std::time::Duration::from_micros(us);
    }
    if let Some(name) = args.node_name.clone() {
        config.watch.node_name = Some(name);
    } else if config.watch.node_name.is_none() {
        config.watch.node_name = args.node.clone();
    }
    if let Some(election) = &args.election {
        config.watch.election = election.parse().map_err(invalid)?;
    }
    if let Some(ns) = &args.lease_namespace {
        config.watch.lease_namespace = ns.clone();
    }
    let errors = config.validate();
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(Problem::Invalid(
            errors.iter().map(ConfigError::to_string).collect(),
        ))
    }
}

/// What a plan gives the proxy: its uplink, if it names one, and the prefixes.
struct PlanRules {
    name: String,
    uplink: Option<String>,
    prefixes: Vec<PrefixRule>,
    /// Who elects the announcing node for the pools in watch mode, as the rendered DaemonSet
    /// says (`--watch-load-balancers` only).
    election: Option<kube6_ndp::Election>,
}

/// `--config` and `--plan` together: the file's settings, the plan's prefixes added to its
/// own. What they disagree on is refused, never silently dropped: two different uplinks (unless
/// `--uplink` chooses), or one prefix with two modes.
fn merge(mut file: Config, plan: PlanRules, args: &Args) -> Result<Config, Problem> {
    let config_name = args
        .config
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    match (&plan.uplink, args.uplink.is_some()) {
        (_, true) => {}
        (Some(theirs), false) if file.uplink.is_empty() => file.uplink = theirs.clone(),
        (Some(theirs), false) if *theirs != file.uplink => {
            return Err(Problem::Usage(anyhow!(
                "{config_name} names the uplink {} and {} names {theirs}; pass --uplink IF to choose",
                file.uplink,
                plan.name
            )));
        }
        _ => {}
    }
    for rule in plan.prefixes {
        match file.prefixes.iter().find(|r| r.prefix == rule.prefix) {
            Some(same) if same.mode == rule.mode => {}
            Some(other) => {
                return Err(Problem::Usage(anyhow!(
                    "{} is {} in {config_name} and {} from {}; give it once",
                    rule.prefix,
                    other.mode,
                    rule.mode,
                    plan.name
                )));
            }
            None => file.prefixes.push(rule),
        }
    }
    Ok(file)
}

/// The proxy's prefixes a plan gives this node, the same rules `kube6 render` writes.
fn plan_rules(args: &Args, path: &std::path::Path) -> Result<PlanRules, Problem> {
    let (source, analysis) = crate::commands::input::analyze_file(path, &args.input)
        .map_err(|e| Problem::Usage(anyhow::Error::new(e)))?;
    if !analysis.plan.valid {
        // A plan that was read but is not valid is exit 1, as for a configuration file.
        let mut problems: Vec<String> = analysis
            .diagnostics()
            .iter()
            .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
            .map(|d| {
                let place = match (d.line, d.column) {
                    (Some(l), Some(c)) => format!("{}:{l}:{c}", source.name),
                    _ => source.name.clone(),
                };
                format!("{place}: {}[{}]: {}", d.severity, d.id, d.message)
            })
            .collect();
        problems.push(format!(
            "{} is not valid (see `kube6 validate {}`); the proxy takes no prefixes from it",
            source.name, source.name
        ));
        return Err(Problem::Invalid(problems));
    }
    let cx = kube6_render::Context::new(
        &analysis.network,
        &analysis.plan,
        analysis.network.distribution.value,
        None,
        kube6_render::KubeadmApi::default(),
    )
    .map_err(|e| Problem::Usage(anyhow::Error::new(e).context(source.name.clone())))?;
    let node = match &args.node {
        Some(name) => Some(cx.nodes.iter().find(|n| &n.name == name).ok_or_else(|| {
            let known: Vec<&str> = cx.nodes.iter().map(|n| n.name.as_str()).collect();
            Problem::Usage(anyhow!(
                "{}: no node named {name:?} (nodes: {})",
                source.name,
                if known.is_empty() {
                    "none declared".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?),
        None => None,
    };
    // The plan's rules for this node, as the rendered host file holds them; with
    // --watch-load-balancers the pools too (in watch mode), also where the plan leaves them to
    // the watch DaemonSet.
    let pools = if args.watch_load_balancers {
        kube6_render::host::PoolRules::All
    } else {
        kube6_render::host::PoolRules::AsPlanned
    };
    let (uplink, rules) = kube6_render::host::ndp_proxy_rules(&cx, node, pools);
    let prefixes: Vec<PrefixRule> = rules
        .into_iter()
        .filter_map(|rule| match rule.prefix {
            ipnet::IpNet::V6(prefix) => Some(PrefixRule::new(
                prefix,
                if rule.load_balancer && args.watch_load_balancers {
                    kube6_ndp::Mode::Watch
                } else if rule.per_node {
                    kube6_ndp::Mode::Static
                } else {
                    kube6_ndp::Mode::Routed
                },
            )),
            ipnet::IpNet::V4(_) => None,
        })
        .collect();
    if prefixes.is_empty() {
        return Err(Problem::Usage(anyhow!(
            "{} has no IPv6 range to answer for",
            source.name
        )));
    }
    // The same election as the rendered DaemonSet: a lease to follow only where Cilium elects
    // (without one, a lease election would wait for leases nobody writes and never answer).
    let election = args.watch_load_balancers.then(|| {
        if kube6_model::load_balancer::ndp_watch_follows_cilium_leases(&analysis.network) {
            kube6_ndp::Election::CiliumLease
        } else {
            kube6_ndp::Election::None
        }
    });
    Ok(PlanRules {
        name: source.name,
        uplink,
        prefixes,
        election,
    })
}

fn init_logging(args: &Args) {
    let level = if args.verbose {
        tracing_subscriber::filter::LevelFilter::DEBUG
    } else {
        tracing_subscriber::filter::LevelFilter::INFO
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(output::log_colour())
        .with_writer(output::log_writer)
        // A closed stderr must not take the daemon down (the default reports through eprintln!,
        // which panics then).
        .log_internal_errors(false);
    let _ = match args.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// `--check`: the configuration, or why it is not valid; nothing is started.
fn check(args: &Args) -> CommandResult {
    let config = match build_config(args) {
        Ok(c) => c,
        Err(Problem::Usage(e)) => return Err(Failure::usage(e)),
        Err(Problem::Invalid(errors)) => {
            let text: String = errors
                .iter()
                .map(|e| format!("kube6: ndp-proxy: {e}\n"))
                .collect();
            output::write_stderr(&text);
            return Ok(Status::Invalid);
        }
    };
    let mut text = format!(
        "configuration valid: uplink {}, metrics {}\n",
        config.uplink,
        config
            .metrics
            .map_or_else(|| "off".to_string(), |a| a.to_string())
    );
    for rule in &config.prefixes {
        text.push_str(&format!("  {rule}\n"));
    }
    if !config.watch_prefixes().is_empty() {
        text.push_str(&format!(
            "watch: node {}, election {}, lease namespace {}, at most {} Services\n",
            config.watch.node_name.as_deref().unwrap_or_default(),
            config.watch.election,
            config.watch.lease_namespace,
            config.watch.max_services
        ));
    }
    output::write_stdout(&text)?;
    Ok(Status::Ok)
}

pub fn run(args: Args) -> CommandResult {
    if args.check {
        return check(&args);
    }
    // From here on everything the command says goes through the log, so that
    // `--log-format json` gets JSON lines only, its last words included.
    init_logging(&args);
    let result = serve(&args);
    match result {
        Err(failure) if args.log_format == LogFormat::Json => {
            let code = failure.code();
            let err = failure.into_error();
            tracing::error!(error = %Chain(&*err), "ndp proxy stopped");
            Err(Failure::Logged(code))
        }
        other => other,
    }
}

fn serve(args: &Args) -> CommandResult {
    let config = match build_config(args) {
        Ok(c) => c,
        Err(Problem::Usage(e)) => return Err(Failure::usage(e)),
        Err(Problem::Invalid(errors)) => {
            for e in &errors {
                match args.log_format {
                    LogFormat::Json => tracing::error!(error = %e, "invalid configuration"),
                    LogFormat::Text => output::error_line(&format!("ndp-proxy: {e}")),
                }
            }
            return Ok(Status::Invalid);
        }
    };
    let control = Control::new().map_err(Failure::failed)?;
    let reload_args = args.clone();
    // The API watch is set up once, for the pools and settings of the start; a reload that
    // changes them would leave the answers out of step, so it is refused (restart instead).
    let started_watch = (config.watch_prefixes(), config.watch.clone());
    kube6_ndp::handle_signals(control.clone(), move || match build_config(&reload_args) {
        Ok(c) if (c.watch_prefixes(), c.watch.clone()) != started_watch => {
            tracing::warn!(
                "reload rejected: watch-mode prefixes or settings changed; restart the proxy to \
                 change them (keeping the current configuration)"
            );
            None
        }
        Ok(c) => Some(c),
        // The daemon keeps running with the previous configuration.
        Err(Problem::Usage(e)) => {
            tracing::warn!(error = %Chain(&*e), "reload failed; keeping the current configuration");
            None
        }
        Err(Problem::Invalid(errors)) => {
            for e in errors {
                tracing::warn!(error = %e, "reload rejected; keeping the current configuration");
            }
            None
        }
    })
    .map_err(Failure::failed)?;
    let metrics = Arc::new(Metrics::default());
    let pools = config.watch_prefixes();
    if !pools.is_empty() {
        // Checked by validate(): watch prefixes have a node name.
        let node = config.watch.node_name.clone().unwrap_or_default();
        let announcer = crate::ndp_watch::Announcer::new(&config.watch, node, pools);
        args.cluster.check()?;
        let options = args.cluster.options(kube6_verify::live::DEFAULT_PAGE_SIZE);
        crate::ndp_watch::live::spawn(&options, announcer, control.clone(), metrics.clone())
            .map_err(|e| Failure::usage(e.context("watch mode cannot reach the Kubernetes API")))?;
    }
    kube6_ndp::run(config, &control, metrics).map_err(Failure::failed)?;
    Ok(Status::Ok)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use clap::Parser;

    #[derive(Debug, clap::Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn args(list: &[&str]) -> Args {
        let mut all = vec!["ndp-proxy"];
        all.extend_from_slice(list);
        Cli::try_parse_from(all).unwrap().args
    }

    fn file(text: &str) -> tempfile_path::TempFile {
        tempfile_path::TempFile::new(text)
    }

    /// A file removed on drop (no extra dependency).
    mod tempfile_path {
        use std::path::PathBuf;
        use std::sync::atomic::{AtomicUsize, Ordering};

        static N: AtomicUsize = AtomicUsize::new(0);

        pub struct TempFile(pub PathBuf);

        impl TempFile {
            pub fn new(text: &str) -> TempFile {
                let path = std::env::temp_dir().join(format!(
                    "kube6-ndp-cli-{}-{}.yaml",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::write(&path, text).unwrap();
                TempFile(path)
            }
        }

        impl Drop for TempFile {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn flags_only() {
        let c = build_config(&args(&[
            "--uplink",
            "eth0",
            "--prefix",
            "2001:db8:1::a:0/112",
            "--prefix",
            "2001:db8:1::b:0/112=probe:cni0",
            "--metrics",
            "off",
            "--rate-limit",
            "0",
        ]))
        .ok()
        .unwrap();
        assert_eq!(c.uplink, "eth0");
        assert_eq!(c.prefixes.len(), 2);
        assert_eq!(c.metrics, None);
        assert_eq!(c.rate_limit.per_second, 0);
    }

    #[test]
    fn file_plus_flags() {
        let f = file("uplink: n0\nprefixes:\n  - 2001:db8:1::a:0/112\n");
        let c = build_config(&args(&[
            "--config",
            f.0.to_str().unwrap(),
            "--uplink",
            "eth1",
            "--prefix",
            "2001:db8:1::d:0/112=routed",
        ]))
        .ok()
        .unwrap();
        assert_eq!(c.uplink, "eth1");
        assert_eq!(c.prefixes.len(), 2);
    }

    #[test]
    fn exit_classes() {
        // Unreadable file, unparsable YAML, missing flags: usage (exit 2).
        assert!(matches!(
            build_config(&args(&["--config", "/nonexistent/ndp.yaml"])),
            Err(Problem::Usage(_))
        ));
        let f = file("uplink: [\n");
        assert!(matches!(
            build_config(&args(&["--config", f.0.to_str().unwrap()])),
            Err(Problem::Usage(_))
        ));
        assert!(matches!(build_config(&args(&[])), Err(Problem::Usage(_))));
        // Read but not valid: exit 1.
        let f = file("uplink: n0\nprefixes:\n  - 2001:db8:1::a:1/112\n");
        assert!(matches!(
            build_config(&args(&["--config", f.0.to_str().unwrap()])),
            Err(Problem::Invalid(_))
        ));
        assert!(matches!(
            build_config(&args(&["--uplink", "n0"])),
            Err(Problem::Invalid(_))
        ));
        assert!(matches!(
            build_config(&args(&["--uplink", "n0", "--prefix", "2001:db8::/64=auto"])),
            Err(Problem::Invalid(_))
        ));
    }

    #[test]
    fn watch_prefixes_need_a_node_name_and_take_the_watch_flags() {
        // NODE_NAME may be set where the tests run; an explicit empty flag stands for "none".
        let c = build_config(&args(&[
            "--uplink",
            "eth0",
            "--prefix",
            "2001:db8:5::ff00/120=watch",
            "--node-name",
            "worker-1",
            "--election",
            "none",
            "--lease-namespace",
            "cilium",
        ]))
        .ok()
        .unwrap();
        assert_eq!(c.watch_prefixes().len(), 1);
        assert_eq!(c.watch.node_name.as_deref(), Some("worker-1"));
        assert_eq!(c.watch.election, kube6_ndp::Election::None);
        assert_eq!(c.watch.lease_namespace, "cilium");
        for (bad, want) in [
            (vec!["--node-name", "Worker_1"], "invalid node name"),
            (
                vec!["--node-name", "w1", "--election", "metallb"],
                "invalid election",
            ),
            (
                vec!["--node-name", "w1", "--lease-namespace", "a.b"],
                "invalid lease namespace",
            ),
        ] {
            let mut list = vec!["--uplink", "eth0", "--prefix", "2001:db8:5::ff00/120=watch"];
            list.extend(bad);
            match build_config(&args(&list)) {
                Err(Problem::Invalid(errors)) => {
                    assert!(errors.iter().any(|e| e.contains(want)), "{errors:?}")
                }
                _ => panic!("{list:?} is invalid"),
            }
        }
        // A file's node name is taken when no flag gives one.
        let f = file(
            "uplink: n0\nprefixes:\n  - 2001:db8:5::ff00/120=watch\nwatch:\n  node-name: worker-2\n",
        );
        let c = build_config(&args(&[
            "--config",
            f.0.to_str().unwrap(),
            "--node-name",
            "worker-3",
        ]))
        .ok()
        .unwrap();
        assert_eq!(c.watch.node_name.as_deref(), Some("worker-3"));
    }

    #[test]
    fn a_plans_load_balancer_pools_go_into_watch_mode_on_request() {
        let plan = file(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata: {name: watch}\nspec:\n  \
             distribution: kubeadm\n  cni: {name: cilium, version: 1.18.3}\n  \
             pods: [{cidr: \"2001:db8:100::/56\", nodeMaskSize: 64}]\n  services: [fd00:20::/112]\n  \
             nodes: [{name: worker-1, role: controller+worker, addresses: [\"2001:db8:1::2\"]}]\n  \
             upstream: {IPv6: {mode: ndp-proxy, uplink: n0}}\n  loadBalancer:\n    \
             implementation: cilium\n    pools: [{addresses: [\"2001:db8:1::ff00/120\"]}]\n",
        );
        let path = plan.0.to_str().unwrap();
        let modes = |extra: &[&str]| -> Vec<String> {
            let mut list = vec!["--plan", path, "--node", "worker-1"];
            list.extend_from_slice(extra);
            let c = build_config(&args(&list)).ok().unwrap();
            c.prefixes.iter().map(ToString::to_string).collect()
        };
        assert!(modes(&[]).contains(&"2001:db8:1::ff00/120=static".to_string()));
        let watched = modes(&["--watch-load-balancers"]);
        assert!(
            watched.contains(&"2001:db8:1::ff00/120=watch".to_string()),
            "{watched:?}"
        );
        // The pod block stays static.
        assert!(
            watched
                .iter()
                .any(|r| r.starts_with("2001:db8:100:") && r.ends_with("=static")),
            "{watched:?}"
        );
        // The Kubernetes node name defaults to the plan's node (NODE_NAME, read by clap, would
        // come first).
        if std::env::var_os("NODE_NAME").is_none() {
            let c = build_config(&args(&[
                "--plan",
                path,
                "--node",
                "worker-1",
                "--watch-load-balancers",
            ]))
            .ok()
            .unwrap();
            assert_eq!(c.watch.node_name.as_deref(), Some("worker-1"));
        }
    }

    /// The election follows the plan's implementation, as the rendered DaemonSet's does: a
    /// kube-vip before v0.3.3 (which leaves NDP to the proxy) writes no Cilium lease, so a lease
    /// election would never answer.
    #[test]
    fn a_plans_watch_election_follows_its_implementation() {
        let plan = |implementation: &str, cni: &str| {
            file(&format!(
                "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata: {{name: watch}}\nspec:\n  \
                 distribution: kubeadm\n  cni: {cni}\n  \
                 pods: [{{cidr: \"2001:db8:100::/56\", nodeMaskSize: 64}}]\n  services: [fd00:20::/112]\n  \
                 nodes: [{{name: worker-1, role: controller+worker, addresses: [\"2001:db8:1::2\"]}}]\n  \
                 upstream: {{IPv6: {{mode: ndp-proxy, uplink: n0}}}}\n  loadBalancer:\n    \
                 {implementation}\n    pools: [{{addresses: [\"2001:db8:1::ff00/120\"]}}]\n"
            ))
        };
        for (implementation, cni, election) in [
            (
                "implementation: cilium",
                "{name: cilium, version: 1.18.3}",
                kube6_ndp::Election::CiliumLease,
            ),
            (
                "implementation: kube-vip\n    version: v0.3.2",
                "calico",
                kube6_ndp::Election::None,
            ),
        ] {
            let plan = plan(implementation, cni);
            let path = plan.0.to_str().unwrap();
            let c = build_config(&args(&[
                "--plan",
                path,
                "--node",
                "worker-1",
                "--node-name",
                "worker-1",
                "--watch-load-balancers",
            ]))
            .ok()
            .unwrap();
            assert_eq!(c.watch.election, election, "{implementation}");
            assert!(
                c.prefixes
                    .iter()
                    .any(|r| r.to_string() == "2001:db8:1::ff00/120=watch"),
                "{implementation}: {:?}",
                c.prefixes
            );
        }
    }

    #[test]
    fn a_plan_in_watch_mode_leaves_the_pools_to_the_watch_daemonset() {
        // spec.loadBalancer.ndpProxy: watch: the host proxy answers for the pod block only, as
        // the rendered host file does; --watch-load-balancers still runs the pools (in watch
        // mode) on the host for who runs it instead of the DaemonSet.
        let plan = file(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata: {name: watch}\nspec:\n  \
             distribution: kubeadm\n  cni: {name: cilium, version: 1.18.3}\n  \
             pods: [{cidr: \"2001:db8:100::/56\", nodeMaskSize: 64}]\n  services: [fd00:20::/112]\n  \
             nodes: [{name: worker-1, role: controller+worker, addresses: [\"2001:db8:1::2\"]}]\n  \
             upstream: {IPv6: {mode: ndp-proxy, uplink: n0}}\n  loadBalancer:\n    \
             implementation: cilium\n    ndpProxy: watch\n    \
             pools: [{addresses: [\"2001:db8:1::ff00/120\"]}]\n",
        );
        let path = plan.0.to_str().unwrap();
        let modes = |extra: &[&str]| -> Vec<String> {
            let mut list = vec!["--plan", path, "--node", "worker-1"];
            list.extend_from_slice(extra);
            let c = build_config(&args(&list)).ok().unwrap();
            c.prefixes.iter().map(ToString::to_string).collect()
        };
        let host = modes(&[]);
        assert!(
            host.iter().all(|r| !r.starts_with("2001:db8:1::ff00/120")),
            "{host:?}"
        );
        assert!(
            host.iter()
                .any(|r| r.starts_with("2001:db8:100:") && r.ends_with("=static")),
            "{host:?}"
        );
        let watched = modes(&["--watch-load-balancers"]);
        assert!(
            watched.contains(&"2001:db8:1::ff00/120=watch".to_string()),
            "{watched:?}"
        );
    }

    #[test]
    fn check_runs_without_privileges() {
        let f = file("uplink: n0\nprefixes:\n  - 2001:db8:1::a:0/112\n");
        let status = run(args(&["--config", f.0.to_str().unwrap(), "--check"])).ok();
        assert_eq!(status, Some(Status::Ok));
        let f = file("uplink: n0\nprefixes: []\n");
        let status = run(args(&["--config", f.0.to_str().unwrap(), "--check"])).ok();
        assert_eq!(status, Some(Status::Invalid));
    }

    const PLAN: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/kube6-ipv6-single-stack.yaml"
    );

    #[test]
    fn config_and_plan_merge_or_refuse_what_they_disagree_on() {
        // The file's settings stay, the plan's prefixes join the file's.
        let f = file("metrics: off\nprefixes:\n  - 2001:db8:9::/64\n");
        let c = build_config(&args(&[
            "--config",
            f.0.to_str().unwrap(),
            "--plan",
            PLAN,
            "--node",
            "worker1",
        ]))
        .ok()
        .unwrap();
        assert_eq!(c.uplink, "eth0");
        assert_eq!(c.metrics, None);
        let prefixes: Vec<String> = c.prefixes.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            prefixes,
            ["2001:db8:9::/64=static", "2001:db8:7:1:a::800/117=static"]
        );
        // Two uplinks: refused, unless --uplink chooses.
        let f = file("uplink: n0\nprefixes:\n  - 2001:db8:9::/64\n");
        let both = ["--config", f.0.to_str().unwrap(), "--plan", PLAN];
        assert!(matches!(build_config(&args(&both)), Err(Problem::Usage(_))));
        let mut chosen = both.to_vec();
        chosen.extend(["--uplink", "n0"]);
        assert_eq!(build_config(&args(&chosen)).ok().unwrap().uplink, "n0");
        // One prefix, two modes: refused.
        let f = file("prefixes:\n  - 2001:db8:7:1:a::800/117=routed\n");
        assert!(matches!(
            build_config(&args(&[
                "--config",
                f.0.to_str().unwrap(),
                "--plan",
                PLAN,
                "--node",
                "worker1"
            ])),
            Err(Problem::Usage(_))
        ));
        // A file without an uplink and nothing else to give one: invalid, said so.
        let f = file("prefixes:\n  - 2001:db8:9::/64\n");
        match build_config(&args(&["--config", f.0.to_str().unwrap()])) {
            Err(Problem::Invalid(errors)) => {
                assert_eq!(errors, vec![ConfigError::NoUplink.to_string()])
            }
            _ => panic!("a configuration without an uplink is invalid"),
        }
    }
}
