//! The container registries each distribution and CNI pulls its images from by default: what
//! `kube6 host check --registry` looks at when none is named. Whether a registry has AAAA records
//! is not a fact kept here: host check asks DNS on the node, because it changes.

use crate::model::{Cni, Distribution};

/// One registry and the images that come from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryUse {
    /// The registry's host name as image references spell it.
    pub registry: &'static str,
    /// Image repositories pulled from it (without tags).
    pub images: &'static [&'static str],
    /// Where upstream names them (repository and path).
    pub source: &'static str,
}

/// The port image pulls use (HTTPS).
pub const REGISTRY_PORT: u16 = 443;

/// Docker Hub's registry API is served from this name; `docker.io/...` references resolve to it
/// (containerd's default host for docker.io, containerd/containerd
/// core/remotes/docker/config/hosts.go).
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

/// The host a client connects to for `registry`.
pub fn api_host(registry: &str) -> &str {
    if registry == "docker.io" {
        DOCKER_HUB_API_HOST
    } else {
        registry
    }
}

/// The distribution's own images.
pub fn distribution(distribution: Distribution) -> &'static [RegistryUse] {
    match distribution {
        // kubernetes/kubernetes cmd/kubeadm/app/constants/constants.go DefaultImageRepository.
        Distribution::Kubeadm => &[RegistryUse {
            registry: "registry.k8s.io",
            images: &[
                "registry.k8s.io/kube-apiserver",
                "registry.k8s.io/kube-controller-manager",
                "registry.k8s.io/kube-scheduler",
                "registry.k8s.io/kube-proxy",
                "registry.k8s.io/etcd",
                "registry.k8s.io/coredns/coredns",
                "registry.k8s.io/pause",
            ],
            source: "kubernetes/kubernetes cmd/kubeadm/app/constants/constants.go",
        }],
        // k0sproject/k0s pkg/constant/constant.go (*Image constants).
        Distribution::K0s => &[RegistryUse {
            registry: "quay.io",
            images: &[
                "quay.io/k0sproject/pause",
                "quay.io/k0sproject/kube-proxy",
                "quay.io/k0sproject/coredns",
                "quay.io/k0sproject/metrics-server",
                "quay.io/k0sproject/apiserver-network-proxy-agent",
                "quay.io/k0sproject/envoy-distroless",
                "quay.io/k0sproject/kube-router",
                "quay.io/k0sproject/cni-node",
                "quay.io/k0sproject/calico-node",
                "quay.io/k0sproject/calico-cni",
                "quay.io/k0sproject/calico-kube-controllers",
            ],
            source: "k0sproject/k0s pkg/constant/constant.go",
        }],
        // k3s-io/k3s scripts/airgap/image-list.txt (rancher/* on Docker Hub).
        Distribution::K3s => &[RegistryUse {
            registry: "docker.io",
            images: &[
                "docker.io/rancher/mirrored-pause",
                "docker.io/rancher/mirrored-coredns-coredns",
                "docker.io/rancher/local-path-provisioner",
                "docker.io/rancher/mirrored-metrics-server",
                "docker.io/rancher/klipper-helm",
                "docker.io/rancher/klipper-lb",
                "docker.io/rancher/mirrored-library-traefik",
            ],
            source: "k3s-io/k3s scripts/airgap/image-list.txt",
        }],
        // rancher/rke2 pkg/images/images.go (docker.io/rancher/hardened-* and rke2-runtime).
        Distribution::Rke2 => &[RegistryUse {
            registry: "docker.io",
            images: &[
                "docker.io/rancher/rke2-runtime",
                "docker.io/rancher/hardened-kubernetes",
                "docker.io/rancher/hardened-etcd",
                "docker.io/rancher/hardened-coredns",
                "docker.io/rancher/mirrored-pause",
                "docker.io/rancher/klipper-helm",
            ],
            source: "rancher/rke2 pkg/images/images.go",
        }],
        // kubermatic/kubermatic: user-cluster components from quay.io/kubermatic, Kubernetes
        // itself from registry.k8s.io (pkg/resources/registry).
        Distribution::Kkp => &[
            RegistryUse {
                registry: "quay.io",
                images: &["quay.io/kubermatic/kubermatic"],
                source: "kubermatic/kubermatic pkg/resources/registry",
            },
            RegistryUse {
                registry: "registry.k8s.io",
                images: &[
                    "registry.k8s.io/kube-apiserver",
                    "registry.k8s.io/kube-proxy",
                    "registry.k8s.io/coredns/coredns",
                    "registry.k8s.io/pause",
                ],
                source: "kubermatic/kubermatic pkg/resources/registry",
            },
        ],
    }
}

