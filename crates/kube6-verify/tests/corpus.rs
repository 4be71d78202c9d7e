//! The corpus: dumps shaped like real clusters (every IPAM a CNI runs, every family layout,
//! partial dumps as people make them, operators' choices, distribution releases), each with the
//! verdict expected of every check.
//!
//! Verdicts are written as one letter per check in catalog order (K6V001 ... K6V012):
//! `P` pass, `W` warn, `F` fail, `S` skip.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube6_model::analyze;
use kube6_model::import::ImportOptions;
use kube6_model::model::{Cni, FeatureGate};
use kube6_model::source::{Located, Origin};
use kube6_net::Family;
use kube6_verify::synth::{Layout, Shape, SynthIpam};
use kube6_verify::{Expectations, Report, Status, catalog, dump, verify};
use serde_json::{Value, json};

/// How the expectations are made.
enum Plan {
    /// `--plan` with this text (any format kube6 reads).
    Text(String),
    /// No plan; `--cni` if given.
    Cluster(Option<Cni>),
}

struct Case {
    name: String,
    dump: Value,
    plan: Plan,
    verdicts: String,
}

fn layouts() -> Vec<(&'static str, Vec<Family>)> {
    vec![
        ("ipv4", vec![Family::IPv4]),
        ("ipv6", vec![Family::IPv6]),
        ("dual-ipv4-first", vec![Family::IPv4, Family::IPv6]),
        ("dual-ipv6-first", vec![Family::IPv6, Family::IPv4]),
    ]
}

fn shape(families: &[Family], layout: Layout) -> Shape {
    Shape::new(families, 4, 20, 6).with_layout(layout)
}

/// `verdicts` as written for a dual-stack cluster; a single-stack one has no dual-stack Service,
/// so K6V012 has nothing to look at.
fn for_stack(verdicts: &str, families: &[Family]) -> String {
    if families.len() == 2 {
        return verdicts.to_string();
    }
    let mut v: Vec<char> = verdicts.chars().collect();
    if v[11] == 'P' {
        v[11] = 'S';
    }
    v.into_iter().collect()
}

fn items(doc: &mut Value) -> &mut Vec<Value> {
    doc["items"].as_array_mut().unwrap()
}

