//! Load-balancer pools in the rendered files: the NDP proxy answers for IPv6 pools in l2 mode
//! only where the implementation does not answer NDP itself (Cilium before 1.19).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube6_model::Analysis;
use kube6_model::import::ImportOptions;
use kube6_render::{KubeadmApi, RenderError, Rendered, Request, Target, render};

/// Analyzes `text` (which must import).
fn analyzed(text: &str) -> Analysis {
    kube6_model::analyze("lb.yaml", text, &ImportOptions::default()).unwrap()
}

/// Renders `analysis` for `target`, with `kube6_image` for the workloads that run kube6.
fn render_for(
    analysis: &Analysis,
    target: Target,
    kube6_image: Option<&str>,
) -> Result<Rendered, RenderError> {
    let request = Request {
        target,
        cni: None,
        kubeadm_api: KubeadmApi::default(),
        kube6_image: kube6_image.map(str::to_string),
    };
    render(&analysis.network, &analysis.plan, &request)
}

/// A kubeadm cluster on IPv6 with the NDP proxy upstream, `cni` and `lb` (indented by four).
fn cluster(cni: &str, lb: &str) -> String {
    format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata: {{name: lb}}\nspec:\n  distribution: kubeadm\n  \
         cni: {cni}\n  pods: [{{cidr: \"2001:db8:100::/56\", nodeMaskSize: 64}}]\n  services: [fd00:20::/108]\n  \
         nodes: [{{name: cp1, role: controller+worker, addresses: [\"2001:db8:1::10\"]}}]\n  \
         upstream: {{IPv6: {{mode: ndp-proxy, uplink: eth0}}}}\n  loadBalancer:\n{lb}"
    )
}

/// The rendered kube6-ndp-proxy.yaml of node cp1, and whether the plan has errors.
fn ndp_config(text: &str) -> (String, Vec<String>) {
    let a = analyzed(text);
    let errors: Vec<String> = a
        .plan
        .diagnostics
        .iter()
        .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
        .map(|d| d.id.to_string())
        .collect();
    let out = render_for(&a, Target::Kubeadm, None).unwrap();
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

/// Every rendered file, by path.
fn rendered_texts(text: &str) -> std::collections::BTreeMap<String, String> {
    let out = render_for(&analyzed(text), Target::Kubeadm, Some(KUBE6_IMAGE)).unwrap();
    out.files.into_iter().map(|f| (f.path, f.content)).collect()
}

const WATCH_MANIFEST: &str = "load-balancer/kube6-ndp-proxy-watch.yaml";
/// The image the watch DaemonSet is rendered with in these tests (`--kube6-image`).
const KUBE6_IMAGE: &str = "registry.example/kube6:0.1.0";

#[test]
fn static_mode_is_the_default_and_renders_no_watch_manifest() {
    for lb in [
        format!("    implementation: cilium\n{POOL}"),
        format!("    implementation: cilium\n    ndpProxy: static\n{POOL}"),
    ] {
        let files = rendered_texts(&cluster("{name: cilium, version: 1.18.3}", &lb));
        assert!(!files.contains_key(WATCH_MANIFEST), "{lb}");
        // Every node's host proxy answers for the pool.
        assert!(
            files["host/cp1/kube6-ndp-proxy.yaml"].contains("2001:db8:1::ff00/124"),
            "{lb}"
        );
    }
}

/// The host files leave watch-mode pools to the DaemonSet, so render refuses to write it with an
/// image that cannot be pulled: without `--kube6-image` nothing would answer for the pools.
#[test]
fn watch_mode_needs_the_kube6_image() {
    let text = cluster(
        "{name: cilium, version: 1.18.3}",
        &format!("    implementation: cilium\n    ndpProxy: watch\n{POOL}"),
    );
    let err = render_for(&analyzed(&text), Target::Kubeadm, None)
        .expect_err("no watch manifest without an image");
    let message = err.to_string();
    assert!(
        message.contains("--kube6-image") && message.contains(WATCH_MANIFEST),
        "{message}"
    );
    // Static mode runs nothing in the cluster and needs no image.
    let text = cluster(
        "{name: cilium, version: 1.18.3}",
        &format!("    implementation: cilium\n{POOL}"),
    );
    assert!(render_for(&analyzed(&text), Target::Kubeadm, None).is_ok());
}

#[test]
fn watch_mode_renders_the_daemonset_and_leaves_the_pools_out_of_the_host_files() {
    let files = rendered_texts(&cluster(
        "{name: cilium, version: 1.18.3}",
        &format!("    implementation: cilium\n    ndpProxy: watch\n{POOL}"),
    ));
    let text = files
        .get(WATCH_MANIFEST)
        .expect("a watch-mode manifest for Cilium before 1.19");
    for want in [
        "- \"2001:db8:1::ff00/124=watch\"",
        "- cilium-lease",
        "kind: Role\n",
        "      - leases\n",
        "fieldPath: spec.nodeName",
        "name: NODE_NAME",
        "image: \"registry.example/kube6:0.1.0\"\n",
    ] {
        assert!(text.contains(want), "{want:?} missing:\n{text}");
    }
    assert!(!text.contains("remove the pool prefixes"), "{text}");
    // One proxy per pool: no host file (kube6's proxy, ndppd) answers for it too, and the host
    // proxy still answers for the node's pod block.
    let host: Vec<(&String, &String)> = files
        .iter()
        .filter(|(path, _)| path.starts_with("host/"))
        .collect();
    assert!(
        host.iter()
            .any(|(p, _)| p.ends_with("kube6-ndp-proxy.yaml"))
    );
    for (path, content) in host {
        assert!(!content.contains("2001:db8:1::ff0"), "{path}:\n{content}");
    }
    assert!(files["host/cp1/kube6-ndp-proxy.yaml"].contains("2001:db8:100:"));
    // Where the implementation answers NDP itself, nothing is rendered for watch mode.
    for (cni, implementation) in [
        ("{name: cilium, version: 1.19.6}", "cilium"),
        ("calico", "metallb"),
    ] {
        let files = rendered_texts(&cluster(
            cni,
            &format!("    implementation: {implementation}\n    ndpProxy: watch\n{POOL}"),
        ));
        assert!(!files.contains_key(WATCH_MANIFEST), "{implementation}");
        assert!(
            !files["host/cp1/kube6-ndp-proxy.yaml"].contains("2001:db8:1::ff0"),
            "{implementation}"
        );
    }
}

#[test]
fn the_proxy_answers_for_kube_vip_only_before_it_spoke_ndp() {
    let (conf, _) = ndp_config(&cluster(
        "calico",
        &format!("    implementation: kube-vip\n    version: v0.3.2\n{POOL}"),
    ));
    assert!(conf.contains("2001:db8:1::ff00"), "{conf}");
    let (conf, _) = ndp_config(&cluster(
        "calico",
        &format!("    implementation: kube-vip\n    version: v0.3.3\n{POOL}"),
    ));
    assert!(!conf.contains("2001:db8:1::ff00"), "{conf}");
}

#[test]
fn pools_in_bgp_mode_are_not_proxied() {
    let (conf, _) = ndp_config(&cluster(
        "{name: cilium, version: 1.18.3}",
        "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:1::ff00/124\"], mode: bgp}]\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500, localASN: 64512}]\n",
    ));
    assert!(!conf.contains("2001:db8:1::ff00"), "{conf}");
}

/// Every file kube6 renders for `target` from `text`, parsed: (path, documents).
fn rendered(text: &str, target: Target) -> Vec<(String, Vec<serde_json::Value>)> {
    let out = render_for(&analyzed(text), target, None).unwrap();
    out.files
        .iter()
        .filter(|f| f.path.ends_with(".yaml") || f.path.ends_with(".yml"))
        .map(|f| {
            let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&f.content)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", f.path));
            (f.path.clone(), docs)
        })
        .collect()
}

fn file<'a>(files: &'a [(String, Vec<serde_json::Value>)], path: &str) -> &'a [serde_json::Value] {
    &files
        .iter()
        .find(|(p, _)| p == path)
        .unwrap_or_else(|| {
            panic!(
                "no {path} among {:?}",
                files.iter().map(|f| &f.0).collect::<Vec<_>>()
            )
        })
        .1
}

