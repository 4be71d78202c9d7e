//! Which IPAM hands out pod addresses, and from which ranges: decided by the plan's CNI and its
//! settings (or `--cni`), else by the CNI objects the cluster itself shows.
//!
//! - Kubernetes host-local IPAM from `node.spec.podCIDRs` (kube-controller-manager's blocks):
//!   Flannel with its kube subnet manager, kube-router, Canal (host-local `usePodCidr`), Calico
//!   with the operator's `HostLocal` IPAM, Cilium with `ipam.mode: kubernetes`.
//! - Calico IPAM: IPPools cut into blocks of `blockSize`; a block is affine to a node but can be
//!   released and addresses borrowed by other nodes, so pod IPs are judged against the pools.
//! - Cilium cluster-pool: the operator cuts `clusterPoolIPv4/IPv6PodCIDRList` into per-node
//!   CIDRs of `clusterPoolIPv4/IPv6MaskSize` and writes them to `CiliumNode.spec.ipam.podCIDRs`.
//! - Cilium multi-pool: `CiliumPodIPPool` objects, per-node CIDRs in
//!   `CiliumNode.spec.ipam.pools.allocated`.

use std::fmt;

use ipnet::IpNet;
use kube6_model::model::{ClusterNetwork, Cni, Distribution};
use kube6_net::Family;
use serde::Serialize;

use crate::snapshot::Snapshot;

/// How pods get their addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IpamMode {
    /// host-local IPAM from the node's podCIDRs.
    NodePodCidrs,
    /// Calico IPAM (IPPools, blocks).
    CalicoIpam,
    /// Cilium cluster-pool IPAM (per-node CIDRs in CiliumNode objects).
    CiliumClusterPool,
    /// Cilium multi-pool IPAM (CiliumPodIPPool objects).
    CiliumMultiPool,
    /// Not known: only what every IPAM shares is checked.
    Unknown,
}

impl IpamMode {
    pub fn as_str(self) -> &'static str {
        match self {
            IpamMode::NodePodCidrs => "node podCIDRs (host-local)",
            IpamMode::CalicoIpam => "Calico IPAM",
            IpamMode::CiliumClusterPool => "Cilium cluster-pool",
            IpamMode::CiliumMultiPool => "Cilium multi-pool",
            IpamMode::Unknown => "unknown",
        }
    }

    /// Whether pod addresses come from the nodes' podCIDRs.
    pub fn uses_node_pod_cidrs(self) -> bool {
        self == IpamMode::NodePodCidrs
    }
}

impl fmt::Display for IpamMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A range the CNI's IPAM hands out, with the size of what it cuts from it (a Calico block, a
/// Cilium per-node CIDR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpamPool {
    pub cidr: IpNet,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mask: Option<u8>,
    /// Whether the plan states this pool (and its mask) itself, or it is the CNI's default.
    pub stated: bool,
}

/// The IPAM verification expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpamExpectation {
    pub mode: IpamMode,
    /// The CNI it was decided from, if one was named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cni: Option<Cni>,
    /// Why this IPAM, in words.
    pub why: String,
    /// The planned pools (empty for node podCIDRs, and when unknown).
    pub pools: Vec<IpamPool>,
}

impl IpamExpectation {
    pub fn unknown(why: impl Into<String>) -> IpamExpectation {
        IpamExpectation {
            mode: IpamMode::Unknown,
            cni: None,
            why: why.into(),
            pools: Vec::new(),
        }
    }
}

/// The Cilium `ipam.mode` in force: the plan's, else the chart's default for the distribution.
/// RKE2 packages Cilium with `ipam.mode: kubernetes` (rancher/rke2-charts
/// packages/rke2-cilium/generated-changes/patch/values.yaml.patch); Cilium's own chart defaults
/// to cluster-pool (cilium/cilium install/kubernetes/cilium/values.yaml).
pub fn cilium_mode(net: &ClusterNetwork) -> (String, bool) {
    match &net.cilium.ipam_mode {
        Some(mode) => (mode.value.clone(), true),
        None => (
            kube6_model::facts::cilium::default_ipam_mode(net.distribution.value).to_string(),
            false,
        ),
    }
}

