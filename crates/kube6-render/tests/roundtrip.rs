//! Round trips: convert every layout and every example to each format, read the result back
//! with kube6's importers, and get the same plan (families, ranges, node masks, DNS IPs,
//! cluster domain), valid for the target's distribution.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use kube6_model::import::ImportOptions;
use kube6_model::model::{FeatureGate, Format};
use kube6_model::plan::Plan;
use kube6_model::source::{Located, Origin};
use kube6_render::{KubeadmApi, RenderError, convert};

const FORMATS: [Format; 6] = [
    Format::Kubeadm,
    Format::K3s,
    Format::Rke2,
    Format::K0s,
    Format::Kkp,
    Format::Kube6,
];

fn gate() -> Vec<FeatureGate> {
    vec![FeatureGate {
        name: Located::new(
            "IPv6SingleStack".to_string(),
            Origin::input("--feature-gates", None),
        ),
        enabled: Located::new(true, Origin::input("--feature-gates", None)),
    }]
}

fn summary(plan: &Plan) -> String {
    let pods: Vec<String> = plan
        .pods
        .iter()
        .map(|p| format!("{}/{:?}", p.cidr, p.node_mask_size))
        .collect();
    let services: Vec<String> = plan.services.iter().map(|s| s.cidr.to_string()).collect();
    format!(
        "families={:?} pods={pods:?} services={services:?} dns={:?} domain={}",
        plan.families, plan.dns_ips, plan.cluster_domain
    )
}

/// Converts `text` to every format and checks what comes back; returns how many round trips ran.
fn round_trip(name: &str, text: &str, api: KubeadmApi) -> usize {
    let options = ImportOptions {
        feature_gates: gate(),
        ..ImportOptions::default()
    };
    let source = kube6_model::analyze(name, text, &options).unwrap();
    assert!(source.plan.valid, "{name}: {:#?}", source.plan.diagnostics);
    let mut ran = 0;
    for to in FORMATS {
        let converted = match convert(&source.network, &source.plan, to, api) {
            Ok(c) => c,
            Err(RenderError::Unsupported { .. }) => continue,
            Err(e) => panic!("{name} -> {to}: {e}"),
        };
        let text: String = converted
            .files
            .iter()
            .map(|f| f.content.as_str())
            .collect::<Vec<_>>()
            .join("---\n");
        let back = kube6_model::analyze(
            "converted",
            &text,
            &ImportOptions {
                format: Some(to),
                feature_gates: gate(),
                ..ImportOptions::default()
            },
        )
        .unwrap_or_else(|e| panic!("{name} -> {to} does not read back: {e}\n{text}"));
        let mut expected = source.plan.clone();
        if converted
            .notes
            .iter()
            .any(|n| n.contains("one DNS address"))
        {
            // k0s and KKP give the kubelet one DNS address; the renderer says so in a note.
            expected.dns_ips.truncate(1);
        }
        assert_eq!(
            summary(&back.plan),
            summary(&expected),
            "{name} -> {to} changed the plan:\n{text}"
        );
        let errors: Vec<_> = back
            .plan
            .diagnostics
            .iter()
            .filter(|d| d.severity == kube6_model::diagnostic::Severity::Error)
            .collect();
        assert!(
            errors.is_empty(),
            "{name} -> {to} is not valid: {errors:#?}\n{text}"
        );
        let blocks: Vec<_> = back
            .plan
            .pods
            .iter()
            .map(|p| &p.first_node_blocks)
            .collect();
        let expected: Vec<_> = source
            .plan
            .pods
            .iter()
            .map(|p| &p.first_node_blocks)
            .collect();
        assert_eq!(blocks, expected, "{name} -> {to}: node blocks differ");
        ran += 1;
    }
    ran
}

#[test]
fn layouts_round_trip_through_every_format() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts");
    let mut ran = 0;
    for layout in ["ipv4", "ipv6", "dual-ipv4-first", "dual-ipv6-first"] {
        let text = std::fs::read_to_string(dir.join(format!("{layout}.yaml"))).unwrap();
        ran += round_trip(layout, &text, KubeadmApi::V1beta4);
        ran += round_trip(layout, &text, KubeadmApi::V1beta3);
    }
    assert!(ran >= 30, "only {ran} round trips ran");
}

