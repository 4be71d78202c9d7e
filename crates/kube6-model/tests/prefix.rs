//! Carving a delegated prefix: the layouts for the prefixes users are handed (a /56 at home, a
//! single /64 at a VPS provider, a /48), ranges the input fixes kept, the choices explained,
//! a prefix too small said so, and renumbering when the prefix changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube6_model::import::ImportOptions;
use kube6_model::model::FeatureGate;
use kube6_model::plan::Plan;
use kube6_model::prefix::{Layout, PrefixOptions, RangeRole};
use kube6_model::source::{Located, Origin};
use kube6_model::{analyze, analyze_with_prefix};

fn kube6(dist: &str, spec: &str) -> String {
    format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: {dist}\n{spec}"
    )
}

fn gates(names: &[&str]) -> ImportOptions {
    ImportOptions {
        feature_gates: names
            .iter()
            .map(|g| FeatureGate {
                name: Located::new(g.to_string(), Origin::input("--feature-gates", None)),
                enabled: Located::new(true, Origin::input("--feature-gates", None)),
            })
            .collect(),
        ..ImportOptions::default()
    }
}

fn plan_of(text: &str) -> Plan {
    plan(text)
}

fn plan(text: &str) -> Plan {
    analyze("test.yaml", text, &ImportOptions::default())
        .unwrap()
        .plan
}

fn plan_with(text: &str, options: &ImportOptions, prefix: &PrefixOptions) -> Plan {
    analyze_with_prefix("test.yaml", text, options, prefix)
        .unwrap()
        .plan
}

fn range(plan: &Plan, role: RangeRole) -> String {
    plan.prefix
        .as_ref()
        .unwrap()
        .ranges_of(role)
        .next()
        .unwrap_or_else(|| panic!("no {role:?} range"))
        .cidr
        .to_string()
}

fn errors(plan: &Plan) -> Vec<String> {
    plan.diagnostics
        .iter()
        .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
        .map(|d| format!("{} {}", d.id, d.message))
        .collect()
}

fn ids(plan: &Plan) -> Vec<&'static str> {
    plan.diagnostics.iter().map(|d| d.id).collect()
}

#[test]
fn a_home_56_gives_pods_and_services_routed_64s_of_their_own() {
    let plan = plan(&kube6(
        "k3s",
        "  prefix: {cidr: \"2001:db8:1234:5600::/56\", nodes: 20, loadBalancerPools: {count: 1}}\n  nodes: [{name: cp1}, {name: w1}]\n  loadBalancer: {implementation: metallb}\n",
    ));
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    let prefix = plan.prefix.as_ref().unwrap();
    assert_eq!(prefix.layout, Layout::Routed);
    assert!(prefix.nibble_aligned);
    assert_eq!(
        range(&plan, RangeRole::NodeSubnet),
        "2001:db8:1234:5600::/64"
    );
    assert_eq!(range(&plan, RangeRole::Pods), "2001:db8:1234:5601::/64");
    assert_eq!(
        range(&plan, RangeRole::Services),
        "2001:db8:1234:5602::/112"
    );
    // The pool sits in the node link, where L2 announcements answer for it.
    assert_eq!(
        range(&plan, RangeRole::LoadBalancerPool),
        "2001:db8:1234:5600:1::/112"
    );
    // ... and is the cluster's MetalLB pool, in l2 mode.
    let pools = &plan.load_balancer.pools;
    assert_eq!(pools.len(), 1);
    assert_eq!(pools[0].blocks[0].addresses, "2001:db8:1234:5600:1::/112");
    assert_eq!(pools[0].mode, kube6_model::model::LbMode::L2);
    assert_eq!(plan.pods[0].node_mask_size, Some(80));
    assert!(plan.pods[0].carved && plan.services[0].carved);
    assert_eq!(
        plan.families.len(),
        1,
        "IPv6 single-stack from k3s defaults"
    );
    assert_eq!(
        plan.nodes[1].pod_cidrs[0].to_string(),
        "2001:db8:1234:5601:1::/80"
    );
    // Each carved range is explained, as a note and in the plan.
    assert_eq!(
        ids(&plan).iter().filter(|id| **id == "K6I703").count(),
        prefix.ranges.iter().filter(|r| !r.fixed).count()
    );
    assert!(prefix.ranges.iter().all(|r| !r.why.is_empty()));
    assert!(!prefix.free.is_empty());
}