/// The IPAM the plan's CNI uses, and the pools it hands out.
pub fn from_network(net: &ClusterNetwork) -> IpamExpectation {
    let cni = net.cni.value;
    let families = net.families();
    let pod_range = |family: Family| net.pod_range(family).and_then(|p| p.value.net());
    let node_pod_cidrs = |why: String| IpamExpectation {
        mode: IpamMode::NodePodCidrs,
        cni: Some(cni),
        why,
        pools: Vec::new(),
    };
    match cni {
        // flannel-io/flannel: with --kube-subnet-mgr (how k3s and every Kubernetes manifest
        // run it) each node's subnet is its node.spec.podCIDRs.
        Cni::Flannel => node_pod_cidrs(
            "Flannel (kube subnet manager) hands out pod addresses from the nodes' podCIDRs"
                .to_string(),
        ),
        // cloudnativelabs/kube-router pkg/utils/pod_cidr.go: the bridge CNI with host-local
        // IPAM over the node's podCIDRs.
        Cni::KubeRouter => node_pod_cidrs(
            "kube-router's bridge CNI uses host-local IPAM over the nodes' podCIDRs".to_string(),
        ),
        // projectcalico/calico manifests/canal.yaml: "ipam": {"type": "host-local",
        // "subnet": "usePodCidr"} (RKE2's and KKP's Canal alike).
        Cni::Canal => node_pod_cidrs(
            "Canal uses host-local IPAM with usePodCidr: the nodes' podCIDRs".to_string(),
        ),
        Cni::Calico => {
            if net.calico.ipam.as_ref().is_some_and(|t| {
                t.value
                    .eq_ignore_ascii_case(kube6_model::facts::calico::OPERATOR_HOST_LOCAL_IPAM)
            }) {
                return node_pod_cidrs(
                    "Calico with the operator's HostLocal IPAM uses the nodes' podCIDRs"
                        .to_string(),
                );
            }
            // Calico's manifests and the operator default to calico-ipam (Installation
            // spec.cni.ipam.type "Default: Calico"); the pools are the plan's IPPools, else
            // the pod ranges (calico-node's CALICO_IPV4POOL_CIDR/CALICO_IPV6POOL_CIDR, which
            // k0s and RKE2 set to the cluster CIDRs).
            let mut pools: Vec<IpamPool> = net
                .calico
                .pools
                .iter()
                .filter_map(|p| {
                    let cidr = p.cidr.value.net()?;
                    let family = Family::of_net(&cidr);
                    Some(IpamPool {
                        cidr,
                        mask: Some(
                            p.block_size
                                .as_ref()
                                .and_then(|b| b.value.parsed)
                                .unwrap_or(
                                    kube6_model::facts::calico::DEFAULT_BLOCK_SIZE.get(family),
                                ),
                        ),
                        stated: true,
                    })
                })
                .collect();
            let why = if pools.is_empty() {
                pools = families
                    .iter()
                    .filter_map(|&f| {
                        Some(IpamPool {
                            cidr: pod_range(f)?,
                            mask: Some(kube6_model::facts::calico::DEFAULT_BLOCK_SIZE.get(f)),
                            stated: false,
                        })
                    })
                    .collect();
                "Calico IPAM hands out blocks of its IPPools; the plan declares none, so the \
                 pools are the pod ranges with Calico's default block sizes"
                    .to_string()
            } else {
                "Calico IPAM hands out blocks of the plan's IPPools".to_string()
            };
            IpamExpectation {
                mode: IpamMode::CalicoIpam,
                cni: Some(cni),
                why,
                pools,
            }
        }
        Cni::Cilium => {
            let (mode, stated) = cilium_mode(net);
            let said = if stated {
                format!("ipam.mode {mode}")
            } else {
                format!(
                    "ipam.mode {mode} (the default of {}'s Cilium chart)",
                    net.distribution.value
                )
            };
            match mode.as_str() {
                "kubernetes" => node_pod_cidrs(format!(
                    "Cilium with {said} hands out pod addresses from the nodes' podCIDRs"
                )),
                "cluster-pool" => {
                    let kkp = net.distribution.value == Distribution::Kkp;
                    let c = &net.cilium;
                    let mut pools = Vec::new();
                    for &family in &families {
                        let (listed, mask) = match family {
                            Family::IPv4 => (&c.ipv4_pools, &c.ipv4_mask),
                            Family::IPv6 => (&c.ipv6_pools, &c.ipv6_mask),
                        };
                        let mask_stated = mask.as_ref().and_then(|m| m.value.parsed);
                        // KKP writes the cluster's pod ranges and node masks into the chart's
                        // values (kubermatic pkg/controller/seed-controller-manager/
                        // cni-application-installation-controller).
                        let kkp_mask = kkp
                            .then(|| kube6_model::defaults::node_mask(net, family))
                            .flatten()
                            .map(|m| m.value);
                        let mask = mask_stated.or(kkp_mask).unwrap_or(
                            kube6_model::facts::cilium::DEFAULT_CLUSTER_POOL_MASK.get(family),
                        );
                        let listed: Vec<IpNet> =
                            listed.iter().filter_map(|p| p.value.net()).collect();
                        if !listed.is_empty() {
                            pools.extend(listed.into_iter().map(|cidr| IpamPool {
                                cidr,
                                mask: Some(mask),
                                stated: true,
                            }));
                        } else if kkp {
                            pools.extend(pod_range(family).map(|cidr| IpamPool {
                                cidr,
                                mask: Some(mask),
                                stated: true,
                            }));
                        } else if let Ok(cidr) = kube6_model::facts::cilium::DEFAULT_CLUSTER_POOL
                            .get(family)
                            .parse::<IpNet>()
                        {
                            pools.push(IpamPool {
                                cidr,
                                mask: Some(mask),
                                stated: false,
                            });
                        }
                    }
                    IpamExpectation {
                        mode: IpamMode::CiliumClusterPool,
                        cni: Some(cni),
                        why: format!(
                            "Cilium with {said}: its operator cuts per-node CIDRs from the \
                             cluster-pool lists (CiliumNode spec.ipam.podCIDRs)"
                        ),
                        pools,
                    }
                }
                "multi-pool" => IpamExpectation {
                    mode: IpamMode::CiliumMultiPool,
                    cni: Some(cni),
                    why: format!(
                        "Cilium with {said}: pods get addresses from CiliumPodIPPools, per-node \
                         CIDRs in CiliumNode spec.ipam.pools"
                    ),
                    pools: Vec::new(),
                },
                other => IpamExpectation {
                    cni: Some(cni),
                    ..IpamExpectation::unknown(format!(
                        "Cilium with ipam.mode {other}: addresses come from the cloud or an \
                         external IPAM kube6 does not model; only the pod ranges are checked"
                    ))
                },
            }
        }
        Cni::Custom => IpamExpectation::unknown(
            "the plan names no CNI kube6 knows (give --cni): only the pod ranges are checked",
        ),
    }
}