/// The CNI's images, where the distribution does not bundle its own copies (k0s mirrors
/// kube-router and Calico to quay.io/k0sproject; k3s and RKE2 ship flannel in their binary or
/// their own charts).
pub fn cni(cni: Cni, distribution: Distribution) -> &'static [RegistryUse] {
    match (cni, distribution) {
        (Cni::KubeRouter | Cni::Calico, Distribution::K0s) => &[],
        (Cni::Flannel, Distribution::K3s) => &[],
        // projectcalico/calico manifests/tigera-operator.yaml: the operator from quay.io/tigera,
        // Calico's images from quay.io/calico (the operator's default registry).
        (Cni::Calico | Cni::Canal, _) => &[RegistryUse {
            registry: "quay.io",
            images: &[
                "quay.io/tigera/operator",
                "quay.io/calico/node",
                "quay.io/calico/cni",
                "quay.io/calico/kube-controllers",
            ],
            source: "projectcalico/calico manifests/tigera-operator.yaml",
        }],
        // cilium/cilium install/kubernetes/cilium/values.yaml (image.repository).
        (Cni::Cilium, _) => &[RegistryUse {
            registry: "quay.io",
            images: &["quay.io/cilium/cilium", "quay.io/cilium/operator-generic"],
            source: "cilium/cilium install/kubernetes/cilium/values.yaml",
        }],
        // flannel-io/flannel Documentation/kube-flannel.yml (ghcr.io since v0.25).
        (Cni::Flannel, _) => &[RegistryUse {
            registry: "ghcr.io",
            images: &[
                "ghcr.io/flannel-io/flannel",
                "ghcr.io/flannel-io/flannel-cni-plugin",
            ],
            source: "flannel-io/flannel Documentation/kube-flannel.yml",
        }],
        // cloudnativelabs/kube-router daemonset/kubeadm-kuberouter.yaml.
        (Cni::KubeRouter, _) => &[RegistryUse {
            registry: "docker.io",
            images: &["docker.io/cloudnativelabs/kube-router"],
            source: "cloudnativelabs/kube-router daemonset/kubeadm-kuberouter.yaml",
        }],
        (Cni::Custom, _) => &[],
    }
}

/// Every registry the distribution and CNI pull from, each once, with all its images.
pub fn defaults(distribution: Distribution, cni: Cni) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for u in self::distribution(distribution)
        .iter()
        .chain(self::cni(cni, distribution))
    {
        match out.iter_mut().find(|(r, _)| *r == u.registry) {
            Some((_, images)) => images.extend(u.images),
            None => out.push((u.registry, u.images.to_vec())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_merge_registries_and_keep_the_distribution_first() {
        let list = defaults(Distribution::Kubeadm, Cni::Flannel);
        let names: Vec<&str> = list.iter().map(|(r, _)| *r).collect();
        assert_eq!(names, ["registry.k8s.io", "ghcr.io"]);
        let k0s = defaults(Distribution::K0s, Cni::KubeRouter);
        assert_eq!(k0s.len(), 1);
        assert!(k0s[0].1.iter().all(|i| i.starts_with("quay.io/")));
        for d in [
            Distribution::Kubeadm,
            Distribution::K0s,
            Distribution::K3s,
            Distribution::Rke2,
            Distribution::Kkp,
        ] {
            for (registry, images) in defaults(d, Cni::Calico) {
                assert!(
                    images
                        .iter()
                        .all(|i| i.starts_with(&format!("{registry}/")))
                );
            }
        }
        assert_eq!(api_host("docker.io"), "registry-1.docker.io");
    }
}