fn kinds<'a>(docs: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

/// A Service's labels matched against a Kubernetes label selector (matchLabels, and
/// matchExpressions with In, NotIn, Exists, DoesNotExist), as the API machinery does.
fn selects(selector: &serde_json::Value, labels: &[(&str, &str)]) -> bool {
    let get = |k: &str| labels.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    if let Some(m) = selector.get("matchLabels").and_then(|m| m.as_object())
        && m.iter().any(|(k, v)| get(k) != v.as_str())
    {
        return false;
    }
    for e in selector
        .get("matchExpressions")
        .and_then(|e| e.as_array())
        .into_iter()
        .flatten()
    {
        let key = e["key"].as_str().unwrap();
        let values: Vec<&str> = e["values"]
            .as_array()
            .map(|v| v.iter().filter_map(|s| s.as_str()).collect())
            .unwrap_or_default();
        let ok = match e["operator"].as_str().unwrap() {
            "In" => get(key).is_some_and(|v| values.contains(&v)),
            "NotIn" => get(key).is_none_or(|v| !values.contains(&v)),
            "Exists" => get(key).is_some(),
            "DoesNotExist" => get(key).is_none(),
            other => panic!("operator {other}"),
        };
        if !ok {
            return false;
        }
    }
    true
}

const MIXED_POOLS: &str = "    implementation: cilium\n    pools:\n      - {name: public, addresses: [\"2001:db8:1::ff00/120\"]}\n      - {name: routed, mode: bgp, addresses: [\"2001:db8:7::/120\"]}\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500, localASN: 64512}]\n";