/// The IPAM of a CNI named without a plan (`--cni`), refined by what the cluster shows.
pub fn from_cni(cni: Cni, snapshot: &Snapshot) -> IpamExpectation {
    let mode = match cni {
        Cni::Flannel | Cni::KubeRouter | Cni::Canal => IpamMode::NodePodCidrs,
        Cni::Calico => IpamMode::CalicoIpam,
        Cni::Cilium => match from_evidence(snapshot).mode {
            IpamMode::Unknown | IpamMode::CalicoIpam => IpamMode::Unknown,
            mode => mode,
        },
        Cni::Custom => IpamMode::Unknown,
    };
    let why = match mode {
        IpamMode::NodePodCidrs => {
            format!("--cni {cni}: pod addresses come from the nodes' podCIDRs")
        }
        IpamMode::CalicoIpam => format!("--cni {cni}: Calico IPAM hands out blocks of its IPPools"),
        IpamMode::CiliumClusterPool => {
            "--cni cilium, and the CiliumNodes hold per-node CIDRs (cluster-pool)".to_string()
        }
        IpamMode::CiliumMultiPool => {
            "--cni cilium, and the CiliumNodes hold pool allocations (multi-pool)".to_string()
        }
        IpamMode::Unknown => format!(
            "--cni {cni}: which IPAM it runs is not known without --plan or its CNI objects"
        ),
    };
    IpamExpectation {
        mode,
        cni: Some(cni),
        why,
        pools: Vec::new(),
    }
}