fn find<'a>(doc: &'a mut Value, kind: &str, name: &str) -> &'a mut Value {
    items(doc)
        .iter_mut()
        .find(|i| i["kind"] == kind && i["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn drop_kinds(mut doc: Value, kinds: &[&str]) -> Value {
    items(&mut doc).retain(|i| !kinds.iter().any(|k| i["kind"] == *k));
    doc
}

const CNI_KINDS: &[&str] = &["IPPool", "IPAMBlock", "CiliumNode", "CiliumPodIPPool"];

/// `kubectl get all -A -o json`: Pods, Services and workloads, no Nodes, no EndpointSlices.
fn get_all(doc: Value) -> Value {
    let mut doc = drop_kinds(doc, &["Node", "EndpointSlice"]);
    drop_kinds_in(&mut doc, CNI_KINDS);
    for (kind, api, name) in [
        ("DaemonSet", "apps/v1", "kube-proxy"),
        ("Deployment", "apps/v1", "coredns"),
        ("ReplicaSet", "apps/v1", "coredns-7d4b9c8f6d"),
    ] {
        items(&mut doc).push(json!({"apiVersion": api, "kind": kind,
            "metadata": {"name": name, "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"k8s-app": name}}, "template": {"spec": {"containers": []}}},
            "status": {"observedGeneration": 1}}));
    }
    doc
}

fn drop_kinds_in(doc: &mut Value, kinds: &[&str]) {
    items(doc).retain(|i| !kinds.iter().any(|k| i["kind"] == *k));
}

/// `kubectl get nodes,pods,services,endpointslices -n NS -o json`: the nodes (cluster-scoped)
/// and one namespace.
fn one_namespace(mut doc: Value, namespace: &str) -> Value {
    items(&mut doc).retain(|i| {
        i["metadata"]["namespace"].is_null() || i["metadata"]["namespace"] == namespace
    });
    doc
}

/// Gives kube-dns these addresses; the EndpointSlice controller follows with one slice per
/// family.
fn set_kube_dns(doc: &mut Value, policy: &str, ips: &[&str]) {
    let families: Vec<&str> = ips
        .iter()
        .map(|ip| if ip.contains(':') { "IPv6" } else { "IPv4" })
        .collect();
    let slices: Vec<Value> = items(doc)
        .iter()
        .filter(|i| {
            i["kind"] == "EndpointSlice"
                && i["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns"
        })
        .cloned()
        .collect();
    items(doc).retain(|i| {
        !(i["kind"] == "EndpointSlice"
            && i["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns")
    });
    for family in &families {
        let mut slice = slices[0].clone();
        slice["addressType"] = json!(family);
        slice["metadata"]["name"] = json!(format!("kube-dns-{}", family.to_lowercase()));
        items(doc).push(slice);
    }
    let spec = &mut find(doc, "Service", "kube-dns")["spec"];
    spec["ipFamilyPolicy"] = json!(policy);
    spec["clusterIP"] = json!(ips[0]);
    spec["clusterIPs"] = json!(ips);
    spec["ipFamilies"] = json!(
        ips.iter()
            .map(|ip| if ip.contains(':') { "IPv6" } else { "IPv4" })
            .collect::<Vec<_>>()
    );
}

fn set_pod_ip(doc: &mut Value, pod: &str, index: usize, ip: &str) {
    let pod = find(doc, "Pod", pod);
    pod["status"]["podIPs"][index]["ip"] = json!(ip);
    if index == 0 {
        pod["status"]["podIP"] = json!(ip);
    }
}

/// A pod's address of `family`.
fn pod_ip(doc: &mut Value, pod: &str, family: Family) -> String {
    find(doc, "Pod", pod)["status"]["podIPs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ip"].as_str().unwrap().to_string())
        .find(|ip| ip.contains(':') == (family == Family::IPv6))
        .unwrap()
}

fn k0s_cluster_config(shape: &Shape) -> String {
    let l = &shape.layout;
    let v4 = shape.families.contains(&Family::IPv4);
    let v6 = shape.families.contains(&Family::IPv6);
    let mut network = String::from("    provider: kuberouter\n");
    if v4 {
        network.push_str(&format!(
            "    podCIDR: {}\n    serviceCIDR: {}\n",
            l.pod_v4, l.service_v4
        ));
    } else {
        network.push_str(&format!(
            "    podCIDR: {}\n    serviceCIDR: {}\n",
            l.pod_v6, l.service_v6
        ));
    }
    if v4 && v6 {
        network.push_str(&format!(
            "    dualStack:\n      enabled: true\n      IPv6podCIDR: {}\n      IPv6serviceCIDR: {}\n    primaryAddressFamily: {}\n",
            l.pod_v6, l.service_v6, shape.families[0]
        ));
    }
    format!(
        "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nmetadata:\n  name: k0s\nspec:\n  network:\n{network}"
    )
}

fn kubeadm_calico(shape: &Shape) -> String {
    let l = &shape.layout;
    let joined = |f: &dyn Fn(Family) -> String| {
        shape
            .families
            .iter()
            .map(|&x| f(x))
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: {}\n  serviceSubnet: {}\n",
        joined(&|f| l.pod_range(f).to_string()),
        joined(&|f| l.service_range(f).to_string())
    );
    for &f in &shape.families {
        out.push_str(&format!(
            "---\napiVersion: crd.projectcalico.org/v1\nkind: IPPool\nmetadata:\n  name: default-{}-ippool\nspec:\n  cidr: {}\n  blockSize: {}\n  ipipMode: Never\n  vxlanMode: Never\n  natOutgoing: true\n",
            f.as_str().to_lowercase(),
            l.pod_range(f),
            l.share_mask(f)
        ));
    }
    out
}

fn kkp_cluster(shape: &Shape) -> String {
    let l = &shape.layout;
    let dual = shape.families.len() == 2;
    let mut pods = format!("        - {}\n", l.pod_v4);
    let mut services = format!("        - {}\n", l.service_v4);
    let mut masks = format!("    nodeCidrMaskSizeIPv4: {}\n", l.node_mask_v4);
    if dual {
        pods.push_str(&format!("        - {}\n", l.pod_v6));
        services.push_str(&format!("        - {}\n", l.service_v6));
        masks.push_str(&format!("    nodeCidrMaskSizeIPv6: {}\n", l.node_mask_v6));
    }
    format!(
        "apiVersion: kubermatic.k8c.io/v1\nkind: Cluster\nmetadata:\n  name: corpus\nspec:\n  version: 1.33.4\n  cloud:\n    dc: hetzner-fsn1\n    providerName: hetzner\n    hetzner: {{}}\n  cniPlugin:\n    type: cilium\n    version: 1.19.4\n  clusterNetwork:\n    ipFamily: {}\n    pods:\n      cidrBlocks:\n{pods}    services:\n      cidrBlocks:\n{services}{masks}",
        if dual { "IPv4+IPv6" } else { "IPv4" }
    )
}

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let mut add = |name: String, dump: Value, plan: Plan, verdicts: String| {
        cases.push(Case {
            name,
            dump,
            plan,
            verdicts,
        });
    };
    for (stack, families) in layouts() {
        let f = &families;
        let v = |verdicts: &str| for_stack(verdicts, f);

        // Node podCIDRs (host-local): Flannel on k3s, kube-router on k0s, Canal and Cilium in
        // kubernetes mode on RKE2.
        let flannel = shape(f, Layout::k3s());
        add(
            format!("{stack}: k3s with Flannel, k3s config.yaml"),
            flannel.list(),
            Plan::Text(flannel.k3s_config()),
            v("PPPSPPPPPPPP"),
        );
        let k0s = shape(f, Layout::k0s());
        add(
            format!("{stack}: k0s with kube-router"),
            k0s.list(),
            Plan::Text(k0s.cluster_network("k0s@v1.36.3+k0s.0", "kube-router")),
            v("PPPSPPPPPPPP"),
        );
        if f.contains(&Family::IPv4) {
            add(
                format!("{stack}: k0s with kube-router, k0s ClusterConfig"),
                k0s.list(),
                Plan::Text(k0s_cluster_config(&k0s)),
                v("PPPSPPPPPPPP"),
            );
        }
        let rke2 = shape(
            f,
            Layout {
                dns_dual_policy: "PreferDualStack",
                ..Layout::k3s()
            },
        );
        let mut rke2_dump = rke2.list();
        // RKE2's chart names the Service rke2-coredns-rke2-coredns, labelled k8s-app=kube-dns.
        find(&mut rke2_dump, "Service", "kube-dns")["metadata"]["name"] =
            json!("rke2-coredns-rke2-coredns");
        for slice in items(&mut rke2_dump).iter_mut().filter(|i| {
            i["kind"] == "EndpointSlice"
                && i["metadata"]["labels"]["kubernetes.io/service-name"] == "kube-dns"
        }) {
            slice["metadata"]["labels"]["kubernetes.io/service-name"] =
                json!("rke2-coredns-rke2-coredns");
        }
        add(
            format!("{stack}: RKE2 with Canal"),
            rke2_dump.clone(),
            Plan::Text(rke2.cluster_network("rke2@v1.33.4+rke2r1", "canal")),
            v("PPPSPPPPPPPP"),
        );
        // Cilium on RKE2 defaults to ipam.mode kubernetes: the plan names no mode.
        add(
            format!("{stack}: RKE2 with its Cilium (kubernetes IPAM)"),
            rke2_dump,
            Plan::Text(
                rke2.cluster_network("rke2", "flannel")
                    .replace("name: flannel", "name: cilium"),
            ),
            v("PPPSPPPPPPPP"),
        );

        // Calico IPAM: pod addresses come from blocks of the pools, not from the nodes'
        // podCIDRs, which kube-controller-manager still hands out.
        let calico = shape(f, Layout::kubeadm_calico());
        add(
            format!("{stack}: kubeadm with Calico IPAM, kube6 plan"),
            calico.list(),
            Plan::Text(calico.cluster_network("kubeadm", "calico")),
            v("PPPPPPPPPPPP"),
        );
        add(
            format!("{stack}: kubeadm with Calico IPAM, kubeadm config and IPPools"),
            calico.list(),
            Plan::Text(kubeadm_calico(&calico)),
            v("PPPPPPPPPPPP"),
        );
        add(
            format!("{stack}: Calico IPAM without its objects in the dump"),
            drop_kinds(calico.list(), CNI_KINDS),
            Plan::Text(calico.cluster_network("kubeadm", "calico")),
            v("PPPSPPPPPPPP"),
        );
        add(
            format!("{stack}: Calico IPAM, no plan: the IPAMBlocks tell"),
            calico.list(),
            Plan::Cluster(None),
            v("PPPPPPPPSPPP"),
        );
        add(
            format!("{stack}: Calico IPAM, no plan, --cni calico"),
            calico.list(),
            Plan::Cluster(Some(Cni::Calico)),
            v("PPPPPPPPSPPP"),
        );

        // Cilium cluster-pool and multi-pool: no node podCIDRs at all.
        let pool = shape(f, Layout::cilium_cluster_pool());
        add(
            format!("{stack}: Cilium cluster-pool"),
            pool.list(),
            Plan::Text(pool.cluster_network("kubeadm", "cilium")),
            v("PPSPPPPPPPPP"),
        );
        add(
            format!("{stack}: Cilium cluster-pool, no plan: the CiliumNodes tell"),
            pool.list(),
            Plan::Cluster(None),
            v("PPSPPPPPSPPP"),
        );
        add(
            format!("{stack}: Cilium cluster-pool without its objects, unknown CNI"),
            drop_kinds(pool.list(), CNI_KINDS),
            Plan::Text(pool.cluster_network("kubeadm", "custom")),
            v("PPSSPPPPPPPP"),
        );
        if f[0] == Family::IPv4 {
            // KKP: IPv4 first, Cilium cluster-pool from the cluster's own ranges and masks.
            let kkp = shape(
                f,
                Layout {
                    pod_v6: "fd01::/48".parse().unwrap(),
                    node_mask_v6: 64,
                    ipam: SynthIpam::CiliumClusterPool {
                        mask_v4: 24,
                        mask_v6: 64,
                    },
                    ..Layout::cilium_cluster_pool()
                },
            );
            add(
                format!("{stack}: KKP with Cilium cluster-pool"),
                kkp.list(),
                Plan::Text(kkp_cluster(&kkp)),
                v("PPSPPPPPPPPP"),
            );
        }
        let multi = shape(f, Layout::cilium_multi_pool());
        add(
            format!("{stack}: Cilium multi-pool"),
            multi.list(),
            Plan::Text(multi.cluster_network("kubeadm", "cilium")),
            v("PPSPPPPPPPPP"),
        );
        add(
            format!("{stack}: Cilium multi-pool, no plan: the CiliumNodes tell"),
            multi.list(),
            Plan::Cluster(None),
            v("PPSPPPPPSPPP"),
        );

        // IPAM faults.
        let mut doc = calico.list();
        let name = format!("default-{}-ippool", f[0].as_str().to_lowercase());
        find(&mut doc, "IPPool", &name)["spec"]["cidr"] = json!(if f[0] == Family::IPv4 {
            "10.200.0.0/16"
        } else {
            "fd00:99::/48"
        });
        add(
            format!("{stack}: Calico pool outside the plan"),
            doc,
            Plan::Text(calico.cluster_network("kubeadm", "calico")),
            v("PPPFPPPPPPPP"),
        );
        let mut doc = calico.list();
        set_pod_ip(
            &mut doc,
            "app-5-000005",
            0,
            if f[0] == Family::IPv4 {
                "10.250.0.5"
            } else {
                "fd00:250::5"
            },
        );
        add(
            format!("{stack}: Calico pod outside every pool"),
            doc,
            Plan::Text(calico.cluster_network("kubeadm", "calico")),
            v("PPPPFPPPPPPP"),
        );
        let mut doc = pool.list();
        let cidrs = &mut find(&mut doc, "CiliumNode", "node-1")["spec"]["ipam"]["podCIDRs"][0];
        let narrower = cidrs
            .as_str()
            .unwrap()
            .replace("/24", "/25")
            .replace("/120", "/121");
        *cidrs = json!(narrower);
        add(
            format!("{stack}: CiliumNode podCIDR of another mask"),
            doc,
            Plan::Text(pool.cluster_network("kubeadm", "cilium")),
            v("PPSFPPPPPPPP"),
        );
        let mut doc = pool.list();
        // app-5 runs on node-1; give it an unused address of node-2's share.
        let foreign = kube6_net::indexed_ip(&pool.share(f[0], 2, 0), 200).unwrap();
        set_pod_ip(&mut doc, "app-5-000005", 0, &foreign.to_string());
        add(
            format!("{stack}: pod outside what Cilium gave its node"),
            doc,
            Plan::Text(pool.cluster_network("kubeadm", "cilium")),
            v("PPSPFPPPPPPP"),
        );
        // The case: nodes without podCIDRs, a pod outside every pod range.
        let mut doc = drop_kinds(pool.list(), CNI_KINDS);
        set_pod_ip(
            &mut doc,
            "app-5-000005",
            0,
            if f[0] == Family::IPv4 {
                "10.200.0.5"
            } else {
                "fd00:200::5"
            },
        );
        add(
            format!("{stack}: pod outside every pod range, nodes without podCIDRs"),
            doc,
            Plan::Text(pool.cluster_network("kubeadm", "custom")),
            v("PPSSFPPPPPPP"),
        );
        let mut doc = multi.list();
        find(&mut doc, "CiliumPodIPPool", "default")["spec"][f[0].as_str().to_lowercase()]["maskSize"] =
            json!(if f[0] == Family::IPv4 { 26 } else { 121 });
        add(
            format!("{stack}: multi-pool allocation of another mask than its pool's"),
            doc,
            Plan::Text(multi.cluster_network("kubeadm", "cilium")),
            v("PPSFPPPPPPPP"),
        );
        let mut doc = flannel.list();
        set_pod_ip(
            &mut doc,
            "app-5-000005",
            0,
            if f[0] == Family::IPv4 {
                "10.64.3.9"
            } else {
                "fd00:42:0:3::9"
            },
        );
        add(
            format!("{stack}: Flannel pod outside its node's podCIDR"),
            doc,
            Plan::Text(flannel.k3s_config()),
            v("PPPSFPPPPPPP"),
        );

        // Partial dumps.
        let plan = || Plan::Text(flannel.k3s_config());
        add(
            format!("{stack}: kubectl get all -A"),
            get_all(flannel.list()),
            plan(),
            "FSSSPPSPPPPS".to_string(),
        );
        add(
            format!("{stack}: kubectl get all -A, no plan"),
            get_all(flannel.list()),
            Plan::Cluster(None),
            "FSSSPPSPSPPS".to_string(),
        );
        add(
            format!("{stack}: no EndpointSlices"),
            drop_kinds(flannel.list(), &["EndpointSlice"]),
            plan(),
            "PPPSPPPPPPPS".to_string(),
        );
        let mut doc = flannel.list();
        items(&mut doc).retain(|i| i["metadata"]["name"] != "kubernetes");
        add(
            format!("{stack}: no default/kubernetes Service"),
            doc,
            plan(),
            v("PPPSPPPPPSPP"),
        );
        add(
            format!("{stack}: kubectl get nodes,pods -A"),
            drop_kinds(flannel.list(), &["Service", "EndpointSlice"]),
            plan(),
            "PPPSPPPSSSSS".to_string(),
        );
        add(
            format!("{stack}: Nodes and Services only"),
            drop_kinds(flannel.list(), &["Pod"]),
            plan(),
            v("PPPSSSSPPPPP"),
        );
        add(
            format!("{stack}: no Nodes"),
            drop_kinds(flannel.list(), &["Node"]),
            plan(),
            v("FSSSPPSPPPPP"),
        );
        let big = Shape::new(f, 4, 120, 60);
        add(
            format!("{stack}: one namespace"),
            one_namespace(big.list(), "ns-3"),
            Plan::Text(big.k3s_config()),
            v("PPPSPPSPPSSP"),
        );
    }
    operator_choices(&mut add);
    releases(&mut add);
    faults(&mut add);
    cases
}

/// One fault per check that the IPAM cases above do not cover, each caught by its check alone.
fn faults(add: &mut impl FnMut(String, Value, Plan, String)) {
    let families = [Family::IPv4, Family::IPv6];
    let k3s = shape(&families, Layout::k3s());
    let plan = || Plan::Text(k3s.k3s_config());
    // Not faults: a Job's finished pod keeps addresses that were released and handed to a pod
    // running now; a pod still Pending has none yet.
    let mut doc = k3s.list();
    let mut finished = find(&mut doc, "Pod", "app-4-000004").clone();
    finished["metadata"]["name"] = json!("backup-29012345-x7k2p");
    finished["status"]["phase"] = json!("Succeeded");
    items(&mut doc).push(finished);
    let mut pending = find(&mut doc, "Pod", "app-5-000005").clone();
    pending["metadata"]["name"] = json!("web-5d8f7c9b4-pending");
    pending["status"] = json!({"phase": "Pending", "qosClass": "BestEffort",
        "conditions": [{"type": "PodScheduled", "status": "True"}]});
    items(&mut doc).push(pending);
    add(
        "a finished pod with a reused address, a pending pod without one".to_string(),
        doc,
        plan(),
        "PPPSPPPPPPPP".to_string(),
    );
    let mut doc = k3s.list();
    let node = find(&mut doc, "Node", "node-2");
    node["status"]["addresses"]
        .as_array_mut()
        .unwrap()
        .remove(1);
    // Its hostNetwork pod started after the address went.
    find(&mut doc, "Pod", "kube-proxy-00002")["status"]["podIPs"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    add(
        "fault: a node without an IPv6 address".to_string(),
        doc,
        plan(),
        "PFPSPPPPPPPP".to_string(),
    );
    let mut doc = k3s.list();
    let taken = pod_ip(&mut doc, "app-4-000004", Family::IPv4);
    set_pod_ip(&mut doc, "app-8-000008", 0, &taken);
    add(
        "fault: two pods with one address".to_string(),
        doc,
        plan(),
        "PPPSPFPPPPPP".to_string(),
    );
    let mut doc = k3s.list();
    set_pod_ip(&mut doc, "kube-proxy-00002", 0, "172.16.0.99");
    add(
        "fault: a hostNetwork pod with another address than its node's".to_string(),
        doc,
        plan(),
        "PPPSPPFPPPPP".to_string(),
    );
    let mut doc = k3s.list();
    find(&mut doc, "Service", "svc-00003")["spec"]["ipFamilies"] = json!(["IPv6"]);
    add(
        "fault: a Service whose ipFamilies and clusterIPs disagree".to_string(),
        doc,
        plan(),
        "PPPSPPPFPPPP".to_string(),
    );
    let mut doc = k3s.list();
    let spec = &mut find(&mut doc, "Service", "svc-00003")["spec"];
    spec["clusterIP"] = json!("10.44.0.5");
    spec["clusterIPs"] = json!(["10.44.0.5"]);
    add(
        "fault: a Service outside the service ranges".to_string(),
        doc,
        plan(),
        "PPPSPPPPFPPP".to_string(),
    );
    let mut doc = k3s.list();
    let spec = &mut find(&mut doc, "Service", "kubernetes")["spec"];
    spec["clusterIP"] = json!("10.43.0.2");
    spec["clusterIPs"] = json!(["10.43.0.2"]);
    add(
        "fault: the kubernetes Service off the first address".to_string(),
        doc,
        plan(),
        "PPPSPPPPPFPP".to_string(),
    );
    let mut doc = k3s.list();
    items(&mut doc).retain(|i| i["metadata"]["name"] != "svc-00002-ipv6");
    add(
        "fault: a dual-stack Service without its IPv6 EndpointSlice".to_string(),
        doc,
        plan(),
        "PPPSPPPPPPPF".to_string(),
    );
}

/// What operators choose that verification must not fail.
fn operator_choices(add: &mut impl FnMut(String, Value, Plan, String)) {
    for families in [
        vec![Family::IPv4, Family::IPv6],
        vec![Family::IPv6, Family::IPv4],
    ] {
        let stack = format!("dual-{}-first", families[0].as_str().to_lowercase());
        let k3s = shape(&families, Layout::k3s());
        let ips: Vec<String> = families
            .iter()
            .map(|f| k3s.service_ip(*f, 10).to_string())
            .collect();
        let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
        let mut doc = k3s.list();
        set_kube_dns(&mut doc, "PreferDualStack", &ips);
        add(
            format!("{stack}: kube-dns PreferDualStack where k3s sets RequireDualStack"),
            doc,
            Plan::Text(k3s.k3s_config()),
            "PPPSPPPPPPPP".to_string(),
        );
        let mut doc = k3s.list();
        set_kube_dns(&mut doc, "SingleStack", &ips[..1]);
        add(
            format!("{stack}: kube-dns single-stack where k3s's kubelets use both addresses"),
            doc,
            Plan::Text(k3s.k3s_config()),
            "PPPSPPPPPPFP".to_string(),
        );
        // k0s gives kube-dns one address; an operator made it dual-stack.
        let k0s = shape(&families, Layout::k0s());
        let primary = k0s.service_ip(families[0], 10).to_string();
        let secondary = k0s.service_ip(families[1], 53).to_string();
        let mut doc = k0s.list();
        set_kube_dns(&mut doc, "PreferDualStack", &[&primary, &secondary]);
        add(
            format!("{stack}: k0s kube-dns made dual-stack by the operator"),
            doc,
            Plan::Text(k0s.cluster_network("k0s", "kube-router")),
            "PPPSPPPPPPPP".to_string(),
        );
        let mut doc = k0s.list();
        set_kube_dns(&mut doc, "PreferDualStack", &[&secondary, &primary]);
        add(
            format!("{stack}: k0s kube-dns dual-stack, the other family first"),
            doc,
            Plan::Text(k0s.cluster_network("k0s", "kube-router")),
            "PPPSPPPPPPFP".to_string(),
        );
        // A cloud controller that reports the IPv6 address as an ExternalIP: Kubernetes takes
        // it as the node's IPv6 address, after the InternalIPs, so with IPv6 primary the node's
        // first IP is IPv4 (a real fault).
        let mut doc = k3s.list();
        for node in items(&mut doc).iter_mut().filter(|i| i["kind"] == "Node") {
            for addr in node["status"]["addresses"].as_array_mut().unwrap() {
                if addr["address"].as_str().unwrap().contains(':') {
                    addr["type"] = json!("ExternalIP");
                }
            }
        }
        add(
            format!("{stack}: node IPv6 addresses only as ExternalIPs"),
            doc,
            Plan::Text(k3s.k3s_config()),
            if families[0] == Family::IPv4 {
                "PPPSPPPPPPPP"
            } else {
                "PFPSPPPPPPPP"
            }
            .to_string(),
        );
    }
    // k0s passes kube-controller-manager the IPv6 pod range first whatever the primary family
    // (before v1.36.1): without a plan that is not reported.
    let k0s_old = shape(
        &[Family::IPv4, Family::IPv6],
        Layout {
            pod_cidrs_ipv6_first: true,
            ..Layout::k0s()
        },
    );
    add(
        "k0s: podCIDRs IPv6 first, primary IPv4, no plan".to_string(),
        k0s_old.list(),
        Plan::Cluster(None),
        "PPPSPPPPSPPP".to_string(),
    );
    add(
        "k0s: podCIDRs IPv6 first, no plan, no kubernetes Service".to_string(),
        {
            let mut doc = k0s_old.list();
            items(&mut doc).retain(|i| i["metadata"]["name"] != "kubernetes");
            doc
        },
        Plan::Cluster(None),
        "PPPSPPPPSSPP".to_string(),
    );
}

/// A plan that states the distribution's version is judged by that release's rules.
fn releases(add: &mut impl FnMut(String, Value, Plan, String)) {
    let dual4 = [Family::IPv4, Family::IPv6];
    // k0s v1.35: IPv6 podCIDRs first; v1.36.1 orders them by the primary family.
    let ipv6_first = shape(
        &dual4,
        Layout {
            pod_cidrs_ipv6_first: true,
            ..Layout::k0s()
        },
    );
    add(
        "k0s v1.35.7: podCIDRs IPv6 first".to_string(),
        ipv6_first.list(),
        Plan::Text(ipv6_first.cluster_network("k0s@v1.35.7+k0s.0", "kube-router")),
        "PPPSPPPPPPPP".to_string(),
    );
    add(
        "k0s v1.36.3: podCIDRs IPv6 first".to_string(),
        ipv6_first.list(),
        Plan::Text(ipv6_first.cluster_network("k0s@v1.36.3+k0s.0", "kube-router")),
        "PPFSPPPPPPPP".to_string(),
    );
    // k0s before v1.34 gave dual-stack nodes /110 IPv6 blocks; the plan states no mask, so the
    // release decides.
    let masks110 = shape(
        &dual4,
        Layout {
            node_mask_v6: 110,
            pod_v6: "fd00:10:244::/104".parse().unwrap(),
            pod_cidrs_ipv6_first: true,
            ..Layout::k0s()
        },
    );
    let without_mask = |version: &str| {
        masks110
            .cluster_network(&format!("k0s@{version}"), "kube-router")
            .replace("    nodeMaskSize: 110\n", "")
            .replace("    nodeMaskSize: 24\n", "")
    };
    // Shaped like k0sproject/k0s#5833: k0s before v1.34 on a dual-stack cluster, the nodes'
    // IPv6 podCIDRs first (/110), the kubelets given only their IPv4 address.
    let mut doc = masks110.list();
    for item in items(&mut doc).iter_mut() {
        if item["kind"] == "Node" {
            item["status"]["addresses"]
                .as_array_mut()
                .unwrap()
                .retain(|a| !a["address"].as_str().unwrap().contains(':'));
        }
        if item["kind"] == "Pod" && item["spec"]["hostNetwork"] == true {
            item["status"]["podIPs"].as_array_mut().unwrap().truncate(1);
        }
    }
    add(
        "k0s v1.33.13: nodes without their IPv6 address (k0s#5833)".to_string(),
        doc,
        Plan::Text(without_mask("v1.33.13+k0s.1")),
        "PFPSPPPPPPPP".to_string(),
    );
    add(
        "k0s v1.33.13: IPv6 node mask /110".to_string(),
        masks110.list(),
        Plan::Text(without_mask("v1.33.13+k0s.1")),
        "PPPSPPPPPPPP".to_string(),
    );
    add(
        "k0s v1.36.3: IPv6 node mask /110".to_string(),
        masks110.list(),
        Plan::Text(without_mask("v1.36.3+k0s.2")),
        "PPFSPPPPPPPP".to_string(),
    );
    // k3s before v1.28.3 (and its backports) gave kube-dns one address of the first range.
    let k3s = shape(&dual4, Layout::k3s());
    let mut single_dns = k3s.list();
    let first = k3s.service_ip(Family::IPv4, 10).to_string();
    set_kube_dns(&mut single_dns, "SingleStack", &[&first]);
    let k3s_plan = |version: &str| {
        Plan::Text(
            k3s.cluster_network(&format!("k3s@{version}"), "flannel")
                .replace("    nodeMaskSize: 24\n", "")
                .replace("    nodeMaskSize: 64\n", ""),
        )
    };
    add(
        "k3s v1.28.2: kube-dns single-stack".to_string(),
        single_dns.clone(),
        k3s_plan("v1.28.2+k3s1"),
        "PPPSPPPPPPPP".to_string(),
    );
    add(
        "k3s v1.29.1: kube-dns single-stack".to_string(),
        single_dns,
        k3s_plan("v1.29.1+k3s1"),
        "PPPSPPPPPPFP".to_string(),
    );
    // Between v1.28.3 and v1.28.6 k3s made kube-dns PreferDualStack; after, RequireDualStack:
    // either passes, the difference is reported.
    let ips: Vec<String> = dual4
        .iter()
        .map(|f| k3s.service_ip(*f, 10).to_string())
        .collect();
    let mut prefer = k3s.list();
    set_kube_dns(&mut prefer, "PreferDualStack", &[&ips[0], &ips[1]]);
    add(
        "k3s v1.28.5: kube-dns PreferDualStack".to_string(),
        prefer,
        k3s_plan("v1.28.5+k3s1"),
        "PPPSPPPPPPPP".to_string(),
    );
}

fn expectations(plan: &Plan, snapshot: &kube6_verify::Snapshot, name: &str) -> Expectations {
    match plan {
        Plan::Text(text) => {
            let options = ImportOptions {
                feature_gates: vec![FeatureGate {
                    name: Located::new("IPv6SingleStack".to_string(), Origin::input("test", None)),
                    enabled: Located::new(true, Origin::input("test", None)),
                }],
                ..Default::default()
            };
            let analysis = analyze("plan.yaml", text, &options)
                .unwrap_or_else(|e| panic!("{name}: the plan does not import: {e}\n{text}"));
            Expectations::from_analysis(&analysis)
        }
        Plan::Cluster(cni) => Expectations::infer(snapshot, *cni),
    }
}

fn letter(status: Status) -> char {
    match status {
        Status::Pass => 'P',
        Status::Skip => 'S',
        Status::Warn => 'W',
        Status::Fail => 'F',
        Status::Ignored => 'I',
    }
}

fn run(case: &Case, text: &[u8]) -> Report {
    let snapshot = dump::parse(text).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let expect = expectations(&case.plan, &snapshot, &case.name);
    verify(&snapshot, &expect)
}

#[test]
fn every_case_gets_its_verdicts() {
    let cases = cases();
    assert!(cases.len() > 100, "{}", cases.len());
    let mut wrong = Vec::new();
    for case in &cases {
        assert_eq!(case.verdicts.len(), catalog::ALL.len(), "{}", case.name);
        let json = serde_json::to_vec_pretty(&case.dump).unwrap();
        let report = run(case, &json);
        let got: String = report.checks.iter().map(|c| letter(c.status)).collect();
        if got != case.verdicts {
            let detail: Vec<String> = report
                .checks
                .iter()
                .zip(case.verdicts.chars())
                .filter(|(c, want)| letter(c.status) != *want)
                .map(|(c, want)| {
                    format!(
                        "  {} {} (want {want}): {:?} {:?}",
                        c.id, c.name, c.findings, c.notes
                    )
                })
                .collect();
            wrong.push(format!(
                "{}: got {got}, want {}\n{}",
                case.name,
                case.verdicts,
                detail.join("\n")
            ));
        }
        // Failures name the objects they are about, or the input as a whole.
        for check in report.checks.iter().filter(|c| c.status == Status::Fail) {
            assert!(!check.findings.is_empty(), "{}: {}", case.name, check.name);
        }
        // A check that looked at nothing never passes.
        for check in &report.checks {
            assert!(
                !(check.status == Status::Pass && check.checked == 0),
                "{}: {} passed having checked nothing",
                case.name,
                check.name
            );
        }
        let overall = if case.verdicts.contains('F') {
            Status::Fail
        } else if case.verdicts.contains('W') {
            Status::Warn
        } else {
            Status::Pass
        };
        if report.status != overall && got == case.verdicts {
            wrong.push(format!(
                "{}: status {:?}, want {overall:?}",
                case.name, report.status
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

#[test]
fn yaml_dumps_get_the_same_verdicts() {
    // kubectl -o yaml of the same clusters: every tenth case (YAML is parsed whole, and slowly
    // in a debug build), to keep the test fast.
    for case in cases().iter().step_by(10) {
        let json = serde_json::to_vec(&case.dump).unwrap();
        let yaml = serde_saphyr::to_string(&case.dump).unwrap();
        assert_eq!(
            run(case, yaml.as_bytes()),
            run(case, &json),
            "{}",
            case.name
        );
    }
}

#[test]
fn every_check_has_a_passing_a_failing_and_a_skipping_case() {
    let cases = cases();
    for (i, info) in catalog::ALL.iter().enumerate() {
        let has = |letter: char| {
            cases
                .iter()
                .any(|c| c.verdicts.chars().nth(i) == Some(letter))
        };
        assert!(has('P'), "{} never passes in the corpus", info.id);
        assert!(has('F'), "{} never fails in the corpus", info.id);
        // K6V001 is the one check that always has evidence: the input itself.
        assert!(
            has('S') || info.id == catalog::INPUT_COVERAGE.id,
            "{} never skips in the corpus",
            info.id
        );
    }
}
