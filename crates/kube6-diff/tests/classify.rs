//! Table-driven: every case is one upstream behaviour (the `upstream` column names the code or
//! document it encodes), with the change kube6 must see and the verdicts it must give.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use ipnet::IpNet;
use kube6_diff::state::{
    InUse, Node, NodeBlock, Origin, PodIpam, PodRange, ServiceAddress, ServiceRange,
};
use kube6_diff::{ChangeKind, Class, Files, NetworkState, Options, RangeChange, Report};
use kube6_model::model::{Cni, Distribution};
use kube6_model::rules::catalog;
use kube6_net::Family;

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

/// A configuration of `distribution` with these ranges (primary first), node masks /24 and /64,
/// flannel over node blocks, the DNS address at the tenth address of the first service range.
fn cfg(
    distribution: Distribution,
    version: &str,
    pods: &[&str],
    services: &[&str],
) -> NetworkState {
    let pods: Vec<PodRange> = pods
        .iter()
        .map(|p| {
            let cidr = net(p);
            let family = Family::of_net(&cidr);
            PodRange {
                family,
                cidr: Some(cidr),
                node_mask_size: Some(if family == Family::IPv4 { 24 } else { 64 }),
            }
        })
        .collect();
    let services: Vec<ServiceRange> = services
        .iter()
        .map(|s| {
            let cidr = net(s);
            ServiceRange {
                family: Family::of_net(&cidr),
                cidr: Some(cidr),
            }
        })
        .collect();
    let families: Vec<Family> = pods.iter().map(|p| p.family).collect();
    NetworkState {
        origin: Origin::Configuration {
            file: "cluster.yaml".into(),
            format: distribution.as_str().into(),
        },
        distribution: Some(distribution),
        distribution_version: (!version.is_empty()).then(|| version.to_string()),
        kubernetes_version: (!version.is_empty()).then(|| {
            kube6_model::version::Version::parse(version)
                .unwrap()
                .core()
                .to_string()
        }),
        cni: Some(Cni::Flannel),
        pod_ipam: Some(PodIpam::NodeBlocks),
        node_cidrs_allocated: true,
        pod_cidr_order: families.clone(),
        families,
        dns_ips: services
            .first()
            .and_then(|s| s.cidr)
            .and_then(|c| kube6_net::indexed_ip(&c, 10))
            .into_iter()
            .collect(),
        pods,
        services,
        api_endpoint: None,
        nodes: Vec::new(),
        in_use: None,
        service_cidrs: Vec::new(),
        multi_cidr_gate: None,
        lb_pools: None,
    }
}

fn kubeadm(pods: &[&str], services: &[&str]) -> NetworkState {
    cfg(Distribution::Kubeadm, "v1.34.2", pods, services)
}

/// A running cluster seen through its objects: no ranges, the blocks and addresses in use.
fn cluster(
    families: &[Family],
    blocks: &[(&str, &str)],
    services: &[(&str, &str)],
) -> NetworkState {
    let in_use = InUse {
        node_blocks: blocks
            .iter()
            .map(|(node, cidr)| NodeBlock {
                node: node.to_string(),
                cidr: net(cidr),
            })
            .collect(),
        service_addresses: services
            .iter()
            .map(|(svc, ip)| ServiceAddress {
                service: svc.to_string(),
                ip: ip.parse().unwrap(),
            })
            .collect(),
        kubernetes_service: services
            .iter()
            .filter(|(svc, _)| *svc == "default/kubernetes")
            .map(|(_, ip)| ip.parse().unwrap())
            .collect(),
        load_balancer_addresses: Vec::new(),
    };
    NetworkState {
        origin: Origin::Cluster {
            name: "dump.json".into(),
        },
        distribution: None,
        distribution_version: None,
        kubernetes_version: None,
        cni: None,
        pod_ipam: Some(PodIpam::NodeBlocks),
        node_cidrs_allocated: !blocks.is_empty(),
        pod_cidr_order: families.to_vec(),
        families: families.to_vec(),
        pods: families
            .iter()
            .map(|&family| PodRange {
                family,
                cidr: None,
                node_mask_size: None,
            })
            .collect(),
        services: families
            .iter()
            .map(|&family| ServiceRange { family, cidr: None })
            .collect(),
        dns_ips: Vec::new(),
        api_endpoint: None,
        nodes: Vec::new(),
        in_use: Some(in_use),
        service_cidrs: Vec::new(),
        multi_cidr_gate: None,
        lb_pools: None,
    }
}

fn run(current: NetworkState, proposed: NetworkState, cluster_api: bool) -> Report {
    kube6_diff::diff(
        current,
        proposed,
        &Files {
            current: Some("current.yaml".into()),
            proposed: "proposed.yaml".into(),
        },
        &Options { cluster_api },
    )
}

struct Case {
    name: &'static str,
    /// The upstream code or document whose behaviour the case encodes.
    upstream: &'static str,
    current: NetworkState,
    proposed: NetworkState,
    cluster_api: bool,
    kind: ChangeKind,
    class: Class,
    rules: &'static [&'static str],
    not_rules: &'static [&'static str],
}

