//! Dumps in the shapes kubectl prints (IPv4, IPv6-only, dual-stack in both orders), each fault
//! injected alone, each caught by the check that owns it and by no other.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use kube6_model::analyze;
use kube6_model::import::ImportOptions;
use kube6_net::Family;
use kube6_verify::synth::Shape;
use kube6_verify::{Expectations, Report, Status, dump, verify};
use serde_json::{Value, json};

fn shapes() -> Vec<(&'static str, Shape)> {
    vec![
        ("ipv4", Shape::ipv4()),
        ("ipv6", Shape::ipv6()),
        ("dual-ipv4-first", Shape::dual_ipv4_first()),
        ("dual-ipv6-first", Shape::dual_ipv6_first()),
    ]
}

fn plan(shape: &Shape) -> Expectations {
    let analysis = analyze(
        "config.yaml",
        &shape.k3s_config(),
        &ImportOptions::default(),
    )
    .unwrap();
    assert!(analysis.plan.valid, "{:?}", analysis.plan.diagnostics);
    Expectations::from_analysis(&analysis)
}

/// Writes the document and reads it back through the dump parser, as `--dump` does.
fn check(doc: &Value, expect: Option<&Expectations>) -> Report {
    let text = serde_json::to_string_pretty(doc).unwrap();
    let snapshot = dump::parse(text.as_bytes()).unwrap();
    match expect {
        Some(e) => verify(&snapshot, e),
        None => verify(&snapshot, &Expectations::infer(&snapshot, None)),
    }
}

fn failing(report: &Report) -> BTreeSet<&'static str> {
    report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.name)
        .collect()
}

fn item<'a>(doc: &'a mut Value, kind: &str, name: &str) -> &'a mut Value {
    doc["items"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|i| i["kind"] == kind && i["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn set_pod_ips(pod: &mut Value, ips: &[&str]) {
    pod["status"]["podIP"] = json!(ips[0]);
    pod["status"]["podIPs"] = json!(ips.iter().map(|ip| json!({"ip": ip})).collect::<Vec<_>>());
}

fn set_cluster_ips(service: &mut Value, ips: &[String]) {
    service["spec"]["clusterIP"] = json!(ips[0]);
    service["spec"]["clusterIPs"] = json!(ips);
}

fn primary(shape: &Shape) -> Family {
    shape.families[0]
}

fn pick(family: Family, v4: &str, v6: &str) -> String {
    match family {
        Family::IPv4 => v4.to_string(),
        Family::IPv6 => v6.to_string(),
    }
}

struct Fault {
    name: &'static str,
    dual_only: bool,
    inject: fn(&Shape, &mut Value),
    caught_by: &'static [&'static str],
}

