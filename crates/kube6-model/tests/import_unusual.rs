//! Unusual input the real components take or refuse, read the way they read it: documents
//! without apiVersion/kind (with --format), unknown versions of known groups, kinds repeated in
//! one kubeadm file, numbers in k0s's string maps, k3s command lines as guides write them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kube6_model::import::{ImportError, ImportOptions, import};
use kube6_model::model::{Format, Role};

fn read(text: &str, format: Option<Format>) -> Result<kube6_model::import::Imported, ImportError> {
    import(
        text,
        &ImportOptions {
            format,
            ..ImportOptions::default()
        },
    )
}

fn refused(text: &str, format: Option<Format>) -> (String, Option<(u32, u32)>) {
    match read(text, format) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => (e.to_string(), e.pos().map(|p| (p.line, p.column))),
    }
}

#[test]
fn format_overrides_detection_for_documents_without_apiversion_and_kind() {
    let k0s = "spec:\n  network:\n    podCIDR: 10.244.0.0/16\n    serviceCIDR: 10.96.0.0/12\n";
    let (message, _) = refused(k0s, None);
    assert!(message.contains("--format"), "{message}");
    let net = read(k0s, Some(Format::K0s)).unwrap().network;
    assert_eq!(net.format, Format::K0s);
    assert_eq!(net.pods[0].value.text, "10.244.0.0/16");

    let kube6 = "spec:\n  distribution: k3s\n  pods: [fd00:10::/56]\n  services: [fd00:20::/112]\n";
    let net = read(kube6, Some(Format::Kube6)).unwrap().network;
    assert_eq!(net.format, Format::Kube6);

    let kkp = "spec:\n  clusterNetwork:\n    pods:\n      cidrBlocks: [10.244.0.0/16]\n    services:\n      cidrBlocks: [10.96.0.0/12]\n";
    assert_eq!(
        read(kkp, Some(Format::Kkp)).unwrap().network.format,
        Format::Kkp
    );

    // kubeadm tells its documents apart by kind, and refuses one without.
    let (message, _) = refused(
        "networking:\n  podSubnet: fd00::/56\n",
        Some(Format::Kubeadm),
    );
    assert!(message.contains("apiVersion and kind"), "{message}");
}

#[test]
fn unknown_versions_of_known_groups_are_refused() {
    for (text, want) in [
        (
            "apiVersion: k0s.k0sproject.io/v9\nkind: ClusterConfig\n",
            "k0s reads k0s.k0sproject.io/v1beta1",
        ),
        (
            "apiVersion: kube6.dev/v9\nkind: ClusterNetwork\nspec: {}\n",
            "kube6 reads kube6.dev/v1alpha1",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta2\nkind: ClusterConfiguration\n",
            "kubeadm reads kubeadm.k8s.io/v1beta3 or kubeadm.k8s.io/v1beta4",
        ),
        (
            "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n---\napiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n",
            "kubelet.config.k8s.io/v1beta1",
        ),
        (
            "apiVersion: kubermatic.k8c.io/v2\nkind: Cluster\n",
            "kubermatic.k8c.io/v1",
        ),
        (
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: k3s\n---\napiVersion: projectcalico.org/v2\nkind: IPPool\n",
            "projectcalico.org/v3",
        ),
    ] {
        let (message, pos) = refused(text, None);
        assert!(message.contains(want), "{message}");
        assert!(message.contains("is not a version of"), "{message}");
        assert!(pos.is_some(), "{message}");
    }
    // A kind the group does not have.
    let (message, _) = refused("apiVersion: kubeadm.k8s.io/v1beta4\nkind: Cluster\n", None);
    assert!(message.contains("ClusterConfiguration"), "{message}");
}