fn case(
    name: &'static str,
    upstream: &'static str,
    current: NetworkState,
    proposed: NetworkState,
    kind: ChangeKind,
    class: Class,
    rules: &'static [&'static str],
) -> Case {
    Case {
        name,
        upstream,
        current,
        proposed,
        cluster_api: false,
        kind,
        class,
        rules,
        not_rules: &[],
    }
}

fn cases() -> Vec<Case> {
    let v4 = || kubeadm(&["10.244.0.0/16"], &["10.96.0.0/16"]);
    let dual = || {
        kubeadm(
            &["10.244.0.0/16", "fd00:10:244::/56"],
            &["10.96.0.0/16", "fd00:10:96::/112"],
        )
    };
    let with = |mut s: NetworkState, f: &dyn Fn(&mut NetworkState)| {
        f(&mut s);
        s
    };
    vec![
        Case {
            not_rules: &["K6E602", "K6E603"],
            ..case(
                "IPv4 to dual-stack on kubeadm: nodes must register again",
                "kubernetes pkg/apis/core/validation/validation.go ValidateNodeUpdate (podCIDRs only from empty); range_allocator.go AllocateOrOccupyCIDR (a node with podCIDRs gets no other family)",
                v4(),
                dual(),
                ChangeKind::FamilyAdded,
                Class::AllowedWithSteps,
                &["K6W607", "K6W601", "K6W610"],
            )
        },
        Case {
            not_rules: &["K6W601"],
            ..case(
                "IPv4 to dual-stack with Calico IPAM: pods do not use node blocks",
                "projectcalico/calico: Calico IPAM hands out blocks of its IPPools, not node.spec.podCIDRs",
                with(v4(), &|s| {
                    s.cni = Some(Cni::Calico);
                    s.pod_ipam = Some(PodIpam::CniPools);
                }),
                with(dual(), &|s| {
                    s.cni = Some(Cni::Calico);
                    s.pod_ipam = Some(PodIpam::CniPools);
                }),
                ChangeKind::FamilyAdded,
                Class::AllowedWithSteps,
                &["K6W607"],
            )
        },
        case(
            "the primary family changes",
            "kubernetes/enhancements keps/sig-network/563-dual-stack (a Service's primary family is immutable); default_servicecidr_controller.go (only single to dual-stack with the same first range)",
            dual(),
            kubeadm(
                &["fd00:10:244::/56", "10.244.0.0/16"],
                &["fd00:10:96::/112", "10.96.0.0/16"],
            ),
            ChangeKind::PrimaryFamily,
            Class::Refused,
            &["K6E603"],
        ),
        case(
            "IPv6 removed: nodes hold a podCIDR at an index kube-controller-manager no longer has",
            "kubernetes range_allocator.go occupyCIDRs (\"has an allocated cidr ... at index ... that does not exist in cluster cidrs configuration\")",
            dual(),
            v4(),
            ChangeKind::FamilyRemoved,
            Class::Refused,
            &["K6E602", "K6E608"],
        ),
        Case {
            not_rules: &["K6E602"],
            ..case(
                "IPv6 removed where kube-controller-manager gives no node blocks: unsafe, not refused",
                "kubernetes default_servicecidr_controller.go (the default ServiceCIDR is not downgraded); pods and Services keep addresses of the family",
                with(dual(), &|s| s.node_cidrs_allocated = false),
                with(v4(), &|s| s.node_cidrs_allocated = false),
                ChangeKind::FamilyRemoved,
                Class::Unsafe,
                &["K6E608"],
            )
        },
        Case {
            not_rules: &["K6E602", "K6W601"],
            ..case(
                "pod range extended: existing blocks stay inside",
                "kubernetes range_allocator.go occupyCIDRs (existing blocks are occupied in the new, larger cidrset)",
                v4(),
                kubeadm(&["10.244.0.0/15"], &["10.96.0.0/16"]),
                ChangeKind::PodRange,
                Class::AllowedWithSteps,
                &["K6W624", "K6W610"],
            )
        },
        case(
            "pod range replaced on kubeadm: kube-controller-manager crashes on the old blocks",
            "kubernetes range_allocator.go NewCIDRRangeAllocator (\"CIDR out of range ... This error will keep crashing controller-manager\")",
            v4(),
            kubeadm(&["10.200.0.0/16"], &["10.96.0.0/16"]),
            ChangeKind::PodRange,
            Class::Refused,
            &["K6E602", "K6W601"],
        ),
        case(
            "pod range shrunk, blocks not known: unsafe",
            "kubernetes range_allocator.go: blocks in the part that goes crash kube-controller-manager",
            v4(),
            kubeadm(&["10.244.0.0/17"], &["10.96.0.0/16"]),
            ChangeKind::PodRange,
            Class::Unsafe,
            &["K6E602"],
        ),
        case(
            "pod range shrunk below the blocks a running cluster's nodes hold: refused",
            "kubernetes range_allocator.go NewCIDRRangeAllocator",
            cluster(
                &[Family::IPv4],
                &[("n1", "10.244.0.0/24"), ("n2", "10.244.200.0/24")],
                &[("default/kubernetes", "10.96.0.1")],
            ),
            kubeadm(&["10.244.0.0/17"], &["10.96.0.0/16"]),
            ChangeKind::PodRange,
            Class::Refused,
            &["K6E602"],
        ),
        Case {
            not_rules: &["K6W610", "K6W606"],
            ..case(
                "service range extended on Kubernetes 1.34: a ServiceCIDR, live",
                "kubernetes pkg/features/kube_features.go (MultiCIDRServiceAllocator GA in 1.33); kubernetes/website extend-service-ip-ranges.md",
                v4(),
                kubeadm(&["10.244.0.0/16"], &["10.96.0.0/12"]),
                ChangeKind::ServiceRange,
                Class::AllowedLive,
                &["K6I605"],
            )
        },
        case(
            "service range extended on Kubernetes 1.32, same first address: restart kube-apiserver",
            "kubernetes pkg/registry/core/service/ipallocator/bitmap.go (the allocator is built from the flag at start)",
            cfg(
                Distribution::Kubeadm,
                "v1.32.9",
                &["10.244.0.0/16"],
                &["10.96.0.0/16"],
            ),
            cfg(
                Distribution::Kubeadm,
                "v1.32.9",
                &["10.244.0.0/16"],
                &["10.96.0.0/12"],
            ),
            ChangeKind::ServiceRange,
            Class::AllowedWithSteps,
            &["K6W606"],
        ),
        case(
            "service range extended on Kubernetes 1.32 with the gate on: a ServiceCIDR",
            "kubernetes pkg/features/kube_features.go (MultiCIDRServiceAllocator beta, off by default in 1.32)",
            cfg(
                Distribution::Kubeadm,
                "v1.32.9",
                &["10.244.0.0/16"],
                &["10.96.0.0/16"],
            ),
            with(
                cfg(
                    Distribution::Kubeadm,
                    "v1.32.9",
                    &["10.244.0.0/16"],
                    &["10.96.0.0/12"],
                ),
                &|s| s.multi_cidr_gate = Some(true),
            ),
            ChangeKind::ServiceRange,
            Class::AllowedLive,
            &["K6I605"],
        ),
        case(
            "service range extended on 1.32 to a range with another first address: unsafe",
            "kubernetes pkg/controlplane/apiserver/options (the kubernetes Service takes the range's first address) and the reconciler never moves it",
            cfg(
                Distribution::Kubeadm,
                "v1.32.9",
                &["10.244.0.0/16"],
                &["10.97.0.0/16"],
            ),
            cfg(
                Distribution::Kubeadm,
                "v1.32.9",
                &["10.244.0.0/16"],
                &["10.96.0.0/12"],
            ),
            ChangeKind::ServiceRange,
            Class::Unsafe,
            &["K6E604"],
        ),
        case(
            "service range replaced: Services keep their cluster IPs",
            "kubernetes pkg/apis/core/validation/validation.go (spec.clusterIP immutable); kubernetes/website reconfigure-default-service-ip-ranges.md",
            v4(),
            kubeadm(&["10.244.0.0/16"], &["10.112.0.0/16"]),
            ChangeKind::ServiceRange,
            Class::Unsafe,
            &["K6E604"],
        ),
        case(
            "a running cluster's Services outside the proposed service range",
            "kubernetes pkg/apis/core/validation/validation.go (spec.clusterIP immutable)",
            cluster(
                &[Family::IPv4],
                &[("n1", "10.244.0.0/24")],
                &[
                    ("default/kubernetes", "10.96.0.1"),
                    ("shop/web", "10.96.200.7"),
                ],
            ),
            kubeadm(&["10.244.0.0/16"], &["10.96.0.0/17"]),
            ChangeKind::ServiceRange,
            Class::Unsafe,
            &["K6E622"],
        ),
        case(
            "a running cluster's kubernetes Service is not the first address of the proposed range",
            "kubernetes pkg/controlplane/apiserver/options ServiceIPRange (first address) and default_servicecidr_controller.go",
            cluster(
                &[Family::IPv4],
                &[("n1", "10.244.0.0/24")],
                &[("default/kubernetes", "10.96.0.1")],
            ),
            kubeadm(&["10.244.0.0/16"], &["10.0.0.0/8"]),
            ChangeKind::ServiceRange,
            Class::Unsafe,
            &["K6E622"],
        ),
        case(
            "KKP refuses a pod range edit",
            "kubermatic/kubermatic pkg/validation/cluster.go validateClusterNetworkingConfigUpdateImmutability (pods.cidrBlocks)",
            cfg(
                Distribution::Kkp,
                "v1.34.2",
                &["172.25.0.0/16"],
                &["10.240.16.0/20"],
            ),
            cfg(
                Distribution::Kkp,
                "v1.34.2",
                &["172.24.0.0/15"],
                &["10.240.16.0/20"],
            ),
            ChangeKind::PodRange,
            Class::Refused,
            &["K6E611"],
        ),
        Case {
            not_rules: &["K6E611"],
            ..case(
                "KKP lets the node mask change",
                "kubermatic/kubermatic pkg/validation/cluster.go (nodeCidrMaskSizeIPv4/IPv6 are not among the immutable fields)",
                cfg(
                    Distribution::Kkp,
                    "v1.34.2",
                    &["172.25.0.0/16"],
                    &["10.240.16.0/20"],
                ),
                with(
                    cfg(
                        Distribution::Kkp,
                        "v1.34.2",
                        &["172.25.0.0/16"],
                        &["10.240.16.0/20"],
                    ),
                    &|s| s.pods[0].node_mask_size = Some(25),
                ),
                ChangeKind::NodeMask,
                Class::AllowedWithSteps,
                &["K6W617"],
            )
        },
        case(
            "KKP refuses another CNI without the migration label",
            "kubermatic/kubermatic pkg/validation/cluster.go validateCNIUpdate (UnsafeCNIMigrationLabel)",
            cfg(
                Distribution::Kkp,
                "v1.34.2",
                &["172.25.0.0/16"],
                &["10.240.16.0/20"],
            ),
            with(
                cfg(
                    Distribution::Kkp,
                    "v1.34.2",
                    &["172.25.0.0/16"],
                    &["10.240.16.0/20"],
                ),
                &|s| s.cni = Some(Cni::Cilium),
            ),
            ChangeKind::Cni,
            Class::Refused,
            &["K6E612", "K6E618"],
        ),
        Case {
            cluster_api: true,
            ..case(
                "Cluster API refuses kubeadm networking edits",
                "kubernetes-sigs/cluster-api controlplane/kubeadm/internal/webhooks/kubeadm_control_plane.go (networking is not an allowed path: \"cannot be modified\")",
                v4(),
                kubeadm(&["10.244.0.0/15"], &["10.96.0.0/16"]),
                ChangeKind::PodRange,
                Class::Refused,
                &["K6E609"],
            )
        },
        Case {
            cluster_api: true,
            not_rules: &["K6E609"],
            ..case(
                "Cluster API lets controllerManager extraArgs (the node mask) change",
                "kubernetes-sigs/cluster-api kubeadm_control_plane.go (clusterConfiguration.controllerManager.* is an allowed path)",
                v4(),
                with(v4(), &|s| s.pods[0].node_mask_size = Some(25)),
                ChangeKind::NodeMask,
                Class::AllowedWithSteps,
                &["K6W617"],
            )
        },
        case(
            "k0s IPv6 single-stack to dual-stack, IPv6 primary, v1.36.3",
            "k0sproject/k0s docs/networking/single-stack-ipv6.md (\"as long as the primary address family remains IPv6\")",
            cfg(
                Distribution::K0s,
                "v1.36.3+k0s.0",
                &["fd00::/108"],
                &["fd01::/108"],
            ),
            cfg(
                Distribution::K0s,
                "v1.36.3+k0s.0",
                &["fd00::/108", "10.244.0.0/16"],
                &["fd01::/108", "10.96.0.0/12"],
            ),
            ChangeKind::FamilyAdded,
            Class::AllowedWithSteps,
            &["K6W607", "K6W601"],
        ),
        case(
            "k0s IPv6 single-stack to dual-stack with kube-router before v1.36.1",
            "k0sproject/k0s commits 6dda195e94, d27bc74a0d, eb9388ba13 (IPv6-primary dual-stack with kube-router from v1.36.1)",
            with(
                cfg(
                    Distribution::K0s,
                    "v1.35.2+k0s.0",
                    &["fd00::/108"],
                    &["fd01::/108"],
                ),
                &|s| s.cni = Some(Cni::KubeRouter),
            ),
            with(
                cfg(
                    Distribution::K0s,
                    "v1.35.2+k0s.0",
                    &["fd00::/108", "10.244.0.0/16"],
                    &["fd01::/108", "10.96.0.0/12"],
                ),
                &|s| s.cni = Some(Cni::KubeRouter),
            ),
            ChangeKind::FamilyAdded,
            Class::Refused,
            &["K6E613"],
        ),
        case(
            "k0s IPv6 single-stack to dual-stack with IPv4 primary",
            "k0sproject/k0s docs/networking/single-stack-ipv6.md",
            cfg(
                Distribution::K0s,
                "v1.36.3+k0s.0",
                &["fd00::/108"],
                &["fd01::/108"],
            ),
            cfg(
                Distribution::K0s,
                "v1.36.3+k0s.0",
                &["10.244.0.0/16", "fd00::/108"],
                &["10.96.0.0/12", "fd01::/108"],
            ),
            ChangeKind::PrimaryFamily,
            Class::Refused,
            &["K6E603", "K6E613"],
        ),
        case(
            "k0s before v1.36.1, IPv4 to dual-stack: --cluster-cidr lists IPv6 first",
            "k0sproject/k0s BuildPodCIDR before eb9388ba13; kubernetes range_allocator.go occupyCIDRs (blocks matched by position)",
            cfg(
                Distribution::K0s,
                "v1.35.2+k0s.0",
                &["10.244.0.0/16"],
                &["10.96.0.0/12"],
            ),
            with(
                cfg(
                    Distribution::K0s,
                    "v1.35.2+k0s.0",
                    &["10.244.0.0/16", "fd00::/108"],
                    &["10.96.0.0/12", "fd01::/108"],
                ),
                &|s| s.pod_cidr_order = vec![Family::IPv6, Family::IPv4],
            ),
            ChangeKind::FamilyAdded,
            Class::Refused,
            &["K6E602"],
        ),
        case(
            "k3s IPv4 to dual-stack: nodes rejoin and lose local data",
            "k3s-io/docs docs/networking/basic-network-options.md (dual-stack at creation); the k3s IPv6 seed (re-adding nodes loses local data); k3s pkg/cluster/bootstrap.go (critical configuration)",
            cfg(
                Distribution::K3s,
                "v1.34.2+k3s1",
                &["10.42.0.0/16"],
                &["10.43.0.0/16"],
            ),
            cfg(
                Distribution::K3s,
                "v1.34.2+k3s1",
                &["10.42.0.0/16", "fd00:42::/56"],
                &["10.43.0.0/16", "fd00:43::/112"],
            ),
            ChangeKind::FamilyAdded,
            Class::Unsafe,
            &["K6E614", "K6W615", "K6W601"],
        ),
        case(
            "Calico pool moved: a new pool, not an edit",
            "projectcalico/calico libcalico-go/lib/clientv3/ippool.go (\"IPPool CIDR cannot be modified\")",
            with(v4(), &|s| {
                s.cni = Some(Cni::Calico);
                s.pod_ipam = Some(PodIpam::CniPools);
            }),
            with(kubeadm(&["10.200.0.0/16"], &["10.96.0.0/16"]), &|s| {
                s.cni = Some(Cni::Calico);
                s.pod_ipam = Some(PodIpam::CniPools);
            }),
            ChangeKind::PodRange,
            Class::Refused,
            &["K6W616", "K6E602"],
        ),
        case(
            "node mask changes",
            "kubernetes range_allocator.go (the mask applies to new allocations; validation.go keeps existing podCIDRs)",
            v4(),
            with(v4(), &|s| s.pods[0].node_mask_size = Some(25)),
            ChangeKind::NodeMask,
            Class::AllowedWithSteps,
            &["K6W617", "K6W610"],
        ),
        case(
            "another CNI",
            "kube6: no component refuses it, every pod leaves the network",
            v4(),
            with(v4(), &|s| s.cni = Some(Cni::Cilium)),
            ChangeKind::Cni,
            Class::Unsafe,
            &["K6E618"],
        ),
        case(
            "cluster DNS address changes",
            "kubernetes pkg/apis/core/validation/validation.go (kube-dns's spec.clusterIP is immutable)",
            v4(),
            with(v4(), &|s| {
                s.dns_ips = vec!["169.254.20.10".parse().unwrap()]
            }),
            ChangeKind::DnsAddress,
            Class::AllowedWithSteps,
            &["K6W619"],
        ),
        case(
            "API endpoint changes",
            "kube6: certificates and kubeconfigs name the endpoint",
            with(v4(), &|s| {
                s.api_endpoint = Some("api.example.test:6443".into())
            }),
            with(v4(), &|s| {
                s.api_endpoint = Some("[2001:db8::10]:6443".into())
            }),
            ChangeKind::ApiEndpoint,
            Class::AllowedWithSteps,
            &["K6W620", "K6W610"],
        ),
        case(
            "a node gains an IPv6 address",
            "kubernetes staging/src/k8s.io/component-helpers/node/util/ips.go (--node-ip is read at kubelet start)",
            with(v4(), &|s| {
                s.nodes = vec![Node {
                    name: "n1".into(),
                    addresses: vec!["192.0.2.10".parse().unwrap()],
                }]
            }),
            with(v4(), &|s| {
                s.nodes = vec![Node {
                    name: "n1".into(),
                    addresses: vec![
                        "192.0.2.10".parse().unwrap(),
                        "2001:db8::10".parse().unwrap(),
                    ],
                }]
            }),
            ChangeKind::NodeAddresses,
            Class::AllowedWithSteps,
            &["K6W621"],
        ),
        case(
            "another distribution",
            "kube6: a reinstall",
            v4(),
            cfg(Distribution::K3s, "", &["10.244.0.0/16"], &["10.96.0.0/16"]),
            ChangeKind::Distribution,
            Class::Unsafe,
            &["K6E623"],
        ),
        case(
            "load-balancer pool moved with a renumbered prefix: Services get new addresses",
            "metallb controller/service.go convergeBalancer (\"current IP not allowed by config, clearing\", then a new allocation)",
            with_pools(dual(), &[("pool-1", "2001:db8:a:100:1::/112")]),
            with_pools(dual(), &[("pool-1", "2001:db8:b:200:1::/112")]),
            ChangeKind::LoadBalancerPool,
            Class::AllowedWithSteps,
            &["K6W625"],
        ),
    ]
}

