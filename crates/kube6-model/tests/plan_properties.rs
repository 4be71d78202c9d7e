//! Properties of the plan over random kube6 inputs: capacity arithmetic, node blocks inside their
//! range and clear of each other and of the service ranges, service addresses inside their range.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use ipnet::IpNet;
use kube6_model::import::ImportOptions;
use kube6_net::{contains_net, overlaps, range_size};
use proptest::prelude::*;

/// (pod CIDR, node mask, service CIDR) for one family.
fn family_ranges(v6: bool) -> impl Strategy<Value = (String, u8, String)> {
    if v6 {
        (
            any::<u16>(),
            40u8..=120,
            0u8..=24,
            108u8..=124,
            any::<bool>(),
        )
            .prop_map(|(net, prefix, extra, svc, inside)| {
                let mask = (prefix + extra).min(128);
                let pod = IpNet::new(
                    format!("fd{:02x}:{net:x}::", net % 256).parse().unwrap(),
                    prefix,
                )
                .unwrap()
                .trunc();
                // Half the time the service range sits inside the pod range (kube-controller-manager
                // then keeps node blocks clear of it).
                let svc = if inside {
                    IpNet::new(pod.network(), svc.max(prefix))
                        .unwrap()
                        .to_string()
                } else {
                    format!("fd99:{net:x}::/{svc}")
                };
                (pod.to_string(), mask, svc)
            })
            .boxed()
    } else {
        (0u8..=255, 8u8..=26, 0u8..=12, 12u8..=28, any::<bool>())
            .prop_map(|(net, prefix, extra, svc, inside)| {
                let mask = (prefix + extra).min(32);
                let pod = IpNet::new(std::net::Ipv4Addr::new(10, net, 0, 0).into(), prefix)
                    .unwrap()
                    .trunc();
                let svc = if inside {
                    IpNet::new(pod.network(), svc.max(prefix))
                        .unwrap()
                        .to_string()
                } else {
                    format!("172.16.{net}.0/{svc}")
                };
                (pod.to_string(), mask, svc)
            })
            .boxed()
    }
}

fn document(layout: &[(String, u8, String)], distribution: &str, nodes: usize) -> String {
    let mut doc = format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: {distribution}\n  pods:\n"
    );
    for (pod, mask, _) in layout {
        doc.push_str(&format!(
            "    - {{cidr: \"{pod}\", nodeMaskSize: {mask}}}\n"
        ));
    }
    doc.push_str("  services:\n");
    for (_, _, svc) in layout {
        doc.push_str(&format!("    - \"{svc}\"\n"));
    }
    if nodes > 0 {
        doc.push_str("  nodes:\n");
        for i in 0..nodes {
            doc.push_str(&format!("    - {{name: n{i}}}\n"));
        }
    }
    doc
}

fn layouts() -> impl Strategy<Value = Vec<(String, u8, String)>> {
    prop_oneof![
        family_ranges(true).prop_map(|a| vec![a]),
        family_ranges(false).prop_map(|a| vec![a]),
        (family_ranges(false), family_ranges(true)).prop_map(|(a, b)| vec![a, b]),
        (family_ranges(true), family_ranges(false)).prop_map(|(a, b)| vec![a, b]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn plans_keep_their_invariants(
        layout in layouts(),
        distribution in prop::sample::select(vec!["k0s", "k3s", "rke2", "kubeadm", "kkp"]),
        nodes in 0usize..6,
    ) {
        let text = document(&layout, distribution, nodes);
        let analysis = kube6_model::analyze("p.yaml", &text, &ImportOptions::default()).unwrap();
        let plan = &analysis.plan;
        prop_assert_eq!(plan.pods.len(), layout.len());
        let services: Vec<IpNet> = plan.services.iter().map(|s| s.cidr).collect();
        for pod in &plan.pods {
            let bits = pod.family.bits();
            if let (Some(max), Some(per), Some(mask)) = (pod.max_nodes, pod.addresses_per_node, pod.node_mask_size) {
                prop_assert_eq!(max.log2() + per.log2(), bits - pod.cidr.prefix_len());
                prop_assert_eq!(per.log2(), bits - mask);
            }
            for (i, block) in pod.first_node_blocks.iter().enumerate() {
                prop_assert!(contains_net(&pod.cidr, block), "{} outside {}", block, pod.cidr);
                prop_assert_eq!(Some(block.prefix_len()), pod.node_mask_size);
                for other in &pod.first_node_blocks[i + 1..] {
                    prop_assert!(!overlaps(block, other), "{} and {} overlap", block, other);
                }
                for svc in &services {
                    // kube-controller-manager occupies service ranges inside the pod range.
                    prop_assert!(!overlaps(block, svc), "{} overlaps {}", block, svc);
                }
            }
        }
        for svc in &plan.services {
            prop_assert_eq!(svc.size, range_size(&svc.cidr));
            if let Some(ip) = svc.api_server_ip {
                prop_assert!(svc.cidr.contains(&ip));
            }
            if let Some(ip) = svc.dns_ip {
                prop_assert!(svc.cidr.contains(&ip));
            }
        }
        // Declared nodes get one block per family, in order, distinct.
        for node in &plan.nodes {
            prop_assert!(node.pod_cidrs.len() == plan.pods.len() || node.pod_cidrs.is_empty());
        }
        let lines: Vec<u32> = plan.diagnostics.iter().map(|d| d.line.unwrap_or(u32::MAX)).collect();
        prop_assert!(lines.windows(2).all(|w| w[0] <= w[1]), "diagnostics sorted by line: {:?}", lines);
        prop_assert_eq!(plan.valid, !plan.diagnostics.iter().any(|d| d.severity == kube6_model::diagnostic::Severity::Error));
        prop_assert!(serde_json::to_string(plan).is_ok());
    }
}

/// The ClusterIP allocator's capacity follows the release: the bitmap of Kubernetes before 1.34
/// keeps 65,536 addresses of an IPv6 range, the IPAddress allocator the whole range
/// (kubernetes/kubernetes pkg/registry/core/service/ipallocator/{bitmap,ipallocator}.go), and
/// explicit feature gates win over the release's defaults.
#[test]
fn allocatable_service_addresses_follow_the_clusterip_allocator() {
    let plan = |extra: &str| {
        let text = format!(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [fd00:10::/56, 10.244.0.0/16]\n  services: [fd00:20::/108, 10.96.0.0/16]\n{extra}"
        );
        let analysis = kube6_model::analyze("p.yaml", &text, &ImportOptions::default()).unwrap();
        analysis
            .plan
            .services
            .iter()
            .map(|s| s.allocatable)
            .collect::<Vec<_>>()
    };
    assert_eq!(plan("  kubernetesVersion: v1.33.4\n"), [65_535, 65_534]);
    assert_eq!(plan("  kubernetesVersion: v1.34.0\n"), [1_048_575, 65_534]);
    assert_eq!(plan(""), [1_048_575, 65_534]);
    assert_eq!(
        plan(
            "  kubernetesVersion: v1.34.0\n  featureGates:\n    DisableAllocatorDualWrite: false\n"
        ),
        [65_535, 65_534]
    );
}
