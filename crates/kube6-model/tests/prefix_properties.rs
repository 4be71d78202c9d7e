//! Properties of carving over many prefixes, distributions, CNIs, node counts, pods per node,
//! load-balancer pools and upstreams: a carved plan passes every rule kube6 has (no error at
//! all), its ranges lie inside the prefix, apart from each other and from the nodes' addresses,
//! hold the nodes and pods asked, fall on nibble boundaries where the prefix does; a prefix is
//! called too small only when it is; and a prefix of the same length gives the same layout,
//! moved.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv6Addr;

use ipnet::{IpNet, Ipv6Net};
use kube6_model::diagnostic::Severity;
use kube6_model::import::ImportOptions;
use kube6_model::plan::Plan;
use kube6_model::prefix::{PrefixOptions, RangeRole};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Input {
    distribution: &'static str,
    cni: &'static str,
    /// IPv4 ranges set by the input (dual-stack), or none (IPv6 single-stack).
    dual: bool,
    prefix: Ipv6Net,
    nodes: u64,
    pods_per_node: u64,
    lb_pools: u64,
    lb_mask: Option<u8>,
    upstream: Option<&'static str>,
    /// Offsets of declared node addresses inside the prefix's first /64.
    node_offsets: Vec<u64>,
    ula_services: bool,
}

fn distributions() -> impl Strategy<Value = (&'static str, &'static str, bool)> {
    prop_oneof![
        (
            Just("k0s"),
            prop_oneof![Just("kube-router"), Just("calico")],
            any::<bool>()
        ),
        (
            Just("k3s"),
            prop_oneof![Just("flannel"), Just("cilium"), Just("calico")],
            any::<bool>()
        ),
        (
            Just("rke2"),
            prop_oneof![Just("canal"), Just("cilium"), Just("calico")],
            any::<bool>()
        ),
        (
            Just("kubeadm"),
            prop_oneof![
                Just("calico"),
                Just("cilium"),
                Just("flannel"),
                Just("custom")
            ],
            any::<bool>()
        ),
        // KKP runs no IPv6-only cluster: always dual-stack, IPv4 first.
        (
            Just("kkp"),
            prop_oneof![Just("cilium"), Just("canal")],
            Just(true)
        ),
    ]
}

fn prefix_len() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(vec![32u8, 40, 44, 48, 52, 56, 60, 62, 63, 64]),
        2 => prop::sample::select(vec![68u8, 72, 80, 96, 100, 104, 108, 112, 116, 120]),
        2 => 32u8..=124,
    ]
}

fn inputs() -> impl Strategy<Value = Input> {
    (
        distributions(),
        prefix_len(),
        any::<u128>(),
        any::<bool>(),
        prop_oneof![3 => 1u64..=64, 1 => 1u64..=65_536],
        prop_oneof![3 => Just(110u64), 2 => 1u64..=300, 1 => 1u64..=100_000],
        0u64..=3,
        prop_oneof![3 => Just(None), 1 => (64u8..=128).prop_map(Some)],
        prop_oneof![
            Just(None),
            Just(Some("routed")),
            Just(Some("ndp-proxy")),
            Just(Some("bgp")),
            Just(Some("masquerade")),
        ],
        prop::collection::vec(1u64..=0xffff, 0..3),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(
                (distribution, cni, dual),
                len,
                bits,
                ula,
                nodes,
                pods_per_node,
                lb_pools,
                lb_mask,
                upstream,
                node_offsets,
                ula_services,
            )| {
                // A documentation or ULA prefix with random bits below /32 (/16 for ULA).
                let base: u128 = if ula {
                    (0xfd00u128 << 112) | (bits >> 16 & ((1u128 << 112) - 1))
                } else {
                    (0x2001_0db8u128 << 96) | (bits >> 32 & ((1u128 << 96) - 1))
                };
                let prefix = Ipv6Net::new(Ipv6Addr::from(base), len).unwrap().trunc();
                Input {
                    distribution,
                    cni,
                    dual,
                    prefix,
                    nodes,
                    pods_per_node,
                    lb_pools,
                    lb_mask,
                    upstream,
                    node_offsets,
                    ula_services,
                }
            },
        )
}

fn node_addresses(input: &Input, prefix: &Ipv6Net) -> Vec<Ipv6Addr> {
    let base = u128::from(prefix.network());
    let span = if prefix.prefix_len() == 0 {
        u128::MAX
    } else {
        (1u128 << (128 - u32::from(prefix.prefix_len()))) - 1
    };
    input
        .node_offsets
        .iter()
        .map(|o| Ipv6Addr::from(base + (u128::from(*o) & span)))
        .collect()
}

