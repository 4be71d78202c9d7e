//! K6V013 against dumps shaped like `kubectl get ... -A -o yaml` of real clusters
//! (tests/lb/*.yaml): every Service is judged by what the controller that serves it really does,
//! so a healthy cluster passes and each broken Service is named.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube6_model::analyze;
use kube6_model::import::ImportOptions;
use kube6_verify::{Check, Expectations, Status, dump, verify};

const PLAN: &str = include_str!("../../../examples/kube6-dual-stack-metallb.yaml");

fn k6v013(dump_text: &str, plan: Option<&str>) -> Check {
    let snapshot = dump::parse(dump_text.as_bytes()).unwrap();
    let expect = match plan {
        Some(text) => {
            let analysis = analyze("plan.yaml", text, &ImportOptions::default()).unwrap();
            assert!(analysis.plan.valid, "{:?}", analysis.plan.diagnostics);
            Expectations::from_analysis(&analysis)
        }
        None => Expectations::infer(&snapshot, None),
    };
    let report = verify(&snapshot, &expect);
    report
        .checks
        .into_iter()
        .find(|c| c.id == "K6V013")
        .unwrap()
}

/// The findings of `service` (`NAMESPACE/NAME`) as (status, message).
fn findings<'a>(check: &'a Check, service: &str) -> Vec<(Status, &'a str)> {
    let object = format!("service/{service}");
    check
        .findings
        .iter()
        .filter(|f| f.objects.contains(&object))
        .map(|f| (f.status, f.message.as_str()))
        .collect()
}

fn noted(check: &Check, service: &str, what: &str) -> bool {
    check
        .notes
        .iter()
        .any(|n| n.contains(&format!("service/{service}")) && n.contains(what))
}

#[test]
fn a_healthy_metallb_cluster_passes_with_and_without_a_plan() {
    let text = include_str!("lb/metallb-healthy.yaml");
    for plan in [Some(PLAN), None] {
        let check = k6v013(text, plan);
        assert_eq!(check.status, Status::Pass, "{check:#?}");
        assert_eq!(check.checked, 6);
        // PreferDualStack with one family: MetalLB's allocator gives what a pool has free.
        assert!(
            noted(&check, "default/web", "PreferDualStack"),
            "{check:#?}"
        );
        assert!(noted(
            &check,
            "tailscale/ts-admin",
            "loadBalancerClass tailscale"
        ));
        assert!(noted(&check, "edge/partner-api", "loadBalancerClass"));
    }
}

#[test]
fn pending_by_the_pools_service_allocation_is_a_warning() {
    let check = k6v013(
        include_str!("lb/metallb-service-allocation.yaml"),
        Some(PLAN),
    );
    assert_eq!(check.status, Status::Warn, "{check:#?}");
    assert!(findings(&check, "team-a/shop").is_empty());
    let reports = findings(&check, "team-b/reports");
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].0, Status::Warn);
    assert!(
        reports[0]
            .1
            .contains("no pool assigns addresses to its namespace")
    );
    assert!(
        reports[0]
            .1
            .contains("IPAddressPool public: namespaces team-a")
    );
    assert!(
        reports[0]
            .1
            .contains("IPAddressPool reserved: autoAssign: false")
    );
}

#[test]
fn pools_selecting_by_label_leave_a_pending_service_unjudged_but_warned() {
    let text = include_str!("lb/metallb-service-allocation.yaml").replace(
        "      namespaces:\n      - team-a\n",
        "      namespaceSelectors:\n      - matchLabels:\n          tier: public\n",
    );
    let check = k6v013(&text, Some(PLAN));
    let reports = findings(&check, "team-b/reports");
    assert_eq!(reports.len(), 1, "{check:#?}");
    assert_eq!(reports[0].0, Status::Warn);
    assert!(
        reports[0]
            .1
            .contains("select namespaces or Services by label")
    );
}

#[test]
fn broken_services_fail_and_are_named() {
    let check = k6v013(include_str!("lb/metallb-broken.yaml"), Some(PLAN));
    assert_eq!(check.status, Status::Fail);
    let api = findings(&check, "default/api");
    assert!(
        api.iter().any(|(s, m)| *s == Status::Fail
            && m.contains("asks for IPv4 (RequireDualStack) but has no IPv4")),
        "{api:?}"
    );
    let queue = findings(&check, "default/queue");
    assert_eq!(queue.len(), 1);
    assert_eq!(
        queue[0],
        (Status::Fail, "has no load-balancer address: it is pending")
    );
    let legacy = findings(&check, "default/legacy");
    assert!(
        legacy[0]
            .1
            .contains("metallb.universe.tf/loadBalancerIPs=2001:db8:77::1")
            && legacy[0].1.contains("which no planned pool holds"),
        "{legacy:?}"
    );
    let stray = findings(&check, "default/stray");
    assert!(
        stray[0].1.contains("outside the planned pools"),
        "{stray:?}"
    );
    // Another controller's class: not judged, even when pending.
    assert!(findings(&check, "default/leftover").is_empty());
    assert!(noted(&check, "default/leftover", "MetalLB does not serve"));
}

#[test]
fn cilium_serves_its_own_classes() {
    let plan = PLAN
        .replace("implementation: metallb", "implementation: cilium")
        .replace("    version: v0.16.1\n", "")
        .replace(
            "    name: calico\n    version: v3.30.2\n    calico:\n      mode: bird",
            "    name: cilium\n    version: 1.19.6",
        );
    let check = k6v013(include_str!("lb/metallb-broken.yaml"), Some(&plan));
    // io.cilium/l2-announcer is Cilium's: the pending Service is judged now.
    let leftover = findings(&check, "default/leftover");
    assert_eq!(leftover.len(), 1, "{check:#?}");
    assert_eq!(leftover[0].0, Status::Fail);
}