#[test]
fn a_running_cluster_s_load_balancer_addresses_outside_the_proposed_pools_are_reported() {
    let mut live = cluster(
        &[Family::IPv6],
        &[],
        &[("default/kubernetes", "fd00:10:96::1")],
    );
    if let Some(in_use) = live.in_use.as_mut() {
        in_use.load_balancer_addresses = vec![
            ServiceAddress {
                service: "web/front".into(),
                ip: "2001:db8:a:100:1::5".parse().unwrap(),
            },
            ServiceAddress {
                service: "web/kept".into(),
                ip: "2001:db8:b:200:1::7".parse().unwrap(),
            },
        ];
    }
    let proposed = with_pools(
        cfg(
            Distribution::Kubeadm,
            "v1.34.2",
            &["fd00:10:244::/56"],
            &["fd00:10:96::/112"],
        ),
        &[("pool-1", "2001:db8:b:200:1::/112")],
    );
    let report = run(live.clone(), proposed.clone(), false);
    let change = report
        .changes
        .iter()
        .find(|c| c.change.kind == ChangeKind::LoadBalancerPool)
        .unwrap_or_else(|| panic!("{:?}", report.changes));
    let affected: Vec<&str> = change
        .change
        .affected
        .service_addresses
        .iter()
        .map(|s| s.service.as_str())
        .collect();
    assert_eq!(affected, ["web/front"]);
    assert!(change.verdicts.iter().any(|v| v.rule == "K6W625"));
    // Every address inside the proposed pools: nothing to say.
    if let Some(in_use) = live.in_use.as_mut() {
        in_use.load_balancer_addresses.remove(0);
    }
    let report = run(live, proposed, false);
    assert!(
        !report
            .changes
            .iter()
            .any(|c| c.change.kind == ChangeKind::LoadBalancerPool)
    );
}