#[test]
fn cilium_announces_each_pool_only_the_way_it_asks() {
    let files = rendered(
        &cluster("{name: cilium, version: 1.19.6}", MIXED_POOLS),
        Target::Kubeadm,
    );
    let docs = file(&files, "load-balancer/cilium-lb.yaml");
    let pools = kinds(docs, "CiliumLoadBalancerIPPool");
    let l2 = kinds(docs, "CiliumL2AnnouncementPolicy");
    let bgp = kinds(docs, "CiliumBGPAdvertisement");
    assert_eq!((pools.len(), l2.len(), bgp.len()), (2, 1, 1));
    let l2_selector = &l2[0]["spec"]["serviceSelector"];
    let bgp_selector = &bgp[0]["spec"]["advertisements"][0]["selector"];
    // Services as users write them: unlabelled, and labelled for the bgp pools.
    for labels in [
        vec![],
        vec![("kube6.dev/lb-mode", "bgp")],
        vec![("app", "web")],
    ] {
        let from: Vec<&str> = pools
            .iter()
            .filter(|p| selects(&p["spec"]["serviceSelector"], &labels))
            .map(|p| p["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(from.len(), 1, "{labels:?} takes addresses from {from:?}");
        let by_l2 = selects(l2_selector, &labels);
        let by_bgp = selects(bgp_selector, &labels);
        assert!(by_l2 != by_bgp, "{labels:?}: l2 {by_l2}, bgp {by_bgp}");
        assert_eq!(from[0] == "public", by_l2, "{labels:?} from {from:?}");
    }
    // One mode: every Service from every pool, announced that way.
    let files = rendered(
        &cluster(
            "{name: cilium, version: 1.19.6}",
            &format!("    implementation: cilium\n{POOL}"),
        ),
        Target::Kubeadm,
    );
    let docs = file(&files, "load-balancer/cilium-lb.yaml");
    assert!(
        kinds(docs, "CiliumLoadBalancerIPPool")[0]["spec"]
            .get("serviceSelector")
            .is_none()
    );
    assert!(
        kinds(docs, "CiliumL2AnnouncementPolicy")[0]["spec"]
            .get("serviceSelector")
            .is_none()
    );
    assert!(kinds(docs, "CiliumBGPAdvertisement").is_empty());
}

#[test]
fn l2_announcements_run_without_kube_proxy_on_every_distribution() {
    let l2 = cluster(
        "{name: cilium, version: 1.19.6}",
        &format!("    implementation: cilium\n{POOL}"),
    );
    let bgp_only = cluster(
        "{name: cilium, version: 1.19.6}",
        "    implementation: cilium\n    pools: [{addresses: [\"2001:db8:7::/120\"], mode: bgp}]\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500, localASN: 64512}]\n",
    );
    for (text, skipped) in [(&l2, true), (&bgp_only, false)] {
        let files = rendered(text, Target::Kubeadm);
        let init = file(&files, "kubeadm/init.yaml");
        let phases = &kinds(init, "InitConfiguration")[0]["skipPhases"];
        assert_eq!(
            phases
                .as_array()
                .is_some_and(|p| p.iter().any(|x| x == "addon/kube-proxy")),
            skipped
        );
        assert_eq!(kinds(init, "KubeProxyConfiguration").is_empty(), skipped);
        let values = file(&files, "cni/cilium-values.yaml");
        assert_eq!(values[0]["kubeProxyReplacement"] == true, skipped);

        let k0s = rendered(text, Target::K0s);
        let config = &file(&k0s, "k0s/k0s.yaml")[0];
        assert_eq!(
            config["spec"]["network"]["kubeProxy"]["disabled"] == true,
            skipped,
            "{config}"
        );
        let k3s = rendered(text, Target::K3s);
        let server = &file(&k3s, "k3s/server-cp1.yaml")[0];
        assert_eq!(server["disable-kube-proxy"] == true, skipped, "{server}");
        // KKP runs dual-stack clusters only.
        let dual = text
            .replace("pods: [", "pods: [10.244.0.0/16, ")
            .replace("services: [", "services: [10.96.0.0/16, ");
        let kkp = rendered(&dual, Target::Kkp);
        let cluster = kkp
            .iter()
            .flat_map(|(_, d)| d)
            .find(|d| d["kind"] == "Cluster")
            .unwrap();
        assert_eq!(
            cluster["spec"]["clusterNetwork"]["proxyMode"] == "ebpf",
            skipped,
            "{cluster}"
        );
    }
}

#[test]
fn kube_vip_gets_its_pools_where_its_cloud_provider_reads_them() {
    let lb = "    implementation: kube-vip\n    pools:\n      - {addresses: [\"2001:db8:1::ff00/120\"]}\n      - {addresses: [\"2001:db8:1::fe00/120\"]}\n";
    let files = rendered(&cluster("calico", lb), Target::Kubeadm);
    let docs = file(&files, "load-balancer/kube-vip.yaml");
    let cm = kinds(docs, "ConfigMap")[0];
    assert_eq!(cm["metadata"]["name"], "kubevip");
    assert_eq!(cm["metadata"]["namespace"], "kube-system");
    assert_eq!(
        cm["data"]["cidr-global"],
        "2001:db8:1::ff00/120,2001:db8:1::fe00/120"
    );
    let ds = kinds(docs, "DaemonSet")[0];
    let env = &ds["spec"]["template"]["spec"]["containers"][0]["env"];
    let var = |name: &str| {
        env.as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].clone())
    };
    assert_eq!(var("vip_arp"), Some("true".into()));
    assert_eq!(var("svc_enable"), Some("true".into()));
    assert_eq!(var("vip_interface"), Some("eth0".into()));
    assert_eq!(var("bgp_enable"), None);

    // A range among the blocks: every block as a range (a cidr- key would hide range- keys).
    let lb = "    implementation: kube-vip\n    pools: [{addresses: [\"2001:db8:1::ff00/120\", \"2001:db8:1::fe00-2001:db8:1::fe0f\"], mode: bgp}]\n    bgpPeers: [{peerAddress: \"2001:db8:1::1\", peerASN: 64500, localASN: 64512}]\n";
    let files = rendered(&cluster("calico", lb), Target::Kubeadm);
    let docs = file(&files, "load-balancer/kube-vip.yaml");
    let cm = kinds(docs, "ConfigMap")[0];
    assert!(cm["data"].get("cidr-global").is_none());
    assert_eq!(
        cm["data"]["range-global"],
        "2001:db8:1::ff00-2001:db8:1::ffff,2001:db8:1::fe00-2001:db8:1::fe0f"
    );
    let ds = kinds(docs, "DaemonSet")[0];
    let env = ds["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let var = |name: &str| {
        env.iter()
            .find(|e| e["name"] == name)
            .map(|e| e["value"].clone())
    };
    assert_eq!(var("bgp_enable"), Some("true".into()));
    assert_eq!(var("bgp_as"), Some("64512".into()));
    assert_eq!(var("bgp_peers"), Some("[2001:db8:1::1]:64500".into()));
    assert_eq!(var("vip_arp"), None);
}

