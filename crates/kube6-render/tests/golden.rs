//! Golden files for every target × layout (IPv4, IPv6, dual-stack IPv4-first, dual-stack
//! IPv6-first), every CNI × layout, and kubeadm v1beta3. Each golden holds the rendered files
//! (path, mode, content) and the notes, or the refusal. `UPDATE_GOLDEN=1` rewrites them;
//! review the diff like code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use kube6_model::import::ImportOptions;
use kube6_model::model::Cni;
use kube6_render::{KubeadmApi, Request, Target, render};

const LAYOUTS: [&str; 6] = [
    "ipv4",
    "ipv6",
    "dual-ipv4-first",
    "dual-ipv6-first",
    "ipv6-ha",
    "ipv6-nat64",
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn analyze(layout: &str) -> kube6_model::Analysis {
    let path = dir().join("layouts").join(format!("{layout}.yaml"));
    let text = std::fs::read_to_string(&path).unwrap();
    let analysis =
        kube6_model::analyze(&format!("{layout}.yaml"), &text, &ImportOptions::default()).unwrap();
    assert!(
        analysis.plan.valid,
        "{layout}: {:#?}",
        analysis.plan.diagnostics
    );
    analysis
}

fn show(
    result: Result<kube6_render::Rendered, kube6_render::RenderError>,
    only: Option<&str>,
) -> String {
    match result {
        Err(e) => format!("refused: {e}\n"),
        Ok(r) => {
            let mut s = String::new();
            for note in &r.notes {
                s.push_str(&format!("note: {note}\n"));
            }
            for f in r
                .files
                .iter()
                .filter(|f| only.is_none_or(|p| f.path.starts_with(p)))
            {
                s.push_str(&format!(
                    "\n==> {} (mode {:04o}) <==\n{}",
                    f.path, f.mode, f.content
                ));
            }
            s
        }
    }
}

fn check(name: &str, actual: &str) {
    let path = dir().join("golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden {}; run with UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from its golden file; if the change is intended, run with UPDATE_GOLDEN=1 and review the diff\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

#[test]
fn every_target_and_layout() {
    for layout in LAYOUTS {
        let a = analyze(layout);
        for &target in Target::ALL {
            let request = Request {
                target,
                cni: None,
                kubeadm_api: KubeadmApi::V1beta4,
                kube6_image: None,
            };
            let out = show(render(&a.network, &a.plan, &request), None);
            check(&format!("{target}/{layout}.txt"), &out);
        }
    }
}

#[test]
fn every_cni_and_layout() {
    for layout in LAYOUTS {
        let a = analyze(layout);
        for cni in [
            Cni::Calico,
            Cni::Cilium,
            Cni::Flannel,
            Cni::KubeRouter,
            Cni::Canal,
        ] {
            let request = Request {
                target: Target::Kubeadm,
                cni: Some(cni),
                kubeadm_api: KubeadmApi::V1beta4,
                kube6_image: None,
            };
            let out = show(render(&a.network, &a.plan, &request), Some("cni/"));
            check(&format!("cni/{cni}/{layout}.txt"), &out);
        }
    }
}

#[test]
fn kubeadm_v1beta3() {
    for layout in ["ipv6", "dual-ipv6-first"] {
        let a = analyze(layout);
        let request = Request {
            target: Target::Kubeadm,
            cni: None,
            kubeadm_api: KubeadmApi::V1beta3,
            kube6_image: None,
        };
        let out = show(render(&a.network, &a.plan, &request), Some("kubeadm/"));
        check(&format!("kubeadm-v1beta3/{layout}.txt"), &out);
    }
}

#[test]
fn k3s_flannel_with_ula_pods_masquerades_ipv6() {
    let a = analyze("dual-ipv4-first");
    let request = Request {
        target: Target::K3s,
        cni: Some(Cni::Flannel),
        kubeadm_api: KubeadmApi::V1beta4,
        kube6_image: None,
    };
    let out = show(render(&a.network, &a.plan, &request), Some("k3s/"));
    assert!(out.contains("flannel-ipv6-masq: true"), "{out}");
    check("k3s-flannel/dual-ipv4-first.txt", &out);
}

#[test]
fn every_example_for_its_own_distribution() {
    let examples = dir().join("../../../examples");
    let options = ImportOptions {
        feature_gates: vec![kube6_model::model::FeatureGate {
            name: kube6_model::source::Located::new(
                "IPv6SingleStack".to_string(),
                kube6_model::source::Origin::input("--feature-gates", None),
            ),
            enabled: kube6_model::source::Located::new(
                true,
                kube6_model::source::Origin::input("--feature-gates", None),
            ),
        }],
        ..ImportOptions::default()
    };
    let mut names: Vec<PathBuf> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    names.sort();
    for path in names {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let a = kube6_model::analyze(&name, &text, &options).unwrap();
        let target = kube6_render::target_of(a.plan.source.format)
            .or_else(|| {
                Target::ALL
                    .iter()
                    .copied()
                    .find(|t| t.distribution() == a.plan.distribution)
            })
            .unwrap();
        let request = Request {
            target,
            cni: None,
            kubeadm_api: KubeadmApi::V1beta4,
            kube6_image: None,
        };
        let out = show(render(&a.network, &a.plan, &request), None);
        check(&format!("examples/{name}.txt"), &out);
    }
}

#[test]
fn rke2_helm_chart_config_values_parse() {
    for (layout, cni, chart) in [
        ("dual-ipv4-first", Cni::Cilium, "rke2-cilium"),
        ("dual-ipv6-first", Cni::Calico, "rke2-calico"),
    ] {
        let a = analyze(layout);
        let request = Request {
            target: Target::Rke2,
            cni: Some(cni),
            kubeadm_api: KubeadmApi::V1beta4,
            kube6_image: None,
        };
        let out = render(&a.network, &a.plan, &request).unwrap();
        let file = out
            .files
            .iter()
            .find(|f| f.path == format!("rke2/server-manifests/{chart}-config.yaml"))
            .unwrap();
        let doc: serde_json::Value = serde_saphyr::from_str(&file.content).unwrap();
        assert_eq!(doc["metadata"]["name"], chart);
        let values: serde_json::Value =
            serde_saphyr::from_str(doc["spec"]["valuesContent"].as_str().unwrap()).unwrap();
        match cni {
            Cni::Cilium => assert_eq!(values["ipv6"]["enabled"], true),
            _ => assert_eq!(values["installation"]["calicoNetwork"]["bgp"], "Enabled"),
        }
        assert!(
            !out.files
                .iter()
                .any(|f| f.path.starts_with("cni/") && !f.path.ends_with("bgp.yaml"))
        );
    }
}

#[test]
fn rke2_canal_is_configured_through_its_chart() {
    for layout in ["ipv6", "dual-ipv6-first"] {
        let a = analyze(layout);
        let request = Request {
            target: Target::Rke2,
            cni: Some(Cni::Canal),
            kubeadm_api: KubeadmApi::V1beta4,
            kube6_image: None,
        };
        let rendered = render(&a.network, &a.plan, &request).unwrap();
        // RKE2's rke2-canal chart writes Canal's files itself: no raw cni/ files to be overwritten.
        assert!(
            !rendered.files.iter().any(|f| f.path.starts_with("cni/")),
            "{layout}: {:?}",
            rendered.files.iter().map(|f| &f.path).collect::<Vec<_>>()
        );
        let out = show(Ok(rendered), Some("rke2/server-manifests/"));
        assert!(out.contains("name: rke2-canal"), "{out}");
        check(&format!("rke2-canal/{layout}.txt"), &out);
    }
}