/// `state` with these IPv6 load-balancer pool blocks.
fn with_pools(mut state: NetworkState, pools: &[(&str, &str)]) -> NetworkState {
    state.lb_pools = Some(
        pools
            .iter()
            .map(|(pool, addresses)| kube6_diff::state::PoolBlock {
                family: Family::IPv6,
                pool: pool.to_string(),
                addresses: addresses.to_string(),
            })
            .collect(),
    );
    state
}

#[test]
fn every_case_gives_its_verdicts() {
    let mut failures = Vec::new();
    for case in cases() {
        let report = run(case.current, case.proposed, case.cluster_api);
        let Some(change) = report.changes.iter().find(|c| c.change.kind == case.kind) else {
            failures.push(format!(
                "{}: no {} change (got {:?})\n  upstream: {}",
                case.name,
                case.kind,
                report
                    .changes
                    .iter()
                    .map(|c| c.change.kind)
                    .collect::<Vec<_>>(),
                case.upstream
            ));
            continue;
        };
        let rules: Vec<&str> = change.verdicts.iter().map(|v| v.rule).collect();
        if change.class != case.class {
            failures.push(format!(
                "{}: class {:?}, expected {:?} ({rules:?})\n  upstream: {}",
                case.name, change.class, case.class, case.upstream
            ));
        }
        for rule in case.rules {
            if !rules.contains(rule) {
                failures.push(format!("{}: {rule} missing from {rules:?}", case.name));
            }
        }
        for rule in case.not_rules {
            if rules.contains(rule) {
                failures.push(format!("{}: {rule} must not fire ({rules:?})", case.name));
            }
        }
        if report.allowed == case.class.blocks() {
            failures.push(format!("{}: allowed = {}", case.name, report.allowed));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every change rule of the catalog (6xx) fires in some case, and every verdict's class agrees
/// with its rule's severity.
#[test]
fn every_change_rule_fires() {
    let mut fired = BTreeSet::new();
    for case in cases() {
        let report = run(case.current, case.proposed, case.cluster_api);
        for change in &report.changes {
            for v in &change.verdicts {
                let rule = catalog::find(v.rule).unwrap();
                assert_eq!(rule.severity, v.class.severity(), "{}", v.rule);
                assert_eq!(rule.enforced_by, v.enforced_by, "{}", v.rule);
                assert!(!v.reason.is_empty());
                fired.insert(v.rule);
            }
        }
    }
    let missing: Vec<&str> = catalog::ALL
        .iter()
        .map(|r| r.id)
        .filter(|id| catalog::is_change_rule(id) && !fired.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "change rules no case fires: {missing:?}"
    );
}

#[test]
fn the_same_network_has_no_changes() {
    let a = kubeadm(
        &["10.244.0.0/16", "fd00:10:244::/56"],
        &["10.96.0.0/16", "fd00:10:96::/112"],
    );
    let report = run(a.clone(), a, false);
    assert!(report.changes.is_empty());
    assert!(report.allowed);
    assert!(report.runbook.steps.is_empty());
}

/// A running cluster whose blocks and addresses all fit the proposed ranges shows no change:
/// kube6 never invents a change it cannot see.
#[test]
fn a_cluster_that_fits_the_proposal_has_no_changes() {
    let current = cluster(
        &[Family::IPv4],
        &[("n1", "10.244.0.0/24"), ("n2", "10.244.1.0/24")],
        &[
            ("default/kubernetes", "10.96.0.1"),
            ("kube-system/kube-dns", "10.96.0.10"),
        ],
    );
    let report = run(
        current,
        kubeadm(&["10.244.0.0/16"], &["10.96.0.0/16"]),
        false,
    );
    assert!(report.changes.is_empty(), "{:?}", report.changes);
    assert!(report.allowed);
}

#[test]
fn refused_changes_give_the_alternative_and_no_steps() {
    let report = run(
        kubeadm(
            &["10.244.0.0/16", "fd00:10:244::/56"],
            &["10.96.0.0/16", "fd00:10:96::/112"],
        ),
        kubeadm(
            &["fd00:10:244::/56", "10.244.0.0/16"],
            &["fd00:10:96::/112", "10.96.0.0/16"],
        ),
        false,
    );
    assert!(!report.allowed);
    assert!(report.runbook.steps.is_empty());
    let blocked = &report.runbook.blocked[0];
    assert_eq!(blocked.rules, vec!["K6E603"]);
    assert!(
        blocked
            .alternative
            .contains("Keep IPv4 as the primary family"),
        "{}",
        blocked.alternative
    );
}

#[test]
fn unsafe_steps_say_what_they_cost() {
    let report = run(
        cfg(
            Distribution::K3s,
            "v1.34.2+k3s1",
            &["10.42.0.0/16"],
            &["10.43.0.0/16"],
        ),
        cfg(
            Distribution::K3s,
            "v1.34.2+k3s1",
            &["10.42.0.0/16", "fd00:42::/56"],
            &["10.43.0.0/16", "fd00:43::/112"],
        ),
        false,
    );
    assert!(!report.allowed);
    let rotation = report
        .runbook
        .steps
        .iter()
        .find(|s| s.title.starts_with("Register node"))
        .unwrap();
    assert!(rotation.warning.as_deref().unwrap().contains("K6E614"));
    assert!(
        rotation
            .commands
            .iter()
            .any(|c| c.contains("k3s-uninstall.sh"))
    );
    assert!(rotation.checks.iter().any(|c| c.id == "K6V003"));
    // The CNI gets the family after every node has a podCIDR of it (Cilium's kubernetes IPAM
    // stops its agent without one).
    let position = |prefix: &str| {
        report
            .runbook
            .steps
            .iter()
            .position(|s| s.title.starts_with(prefix))
            .unwrap()
    };
    assert!(position("Register node") < position("Let the CNI hand out"));
}

#[test]
fn every_step_check_names_a_real_check_and_runs_only_it() {
    let report = run(
        kubeadm(&["10.244.0.0/16"], &["10.96.0.0/16"]),
        kubeadm(
            &["10.244.0.0/16", "fd00:10:244::/56"],
            &["10.96.0.0/16", "fd00:10:96::/112"],
        ),
        false,
    );
    assert!(report.allowed);
    for step in &report.runbook.steps {
        for check in &step.checks {
            let known = match check.tool {
                "kube6 verify" => kube6_verify::catalog::find(check.id).is_some(),
                "kube6 probe" => kube6_probe::catalog::find(check.id).is_some(),
                other => panic!("unknown tool {other}"),
            };
            assert!(known, "{}", check.id);
            // `--only ID`: that check alone decides the exit status.
            assert!(
                check.command.starts_with(check.tool)
                    && check.command.ends_with(&format!(" --only {}", check.id)),
                "{}",
                check.command
            );
        }
    }
}

/// docs/diff.md lists every change rule of the catalog.
#[test]
fn docs_name_every_change_rule() {
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/diff.md"),
    )
    .unwrap();
    let missing: Vec<&str> = catalog::ALL
        .iter()
        .map(|r| r.id)
        .filter(|id| catalog::is_change_rule(id) && !docs.contains(&format!("| {id} |")))
        .collect();
    assert!(missing.is_empty(), "docs/diff.md does not list {missing:?}");
}

/// An IPv6 kubeadm cluster on Kubernetes 1.34 as `kubectl get nodes,services,servicecidrs -o
/// json` shows it: the default ServiceCIDR `kubernetes` kube-apiserver keeps from its flag, one
/// an operator added (`extra`), optionally one being deleted (`old-range`, still holding an
/// address), and a Service with an address from the added range.
fn service_cidr_cluster(deleting: bool, objects: bool) -> NetworkState {
    let ready = r#"{"conditions": [{"type": "Ready", "status": "True", "reason": "",
        "message": "Kubernetes Service CIDR is ready", "lastTransitionTime": "2026-05-01T10:00:00Z"}]}"#;
    let mut items = vec![
        r#"{"kind": "Node", "apiVersion": "v1", "metadata": {"name": "cp-1"}, "spec": {"podCIDRs": ["fd00:10:244::/64"]},
            "status": {"addresses": [{"type": "InternalIP", "address": "2001:db8::10"}]}}"#.to_string(),
        r#"{"kind": "Node", "apiVersion": "v1", "metadata": {"name": "worker-1"}, "spec": {"podCIDRs": ["fd00:10:244:1::/64"]},
            "status": {"addresses": [{"type": "InternalIP", "address": "2001:db8::11"}]}}"#.to_string(),
        r#"{"kind": "Service", "apiVersion": "v1", "metadata": {"name": "kubernetes", "namespace": "default"},
            "spec": {"clusterIP": "fd00:10:96::1", "clusterIPs": ["fd00:10:96::1"], "ipFamilies": ["IPv6"]}}"#.to_string(),
        r#"{"kind": "Service", "apiVersion": "v1", "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {"clusterIP": "fd00:10:96::a", "clusterIPs": ["fd00:10:96::a"], "ipFamilies": ["IPv6"]}}"#.to_string(),
        r#"{"kind": "Service", "apiVersion": "v1", "metadata": {"name": "shop", "namespace": "shop"},
            "spec": {"clusterIP": "fd00:10:96::1:5", "clusterIPs": ["fd00:10:96::1:5"], "ipFamilies": ["IPv6"]}}"#.to_string(),
    ];
    if objects {
        items.push(format!(
            r#"{{"kind": "ServiceCIDR", "apiVersion": "networking.k8s.io/v1", "metadata": {{"name": "kubernetes",
                "finalizers": ["networking.k8s.io/service-cidr-finalizer"]}}, "spec": {{"cidrs": ["fd00:10:96::/112"]}}, "status": {ready}}}"#
        ));
        items.push(format!(
            r#"{{"kind": "ServiceCIDR", "apiVersion": "networking.k8s.io/v1", "metadata": {{"name": "extra",
                "finalizers": ["networking.k8s.io/service-cidr-finalizer"]}}, "spec": {{"cidrs": ["fd00:10:96::1:0/112"]}}, "status": {ready}}}"#
        ));
    }
    if deleting {
        items.push(r#"{"kind": "Service", "apiVersion": "v1", "metadata": {"name": "legacy", "namespace": "shop"},
            "spec": {"clusterIP": "fd00:10:98::9", "clusterIPs": ["fd00:10:98::9"], "ipFamilies": ["IPv6"]}}"#.to_string());
        items.push(r#"{"kind": "ServiceCIDR", "apiVersion": "networking.k8s.io/v1", "metadata": {"name": "old-range",
            "deletionTimestamp": "2026-11-20T08:00:00Z", "deletionGracePeriodSeconds": 0,
            "finalizers": ["networking.k8s.io/service-cidr-finalizer"]}, "spec": {"cidrs": ["fd00:10:98::/112"]},
            "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Terminating",
            "message": "There are still IPAddresses referencing the ServiceCIDR, please remove them or create a new ServiceCIDR",
            "lastTransitionTime": "2026-11-20T08:00:00Z"}]}}"#.to_string());
    }
    let dump = format!(
        r#"{{"kind": "List", "apiVersion": "v1", "items": [{}]}}"#,
        items.join(",")
    );
    let snapshot = kube6_verify::read_dump_bytes("dump.json", dump.as_bytes()).unwrap();
    NetworkState::from_snapshot(&snapshot, "dump.json", Some(Cni::Flannel))
}

