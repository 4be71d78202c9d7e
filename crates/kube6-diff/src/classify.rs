//! What each component does with a change: allowed live, allowed with steps, refused by a
//! named component, or unsafe. Every verdict comes from one catalog rule, which names the
//! upstream code it encodes; the facts it depends on (releases, immutable fields) live in
//! `kube6_model::facts`.

use kube6_model::diagnostic::{Component, Severity};
use kube6_model::facts;
use kube6_model::model::{Cni, Distribution};
use kube6_model::rules::catalog::{self as rules, RuleInfo};
use kube6_model::version::Version;
use kube6_net::Family;
use serde::Serialize;

use crate::change::{Change, ChangeKind, RangeChange};
use crate::state::{NetworkState, PodIpam};

/// How a change can be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Every component takes it while the cluster runs.
    AllowedLive,
    /// It works, with steps in a given order (restarts, node rotation, objects edited).
    AllowedWithSteps,
    /// It can be done, but costs addresses in use, data or downtime.
    Unsafe,
    /// A named component refuses it.
    Refused,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::AllowedLive => "allowed live",
            Class::AllowedWithSteps => "allowed with steps",
            Class::Unsafe => "unsafe",
            Class::Refused => "refused",
        }
    }

    /// Whether the change blocks the proposed configuration (exit status 1).
    pub fn blocks(self) -> bool {
        matches!(self, Class::Unsafe | Class::Refused)
    }

    /// The catalog severity a rule giving this class has.
    pub fn severity(self) -> Severity {
        match self {
            Class::AllowedLive => Severity::Info,
            Class::AllowedWithSteps => Severity::Warning,
            Class::Unsafe | Class::Refused => Severity::Error,
        }
    }
}

/// One component's verdict on a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub class: Class,
    /// The catalog rule (`K6E603`).
    pub rule: &'static str,
    pub enforced_by: Component,
    /// Why, for this change.
    pub reason: String,
    /// The upstream code the rule encodes (`repo:path`).
    pub sources: Vec<String>,
}

/// A change with its verdicts; its class is the worst of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Classified {
    #[serde(flatten)]
    pub change: Change,
    pub class: Class,
    pub verdicts: Vec<Verdict>,
}

/// What the verdicts depend on besides the change itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub distribution: Distribution,
    pub distribution_release: Option<Version>,
    pub kubernetes: Option<Version>,
    pub cni: Option<Cni>,
    /// Pods take their addresses from node blocks (host-local IPAM, Cilium `kubernetes`).
    pub node_blocks: bool,
    /// kube-controller-manager gives nodes podCIDRs (`--allocate-node-cidrs`), whatever the CNI
    /// does with them.
    pub node_cidrs_allocated: bool,
    /// The cluster is a kubeadm cluster managed by Cluster API (KubeadmControlPlane).
    pub cluster_api: bool,
    pub multi_cidr_gate: Option<bool>,
    pub current_families: Vec<Family>,
    pub proposed_families: Vec<Family>,
    /// The order of the nodes' podCIDRs now, and of kube-controller-manager's --cluster-cidr
    /// after the change.
    pub current_pod_order: Vec<Family>,
    pub proposed_pod_order: Vec<Family>,
}

impl Context {
    /// The distribution, CNI and versions of the proposed side, else the current one's (a
    /// running cluster does not say which distribution runs it).
    pub fn new(current: &NetworkState, proposed: &NetworkState, cluster_api: bool) -> Context {
        let distribution = proposed
            .distribution
            .or(current.distribution)
            .unwrap_or(Distribution::Kubeadm);
        Context {
            distribution,
            distribution_release: proposed
                .distribution_release()
                .or_else(|| current.distribution_release()),
            kubernetes: proposed
                .kubernetes_release()
                .or_else(|| current.kubernetes_release()),
            cni: current.cni.or(proposed.cni),
            node_blocks: current
                .pod_ipam
                .or(proposed.pod_ipam)
                .is_none_or(|i| i == PodIpam::NodeBlocks),
            node_cidrs_allocated: current.node_cidrs_allocated || proposed.node_cidrs_allocated,
            cluster_api: cluster_api && distribution == Distribution::Kubeadm,
            multi_cidr_gate: proposed.multi_cidr_gate.or(current.multi_cidr_gate),
            current_families: current.families.clone(),
            proposed_families: proposed.families.clone(),
            current_pod_order: current.pod_cidr_order.clone(),
            proposed_pod_order: proposed.pod_cidr_order.clone(),
        }
    }

