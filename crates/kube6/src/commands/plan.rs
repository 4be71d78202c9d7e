//! `kube6 plan [FILE]`: diagnostics and the address plan, as text, JSON, YAML, or a picture
//! (SVG, or one self-contained HTML page).

use std::path::PathBuf;

use kube6_model::model::Cni;
use kube6_model::plan::Plan;
use kube6_model::prefix::{Layout, PrefixOptions, PrefixPlan, Renumbering};
use kube6_model::{BUILTIN_EXAMPLE, BUILTIN_EXAMPLE_NAME, analyze_with_prefix};

use super::input::{InputArgs, Source, add_target_rules, analyze_with_options, import_failure};
use crate::exit::{CommandResult, Status};
use crate::output::{self, OutputFormat, paint, table};

/// `plan -o`: the report formats, and two pictures of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PlanFormat {
    /// For people: aligned, colour on a terminal only.
    #[default]
    Text,
    /// One JSON document.
    Json,
    /// One YAML document.
    Yaml,
    /// A map of each family's address space, as one SVG image.
    Svg,
    /// One self-contained HTML page: the map, the plan's tables and its diagnostics.
    Html,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file; without one, the built-in example (k0s IPv6 single-stack).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// CNI configuration files read with it and judged by the same rules (Cilium values,
    /// net-conf.json, a CNI network configuration, a CNI's ConfigMap, DaemonSet or
    /// HelmChartConfig).
    #[arg(value_name = "CNI_FILE", requires = "file")]
    pub cni_files: Vec<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
    /// Also report what this distribution would refuse or cannot express.
    #[arg(long, value_name = "TARGET", value_parser = crate::values::target())]
    pub target: Option<kube6_render::Target>,
    #[command(flatten)]
    pub prefix: PrefixArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t)]
    pub output: PlanFormat,
}

/// Carving a delegated prefix into the ranges the input leaves open.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Delegated prefix")]
pub struct PrefixArgs {
    /// A delegated IPv6 prefix to carve the node subnet, pods, services and load-balancer pools
    /// from (ranges the input sets are kept); replaces spec.prefix, and renumbers from it.
    #[arg(long, value_name = "CIDR")]
    pub prefix: Option<String>,
    /// The prefix the input's ranges were carved from before, to renumber them into --prefix.
    #[arg(long, value_name = "CIDR", requires = "prefix")]
    pub previous_prefix: Option<String>,
    /// Nodes the pod range must hold (default: the nodes listed, at least 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub nodes: Option<u64>,
    /// Pods each node's block must hold (default: the kubelet's maxPods, 110).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4_294_967_296))]
    pub pods_per_node: Option<u64>,
    /// Node links (a /64 each) to carve (default 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=64))]
    pub node_subnets: Option<u64>,
    /// Load-balancer pools to carve (default 0).
    #[arg(long = "lb-pools", value_name = "N", value_parser = clap::value_parser!(u64).range(0..=64))]
    pub lb_pools: Option<u64>,
    /// The prefix length of each load-balancer pool (default 112).
    #[arg(long = "lb-pool-mask-size", value_name = "LEN", value_parser = clap::value_parser!(u8).range(64..=128))]
    pub lb_pool_mask_size: Option<u8>,
}

impl PrefixArgs {
    fn options(&self) -> PrefixOptions {
        PrefixOptions {
            cidr: self.prefix.clone(),
            previous: self.previous_prefix.clone(),
            nodes: self.nodes.map(|n| n.to_string()),
            pods_per_node: self.pods_per_node.map(|n| n.to_string()),
            node_subnets: self.node_subnets.map(|n| n.to_string()),
            load_balancer_pools: self.lb_pools.map(|n| n.to_string()),
            load_balancer_pool_mask: self.lb_pool_mask_size.map(|n| n.to_string()),
        }
    }
}