/// The runbook has a step that creates a ServiceCIDR.
fn creates_service_cidr(report: &Report) -> bool {
    report
        .runbook
        .steps
        .iter()
        .any(|s| s.title.contains("with a ServiceCIDR"))
}

/// kubernetes/kubernetes pkg/controlplane/controller/defaultservicecidr and
/// pkg/controller/servicecidrs: the default ServiceCIDR is the configured range, every other
/// ready one allocates too, one being deleted allocates nothing new.
#[test]
fn a_cluster_with_service_cidrs_is_judged_by_them() {
    let same = || kubeadm(&["fd00:10:244::/56"], &["fd00:10:96::/112"]);

    // The added range's Service is not outside the cluster's ranges; the configured range is
    // the default ServiceCIDR's.
    let current = service_cidr_cluster(false, true);
    assert_eq!(
        current.service_range(Family::IPv6).unwrap().cidr,
        Some(net("fd00:10:96::/112"))
    );
    assert_eq!(current.service_cidrs.len(), 2);
    let report = run(current, same(), false);
    assert!(report.changes.is_empty(), "{:#?}", report.changes);
    assert!(report.allowed);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("its service ranges are its ServiceCIDR objects")),
        "{:?}",
        report.notes
    );

    // Without the objects (an older dump), the same Service looks outside the range.
    let report = run(service_cidr_cluster(false, false), same(), false);
    let change = &report.changes[0].change;
    assert_eq!(change.kind, ChangeKind::ServiceRange);
    assert_eq!(change.affected.service_addresses[0].service, "shop/shop");

    // A Service left in a range being deleted must move: it is outside.
    let report = run(service_cidr_cluster(true, true), same(), false);
    let change = &report.changes[0].change;
    assert_eq!(change.kind, ChangeKind::ServiceRange);
    assert_eq!(change.range_change, Some(RangeChange::InUseOutside));
    assert_eq!(
        change
            .affected
            .service_addresses
            .iter()
            .map(|a| a.service.as_str())
            .collect::<Vec<_>>(),
        ["shop/legacy"]
    );

    // Extending the range to what the default and the added ServiceCIDR already serve: allowed
    // live, already made, and no ServiceCIDR to create in the runbook.
    let wider = kubeadm(&["fd00:10:244::/56"], &["fd00:10:96::/111"]);
    let report = run(service_cidr_cluster(false, true), wider, false);
    let c = &report.changes[0];
    assert_eq!(c.change.range_change, Some(RangeChange::Extended));
    assert_eq!(c.change.current.as_deref(), Some("fd00:10:96::/112"));
    assert_eq!(c.change.served_by, ["kubernetes", "extra"]);
    assert_eq!(c.class, Class::AllowedLive);
    assert!(
        c.verdicts[0].reason.starts_with("already made"),
        "{:?}",
        c.verdicts
    );
    assert!(
        !creates_service_cidr(&report),
        "{:#?}",
        report.runbook.steps
    );

    // A larger extension still needs its ServiceCIDR.
    let widest = kubeadm(&["fd00:10:244::/56"], &["fd00:10:96::/108"]);
    let report = run(service_cidr_cluster(false, true), widest, false);
    let c = &report.changes[0];
    assert!(c.change.served_by.is_empty());
    assert_eq!(c.class, Class::AllowedLive);
    assert!(creates_service_cidr(&report), "{:#?}", report.runbook.steps);
}