    fn is_k3s(&self) -> bool {
        self.distribution.is_k3s_family()
    }

    fn calico_ipam(&self) -> bool {
        matches!(self.cni, Some(Cni::Calico | Cni::Canal)) && !self.node_blocks
    }

    fn service_cidr_api(&self) -> bool {
        facts::kubernetes::service_cidr_api(self.kubernetes.as_ref(), self.multi_cidr_gate)
    }

    fn kubernetes_text(&self) -> String {
        match &self.kubernetes {
            Some(v) => format!("Kubernetes {}", v.core()),
            None => format!(
                "Kubernetes {} (no version stated; the newest kube6 knows)",
                facts::kubernetes::ASSUMED_RELEASE
            ),
        }
    }
}

fn verdict(rule: &'static RuleInfo, class: Class, reason: impl Into<String>) -> Verdict {
    debug_assert_eq!(rule.severity, class.severity(), "{}", rule.id);
    Verdict {
        class,
        rule: rule.id,
        enforced_by: rule.enforced_by,
        reason: reason.into(),
        sources: rule.sources.iter().map(|s| s.label()).collect(),
    }
}

/// Classifies every change.
pub fn classify(changes: Vec<Change>, ctx: &Context) -> Vec<Classified> {
    changes
        .into_iter()
        .map(|change| {
            let verdicts = verdicts(&change, ctx);
            let class = verdicts
                .iter()
                .map(|v| v.class)
                .max()
                .unwrap_or(Class::AllowedLive);
            Classified {
                change,
                class,
                verdicts,
            }
        })
        .collect()
}

/// The distribution's own refusal of network edits, and k3s's critical configuration.
fn distribution_verdicts(change: &Change, ctx: &Context, out: &mut Vec<Verdict>) {
    let kkp_field = match change.kind {
        ChangeKind::PrimaryFamily | ChangeKind::FamilyAdded | ChangeKind::FamilyRemoved => {
            Some("ipFamily and pods/services.cidrBlocks")
        }
        ChangeKind::PodRange => Some("pods.cidrBlocks"),
        ChangeKind::ServiceRange | ChangeKind::DnsAddress => Some("services.cidrBlocks"),
        _ => None,
    };
    match ctx.distribution {
        Distribution::Kkp => {
            if let Some(field) = kkp_field {
                out.push(verdict(
                    &rules::KKP_NETWORK_IMMUTABLE,
                    Class::Refused,
                    format!(
                        "KKP's Cluster webhook refuses a change of spec.clusterNetwork {field} once set"
                    ),
                ));
            }
            if change.kind == ChangeKind::Cni {
                out.push(verdict(
                    &rules::KKP_CNI_IMMUTABLE,
                    Class::Refused,
                    format!(
                        "KKP refuses another spec.cniPlugin.type unless the Cluster has the {} label",
                        facts::kkp::UNSAFE_CNI_MIGRATION_LABEL
                    ),
                ));
            }
        }
        Distribution::Kubeadm => {
            let network_edit = kkp_field.is_some()
                || matches!(change.kind, ChangeKind::NodeMask | ChangeKind::ApiEndpoint);
            if ctx.cluster_api && (kkp_field.is_some() || change.kind == ChangeKind::ApiEndpoint) {
                out.push(verdict(
                    &rules::CLUSTER_API_NETWORK_IMMUTABLE,
                    Class::Refused,
                    "Cluster API's KubeadmControlPlane webhook refuses edits of clusterConfiguration.networking and controlPlaneEndpoint (\"cannot be modified\")",
                ));
            } else if network_edit {
                out.push(verdict(
                    &rules::KUBEADM_MANUAL_RECONFIGURE,
                    Class::AllowedWithSteps,
                    "kubeadm does not reconfigure a running cluster: kubeadm-config, the static Pod manifests, kube-proxy's ConfigMap and the kubelets' configuration are edited by hand",
                ));
            }
        }
        Distribution::K3s | Distribution::Rke2 => {
            if kkp_field.is_some() {
                out.push(verdict(
                    &rules::K3S_CRITICAL_CONFIG,
                    Class::AllowedWithSteps,
                    format!(
                        "{} are critical configuration: every server gets the new values, or the servers refuse each other",
                        facts::k3s::CRITICAL_NETWORK_ARGS.join(", ")
                    ),
                ));
            }
        }
        Distribution::K0s => {}
    }
}