/// kube-vip announces whatever address a Service asks for; MetalLB only pool addresses.
#[test]
fn an_asked_for_address_outside_the_pools_is_kube_vips_choice() {
    let text = include_str!("lb/metallb-healthy.yaml").replace(
        "loadBalancerIP: 192.0.2.70\n",
        "loadBalancerIP: 203.0.113.70\n",
    );
    let text = text.replace("- ip: 192.0.2.70\n", "- ip: 203.0.113.70\n");
    let metallb = k6v013(&text, Some(PLAN));
    assert!(
        findings(&metallb, "infra/dns-udp")
            .iter()
            .any(|(s, m)| *s == Status::Fail && m.contains("outside the planned pools")),
        "{metallb:#?}"
    );
    let kube_vip_plan = PLAN
        .replace("implementation: metallb", "implementation: kube-vip")
        .replace("    version: v0.16.1\n", "");
    let kube_vip = k6v013(&text, Some(&kube_vip_plan));
    assert!(
        findings(&kube_vip, "infra/dns-udp").is_empty(),
        "{kube_vip:#?}"
    );
    // Not judged, but said: kube-vip-cloud-provider writes its own allocations into the same
    // fields, so the address may come from a ConfigMap that drifted from the plan.
    assert!(
        kube_vip
            .notes
            .iter()
            .any(|n| n.contains("service/infra/dns-udp") && n.contains("203.0.113.70")),
        "{kube_vip:#?}"
    );
}

/// A pending Service whose only Cilium pool selects Services by label, or is disabled.
#[test]
fn cilium_pools_that_select_or_are_disabled() {
    let pool = |spec: &str| {
        format!(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: cilium.io/v2\n  kind: CiliumLoadBalancerIPPool\n  metadata:\n    name: public\n  spec:\n    blocks:\n    - cidr: 2001:db8:5::ff00/120\n{spec}- apiVersion: v1\n  kind: Service\n  metadata:\n    name: app\n    namespace: shop\n  spec:\n    clusterIP: fd00:20::7\n    clusterIPs: [fd00:20::7]\n    ipFamilies: [IPv6]\n    ipFamilyPolicy: SingleStack\n    ports: [{{port: 80, protocol: TCP, nodePort: 30080}}]\n    type: LoadBalancer\n  status:\n    loadBalancer: {{}}\n"
        )
    };
    let plan = PLAN
        .replace("implementation: metallb", "implementation: cilium")
        .replace("    version: v0.16.1\n", "")
        .replace(
            "    name: calico\n    version: v3.30.2\n    calico:\n      mode: bird",
            "    name: cilium\n    version: 1.19.6",
        );
    let selecting = k6v013(
        &pool("    serviceSelector:\n      matchLabels:\n        color: blue\n"),
        Some(&plan),
    );
    let app = findings(&selecting, "shop/app");
    assert_eq!(app.len(), 1, "{selecting:#?}");
    assert_eq!(app[0].0, Status::Warn);
    let disabled = k6v013(&pool("    disabled: true\n"), Some(&plan));
    let app = findings(&disabled, "shop/app");
    assert_eq!(app[0].0, Status::Warn, "{disabled:#?}");
    assert!(
        app[0]
            .1
            .contains("CiliumLoadBalancerIPPool public: disabled")
    );
    let open = k6v013(&pool(""), Some(&plan));
    assert_eq!(findings(&open, "shop/app")[0].0, Status::Fail);
}

/// The pools reach K6V013 however the dump is given: as a JSON List (`kubectl ... -o json`, read
/// by the streaming reader) and split over two files (merged), not only as one YAML document.
#[test]
fn pools_are_kept_from_json_lists_and_merged_dumps() {
    let yaml = include_str!("lb/metallb-service-allocation.yaml");
    let value: serde_json::Value = serde_saphyr::from_str(yaml).unwrap();
    let json = serde_json::to_vec_pretty(&value).unwrap();
    let from_json = kube6_verify::read_dump_bytes("dump.json", &json).unwrap();
    assert_eq!(from_json.lb_pools.len(), 2, "{:?}", from_json.lb_pools);

    // The pools in one file, the Services in another.
    let items = value["items"].as_array().unwrap();
    let list = |pools: bool| {
        let part: Vec<&serde_json::Value> = items
            .iter()
            .filter(|i| (i["kind"] == "IPAddressPool") == pools)
            .collect();
        serde_json::to_vec(&serde_json::json!({"apiVersion": "v1", "kind": "List", "items": part}))
            .unwrap()
    };
    let mut merged = kube6_verify::read_dump_bytes("services.json", &list(false)).unwrap();
    merged.merge(kube6_verify::read_dump_bytes("pools.json", &list(true)).unwrap());
    assert_eq!(merged.lb_pools.len(), 2, "{:?}", merged.lb_pools);

    let analysis = analyze("plan.yaml", PLAN, &ImportOptions::default()).unwrap();
    let expect = Expectations::from_analysis(&analysis);
    for snapshot in [from_json, merged] {
        let check = verify(&snapshot, &expect)
            .checks
            .into_iter()
            .find(|c| c.id == "K6V013")
            .unwrap();
        // Pending by the pools' own settings: a warning, not a failure.
        assert_eq!(check.status, Status::Warn, "{check:#?}");
    }
}
