//! Load-balancer pools in the rendered files: the NDP proxy answers for IPv6 pools in l2 mode
//! only where the implementation does not answer NDP itself (Cilium before 1.19).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube6_model::import::ImportOptions;
use kube6_render::{KubeadmApi, Request, Target, render};

/// A kubeadm cluster on IPv6 with the NDP proxy upstream, `cni` and `lb` (indented by four).
fn cluster(cni: &str, lb: &str) -> String {
    format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata: {{name: lb}}\nspec:\n  distribution: kubeadm\n  \
         cni: {cni}\n  pods: [{{cidr: \"2001:db8:100::/56\", nodeMaskSize: 64}}]\n  services: [fd00:20::/112]\n  \
         nodes: [{{name: cp1, role: controller+worker, addresses: [\"2001:db8:1::10\"]}}]\n  \
         upstream: {{IPv6: {{mode: ndp-proxy, uplink: eth0}}}}\n  loadBalancer:\n{lb}"
    )
}

/// The rendered kube6-ndp-proxy.yaml of node cp1, and whether the plan has errors.
fn ndp_config(text: &str) -> (String, Vec<String>) {
    let a = kube6_model::analyze("lb.yaml", text, &ImportOptions::default()).unwrap();
    let errors: Vec<String> = a
        .plan
        .diagnostics
        .iter()
        .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
        .map(|d| d.id.to_string())
        .collect();
    let request = Request {
        target: Target::Kubeadm,
        cni: None,
        kubeadm_api: KubeadmApi::default(),
    };
    let out = render(&a.network, &a.plan, &request).unwrap();
    let file = out
        .files
        .iter()
        .find(|f| f.path == "host/cp1/kube6-ndp-proxy.yaml")
        .expect("an NDP proxy configuration for cp1");
    (file.content.clone(), errors)
}

const POOL: &str = "    pools: [{addresses: [\"2001:db8:1::ff00-2001:db8:1::ff0f\"]}]\n";

#[test]
fn the_proxy_answers_for_pools_cilium_does_not_announce() {
    let (conf, errors) = ndp_config(&cluster(
        "{name: cilium, version: 1.18.3}",
        &format!("    implementation: cilium\n{POOL}"),
    ));
    assert!(conf.contains("2001:db8:1::ff00/124"), "{conf}");
    // The proxy answers, so Cilium's missing NDP (K6E409) is no error here.
    assert!(!errors.contains(&"K6E409".to_string()), "{errors:?}");
}

#[test]
fn the_proxy_leaves_pools_to_implementations_that_answer_ndp() {
    let (conf, _) = ndp_config(&cluster(
        "{name: cilium, version: 1.19.6}",
        &format!("    implementation: cilium\n{POOL}"),
    ));
    assert!(!conf.contains("2001:db8:1::ff00"), "{conf}");
    let (conf, _) = ndp_config(&cluster(
        "calico",
        &format!("    implementation: metallb\n{POOL}"),
    ));
    assert!(!conf.contains("2001:db8:1::ff00"), "{conf}");
}

/// The rendered watch-mode manifest, if any.
fn watch_manifest(text: &str) -> Option<String> {
    let a = kube6_model::analyze("lb.yaml", text, &ImportOptions::default()).unwrap();
    let request = Request {
        target: Target::Kubeadm,
        cni: None,
        kubeadm_api: KubeadmApi::default(),
    };
    let out = render(&a.network, &a.plan, &request).unwrap();
    out.files
        .iter()
        .find(|f| f.path == "load-balancer/kube6-ndp-proxy-watch.yaml")
        .map(|f| f.content.clone())
}

#[test]
fn the_watch_mode_manifest_is_offered_where_the_proxy_answers_for_pools() {
    let text = watch_manifest(&cluster(
        "{name: cilium, version: 1.18.3}",
        &format!("    implementation: cilium\n{POOL}"),
    ))
    .expect("a watch-mode manifest for Cilium before 1.19");
    for want in [
        "- \"2001:db8:1::ff00/124=watch\"",
        "- cilium-lease",
        "kind: Role\n",
        "      - leases\n",
        "fieldPath: spec.nodeName",
        "name: NODE_NAME",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    // Where the implementation answers NDP itself, nothing is offered.
    assert!(
        watch_manifest(&cluster(
            "{name: cilium, version: 1.19.6}",
            &format!("    implementation: cilium\n{POOL}"),
        ))
        .is_none()
    );
    assert!(
        watch_manifest(&cluster(
            "calico",
            &format!("    implementation: metallb\n{POOL}")
        ))
        .is_none()
    );
}

#[test]
fn pools_in_bgp_mode_are_not_proxied() {
    let (conf, _) = ndp_config(&cluster(
        "{name: cilium, version: 1.18.3}",
        "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:1::ff00/124\"], mode: bgp}]\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500, localASN: 64512}]\n",
    ));
    assert!(!conf.contains("2001:db8:1::ff00"), "{conf}");
}

/// The rendered load-balancer/cilium-lb.yaml for `cni`.
fn cilium_pools(cni: &str) -> String {
    let text = cluster(
        cni,
        "    implementation: cilium\n    pools: [{name: public, addresses: [\"2001:db8:1::ff00/120\", \"2001:db8:1::fe10-2001:db8:1::fe2f\"]}]\n",
    );
    let a = kube6_model::analyze("lb.yaml", &text, &ImportOptions::default()).unwrap();
    let request = Request {
        target: Target::Kubeadm,
        cni: None,
        kubeadm_api: KubeadmApi::default(),
    };
    let out = render(&a.network, &a.plan, &request).unwrap();
    out.files
        .iter()
        .find(|f| f.path == "load-balancer/cilium-lb.yaml")
        .expect("a Cilium LB-IPAM file")
        .content
        .clone()
}

/// cilium/cilium#33151: `spec.cidrs` (CIDRs only) before 1.15, `spec.blocks` with ranges from
/// 1.15, the first and last address of a CIDR kept back by default in 1.15 only.
#[test]
fn cilium_pools_follow_the_release() {
    let old = cilium_pools("{name: cilium, version: 1.14.6}");
    assert!(old.contains("  cidrs:\n"), "{old}");
    assert!(!old.contains("blocks") && !old.contains("start:"), "{old}");
    // 2001:db8:1::fe10-2001:db8:1::fe2f is the CIDRs covering it.
    assert!(
        old.contains("\"2001:db8:1::fe10/124\"") && old.contains("\"2001:db8:1::fe20/124\""),
        "{old}"
    );
    let mid = cilium_pools("{name: cilium, version: 1.15.9}");
    assert!(
        mid.contains("  blocks:\n") && mid.contains("start: \"2001:db8:1::fe10\""),
        "{mid}"
    );
    assert!(mid.contains("allowFirstLastIPs: \"Yes\""), "{mid}");
    let new = cilium_pools("{name: cilium, version: 1.19.6}");
    assert!(
        new.contains("  blocks:\n") && !new.contains("allowFirstLastIPs"),
        "{new}"
    );
}