/// Nodes keep their podCIDRs: where pods use them, every node must register again.
fn node_rotation_verdicts(reason: &str, ctx: &Context, out: &mut Vec<Verdict>) {
    if !ctx.node_blocks {
        return;
    }
    out.push(verdict(
        &rules::NODE_POD_CIDRS_KEPT,
        Class::AllowedWithSteps,
        format!(
            "{reason}: every node is drained, deleted and registered again to get its new podCIDRs"
        ),
    ));
    if ctx.is_k3s() {
        out.push(verdict(
            &rules::K3S_REJOIN_LOSES_DATA,
            Class::Unsafe,
            format!(
                "{} rejoins every node, losing what it stores locally (local-path volumes, emptyDir, an embedded etcd member); {} documents dual-stack as chosen at creation",
                ctx.distribution, ctx.distribution
            ),
        ));
    }
}

fn verdicts(change: &Change, ctx: &Context) -> Vec<Verdict> {
    let mut out = Vec::new();
    match change.kind {
        ChangeKind::Distribution => out.push(verdict(
            &rules::DISTRIBUTION_REPLACED,
            Class::Unsafe,
            "another distribution is a reinstall of the cluster, not a change of its network",
        )),
        ChangeKind::PrimaryFamily => {
            out.push(verdict(
                &rules::PRIMARY_FAMILY_CHANGED,
                Class::Refused,
                "kube-apiserver keeps every Service's primary family and the `kubernetes` Service's address, and upgrades the default ServiceCIDR only from single- to dual-stack with the same first range",
            ));
            k0s_ipv6_migration(ctx, &mut out);
        }
        ChangeKind::FamilyAdded => {
            let family = change.family.unwrap_or(Family::IPv6);
            let service_cidr = if ctx.service_cidr_api() {
                "kube-apiserver upgrades the default ServiceCIDR to dual-stack"
            } else {
                "kube-apiserver takes both service ranges at its restart"
            };
            out.push(verdict(
                &rules::FAMILY_ADDED,
                Class::AllowedWithSteps,
                format!(
                    "{family} is added as the secondary family: {service_cidr}, and Services gain {family} when set to PreferDualStack"
                ),
            ));
            // kube-controller-manager occupies each node's podCIDRs by index, the n-th in its
            // n-th --cluster-cidr (`occupyCIDRs` in range_allocator.go): a new family listed
            // before the one nodes already hold puts their blocks in the wrong range.
            if ctx.node_cidrs_allocated
                && let (Some(held), Some(first)) =
                    (ctx.current_pod_order.first(), ctx.proposed_pod_order.first())
                && held != first
            {
                out.push(verdict(
                    &rules::NODE_BLOCKS_OUTSIDE_POD_RANGE,
                    Class::Refused,
                    format!(
                        "kube-controller-manager gets {first} first in --cluster-cidr but nodes hold {held} podCIDRs first: it matches them by position and fails at start"
                    ),
                ));
            }
            node_rotation_verdicts(
                &format!("existing nodes keep their podCIDRs without {family}"),
                ctx,
                &mut out,
            );
            k0s_ipv6_migration(ctx, &mut out);
        }
        ChangeKind::FamilyRemoved => {
            let family = change.family.unwrap_or(Family::IPv6);
            let service_cidr = if ctx.service_cidr_api() {
                format!(
                    "; from Kubernetes 1.33 the default ServiceCIDR stays dual-stack ({} here)",
                    ctx.kubernetes_text()
                )
            } else {
                String::new()
            };
            let in_use = if change.affected.is_empty() {
                String::new()
            } else {
                format!(
                    " ({} node block(s) and {} Service address(es) of {family} in use)",
                    change.affected.node_blocks.len(),
                    change.affected.service_addresses.len()
                )
            };
            if ctx.node_cidrs_allocated {
                out.push(verdict(
                    &rules::NODE_BLOCKS_OUTSIDE_POD_RANGE,
                    Class::Refused,
                    format!(
                        "nodes hold an {family} podCIDR that no --cluster-cidr has any more: kube-controller-manager fails at start until every such node is deleted"
                    ),
                ));
            }
            out.push(verdict(
                &rules::FAMILY_REMOVED,
                Class::Unsafe,
                format!(
                    "pods and Services lose their {family} addresses{in_use}, nodes keep their {family} podCIDRs{service_cidr}"
                ),
            ));
        }
        ChangeKind::PodRange => pod_range(change, ctx, &mut out),
        ChangeKind::ServiceRange => service_range(change, ctx, &mut out),
        ChangeKind::NodeMask => {
            if ctx.node_blocks || ctx.cni.is_none() {
                out.push(verdict(
                    &rules::NODE_MASK_CHANGED,
                    Class::AllowedWithSteps,
                    "only nodes registered after the change get blocks of the new size; rotate the others",
                ));
            } else {
                out.push(verdict(
                    &rules::NODE_MASK_CHANGED,
                    Class::AllowedWithSteps,
                    "pods take addresses from the CNI's pools, not the node blocks: the new mask sizes the node blocks of nodes registered afterwards only",
                ));
            }
        }
        ChangeKind::Cni => out.push(verdict(
            &rules::CNI_REPLACED,
            Class::Unsafe,
            "every pod leaves the network until it is recreated under the new CNI, and the old CNI's state must be removed from every node",
        )),
        ChangeKind::DnsAddress => out.push(verdict(
            &rules::DNS_ADDRESS_CHANGED,
            Class::AllowedWithSteps,
            "kube-dns keeps its cluster IP: a Service with the new address is added, the kubelets switched, pods recreated",
        )),
        ChangeKind::ApiEndpoint => out.push(verdict(
            &rules::API_ENDPOINT_CHANGED,
            Class::AllowedWithSteps,
            "the serving certificate gains the new endpoint first, then every kubeconfig moves to it",
        )),
        ChangeKind::NodeAddresses => out.push(verdict(
            &rules::NODE_ADDRESSES_CHANGED,
            Class::AllowedWithSteps,
            "the kubelet restarts with the new --node-ip; hostNetwork pods are recreated",
        )),
        ChangeKind::LoadBalancerPool => out.push(verdict(
            &rules::LB_POOL_CHANGED,
            Class::AllowedWithSteps,
            "the new pools are applied first; Services whose address lies in no pool then get a new one from them, and \
             DNS records, firewall rules and clients follow the new addresses",
        )),
    }
    // A range extended through a ServiceCIDR object leaves the distribution's configuration as
    // it is, so nothing of the distribution's is edited.
    let through_service_cidr = out
        .iter()
        .any(|v| v.rule == rules::SERVICE_RANGE_EXTENDED_SERVICECIDR.id);
    if !through_service_cidr {
        distribution_verdicts(change, ctx, &mut out);
    }
    out
}