pub fn run(mut args: Args) -> CommandResult {
    let prefix = args.prefix.options();
    let (source, analysis) = match (&args.file, &args.input.k3s_args) {
        (Some(_), Some(_)) => {
            return Err(crate::exit::Failure::usage(anyhow::anyhow!(
                "give either FILE or --k3s-args, not both"
            )));
        }
        (None, Some(line)) => super::input::analyze_k3s_args_with(&args.input, line, &prefix)?,
        (Some(path), None) => analyze_with_options(path, &args.cni_files, &args.input, &prefix)?,
        (None, None) => {
            // The example's documentation starts controllers with this gate; plan it that way.
            if !args
                .input
                .feature_gates
                .iter()
                .any(|(name, _)| name == "IPv6SingleStack")
            {
                args.input
                    .feature_gates
                    .push(("IPv6SingleStack".to_string(), true));
            }
            let source = Source::new(BUILTIN_EXAMPLE_NAME, BUILTIN_EXAMPLE);
            let mut analysis = analyze_with_prefix(
                &source.name,
                &source.text,
                &args.input.import_options(),
                &prefix,
            )
            .map_err(|e| import_failure(&source, &e))?;
            analysis.plan.source.builtin = true;
            (source, analysis)
        }
    };
    let mut analysis = analysis;
    add_target_rules(&source, &mut analysis, args.target, args.input.cni);
    let plan = &analysis.plan;
    match args.output {
        PlanFormat::Text => output::write_stdout(&render_text(plan, &source))?,
        PlanFormat::Json => output::print_structured(plan, OutputFormat::Json)?,
        PlanFormat::Yaml => output::print_structured(plan, OutputFormat::Yaml)?,
        PlanFormat::Svg => output::write_stdout(&kube6_picture::svg(plan, &title(plan, &source)))?,
        PlanFormat::Html => {
            let text = strip_ansi(&render_text(plan, &source));
            output::write_stdout(&kube6_picture::html(plan, &title(plan, &source), &text))?
        }
    }
    Ok(if plan.valid {
        Status::Ok
    } else {
        Status::Invalid
    })
}

/// What the picture is of: the file (or the built-in example).
fn title(plan: &Plan, source: &Source) -> String {
    if plan.source.builtin {
        "the built-in example".to_string()
    } else {
        source.name.clone()
    }
}

/// Removes ANSI colour sequences (`paint` adds them whatever the output).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn yes_no(valid: bool) -> String {
    if valid {
        paint(output::GREEN, "valid")
    } else {
        paint(output::RED, "invalid")
    }
}