#[test]
fn examples_round_trip_through_every_format() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut ran = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        ran += round_trip(&path.display().to_string(), &text, KubeadmApi::V1beta4);
    }
    assert!(ran >= 40, "only {ran} round trips ran");
}

#[test]
fn refusals_say_why() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts");
    let text = std::fs::read_to_string(dir.join("ipv6.yaml")).unwrap();
    let a = kube6_model::analyze("ipv6.yaml", &text, &ImportOptions::default()).unwrap();
    let err = convert(&a.network, &a.plan, Format::Kkp, KubeadmApi::V1beta4).unwrap_err();
    assert!(err.to_string().contains("IPv6-only"), "{err}");
    let text = std::fs::read_to_string(dir.join("dual-ipv6-first.yaml")).unwrap();
    let a = kube6_model::analyze("x.yaml", &text, &ImportOptions::default()).unwrap();
    let err = convert(&a.network, &a.plan, Format::Kkp, KubeadmApi::V1beta4).unwrap_err();
    assert!(err.to_string().contains("primary family"), "{err}");
    // k0s before v1.36.1 cannot run kube-router IPv6-first (k0sproject/k0s#7321); later it can.
    let old = text.replace("name: calico", "name: kube-router").replace(
        "distribution: kubeadm",
        "distribution: {name: k0s, version: v1.35.7+k0s.0}",
    );
    let a = kube6_model::analyze("x.yaml", &old, &ImportOptions::default()).unwrap();
    let err = convert(&a.network, &a.plan, Format::K0s, KubeadmApi::V1beta4).unwrap_err();
    assert!(err.to_string().contains("#7321"), "{err}");
    let new = old.replace("v1.35.7+k0s.0", "v1.36.1+k0s.0");
    let a = kube6_model::analyze("x.yaml", &new, &ImportOptions::default()).unwrap();
    assert!(convert(&a.network, &a.plan, Format::K0s, KubeadmApi::V1beta4).is_ok());
}

/// The semantic round trip: every CNI configuration render writes, for every layout, target
/// and CNI, read back next to the cluster and judged by the same rules as any input. No rule
/// may find an error; the only warning allowed is masquerading a routed family where the CNI
/// has one switch for both families, which render says in a note.
#[test]
fn rendered_cni_configuration_reads_back_valid() {
    use kube6_model::diagnostic::Severity;
    use kube6_model::model::Cni;
    use kube6_render::{Request, Target, read_back, render};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layouts");
    let mut judged = 0;
    let mut failures = Vec::new();
    for layout in [
        "ipv4",
        "ipv6",
        "dual-ipv4-first",
        "dual-ipv6-first",
        "ipv6-ha",
        "ipv6-nat64",
    ] {
        let text = std::fs::read_to_string(dir.join(format!("{layout}.yaml"))).unwrap();
        let a = kube6_model::analyze("layout.yaml", &text, &ImportOptions::default()).unwrap();
        for &target in Target::ALL {
            for cni in [
                Cni::Calico,
                Cni::Cilium,
                Cni::Flannel,
                Cni::KubeRouter,
                Cni::Canal,
            ] {
                let request = Request {
                    target,
                    cni: Some(cni),
                    kubeadm_api: KubeadmApi::V1beta4,
                    kube6_image: None,
                };
                let Ok(rendered) = render(&a.network, &a.plan, &request) else {
                    continue;
                };
                let Some((text, back)) = read_back(&a.network, &a.plan, &request, &rendered)
                    .unwrap_or_else(|e| panic!("{layout} {target} {cni}: {e:?}"))
                else {
                    continue;
                };
                judged += 1;
                let noted = rendered
                    .notes
                    .iter()
                    .any(|n| n.contains("masquerades every family"));
                for d in back.diagnostics() {
                    let bad = d.severity == Severity::Error
                        || (d.id.starts_with("K6W2") && !(d.id == "K6W217" && noted));
                    if bad {
                        failures.push(format!(
                            "{layout} {target} {cni}: {} {} at {}:{:?}\n{text}",
                            d.id, d.message, d.path, d.line
                        ));
                    }
                }
                assert_eq!(
                    back.plan.families, a.plan.families,
                    "{layout} {target} {cni}"
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(judged >= 60, "only {judged} read-backs ran");
}