fn document(input: &Input, prefix: &Ipv6Net) -> String {
    let mut spec = format!(
        "  distribution: {}\n  cni: {}\n",
        input.distribution, input.cni
    );
    if input.distribution == "k0s" {
        spec.push_str("  featureGates: {IPv6SingleStack: true}\n");
    }
    if input.distribution == "kkp" {
        spec.push_str("  kubernetesVersion: v1.33.4\n");
    }
    if input.cni == "calico" && input.distribution == "k0s" {
        spec = spec.replace("cni: calico", "cni: {name: calico, calico: {mode: bird}}");
    }
    if input.dual {
        spec.push_str("  pods: [10.244.0.0/16]\n");
        if input.ula_services {
            spec.push_str("  services: [10.96.0.0/16, \"fd00:20::/112\"]\n");
        } else {
            spec.push_str("  services: [10.96.0.0/16]\n");
        }
    } else if input.ula_services {
        // A range the distribution accepts (k0s takes only /108 for IPv6 single-stack).
        let len = if input.distribution == "k0s" {
            108
        } else {
            112
        };
        spec.push_str(&format!("  services: [\"fd00:20::/{len}\"]\n"));
    }
    let mut lb = format!("{{count: {}", input.lb_pools);
    if let Some(mask) = input.lb_mask {
        lb.push_str(&format!(", maskSize: {mask}"));
    }
    lb.push('}');
    spec.push_str(&format!(
        "  prefix: {{cidr: \"{prefix}\", nodes: {}, podsPerNode: {}, loadBalancerPools: {lb}}}\n",
        input.nodes, input.pods_per_node
    ));
    if let Some(mode) = input.upstream {
        spec.push_str(&format!("  upstream: {{IPv6: {{mode: {mode}}}}}\n"));
    }
    let addresses = node_addresses(input, prefix);
    if !addresses.is_empty() {
        spec.push_str("  nodes:\n");
        for (i, addr) in addresses.iter().enumerate() {
            let v4 = if input.dual {
                format!("\"192.168.1.{}\", ", i + 10)
            } else {
                String::new()
            };
            spec.push_str(&format!(
                "    - {{name: n{i}, role: {}, addresses: [{v4}\"{addr}\"]}}\n",
                if i == 0 {
                    "controller+worker"
                } else {
                    "worker"
                }
            ));
        }
    }
    format!("apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n{spec}")
}

fn analyze(text: &str, prefix: Option<&Ipv6Net>) -> Plan {
    let options = PrefixOptions {
        cidr: prefix.map(|p| p.to_string()),
        ..PrefixOptions::default()
    };
    kube6_model::analyze_with_prefix("p.yaml", text, &ImportOptions::default(), &options)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .plan
}

fn v6(net: &IpNet) -> Ipv6Net {
    match net {
        IpNet::V6(n) => *n,
        IpNet::V4(_) => panic!("an IPv4 range in the carving"),
    }
}

fn size(len: u8) -> u128 {
    if len == 0 {
        u128::MAX
    } else {
        1u128 << (128 - u32::from(len))
    }
}

/// The least address space the request needs, whatever the layout.
fn least_needed(input: &Input) -> u128 {
    let usable = |len: u8| size(len).saturating_sub(2);
    let block = (0u8..=32)
        .rev()
        .map(|i| i * 4)
        .find(|&len| usable(len) >= u128::from(input.pods_per_node))
        .unwrap_or(64);
    let node_bits = (64 - (input.nodes.saturating_sub(1)).leading_zeros()).max(1);
    let pods = size(block).saturating_mul(1u128 << node_bits);
    let services = if input.ula_services {
        0
    } else if input.distribution == "k0s" && !input.dual {
        size(108)
    } else {
        size(124)
    };
    let pool = input.lb_mask.map_or(16, size);
    pods.saturating_add(services)
        .saturating_add(pool.saturating_mul(u128::from(input.lb_pools)))
}