#[test]
fn a_single_64_shares_the_node_link_like_the_kubeadm_guide() {
    // Seed 002: 2001:db8:1234:5678::/64 at a hosting provider, kubeadm and Calico.
    let plan = plan(&kube6(
        "kubeadm",
        "  cni: calico\n  prefix: \"2001:db8:1234:5678::/64\"\n  nodes:\n    - {name: cp1, role: controller+worker, addresses: [\"2001:db8:1234:5678::1\"]}\n    - {name: w1, addresses: [\"2001:db8:1234:5678:1::5\"]}\n",
    ));
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    let prefix = plan.prefix.as_ref().unwrap();
    assert_eq!(prefix.layout, Layout::OnLink);
    let link = prefix.ranges_of(RangeRole::NodeSubnet).next().unwrap();
    assert!(link.fixed, "the nodes' own /64 is kept");
    assert_eq!(range(&plan, RangeRole::Hosts), "2001:db8:1234:5678::/80");
    // w1's address sits in the second /80: the pods move on to the third.
    assert_eq!(range(&plan, RangeRole::Pods), "2001:db8:1234:5678:2::/104");
    assert_eq!(plan.pods[0].node_mask_size, Some(120));
    assert_eq!(
        range(&plan, RangeRole::Services),
        "2001:db8:1234:5678:3::/112"
    );
    // A single /64 needs an NDP proxy: said as a warning with the fix.
    let d = plan.diagnostics.iter().find(|d| d.id == "K6W702").unwrap();
    assert!(d.hint.contains("ndp-proxy"), "{}", d.hint);
    assert_eq!(d.path, "spec.prefix");
    assert!(d.line.is_some());
}

#[test]
fn an_ndp_proxy_upstream_is_not_warned_again() {
    let plan = plan(&kube6(
        "k3s",
        "  prefix: \"2001:db8:7:1::/64\"\n  upstream: {IPv6: {mode: ndp-proxy, uplink: eth0}}\n",
    ));
    assert!(!ids(&plan).contains(&"K6W702"));
    assert_eq!(plan.prefix.unwrap().layout, Layout::OnLink);
}

#[test]
fn an_ndp_proxy_upstream_keeps_a_56_on_the_node_link() {
    let plan = plan(&kube6(
        "k3s",
        "  prefix: \"2001:db8:7::/56\"\n  upstream: {IPv6: {mode: ndp-proxy, uplink: eth0}}\n  nodes: [{name: a, addresses: [\"2001:db8:7:5::10\"]}]\n",
    ));
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    assert_eq!(range(&plan, RangeRole::NodeSubnet), "2001:db8:7:5::/64");
    assert_eq!(range(&plan, RangeRole::Pods), "2001:db8:7:5:1::/104");
    // The rules' own check agrees: the pods are inside the node's on-link /64.
    assert!(!ids(&plan).contains(&"K6I108"));
}

#[test]
fn k0s_ipv6_single_stack_gets_its_108() {
    let text = kube6(
        "k0s",
        "  featureGates: {IPv6SingleStack: true}\n  prefix: \"2001:db8:9::/48\"\n",
    );
    let plan = plan(&text);
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    assert_eq!(plan.services[0].cidr.prefix_len(), 108);
    let why = &plan
        .prefix
        .as_ref()
        .unwrap()
        .ranges_of(RangeRole::Services)
        .next()
        .unwrap()
        .why;
    assert!(why.contains("k0s"), "{why}");
}