/// The IPAM the cluster's own objects show, without a plan or `--cni`: Calico IPAMBlocks exist
/// only under Calico IPAM; CiliumNodes with pool allocations only under multi-pool; CiliumNodes
/// whose podCIDRs are not the nodes' own only under cluster-pool. Else, nodes with podCIDRs
/// suggest host-local IPAM over them.
pub fn from_evidence(snapshot: &Snapshot) -> IpamExpectation {
    let cni = &snapshot.cni;
    let mode_why = if !cni.calico_blocks.is_empty() {
        Some((
            IpamMode::CalicoIpam,
            "the cluster has Calico IPAMBlocks: Calico IPAM hands out pod addresses",
        ))
    } else if cni.cilium_nodes.iter().any(|n| !n.pool_cidrs.is_empty()) {
        Some((
            IpamMode::CiliumMultiPool,
            "the CiliumNodes hold pool allocations: Cilium multi-pool IPAM",
        ))
    } else if cni.cilium_nodes.iter().any(|cn| {
        !cn.pod_cidrs.is_empty()
            && snapshot
                .nodes
                .iter()
                .find(|n| n.name == cn.name)
                .is_none_or(|n| n.pod_cidrs != cn.pod_cidrs)
    }) {
        Some((
            IpamMode::CiliumClusterPool,
            "the CiliumNodes hold podCIDRs of their own: Cilium cluster-pool IPAM",
        ))
    } else if snapshot.nodes.iter().any(|n| !n.pod_cidrs.is_empty()) {
        Some((
            IpamMode::NodePodCidrs,
            "nodes have podCIDRs and no CNI IPAM objects are in the input: taken as host-local \
             IPAM over them (give --plan or --cni to be sure)",
        ))
    } else {
        None
    };
    match mode_why {
        Some((mode, why)) => IpamExpectation {
            mode,
            cni: None,
            why: why.to_string(),
            pools: Vec::new(),
        },
        None => IpamExpectation::unknown(
            "no plan, no --cni, and nothing in the input shows the IPAM: only what every IPAM \
             shares is checked",
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use kube6_model::analyze;
    use kube6_model::import::ImportOptions;

    use super::*;
    use crate::synth::{Layout, Shape};

    fn planned(text: &str) -> IpamExpectation {
        let analysis = analyze("plan.yaml", text, &ImportOptions::default()).unwrap();
        from_network(&analysis.network)
    }

    const K3S: &str =
        "cluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n";

    #[test]
    fn the_plans_cni_decides() {
        assert_eq!(planned(K3S).mode, IpamMode::NodePodCidrs);
        let network = |distribution: &str, cni: &str| {
            format!(
                "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: x\nspec:\n  distribution: {distribution}\n  cni:\n{cni}  pods:\n  - 10.42.0.0/16\n  - fd00:42::/56\n  services:\n  - 10.43.0.0/16\n  - fd00:43::/112\n"
            )
        };
        let cases = [
            ("k0s", "    name: kube-router\n", IpamMode::NodePodCidrs),
            ("rke2", "    name: canal\n", IpamMode::NodePodCidrs),
            ("rke2", "    name: cilium\n", IpamMode::NodePodCidrs),
            ("kubeadm", "    name: cilium\n", IpamMode::CiliumClusterPool),
            (
                "kubeadm",
                "    name: cilium\n    cilium:\n      ipamMode: multi-pool\n",
                IpamMode::CiliumMultiPool,
            ),
            (
                "kubeadm",
                "    name: cilium\n    cilium:\n      ipamMode: eni\n",
                IpamMode::Unknown,
            ),
            ("kubeadm", "    name: calico\n", IpamMode::CalicoIpam),
            ("kubeadm", "    name: custom\n", IpamMode::Unknown),
        ];
        for (distribution, cni, mode) in cases {
            assert_eq!(
                planned(&network(distribution, cni)).mode,
                mode,
                "{distribution} {cni}"
            );
        }
        // Calico without pools of its own: the pod ranges, in Calico's default blocks.
        let calico = planned(&network("kubeadm", "    name: calico\n"));
        assert_eq!(
            calico
                .pools
                .iter()
                .map(|p| (p.cidr.to_string(), p.mask, p.stated))
                .collect::<Vec<_>>(),
            [
                ("10.42.0.0/16".to_string(), Some(26), false),
                ("fd00:42::/56".to_string(), Some(122), false)
            ]
        );
        // Cilium's cluster-pool without lists: the chart's defaults.
        let cilium = planned(&network("kubeadm", "    name: cilium\n"));
        assert_eq!(cilium.pools[0].cidr.to_string(), "10.0.0.0/8");
        assert_eq!(cilium.pools[1].mask, Some(120));
        // The operator's HostLocal IPAM takes the node podCIDRs.
        let host_local = format!(
            "{K3S}flannel-backend: none\n---\napiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\nspec:\n  cni:\n    type: Calico\n    ipam:\n      type: HostLocal\n"
        );
        assert_eq!(planned(&host_local).mode, IpamMode::NodePodCidrs);
    }

    #[test]
    fn without_a_plan_the_cluster_objects_decide() {
        let dump = |layout: Layout| {
            crate::dump::parse(
                Shape::dual_ipv4_first()
                    .with_layout(layout)
                    .list()
                    .to_string()
                    .as_bytes(),
            )
            .unwrap()
        };
        assert_eq!(
            from_evidence(&dump(Layout::kubeadm_calico())).mode,
            IpamMode::CalicoIpam
        );
        assert_eq!(
            from_evidence(&dump(Layout::cilium_cluster_pool())).mode,
            IpamMode::CiliumClusterPool
        );
        assert_eq!(
            from_evidence(&dump(Layout::cilium_multi_pool())).mode,
            IpamMode::CiliumMultiPool
        );
        assert_eq!(
            from_evidence(&dump(Layout::k3s())).mode,
            IpamMode::NodePodCidrs
        );
        assert_eq!(from_evidence(&Snapshot::default()).mode, IpamMode::Unknown);
        // --cni names the CNI; Cilium's mode still comes from its objects.
        assert_eq!(
            from_cni(Cni::Cilium, &dump(Layout::cilium_multi_pool())).mode,
            IpamMode::CiliumMultiPool
        );
        assert_eq!(
            from_cni(Cni::Cilium, &Snapshot::default()).mode,
            IpamMode::Unknown
        );
        assert_eq!(
            from_cni(Cni::Canal, &Snapshot::default()).mode,
            IpamMode::NodePodCidrs
        );
    }
}