fn check(input: &Input) -> Result<Plan, TestCaseError> {
    let text = document(input, &input.prefix);
    let plan = analyze(&text, None);
    let errors: Vec<String> = plan
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| format!("{} {} ({})", d.id, d.message, d.path))
        .collect();
    let Some(carving) = &plan.prefix else {
        // Too small, and rightly so: no room even for the least the request needs, with slack
        // for alignment.
        // (The ranges the input fixes may then disagree with what is left: those errors follow.)
        prop_assert!(
            errors.iter().any(|e| e.starts_with("K6E701")),
            "no carving, but not for lack of room: {errors:?}\n{text}"
        );
        // A /64 holds any request whose pools fit on /80s of the link; pools of /64 to /79
        // take up to a /64 each beside the link, so a prefix with that many /64s holds it.
        let pools_fit_a_link = input.lb_pools == 0 || input.lb_mask.is_none_or(|m| m >= 80);
        let links_needed = 1 + if pools_fit_a_link { 0 } else { input.lb_pools };
        let len = input.prefix.prefix_len();
        prop_assert!(
            len > 64 || (1u64 << (64 - len).min(63)) < links_needed,
            "a prefix of /64 or shorter holds this request: {errors:?}\n{text}"
        );
        prop_assert!(
            least_needed(input).saturating_mul(4) > size(input.prefix.prefix_len()),
            "called too small, but it has room: {errors:?}\n{text}"
        );
        return Ok(plan);
    };
    prop_assert!(
        errors.is_empty(),
        "a carved plan breaks a rule: {errors:?}\n{text}"
    );

    let prefix = input.prefix;
    let nodes = node_addresses(input, &prefix);
    let carved: Vec<Ipv6Net> = carving
        .ranges
        .iter()
        .filter(|r| r.role != RangeRole::NodeSubnet && r.role != RangeRole::Hosts)
        .map(|r| v6(&r.cidr))
        .collect();
    for (i, a) in carved.iter().enumerate() {
        prop_assert!(prefix.contains(a), "{a} outside {prefix}\n{text}");
        for b in &carved[i + 1..] {
            prop_assert!(
                !a.contains(b) && !b.contains(a),
                "{a} and {b} overlap\n{text}"
            );
        }
        for node in &nodes {
            prop_assert!(!a.contains(node), "{a} holds node address {node}\n{text}");
        }
    }
    // Pods: the nodes and pods asked, within kube-controller-manager's 16 bits.
    let pods = plan
        .pods
        .iter()
        .find(|p| matches!(p.cidr, IpNet::V6(_)))
        .unwrap();
    let mask = pods.node_mask_size.unwrap();
    let bits = mask - pods.cidr.prefix_len();
    prop_assert!(
        (1..=16).contains(&bits),
        "{bits} bits of node blocks\n{text}"
    );
    prop_assert!((1u128 << bits) >= u128::from(input.nodes));
    prop_assert!(
        size(mask).saturating_sub(2) >= u128::from(input.pods_per_node),
        "/{mask} blocks for {} pods\n{text}",
        input.pods_per_node
    );
    // Services: no wasted or clamped range except where k0s asks for its /108.
    let k0s_single = input.distribution == "k0s" && !input.dual;
    if !input.ula_services {
        let services = plan
            .services
            .iter()
            .find(|s| matches!(s.cidr, IpNet::V6(_)))
            .unwrap();
        if k0s_single {
            prop_assert_eq!(services.cidr.prefix_len(), 108);
        } else {
            prop_assert!(services.cidr.prefix_len() >= 112, "{}", services.cidr);
        }
    }
    // Nibble boundaries wherever the prefix is on one and leaves room.
    let lb_on_nibble = input.lb_mask.is_none_or(|m| m.is_multiple_of(4));
    if prefix.prefix_len() <= 64 && prefix.prefix_len().is_multiple_of(4) && lb_on_nibble {
        prop_assert!(
            carving.nibble_aligned,
            "not nibble-aligned: {:?}\n{text}",
            carving.ranges
        );
    }
    Ok(plan)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn carved_plans_pass_every_rule(input in inputs()) {
        check(&input)?;
    }

    #[test]
    fn a_prefix_of_the_same_length_gives_the_same_layout_moved(
        input in inputs(),
        other in any::<u64>(),
    ) {
        let before = check(&input)?;
        let Some(old) = before.prefix.as_ref() else { return Ok(()) };
        // Another prefix of the same length and the same /32 (documentation or ULA space):
        // different bits between /32 and its length.
        let len = input.prefix.prefix_len();
        prop_assume!(len > 32);
        let shift = 128 - u32::from(len);
        let below_32 = (1u128 << 96) - 1;
        let bits = u128::from(other).checked_shl(shift).unwrap_or(0) & below_32;
        let new_start = (u128::from(input.prefix.network()) ^ bits) & !(size(len) - 1);
        let new = Ipv6Net::new(Ipv6Addr::from(new_start), len).unwrap().trunc();
        prop_assume!(new != input.prefix && !new.contains(&input.prefix) && !input.prefix.contains(&new));
        let text = document(&input, &input.prefix);
        let after = analyze(&text, Some(&new));
        let carving = after.prefix.as_ref().expect("the same room in a moved prefix");
        let offset = |net: &IpNet, base: &Ipv6Net| u128::from(v6(net).network()) - u128::from(base.network());
        let moved: Vec<(RangeRole, u128, u8)> = carving
            .ranges
            .iter()
            .map(|r| (r.role, offset(&r.cidr, &new), r.cidr.prefix_len()))
            .collect();
        let kept: Vec<(RangeRole, u128, u8)> = old
            .ranges
            .iter()
            .map(|r| (r.role, offset(&r.cidr, &input.prefix), r.cidr.prefix_len()))
            .collect();
        prop_assert_eq!(moved, kept);
        let renumbering = after.renumbering.as_ref().expect("a renumbering");
        prop_assert!(renumbering.changes.iter().any(|c| c.what == "pods" && c.changed));
        let errors: Vec<&str> = after
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.id)
            .collect();
        prop_assert!(errors.is_empty(), "{errors:?}");
    }
}
