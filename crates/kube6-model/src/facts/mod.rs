//! What kube6 knows about each component it must agree with: limits, defaults and the releases
//! at which they changed, one module per component. Rules, defaults, render, host and verify all
//! read these, so a fact lives in exactly one place; each names the upstream file it encodes.
//!
//! Where a fact depends on the component's version, the module offers a function taking an
//! optional `Version`; `None` means "the newest release kube6 was checked against"
//! (`ASSUMED_RELEASE` of that module), and the plan says so.

pub mod calico;
pub mod cilium;
pub mod coredns;
pub mod flannel;
pub mod host_local;
pub mod ingress;
pub mod ipv6;
pub mod k0s;
pub mod k3s;
pub mod kkp;
pub mod kube_router;
pub mod kube_vip;
pub mod kubeadm;
pub mod kubernetes;
pub mod lb_service;
pub mod metallb;
pub mod registries;
pub mod servicelb;

use kube6_net::Family;

use crate::model::{Cni, Distribution};
use crate::version::Release;

/// The release whose facts kube6 applies to a distribution when the input states no version.
pub fn distribution_assumed_release(distribution: Distribution) -> Release {
    match distribution {
        Distribution::K0s => k0s::ASSUMED_RELEASE,
        Distribution::K3s | Distribution::Rke2 => k3s::ASSUMED_RELEASE,
        Distribution::Kubeadm => kubernetes::ASSUMED_RELEASE,
        Distribution::Kkp => kkp::ASSUMED_RELEASE,
    }
}

/// The release whose facts kube6 applies to a CNI when the input states no version (None for a
/// CNI kube6 has no facts about).
pub fn cni_assumed_release(cni: Cni) -> Option<Release> {
    match cni {
        Cni::Calico | Cni::Canal => Some(calico::ASSUMED_RELEASE),
        Cni::Cilium => Some(cilium::ASSUMED_RELEASE),
        Cni::Flannel => Some(flannel::ASSUMED_RELEASE),
        Cni::KubeRouter => Some(kube_router::ASSUMED_RELEASE),
        Cni::Custom => None,
    }
}

/// Whether `distribution` (at `version`, None for the newest kube6 knows) runs IPv6 single-stack
/// clusters: k0s from v1.34 with its IPv6SingleStack gate, k3s/RKE2 and kubeadm always, KKP never.
pub fn supports_ipv6_single_stack(
    distribution: Distribution,
    version: Option<&crate::version::Version>,
) -> bool {
    match distribution {
        Distribution::K0s => k0s::supports_ipv6_single_stack(version),
        Distribution::K3s | Distribution::Rke2 | Distribution::Kubeadm => true,
        Distribution::Kkp => kkp::IPV6_SINGLE_STACK,
    }
}

/// A value per address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerFamily<T> {
    pub ipv4: T,
    pub ipv6: T,
}

impl<T: Copy> PerFamily<T> {
    pub const fn get(&self, family: Family) -> T {
        match family {
            Family::IPv4 => self.ipv4,
            Family::IPv6 => self.ipv6,
        }
    }
}

/// An inclusive range of prefix lengths (a block or mask size a component accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixBounds {
    pub min: u8,
    pub max: u8,
}

impl PrefixBounds {
    pub const fn contains(&self, prefix: u8) -> bool {
        self.min <= prefix && prefix <= self.max
    }
}