/// k0s: "Migrations to dual stack are possible as long as the primary address family remains
/// IPv6" (k0sproject/k0s docs/networking/single-stack-ipv6.md), and with kube-router only from
/// the release that runs IPv6-primary dual-stack (`facts::k0s`).
fn k0s_ipv6_migration(ctx: &Context, out: &mut Vec<Verdict>) {
    if ctx.distribution != Distribution::K0s || ctx.current_families != [Family::IPv6] {
        return;
    }
    if ctx.proposed_families.first() != Some(&Family::IPv6) {
        out.push(verdict(
            &rules::K0S_DUAL_STACK_NEEDS_IPV6_PRIMARY,
            Class::Refused,
            "k0s migrates IPv6 single-stack to dual-stack only with IPv6 as the primary family (spec.network.primaryAddressFamily: IPv6)",
        ));
    } else if ctx.cni.is_none_or(|c| c == Cni::KubeRouter)
        && !facts::k0s::supports_ipv6_primary_kube_router(ctx.distribution_release.as_ref())
    {
        out.push(verdict(
            &rules::K0S_DUAL_STACK_NEEDS_IPV6_PRIMARY,
            Class::Refused,
            format!(
                "k0s before {} runs kube-router, kube-controller-manager and the kubelet IPv4-first in dual-stack: IPv6-primary dual-stack needs that release or later",
                facts::k0s::IPV6_PRIMARY_KUBE_ROUTER_SINCE
            ),
        ));
    }
}