fn faults() -> Vec<Fault> {
    vec![
        Fault {
            name: "node missing a family's address",
            dual_only: false,
            inject: |shape, doc| {
                // The address stays on the node's pods (hostNetwork pods keep it) but is no
                // longer one of the node's: a Hostname, which Kubernetes does not take as an IP.
                let last = shape.families.len() - 1;
                item(doc, "Node", "node-1")["status"]["addresses"][last]["type"] =
                    json!("InternalDNS");
            },
            caught_by: &["node-addresses"],
        },
        Fault {
            name: "node InternalIPs in the wrong order",
            dual_only: true,
            inject: |_, doc| {
                let addrs = &mut item(doc, "Node", "node-1")["status"]["addresses"];
                let a = addrs[0].clone();
                addrs[0] = addrs[1].clone();
                addrs[1] = a;
            },
            caught_by: &["node-addresses"],
        },
        Fault {
            name: "podCIDR outside the pod range",
            dual_only: false,
            inject: |shape, doc| {
                let cidr = pick(primary(shape), "10.200.3.0/24", "fd00:99:0:3::/64");
                item(doc, "Node", "node-3")["spec"]["podCIDRs"][0] = json!(cidr);
            },
            // The node's pods keep their addresses, now outside its podCIDR.
            caught_by: &["node-pod-cidrs", "pod-ips"],
        },
        Fault {
            name: "podCIDR of the wrong mask size",
            dual_only: false,
            inject: |shape, doc| {
                let cidr = pick(primary(shape), "10.64.2.0/25", "fd00:42:0:2::/65");
                item(doc, "Node", "node-2")["spec"]["podCIDRs"][0] = json!(cidr);
            },
            caught_by: &["node-pod-cidrs"],
        },
        Fault {
            name: "podCIDRs overlapping another node's",
            dual_only: false,
            inject: |_, doc| {
                let cidrs = item(doc, "Node", "node-2")["spec"]["podCIDRs"].clone();
                item(doc, "Node", "node-3")["spec"]["podCIDRs"] = cidrs;
            },
            caught_by: &["node-pod-cidrs", "pod-ips"],
        },
        Fault {
            name: "node without a podCIDR of the second family",
            dual_only: true,
            inject: |_, doc| {
                let cidrs = &mut item(doc, "Node", "node-1")["spec"]["podCIDRs"];
                cidrs.as_array_mut().unwrap().truncate(1);
            },
            caught_by: &["node-pod-cidrs"],
        },
        Fault {
            name: "pod IP outside its node's podCIDR",
            dual_only: false,
            inject: |shape, doc| {
                let pod = item(doc, "Pod", "app-5-000005");
                let mut ips: Vec<String> = pod["status"]["podIPs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["ip"].as_str().unwrap().to_string())
                    .collect();
                ips[0] = pick(primary(shape), "10.64.2.200", "fd00:42:0:2::c8");
                let ips: Vec<&str> = ips.iter().map(String::as_str).collect();
                set_pod_ips(pod, &ips);
            },
            caught_by: &["pod-ips"],
        },
        Fault {
            name: "pod without an address of the second family",
            dual_only: true,
            inject: |_, doc| {
                let pod = item(doc, "Pod", "app-6-000006");
                pod["status"]["podIPs"].as_array_mut().unwrap().truncate(1);
            },
            caught_by: &["pod-ips"],
        },
        Fault {
            name: "duplicate pod IP",
            dual_only: false,
            inject: |_, doc| {
                let ips = item(doc, "Pod", "app-4-000004")["status"].clone();
                let pod = item(doc, "Pod", "app-8-000008");
                pod["status"]["podIP"] = ips["podIP"].clone();
                pod["status"]["podIPs"] = ips["podIPs"].clone();
            },
            caught_by: &["pod-ips-unique"],
        },
        Fault {
            name: "hostNetwork pod with an address that is not its node's",
            dual_only: false,
            inject: |shape, doc| {
                let pod = item(doc, "Pod", "kube-proxy-00002");
                pod["status"]["podIPs"][0]["ip"] =
                    json!(pick(primary(shape), "10.64.2.77", "fd00:42:0:2::77"));
            },
            caught_by: &["host-network-pods"],
        },
        Fault {
            name: "service clusterIPs and ipFamilies disagree",
            dual_only: false,
            inject: |shape, doc| {
                let service = item(doc, "Service", "svc-00003");
                service["spec"]["ipFamilies"] = json!([primary(shape).other().as_str()]);
            },
            caught_by: &["service-ip-families"],
        },
        Fault {
            name: "service ipFamilyPolicy and clusterIPs disagree",
            dual_only: true,
            inject: |_, doc| {
                let service = item(doc, "Service", "svc-00002");
                service["spec"]["ipFamilyPolicy"] = json!("SingleStack");
            },
            caught_by: &["service-ip-families"],
        },
        Fault {
            name: "service clusterIP outside the service ranges",
            dual_only: false,
            inject: |shape, doc| {
                let ip = pick(primary(shape), "10.44.0.5", "fd00:44::5");
                set_cluster_ips(item(doc, "Service", "svc-00003"), &[ip]);
            },
            caught_by: &["service-ranges"],
        },
        Fault {
            name: "kubernetes service with the wrong address",
            dual_only: false,
            inject: |shape, doc| {
                let ip = shape.service_ip(primary(shape), 2).to_string();
                set_cluster_ips(item(doc, "Service", "kubernetes"), &[ip]);
            },
            caught_by: &["kubernetes-service"],
        },
        Fault {
            name: "kube-dns with the wrong address",
            dual_only: false,
            inject: |shape, doc| {
                let service = item(doc, "Service", "kube-dns");
                let mut ips: Vec<String> = service["spec"]["clusterIPs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
                    .collect();
                ips[0] = shape.service_ip(primary(shape), 53).to_string();
                set_cluster_ips(service, &ips);
            },
            caught_by: &["kube-dns-service"],
        },
        Fault {
            name: "kube-dns single-stack where k3s makes it RequireDualStack",
            dual_only: true,
            inject: |_, doc| {
                let spec = &mut item(doc, "Service", "kube-dns")["spec"];
                spec["ipFamilyPolicy"] = json!("SingleStack");
                spec["ipFamilies"].as_array_mut().unwrap().truncate(1);
                spec["clusterIPs"].as_array_mut().unwrap().truncate(1);
            },
            caught_by: &["kube-dns-service"],
        },
        Fault {
            name: "dual-stack service missing the EndpointSlice of one family",
            dual_only: true,
            inject: |_, doc| {
                let items = doc["items"].as_array_mut().unwrap();
                items.retain(|i| i["metadata"]["name"] != "svc-00002-ipv6");
            },
            caught_by: &["endpointslice-families"],
        },
    ]
}

#[test]
fn clean_dumps_pass_with_and_without_a_plan() {
    for (name, shape) in shapes() {
        let doc = shape.list();
        let expect = plan(&shape);
        for report in [check(&doc, Some(&expect)), check(&doc, None)] {
            assert_eq!(
                report.status,
                Status::Pass,
                "{name}: {:#?}",
                report
                    .checks
                    .iter()
                    .filter(|c| !c.findings.is_empty())
                    .collect::<Vec<_>>()
            );
            assert_eq!(report.expectations.families, shape.families, "{name}");
        }
    }
}

#[test]
fn every_fault_is_caught_by_its_check() {
    for (name, shape) in shapes() {
        let expect = plan(&shape);
        for fault in faults() {
            if fault.dual_only && shape.families.len() < 2 {
                continue;
            }
            let mut doc = shape.list();
            (fault.inject)(&shape, &mut doc);
            let report = check(&doc, Some(&expect));
            let want: BTreeSet<&str> = fault.caught_by.iter().copied().collect();
            assert_eq!(
                failing(&report),
                want,
                "{name}: {}: {:#?}",
                fault.name,
                report
                    .checks
                    .iter()
                    .filter(|c| !c.findings.is_empty())
                    .collect::<Vec<_>>()
            );
            assert!(report.failed());
            // Every failure names the objects involved.
            for c in report.checks.iter().filter(|c| c.status == Status::Fail) {
                assert!(
                    c.findings
                        .iter()
                        .all(|f| f.status != Status::Fail || !f.objects.is_empty()),
                    "{name}: {}: {c:?}",
                    fault.name
                );
            }
        }
    }
}

#[test]
fn faults_the_cluster_shows_without_a_plan() {
    // Without a plan the ranges and the distribution's addresses are unknown, but duplicates,
    // overlaps, foreign hostNetwork addresses and disagreeing services still show.
    let inferable = [
        "duplicate pod IP",
        "podCIDRs overlapping another node's",
        "hostNetwork pod with an address that is not its node's",
        "service clusterIPs and ipFamilies disagree",
        "pod IP outside its node's podCIDR",
        "node missing a family's address",
    ];
    for (name, shape) in shapes() {
        for fault in faults().iter().filter(|f| inferable.contains(&f.name)) {
            let mut doc = shape.list();
            (fault.inject)(&shape, &mut doc);
            let report = check(&doc, None);
            let fails = failing(&report);
            assert!(
                fault.caught_by.iter().all(|id| fails.contains(id)),
                "{name}: {}: {fails:?}",
                fault.name
            );
        }
    }
}

#[test]
fn kube_dns_of_the_wrong_family_is_caught_without_a_plan() {
    // k0s#7294: IPv6 primary, but kube-dns kept an IPv4 address.
    let shape = Shape::dual_ipv6_first();
    let mut doc = shape.list();
    let spec = &mut item(&mut doc, "Service", "kube-dns")["spec"];
    spec["ipFamilyPolicy"] = json!("SingleStack");
    spec["ipFamilies"] = json!(["IPv4"]);
    spec["clusterIP"] = json!("10.43.0.10");
    spec["clusterIPs"] = json!(["10.43.0.10"]);
    let report = check(&doc, None);
    assert_eq!(failing(&report), BTreeSet::from(["kube-dns-service"]));
}

#[test]
fn summary_counts_per_family() {
    let shape = Shape::dual_ipv4_first();
    let mut doc = shape.list();
    let pod = item(&mut doc, "Pod", "app-6-000006");
    pod["status"]["podIPs"].as_array_mut().unwrap().truncate(1);
    let report = check(&doc, Some(&plan(&shape)));
    assert_eq!(report.summary.nodes.dual, 4);
    assert_eq!(report.summary.pods.dual, 15);
    assert_eq!(report.summary.pods.ipv4_only, 1);
    // kubernetes and svc-00003 are SingleStack; the others dual.
    assert_eq!(report.summary.services.ipv4_only, 2);
    assert_eq!(report.summary.services.dual, 4);
    let v6 = check(&Shape::ipv6().list(), None);
    assert_eq!(v6.summary.pods.ipv6_only, 16);
    assert_eq!(v6.summary.services.ipv6_only, 6);
}

#[test]
fn dumps_split_over_files_merge() {
    let shape = Shape::dual_ipv6_first();
    let items = shape.list()["items"].as_array().unwrap().clone();
    let (nodes, rest): (Vec<Value>, Vec<Value>) =
        items.into_iter().partition(|i| i["kind"] == "Node");
    let mut snapshot = dump::parse(
        serde_json::to_string(&json!({"kind": "NodeList", "apiVersion": "v1",
            "items": nodes.iter().map(|n| {
                let mut n = n.clone();
                n.as_object_mut().unwrap().remove("kind");
                n
            }).collect::<Vec<_>>()}))
        .unwrap()
        .as_bytes(),
    )
    .unwrap();
    let second = dump::parse(
        kube6_verify::synth::list(rest.clone())
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    snapshot.merge(second);
    // The same file twice does not double-count.
    snapshot.merge(dump::parse(kube6_verify::synth::list(rest).to_string().as_bytes()).unwrap());
    assert_eq!(snapshot.nodes.len(), 4);
    assert_eq!(snapshot.pods.len(), 20);
    let report = verify(&snapshot, &plan(&shape));
    assert_eq!(report.status, Status::Pass);
}

#[test]
fn a_host_network_pod_with_one_family_of_a_dual_stack_node_is_a_warning() {
    let shape = Shape::dual_ipv6_first();
    let mut doc = shape.list();
    let pod = item(&mut doc, "Pod", "kube-proxy-00001");
    pod["status"]["podIPs"].as_array_mut().unwrap().truncate(1);
    let report = check(&doc, Some(&plan(&shape)));
    assert_eq!(report.status, Status::Warn);
    let c = report.check("host-network-pods").unwrap();
    assert_eq!(c.status, Status::Warn);
    assert_eq!(
        c.findings[0].objects,
        vec!["pod/kube-system/kube-proxy-00001", "node/node-1"]
    );
}

/// ServiceCIDR objects as a 1.33+ cluster holds them: the default `kubernetes` one
/// kube-apiserver keeps from its flags (Ready, no reason), one an operator added to extend the
/// IPv6 range, and one being deleted (its finalizer holds it while addresses remain; the
/// servicecidrs controller marks it Ready=False, reason Terminating).
fn service_cidrs(default: &[String], added: &str, deleting: &str) -> Vec<Value> {
    let ready = json!([{"type": "Ready", "status": "True", "lastTransitionTime": "2026-05-01T10:00:00Z",
                        "message": "Kubernetes Service CIDR is ready", "reason": ""}]);
    vec![
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR",
               "metadata": {"name": "kubernetes", "resourceVersion": "312",
                            "finalizers": ["networking.k8s.io/service-cidr-finalizer"]},
               "spec": {"cidrs": default}, "status": {"conditions": ready}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR",
               "metadata": {"name": "extra-v6", "resourceVersion": "90211",
                            "finalizers": ["networking.k8s.io/service-cidr-finalizer"]},
               "spec": {"cidrs": [added]}, "status": {"conditions": ready}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "ServiceCIDR",
               "metadata": {"name": "old-range", "deletionTimestamp": "2026-11-20T08:00:00Z",
                            "deletionGracePeriodSeconds": 0,
                            "finalizers": ["networking.k8s.io/service-cidr-finalizer"]},
               "spec": {"cidrs": [deleting]},
               "status": {"conditions": [{"type": "Ready", "status": "False",
                   "lastTransitionTime": "2026-11-20T08:00:00Z", "reason": "Terminating",
                   "message": "There are still IPAddresses referencing the ServiceCIDR, please remove them or create a new ServiceCIDR"}]}}),
    ]
}

/// A Service whose address comes from a ServiceCIDR the operator added (or one still being
/// deleted) is inside the cluster's service ranges; without those objects it is not, and the
/// default ServiceCIDR alone adds nothing beyond the configured range.
#[test]
fn service_addresses_from_added_service_cidrs_are_inside_the_ranges() {
    let shape = Shape::ipv6();
    let expect = plan(&shape);
    let default: Vec<String> = expect
        .service_ranges
        .iter()
        .map(|r| r.to_string())
        .collect();
    let mut doc = shape.list();
    set_cluster_ips(
        item(&mut doc, "Service", "svc-00003"),
        &["fd00:44::5".to_string()],
    );
    set_cluster_ips(
        item(&mut doc, "Service", "svc-00004"),
        &["fd00:55::7".to_string()],
    );
    assert!(failing(&check(&doc, Some(&expect))).contains("service-ranges"));

    let only_default = {
        let mut doc = doc.clone();
        let items = doc["items"].as_array_mut().unwrap();
        items.push(service_cidrs(&default, "fd00:44::/112", "fd00:55::/112")[0].clone());
        doc
    };
    let report = check(&only_default, Some(&expect));
    assert!(failing(&report).contains("service-ranges"));

    let items = doc["items"].as_array_mut().unwrap();
    items.extend(service_cidrs(&default, "fd00:44::/112", "fd00:55::/112"));
    let report = check(&doc, Some(&expect));
    assert!(!failing(&report).contains("service-ranges"), "{report:#?}");
    assert_eq!(report.objects.service_cidrs, 3);
}