/// The plan for people.
pub fn render_text(plan: &Plan, source: &Source) -> String {
    let mut out = String::new();
    let families = match plan.families.as_slice() {
        [one] => format!("{one} single-stack"),
        [first, second] => format!("dual-stack, {first} primary ({first}, {second})"),
        _ => "none (no range parsed)".to_string(),
    };
    let with_version = |name: String, version: &Option<String>| match version {
        Some(v) => format!("{name} {v}"),
        None => name,
    };
    let defaulted_note = |path_hint: &str| {
        plan.defaults
            .iter()
            .find(|d| d.path.contains(path_hint))
            .map(|d| paint(output::DIM, format!("  ({})", d.by)))
            .unwrap_or_default()
    };
    let title = if plan.source.builtin {
        "the built-in example".to_string()
    } else {
        source.name.clone()
    };
    out.push_str(&format!(
        "{} {title}  {}  ({})\n",
        paint(output::BOLD, "Plan for"),
        yes_no(plan.valid),
        output::summary(&plan.diagnostics)
    ));
    if plan.source.agent {
        // k3s agents take cluster-cidr, service-cidr, cluster-dns and cluster-domain from the
        // servers (k3s-io/k3s pkg/cli/cmds/agent.go has no such flags); what kube6 shows for them
        // is k3s's default, which the cluster has only if its servers keep the default too.
        let defaulted: Vec<&str> = plan.defaults.iter().map(|d| d.path.as_str()).collect();
        out.push_str(&paint(
            output::DIM,
            format!(
                "  a k3s agent: the servers set the cluster's ranges, agents do not. These values \
                 are k3s's defaults,\n  right only if the servers keep them: {}.\n  \
                 Plan the servers' configuration for the cluster's own.\n",
                if defaulted.is_empty() {
                    "none".to_string()
                } else {
                    defaulted.join(", ")
                }
            ),
        ));
    }
    if plan.source.builtin {
        // The file alone is not the example: k0s refuses an IPv6-only cluster unless its
        // controllers run with the gate, so the example adds it, as its documentation does.
        let gates = plan.source.feature_gates.join(",");
        out.push_str(&paint(
            output::DIM,
            format!(
                "  {name} with --feature-gates {gates}\n  \
                 (k0s starts the controllers of an IPv6 single-stack cluster with it); from the file:\n  \
                 kube6 plan {name} --feature-gates {gates}\n",
                name = source.name
            ),
        ));
    }
    out.push('\n');
    // The default that chose the CNI: its name, or for k3s the Flannel backend it runs.
    let cni_note = plan
        .defaults
        .iter()
        .find(|d| {
            d.value == plan.cni.to_string()
                || (plan.cni == Cni::Flannel && d.path == "flannel-backend")
        })
        .map(|d| paint(output::DIM, format!("  ({})", d.by)))
        .unwrap_or_default();
    let mut rows = vec![
        vec![
            "input".to_string(),
            plan.source.format.document_name().to_string(),
        ],
        vec![
            "distribution".to_string(),
            with_version(plan.distribution.to_string(), &plan.distribution_version),
        ],
        vec![
            "cni".to_string(),
            with_version(plan.cni.to_string(), &plan.cni_version) + &cni_note,
        ],
        vec!["families".to_string(), families],
        vec![
            "cluster domain".to_string(),
            plan.cluster_domain.clone() + &defaulted_note("omain"),
        ],
        vec![
            "kubelet DNS".to_string(),
            if plan.dns_ips.is_empty() {
                "-".to_string()
            } else {
                plan.dns_ips
                    .iter()
                    .map(|ip| ip.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ],
    ];
    if let Some(version) = &plan.kubernetes_version {
        rows.insert(2, vec!["kubernetes".to_string(), version.clone()]);
    }
    if !plan.source.feature_gates.is_empty() {
        rows.push(vec![
            "feature gates".to_string(),
            plan.source.feature_gates.join(", ") + &paint(output::DIM, "  (--feature-gates)"),
        ]);
    }
    for row in rows {
        out.push_str(&format!("  {:<15} {}\n", row[0], row[1]));
    }

    out.push_str(&format!("\n{}\n", paint(output::BOLD, "Pods")));
    if plan.pods.is_empty() {
        out.push_str("  no pod range\n");
    } else {
        let mut rows = vec![vec![
            "family".to_string(),
            "range".to_string(),
            "node mask".to_string(),
            "max nodes".to_string(),
            "addresses/node".to_string(),
            "pods/node".to_string(),
            "node mask from".to_string(),
        ]];
        for pod in &plan.pods {
            rows.push(vec![
                pod.family.to_string(),
                pod.cidr.to_string() + if pod.defaulted { " (default)" } else { "" },
                pod.node_mask_size
                    .map_or("-".to_string(), |m| format!("/{m}")),
                pod.max_nodes.map_or("-".to_string(), |n| n.human()),
                pod.addresses_per_node
                    .map_or("-".to_string(), |n| n.human()),
                pod.pods_per_node.map_or("-".to_string(), group),
                pod.node_mask_source.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&table(&rows, "  "));
        out.push_str(&paint(
            output::DIM,
            format!(
                "  pods/node: the node block's addresses, at most the kubelet's maxPods ({}, {})\n",
                plan.max_pods, plan.max_pods_source
            ),
        ));
        for pod in &plan.pods {
            if !pod.first_node_blocks.is_empty() {
                let blocks: Vec<String> = pod
                    .first_node_blocks
                    .iter()
                    .map(|b| b.to_string())
                    .collect();
                out.push_str(&format!(
                    "  first {} node blocks: {}\n",
                    pod.family,
                    blocks.join(", ")
                ));
            }
        }
    }

    out.push_str(&format!("\n{}\n", paint(output::BOLD, "Services")));
    let mut rows = vec![vec![
        "family".to_string(),
        "range".to_string(),
        "size".to_string(),
        "allocatable".to_string(),
        "API server".to_string(),
        "DNS".to_string(),
    ]];
    for svc in &plan.services {
        rows.push(vec![
            svc.family.to_string(),
            svc.cidr.to_string() + if svc.defaulted { " (default)" } else { "" },
            svc.size.human(),
            group(svc.allocatable),
            svc.api_server_ip
                .map_or("-".to_string(), |ip| ip.to_string()),
            svc.dns_ip.map_or("-".to_string(), |ip| ip.to_string()),
        ]);
    }
    out.push_str(&table(&rows, "  "));

    out.push_str(&load_balancer_text(plan));
    if let Some(prefix) = &plan.prefix {
        out.push_str(&render_prefix(prefix));
    }
    if let Some(renumbering) = &plan.renumbering {
        out.push_str(&render_renumbering(renumbering));
    }

    if !plan.nodes.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            paint(output::BOLD, "Nodes (in the order listed)")
        ));
        let mut rows = vec![vec![
            "node".to_string(),
            "addresses".to_string(),
            "pod CIDRs".to_string(),
        ]];
        for node in &plan.nodes {
            rows.push(vec![
                node.name
                    .clone()
                    .unwrap_or_else(|| "(the host name)".to_string()),
                node.addresses
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                node.pod_cidrs
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            ]);
        }
        out.push_str(&table(&rows, "  "));
    }

    if !plan.pod_cidr_order.is_empty() {
        let order: Vec<&str> = plan.pod_cidr_order.iter().map(|f| f.as_str()).collect();
        out.push_str(&format!(
            "  nodes' podCIDRs list {} (the order kube-controller-manager gets the pod ranges in)\n",
            order.join(" before ")
        ));
    }

    if !plan.assumed_releases.is_empty() {
        out.push_str(&format!(
            "\n{}\n",
            paint(output::BOLD, "Releases assumed (no version stated)")
        ));
        let mut rows = vec![vec![
            "component".to_string(),
            "defaults and rules of".to_string(),
        ]];
        for a in &plan.assumed_releases {
            rows.push(vec![a.component.clone(), a.release.clone()]);
        }
        out.push_str(&table(&rows, "  "));
    }

    if !plan.defaults.is_empty() {
        out.push_str(&format!("\n{}\n", paint(output::BOLD, "Defaults applied")));
        let mut rows = vec![vec![
            "field".to_string(),
            "value".to_string(),
            "from".to_string(),
        ]];
        for d in &plan.defaults {
            rows.push(vec![d.path.clone(), d.value.clone(), d.by.clone()]);
        }
        out.push_str(&table(&rows, "  "));
    }

    if !plan.diagnostics.is_empty() {
        out.push_str(&format!("\n{}\n", paint(output::BOLD, "Diagnostics")));
        for d in &plan.diagnostics {
            out.push_str(&source.render(d));
        }
    }
    out
}

/// The load-balancer section: implementation and ingress, then each pool's blocks with sizes.
fn load_balancer_text(plan: &Plan) -> String {
    let lb = &plan.load_balancer;
    let mut out = format!("\n{}\n", paint(output::BOLD, "Load balancers"));
    out.push_str(&format!(
        "  implementation: {}{}, ingress: {}\n",
        lb.implementation,
        lb.version
            .as_ref()
            .map_or(String::new(), |v| format!(" {v}")),
        lb.ingress
    ));
    if lb.pools.is_empty() {
        return out;
    }
    let mut rows = vec![vec![
        "pool".to_string(),
        "mode".to_string(),
        "family".to_string(),
        "addresses".to_string(),
        "size".to_string(),
    ]];
    for pool in &lb.pools {
        for (i, block) in pool.blocks.iter().enumerate() {
            rows.push(vec![
                if i == 0 {
                    pool.name.clone()
                } else {
                    String::new()
                },
                if i == 0 {
                    pool.mode.to_string()
                } else {
                    String::new()
                },
                block.family.to_string(),
                match &block.carved {
                    Some(from) => format!("{} ({from})", block.addresses),
                    None => block.addresses.clone(),
                },
                block.size.human(),
            ]);
        }
    }
    out.push_str(&table(&rows, "  "));
    out
}

/// "k0s ClusterConfig", or "kube6 ClusterNetwork for k0s" when the format names no distribution.
pub fn describe_source(net: &kube6_model::model::ClusterNetwork) -> String {
    match net.format {
        kube6_model::model::Format::Kube6 => {
            format!("kube6 ClusterNetwork for {}", net.distribution.value)
        }
        format => format.document_name().to_string(),
    }
}

/// 65535 → "65,535".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The carving of the delegated prefix, for people.
fn render_prefix(prefix: &PrefixPlan) -> String {
    let mut out = String::new();
    let layout = match prefix.layout {
        Layout::Routed => "routed: pods and services in /64s of their own",
        Layout::OnLink => "on the node link: an NDP proxy answers for pods and services",
    };
    out.push_str(&format!(
        "\n{} {}  ({})  {layout}\n",
        paint(output::BOLD, "Prefix"),
        prefix.cidr,
        prefix.source
    ));
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{} {many}", group(n))
        }
    };
    out.push_str(&format!(
        "  for {}, {}, {}, {}{}\n",
        plural(prefix.nodes, "node", "nodes"),
        plural(prefix.pods_per_node, "pod per node", "pods per node"),
        plural(prefix.node_subnets, "node subnet", "node subnets"),
        plural(
            prefix.load_balancer_pools,
            "load-balancer pool",
            "load-balancer pools"
        ),
        if prefix.nibble_aligned {
            ", on nibble boundaries"
        } else {
            ""
        }
    ));
    let mut rows = vec![vec![
        "range".to_string(),
        "role".to_string(),
        "node blocks".to_string(),
        "".to_string(),
    ]];
    for range in &prefix.ranges {
        rows.push(vec![
            range.cidr.to_string(),
            range.role.as_str().to_string(),
            range
                .node_mask_size
                .map_or_else(String::new, |m| format!("/{m}")),
            if range.fixed {
                "(kept)".to_string()
            } else {
                "(carved)".to_string()
            },
        ]);
    }
    out.push_str(&table(&rows, "  "));
    if !prefix.free.is_empty() {
        let shown: Vec<String> = prefix.free.iter().take(3).map(|n| n.to_string()).collect();
        let more = prefix.free.len().saturating_sub(3);
        out.push_str(&format!(
            "  free: {}{}\n",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more block{}", if more == 1 { "" } else { "s" })
            } else {
                String::new()
            }
        ));
    }
    out.push_str("  why:\n");
    for range in &prefix.ranges {
        out.push_str(&format!(
            "  - {} {}: {}\n",
            range.role.as_str(),
            range.cidr,
            range.why
        ));
    }
    for note in &prefix.notes {
        out.push_str(&format!("  - {note}\n"));
    }
    out
}

/// Every range and address before and after the prefix changed, for people.
fn render_renumbering(renumbering: &Renumbering) -> String {
    let mut out = format!(
        "\n{} {} -> {}\n",
        paint(output::BOLD, "Renumbering"),
        renumbering.from,
        renumbering.to
    );
    let mut rows = vec![vec![
        "what".to_string(),
        "of".to_string(),
        "before".to_string(),
        "after".to_string(),
    ]];
    for change in &renumbering.changes {
        let of = change
            .node
            .clone()
            .or_else(|| change.family.map(|f| f.to_string()))
            .unwrap_or_default();
        rows.push(vec![
            change.what.clone(),
            of,
            change.before.clone().unwrap_or_else(|| "-".to_string()),
            match &change.after {
                Some(after) if change.changed => after.clone(),
                Some(_) => "(unchanged)".to_string(),
                None => "-".to_string(),
            },
        ]);
    }
    out.push_str(&table(&rows, "  "));
    out
}