#[test]
fn kubeadm_refuses_a_kind_given_twice() {
    let twice = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: fd00::/56\n\
                 ---\napiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: fd01::/56\n";
    let (message, pos) = refused(twice, None);
    assert!(
        message.contains("kind ClusterConfiguration is specified twice (documents 1 and 2)"),
        "{message}"
    );
    assert_eq!(pos, Some((7, 7)));
    let kubelet_twice = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n\
                         ---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
                         ---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
    let (message, _) = refused(kubelet_twice, None);
    assert!(
        message.contains("KubeletConfiguration is specified twice"),
        "{message}"
    );
    // Init and Cluster once each, plus Calico pools (several are fine): read.
    let fine = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\n\
                ---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n\
                ---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: a\nspec:\n  cidr: fd00::/56\n\
                ---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: b\nspec:\n  cidr: 10.244.0.0/16\n";
    assert!(read(fine, None).is_ok());
}

#[test]
fn k0s_string_maps_take_strings_only() {
    let k0s = |args: &str| {
        format!(
            "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  controllerManager:\n    extraArgs:\n{args}"
        )
    };
    for value in ["120", "true", "1.5", "99999999999999999999999"] {
        let (message, pos) = refused(
            &k0s(&format!("      node-cidr-mask-size-ipv6: {value}\n")),
            None,
        );
        assert!(
            message.contains("k0s reads extraArgs as strings"),
            "{message}"
        );
        assert!(
            message.contains(&format!("quote it: \"{value}\"")),
            "{message}"
        );
        assert_eq!(pos, Some((6, 33)), "{message}");
    }
    assert!(read(&k0s("      node-cidr-mask-size-ipv6: \"120\"\n"), None).is_ok());
    // Every string map of the CRD, also those kube6 does not otherwise read.
    let scheduler = "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nspec:\n  network:\n    calico:\n      envVars:\n        FELIX_IPV6SUPPORT: true\n";
    let (message, _) = refused(scheduler, None);
    assert!(message.contains("envVars"), "{message}");
}

#[test]
fn k3s_command_lines_as_guides_write_them() {
    let plain =
        "server --node-ip 2001:db8::1 --cluster-cidr fd00:42::/56 --service-cidr fd00:43::/112\n";
    let want = read(plain, None).unwrap().network;
    // CRLF line ends and continuation lines, and a byte-order mark, as the YAML reader takes them.
    let crlf = "server \\\r\n  --node-ip 2001:db8::1 \\\r\n  --cluster-cidr fd00:42::/56 \\\r\n  --service-cidr fd00:43::/112\r\n";
    for text in [crlf, &format!("\u{feff}{plain}")] {
        for format in [None, Some(Format::K3sArgs)] {
            let net = read(text, format).unwrap().network;
            assert_eq!(
                net.pods,
                want.pods
                    .iter()
                    .map(|p| {
                        let mut p = p.clone();
                        p.origin = net.pods[0].origin.clone();
                        p
                    })
                    .collect::<Vec<_>>()
            );
            assert_eq!(net.services[0].value.text, "fd00:43::/112");
        }
    }
    // The install script's line, with arguments after `sh -s -` too.
    let install = "curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC=\"server --node-ip 2001:db8::1 --cluster-cidr fd00:42::/56\" sh -s - --service-cidr fd00:43::/112\n";
    let imported = read(install, None).unwrap();
    let net = imported.network;
    assert_eq!(net.format, Format::K3sArgs);
    assert_eq!(net.pods[0].value.text, "fd00:42::/56");
    assert_eq!(net.services[0].value.text, "fd00:43::/112");
    // Positions point into the line.
    let pos = net.pods[0].origin.pos().unwrap();
    assert_eq!((pos.line, pos.column), (1, 94));
    // K3S_URL makes the install script start an agent.
    let agent = "curl -sfL https://get.k3s.io | K3S_URL=https://[2001:db8::10]:6443 K3S_TOKEN=t INSTALL_K3S_EXEC=\"--node-ip 2001:db8::11\" sh -\n";
    let net = read(agent, None).unwrap().network;
    assert_eq!(net.nodes[0].role.as_ref().unwrap().value, Role::Worker);
    // The guide's placeholder is named as one.
    let seed = "curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC=\"server --node-ip (Your host public ip) --cluster-cidr 2001:c0c0:42:0::/56\" sh -s -\n";
    let (message, pos) = refused(seed, None);
    assert!(message.contains("placeholder"), "{message}");
    assert_eq!(pos, Some((1, 67)));
}