#[test]
fn cilium_before_bgpv2_announces_bgp_pools_with_a_peering_policy() {
    let files = rendered(
        &cluster("{name: cilium, version: 1.15.9}", MIXED_POOLS),
        Target::Kubeadm,
    );
    let docs = file(&files, "load-balancer/cilium-lb.yaml");
    assert!(kinds(docs, "CiliumBGPAdvertisement").is_empty());
    assert!(kinds(docs, "CiliumBGPClusterConfig").is_empty());
    let policy = kinds(docs, "CiliumBGPPeeringPolicy");
    assert_eq!(policy.len(), 1);
    assert_eq!(policy[0]["apiVersion"], "cilium.io/v2alpha1");
    // The fields of CiliumBGPPeeringPolicySpec / CiliumBGPVirtualRouter / CiliumBGPNeighbor
    // (cilium/cilium pkg/k8s/apis/cilium.io/v2alpha1/bgpp_types.go), required ones present.
    let spec = policy[0]["spec"].as_object().unwrap();
    assert!(
        spec.keys()
            .all(|k| ["nodeSelector", "virtualRouters"].contains(&k.as_str()))
    );
    let routers = spec["virtualRouters"].as_array().unwrap();
    assert_eq!(routers.len(), 1);
    let router = routers[0].as_object().unwrap();
    assert!(router.keys().all(|k| {
        ["localASN", "exportPodCIDR", "serviceSelector", "neighbors"].contains(&k.as_str())
    }));
    assert_eq!(router["localASN"], 64512);
    let neighbors = router["neighbors"].as_array().unwrap();
    assert_eq!(neighbors[0]["peerAddress"], "2001:db8:1::1/128");
    assert_eq!(neighbors[0]["peerASN"], 64500);
    // It announces the Services of the bgp pool, not those of the l2 pool.
    let pools = kinds(docs, "CiliumLoadBalancerIPPool");
    let routed = pools
        .iter()
        .find(|p| p["metadata"]["name"] == "routed")
        .unwrap();
    let public = pools
        .iter()
        .find(|p| p["metadata"]["name"] == "public")
        .unwrap();
    for labels in [vec![], vec![("kube6.dev/lb-mode", "bgp")]] {
        assert_eq!(
            selects(&router["serviceSelector"], &labels),
            selects(&routed["spec"]["serviceSelector"], &labels)
        );
        assert_ne!(
            selects(&router["serviceSelector"], &labels),
            selects(&public["spec"]["serviceSelector"], &labels)
        );
    }
}

/// The rendered load-balancer/cilium-lb.yaml for `cni`.
fn cilium_pools(cni: &str) -> String {
    let text = cluster(
        cni,
        "    implementation: cilium\n    pools: [{name: public, addresses: [\"2001:db8:1::ff00/120\", \"2001:db8:1::fe10-2001:db8:1::fe2f\"]}]\n",
    );
    let out = render_for(&analyzed(&text), Target::Kubeadm, None).unwrap();
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