#[test]
fn fixed_ranges_are_kept_and_the_rest_fits_around_them() {
    let plan = plan(&kube6(
        "kubeadm",
        "  prefix: \"2001:db8:5::/56\"\n  pods: [\"2001:db8:5:1::/64\"]\n  services: [\"fd00:20::/112\"]\n  upstream: {IPv6: {mode: routed}}\n",
    ));
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    assert_eq!(plan.pods[0].cidr.to_string(), "2001:db8:5:1::/64");
    assert!(!plan.pods[0].carved);
    assert_eq!(plan.services[0].cidr.to_string(), "fd00:20::/112");
    let prefix = plan.prefix.as_ref().unwrap();
    assert!(prefix.ranges_of(RangeRole::Pods).next().unwrap().fixed);
    assert!(prefix.ranges_of(RangeRole::Services).next().is_none());
    // The node mask is left to kube6: kube-controller-manager's /64 default gives one node.
    assert!(plan.pods[0].node_mask_size.unwrap() > 64);
    assert!(
        ids(&plan).contains(&"K6I707"),
        "the ULA service range lies outside"
    );
    assert_eq!(range(&plan, RangeRole::NodeSubnet), "2001:db8:5::/64");
}

#[test]
fn a_fixed_node_mask_is_kept() {
    let text = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\ncontrollerManager:\n  extraArgs:\n    - {name: node-cidr-mask-size-ipv6, value: \"116\"}\n";
    let prefix = PrefixOptions {
        cidr: Some("2001:db8:6::/64".into()),
        ..PrefixOptions::default()
    };
    let plan = plan_with(text, &ImportOptions::default(), &prefix);
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    let pods = plan
        .pods
        .iter()
        .find(|p| p.cidr.to_string().starts_with("2001"))
        .unwrap();
    assert_eq!(pods.node_mask_size, Some(116));
    assert_eq!(pods.cidr.prefix_len(), 100);
}

#[test]
fn other_formats_carve_from_the_command_line() {
    // A k3s config.yaml without ranges: k3s's IPv4 defaults give way to the prefix.
    let text = "node-name: cp1\nnode-ip: 2001:db8:44::10\n";
    let options = ImportOptions {
        format: Some(kube6_model::model::Format::K3s),
        ..ImportOptions::default()
    };
    let prefix = PrefixOptions {
        cidr: Some("2001:db8:44::/64".into()),
        nodes: Some("3".into()),
        ..PrefixOptions::default()
    };
    let plan = plan_with(text, &options, &prefix);
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    assert_eq!(plan.prefix.as_ref().unwrap().source, "--prefix");
    assert_eq!(plan.pods.len(), 1);
    assert_eq!(plan.pods[0].cidr.to_string(), "2001:db8:44:0:1::/104");
    assert_eq!(plan.prefix.as_ref().unwrap().nodes, 3);
}

#[test]
fn kkp_keeps_ipv4_first_and_carves_the_ipv6_half() {
    let text = "apiVersion: kubermatic.k8c.io/v1\nkind: Cluster\nmetadata:\n  name: c\nspec:\n  version: v1.33.4\n  clusterNetwork:\n    ipFamily: IPv4+IPv6\n";
    let prefix = PrefixOptions {
        cidr: Some("2001:db8:77::/48".into()),
        ..PrefixOptions::default()
    };
    let plan = plan_with(text, &ImportOptions::default(), &prefix);
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    assert_eq!(plan.families.len(), 2);
    assert_eq!(plan.pods[0].cidr.to_string(), "172.25.0.0/16");
    assert_eq!(plan.pods[1].cidr.to_string(), "2001:db8:77:1::/64");
}

#[test]
fn k0s_dual_stack_gets_its_ipv6_slots() {
    let text = "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  network:\n    provider: calico\n    calico: {mode: bird}\n    dualStack: {enabled: true}\n";
    let prefix = PrefixOptions {
        cidr: Some("2001:db8:88::/56".into()),
        ..PrefixOptions::default()
    };
    let plan = plan_with(text, &ImportOptions::default(), &prefix);
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    assert_eq!(plan.families.len(), 2);
    assert_eq!(plan.services[1].cidr.to_string(), "2001:db8:88:2::/112");
}

#[test]
fn a_bgp_upstream_announces_pools_from_their_own_64() {
    let plan = plan(&kube6(
        "k3s",
        "  prefix: {cidr: \"2001:db8:3::/48\", loadBalancerPools: {count: 2, maskSize: 120}}\n  upstream: {IPv6: {mode: bgp, bgp: {peerASN: 64500, localASN: 64512, peerAddress: \"2001:db8:ffff::1\"}}}\n  loadBalancer: {implementation: metallb, version: v0.15.2}\n",
    ));
    let prefix = plan.prefix.unwrap();
    let pools: Vec<String> = prefix
        .ranges_of(RangeRole::LoadBalancerPool)
        .map(|r| r.cidr.to_string())
        .collect();
    assert_eq!(pools, ["2001:db8:3:3::/120", "2001:db8:3:4::/120"]);
    let modes: Vec<_> = plan.load_balancer.pools.iter().map(|p| p.mode).collect();
    assert_eq!(modes, [kube6_model::model::LbMode::Bgp; 2]);
}

#[test]
fn a_prefix_too_small_says_what_it_needs() {
    let plan = plan(&kube6(
        "k3s",
        "  prefix: {cidr: \"2001:db8::/120\", nodes: 20}\n",
    ));
    let d = plan
        .diagnostics
        .iter()
        .find(|d| d.id == "K6E701")
        .unwrap_or_else(|| panic!("{:?}", ids(&plan)));
    assert!(d.message.contains("at least a /"), "{}", d.message);
    assert!(d.message.contains("NDP proxy"), "{}", d.message);
    assert!(plan.prefix.is_none());
    assert!(!plan.valid);
}

#[test]
fn bad_prefixes_and_counts_are_reported() {
    for (spec, what) in [
        ("  prefix: 10.0.0.0/16\n", "IPv4"),
        ("  prefix: \"fe80::/64\"\n", "link-local"),
        ("  prefix: {cidr: \"2001:db8::/56\", nodes: 0}\n", "nodes"),
        (
            "  prefix: {cidr: \"2001:db8::/56\", nodes: 70000}\n",
            "65,536",
        ),
        (
            "  prefix: {cidr: \"2001:db8::/56\", podsPerNode: lots}\n",
            "podsPerNode",
        ),
        (
            "  prefix: {cidr: \"2001:db8::/56\", loadBalancerPools: {maskSize: 40}}\n",
            "between 64 and 128",
        ),
        ("  prefix: \"2001:db8::/129\"\n", "not a valid CIDR"),
    ] {
        let plan = plan(&kube6("k3s", spec));
        let d = plan
            .diagnostics
            .iter()
            .find(|d| d.id == "K6E700")
            .unwrap_or_else(|| panic!("{spec}: {:?}", ids(&plan)));
        assert!(d.message.contains(what), "{spec}: {}", d.message);
        assert!(plan.prefix.is_none());
    }
    // Counts without a prefix.
    let prefix = PrefixOptions {
        nodes: Some("3".into()),
        ..PrefixOptions::default()
    };
    let plan = plan_with(&kube6("k3s", ""), &ImportOptions::default(), &prefix);
    assert!(ids(&plan).contains(&"K6E700"));
}

#[test]
fn few_pods_per_node_warn_about_max_pods() {
    let plan = plan(&kube6(
        "k3s",
        "  prefix: {cidr: \"2001:db8:1:2::/64\", podsPerNode: 10}\n  upstream: {IPv6: {mode: ndp-proxy}}\n",
    ));
    assert_eq!(plan.pods[0].node_mask_size, Some(124));
    let d = plan.diagnostics.iter().find(|d| d.id == "K6W704").unwrap();
    assert!(d.hint.contains("maxPods"), "{}", d.hint);
    let quiet = plan_of(&kube6(
        "k3s",
        "  prefix: {cidr: \"2001:db8:1:2::/64\", podsPerNode: 250}\n  upstream: {IPv6: {mode: ndp-proxy}}\n",
    ));
    assert!(!ids(&quiet).contains(&"K6W704"));
}

#[test]
fn a_new_prefix_renumbers_what_the_old_one_gave() {
    let text = kube6(
        "kubeadm",
        "  prefix: {cidr: \"2001:db8:a:100::/56\", loadBalancerPools: {count: 1}}\n  loadBalancer: {implementation: cilium}\n  cni: cilium\n  services: [\"fd00:20::/112\"]\n  api: {address: \"2001:db8:a:100::10\"}\n  nodes:\n    - {name: cp1, role: controller+worker, addresses: [\"2001:db8:a:100::10\"]}\n    - {name: w1, addresses: [\"2001:db8:a:100::11\"]}\n  upstream: {IPv6: {mode: routed}}\n",
    );
    let before = plan(&text);
    let prefix = PrefixOptions {
        cidr: Some("2001:db8:b:200::/56".into()),
        ..PrefixOptions::default()
    };
    let after = plan_with(&text, &ImportOptions::default(), &prefix);
    assert!(errors(&after).is_empty(), "{:?}", errors(&after));
    let renumbering = after.renumbering.as_ref().unwrap();
    assert_eq!(renumbering.from.to_string(), "2001:db8:a:100::/56");
    assert_eq!(renumbering.to.to_string(), "2001:db8:b:200::/56");
    let change = |what: &str, node: Option<&str>| {
        renumbering
            .changes
            .iter()
            .find(|c| c.what == what && c.node.as_deref() == node)
            .unwrap_or_else(|| panic!("no {what} in {:?}", renumbering.changes))
    };
    let pods = change("pods", None);
    assert_eq!(pods.before.as_deref(), Some("2001:db8:a:101::/64"));
    assert_eq!(pods.after.as_deref(), Some("2001:db8:b:201::/64"));
    assert!(pods.changed);
    let services = change("services", None);
    assert!(!services.changed, "ULA services stay");
    let node = change("nodeAddress", Some("w1"));
    assert_eq!(node.before.as_deref(), Some("2001:db8:a:100::11"));
    assert_eq!(node.after.as_deref(), Some("2001:db8:b:200::11"));
    assert_eq!(
        change("nodePodCIDR", Some("w1")).after.as_deref(),
        Some("2001:db8:b:201:1::/80")
    );
    assert_eq!(
        change("loadBalancerPool", None).after.as_deref(),
        Some("2001:db8:b:200:1::/112")
    );
    // The same layout, moved: the old plan's carving equals the new one's.
    assert_eq!(before.pods[0].cidr.to_string(), "2001:db8:a:101::/64");
    assert!(ids(&after).contains(&"K6I705"));
}

#[test]
fn a_smaller_new_prefix_says_what_no_longer_fits() {
    let text = kube6(
        "kubeadm",
        "  prefix: \"2001:db8:c::/48\"\n  pods: [\"2001:db8:c:ff00::/64\"]\n  services: [\"fd00:20::/112\"]\n",
    );
    let prefix = PrefixOptions {
        cidr: Some("2001:db8:d::/56".into()),
        ..PrefixOptions::default()
    };
    let plan = plan_with(&text, &ImportOptions::default(), &prefix);
    let d = plan
        .diagnostics
        .iter()
        .find(|d| d.id == "K6E706")
        .unwrap_or_else(|| panic!("{:?}", ids(&plan)));
    assert_eq!(d.path, "spec.pods[0]");
}

#[test]
fn a_previous_prefix_renumbers_other_formats() {
    // The k3s seed's ranges, renumbered when the ISP hands out another /40.
    let text = "cluster-cidr: 2001:db8:42::/56\nservice-cidr: 2001:db8:43:1::/112\nnode-ip: 2001:db8:40::10\n";
    let options = ImportOptions {
        format: Some(kube6_model::model::Format::K3s),
        ..ImportOptions::default()
    };
    let prefix = PrefixOptions {
        cidr: Some("2001:db8:1000::/40".into()),
        previous: Some("2001:db8::/40".into()),
        ..PrefixOptions::default()
    };
    let plan = plan_with(text, &options, &prefix);
    assert_eq!(plan.pods[0].cidr.to_string(), "2001:db8:1042::/56");
    assert_eq!(plan.services[0].cidr.to_string(), "2001:db8:1043:1::/112");
    assert_eq!(plan.nodes[0].addresses[0].to_string(), "2001:db8:1040::10");
    assert!(
        plan.renumbering
            .unwrap()
            .changes
            .iter()
            .any(|c| c.what == "pods" && c.changed)
    );
}

#[test]
fn k0s_without_its_gate_is_told_so_not_too_small() {
    // The carving is fine; k0s's own gate rule reports what is missing.
    let text = kube6("k0s", "  prefix: \"2001:db8:9::/56\"\n");
    let plan = plan(&text);
    assert!(ids(&plan).contains(&"K6E040"));
    assert!(!ids(&plan).contains(&"K6E701"));
    let gated = analyze("t.yaml", &text, &gates(&["IPv6SingleStack"]))
        .unwrap()
        .plan;
    assert!(errors(&gated).is_empty(), "{:?}", errors(&gated));
}

#[test]
fn a_new_prefix_moves_pools_declared_inside_the_old_one_and_leaves_the_others() {
    let text = kube6(
        "kubeadm",
        "  prefix: \"2001:db8:a:100::/56\"\n  services: [\"fd00:20::/112\"]\n  nodes: [{name: cp1, addresses: [\"2001:db8:a:100::10\"]}]\n  upstream: {IPv6: {mode: routed}}\n  loadBalancer:\n    implementation: metallb\n    pools:\n      - {name: web, addresses: [\"2001:db8:a:100::ff00-2001:db8:a:100::ff7f\"]}\n      - {name: ula, addresses: [\"fd00:5::/120\"]}\n",
    );
    let prefix = PrefixOptions {
        cidr: Some("2001:db8:b:200::/56".into()),
        ..PrefixOptions::default()
    };
    let after = plan_with(&text, &ImportOptions::default(), &prefix);
    assert!(errors(&after).is_empty(), "{:?}", errors(&after));
    let blocks: Vec<(&str, &str)> = after
        .load_balancer
        .pools
        .iter()
        .flat_map(|p| {
            p.blocks
                .iter()
                .map(|b| (p.name.as_str(), b.addresses.as_str()))
        })
        .collect();
    assert_eq!(
        blocks,
        [
            ("web", "2001:db8:b:200::ff00-2001:db8:b:200::ff7f"),
            ("ula", "fd00:5::/120")
        ]
    );
    // No pool is carved beside the declared ones, and the renumbering lists the kept pool.
    assert!(
        after
            .prefix
            .as_ref()
            .unwrap()
            .ranges_of(RangeRole::LoadBalancerPool)
            .all(|r| r.fixed)
    );
    let renumbering = after.renumbering.as_ref().unwrap();
    let pool = renumbering
        .changes
        .iter()
        .find(|c| c.what == "loadBalancerPool")
        .unwrap_or_else(|| panic!("{:?}", renumbering.changes));
    assert_eq!(pool.before.as_deref(), Some("2001:db8:a:100::ff00/121"));
    assert_eq!(pool.after.as_deref(), Some("2001:db8:b:200::ff00/121"));
    assert!(ids(&after).contains(&"K6I705"));
}

#[test]
fn fixed_ranges_inside_the_prefix_are_routed_around() {
    // The service range sits where the carving would put the pods, a declared pool where it
    // would put the services: both are kept and the carving takes the next slots.
    let plan = plan(&kube6(
        "kubeadm",
        "  prefix: \"2001:db8:5::/56\"\n  services: [\"2001:db8:5:1::/112\"]\n  nodes: [{name: cp1, addresses: [\"2001:db8:5::10\"]}]\n  upstream: {IPv6: {mode: routed}}\n  loadBalancer: {implementation: metallb, pools: [{name: web, addresses: [\"2001:db8:5:2::/120\"]}]}\n",
    ));
    assert!(errors(&plan).is_empty(), "{:?}", errors(&plan));
    assert_eq!(plan.services[0].cidr.to_string(), "2001:db8:5:1::/112");
    assert_eq!(range(&plan, RangeRole::Pods), "2001:db8:5:3::/64");
    let prefix = plan.prefix.as_ref().unwrap();
    let kept: Vec<String> = prefix
        .ranges
        .iter()
        .filter(|r| r.fixed)
        .map(|r| format!("{} {}", r.role.as_str(), r.cidr))
        .collect();
    assert!(
        kept.contains(&"services 2001:db8:5:1::/112".to_string()),
        "{kept:?}"
    );
    assert!(
        kept.contains(&"load-balancer pool 2001:db8:5:2::/120".to_string()),
        "{kept:?}"
    );
    assert!(!ids(&plan).contains(&"K6E401"));
}

#[test]
fn fixed_ranges_that_leave_no_room_are_named() {
    let plan = plan(&kube6(
        "kubeadm",
        "  prefix: \"2001:db8:5::/64\"\n  upstream: {IPv6: {mode: ndp-proxy}}\n  nodes: [{name: cp1, addresses: [\"2001:db8:5::10\"]}]\n  loadBalancer: {implementation: metallb, pools: [{name: big, addresses: [\"2001:db8:5:0:8000::/65\", \"2001:db8:5:0:4000::/66\", \"2001:db8:5:0:2000::/67\", \"2001:db8:5:0:1000::/68\", \"2001:db8:5:0:800::/69\", \"2001:db8:5:0:400::/70\", \"2001:db8:5:0:200::/71\", \"2001:db8:5:0:100::/72\", \"2001:db8:5:0:80::/73\", \"2001:db8:5:0:40::/74\", \"2001:db8:5:0:20::/75\", \"2001:db8:5:0:10::/76\", \"2001:db8:5:0:8::/77\", \"2001:db8:5:0:4::/78\", \"2001:db8:5:0:2::/79\", \"2001:db8:5:0:1::/80\"]}]}\n",
    ));
    let d = plan
        .diagnostics
        .iter()
        .find(|d| d.id == "K6E701")
        .unwrap_or_else(|| panic!("{:?}", ids(&plan)));
    assert!(
        d.message
            .contains("load-balancer pool big 2001:db8:5:0:8000::/65"),
        "{}",
        d.message
    );
}

#[test]
fn a_load_balancer_bgp_peer_in_the_prefix_is_kept_clear_and_renumbered() {
    let text = kube6(
        "kubeadm",
        "  prefix: {cidr: \"2001:db8:3::/48\", loadBalancerPools: {count: 1, maskSize: 120}}\n  upstream: {IPv6: {mode: bgp}}\n  loadBalancer:\n    implementation: metallb\n    version: v0.15.2\n    bgpPeers: [{peerAddress: \"2001:db8:3:3::1\", peerASN: 64500, localASN: 64512}]\n",
    );
    let before = plan(&text);
    let pools: Vec<String> = before
        .prefix
        .as_ref()
        .unwrap()
        .ranges_of(RangeRole::LoadBalancerPool)
        .map(|r| r.cidr.to_string())
        .collect();
    // Without the peer the pool would be 2001:db8:3:3::/120 (a_bgp_upstream_announces_...).
    assert_eq!(pools, ["2001:db8:3:4::/120"]);
    let after = analyze_with_prefix(
        "test.yaml",
        &text,
        &ImportOptions::default(),
        &PrefixOptions {
            cidr: Some("2001:db8:9::/48".into()),
            ..PrefixOptions::default()
        },
    )
    .unwrap();
    let peer = after.network.load_balancer.bgp_peers[0]
        .peer_address
        .as_ref()
        .unwrap();
    assert_eq!(peer.value.text, "2001:db8:9:3::1");
}