fn pod_range(change: &Change, ctx: &Context, out: &mut Vec<Verdict>) {
    let family = change.family.unwrap_or(Family::IPv6);
    match change.range_change {
        Some(RangeChange::Extended) => {
            out.push(verdict(
                &rules::POD_RANGE_EXTENDED,
                Class::AllowedWithSteps,
                "kube-controller-manager, kube-proxy and the CNI restart with the larger range; node blocks stay valid",
            ));
            if ctx.calico_ipam() {
                out.push(verdict(
                    &rules::CALICO_POOL_REPLACED,
                    Class::AllowedWithSteps,
                    "Calico cannot modify a pool's CIDR: a pool for the new addresses is added next to the old one",
                ));
            }
        }
        Some(RangeChange::InUseOutside) => {
            out.push(verdict(
                &rules::NODE_BLOCKS_OUTSIDE_POD_RANGE,
                Class::Refused,
                format!(
                    "{} node block(s) lie outside the new {family} range: kube-controller-manager fails at start until those nodes are deleted",
                    change.affected.node_blocks.len()
                ),
            ));
            node_rotation_verdicts(&format!("nodes keep their {family} podCIDRs"), ctx, out);
        }
        Some(RangeChange::Shrunk | RangeChange::Replaced) | None => {
            // kube-controller-manager hands out blocks from the start of its range, so at least
            // the first node's block leaves a replaced range; a shrunk one keeps the blocks in
            // the part that stays, and loses the others.
            let first_block_leaves = matches!(change.range_change, Some(RangeChange::Replaced));
            if ctx.node_cidrs_allocated || !change.affected.node_blocks.is_empty() {
                let class = if first_block_leaves || !change.affected.node_blocks.is_empty() {
                    Class::Refused
                } else {
                    Class::Unsafe
                };
                out.push(verdict(
                    &rules::NODE_BLOCKS_OUTSIDE_POD_RANGE,
                    class,
                    if class == Class::Refused {
                        format!(
                            "nodes hold blocks outside the new {family} range: kube-controller-manager fails at start until every such node is deleted"
                        )
                    } else {
                        format!(
                            "nodes whose blocks lie in the part of the {family} range that goes make kube-controller-manager fail at start"
                        )
                    },
                ));
            }
            node_rotation_verdicts(&format!("nodes keep their {family} podCIDRs"), ctx, out);
            if ctx.calico_ipam() {
                out.push(verdict(
                    &rules::CALICO_POOL_REPLACED,
                    Class::AllowedWithSteps,
                    "Calico cannot modify a pool's CIDR: a new pool is created, the old one disabled and its pods restarted",
                ));
            }
        }
    }
}

fn service_range(change: &Change, ctx: &Context, out: &mut Vec<Verdict>) {
    let family = change.family.unwrap_or(Family::IPv6);
    let same_first = match (change.current.as_deref(), change.proposed.as_deref()) {
        (Some(cur), Some(new)) => {
            match (cur.parse::<ipnet::IpNet>(), new.parse::<ipnet::IpNet>()) {
                (Ok(a), Ok(b)) => a.network() == b.network(),
                _ => false,
            }
        }
        _ => false,
    };
    match change.range_change {
        Some(RangeChange::Extended) if ctx.service_cidr_api() => out.push(verdict(
            &rules::SERVICE_RANGE_EXTENDED_SERVICECIDR,
            Class::AllowedLive,
            if change.served_by.is_empty() {
                format!(
                    "{}: a ServiceCIDR object adds the new {family} addresses live; the default ServiceCIDR and kube-apiserver's flag keep the current range",
                    ctx.kubernetes_text()
                )
            } else {
                format!(
                    "already made: the cluster's ServiceCIDR {} allocate{} from all of the new {family} range; the default ServiceCIDR and kube-apiserver's flag keep the current range",
                    change.served_by.join(", "),
                    if change.served_by.len() == 1 { "s" } else { "" }
                )
            },
        )),
        Some(RangeChange::Extended) if same_first => out.push(verdict(
            &rules::SERVICE_RANGE_EXTENDED_FLAG,
            Class::AllowedWithSteps,
            format!(
                "{} has no ServiceCIDR API: every kube-apiserver restarts with the larger range, which keeps the first address",
                ctx.kubernetes_text()
            ),
        )),
        Some(RangeChange::Extended) => out.push(verdict(
            &rules::SERVICE_RANGE_REPLACED,
            Class::Unsafe,
            format!(
                "{} has no ServiceCIDR API, and the larger range starts elsewhere: the `kubernetes` Service's address is no longer the range's first",
                ctx.kubernetes_text()
            ),
        )),
        _ => {
            let in_use = change.affected.service_addresses.len();
            out.push(verdict(
                if change.range_change == Some(RangeChange::InUseOutside) {
                    &rules::ADDRESSES_IN_USE_OUTSIDE
                } else {
                    &rules::SERVICE_RANGE_REPLACED
                },
                Class::Unsafe,
                if in_use > 0 {
                    format!(
                        "{in_use} Service address(es) of {family} lie outside the new range: those Services are deleted and recreated with new addresses"
                    )
                } else {
                    format!(
                        "Services keep their {family} cluster IPs; every one outside the new range is deleted and recreated with a new address"
                    )
                },
            ));
        }
    }
}
