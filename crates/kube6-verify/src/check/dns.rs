//! K6V011: the cluster DNS addresses the kubelets give pods are served, primary family first.
//!
//! Making kube-dns dual-stack (PreferDualStack or RequireDualStack) is an operator's legitimate
//! choice: only addresses the kubelets hand out that no Service holds, and a kube-dns whose
//! first address is not the distribution's (or not of the primary family), fail.

use std::net::IpAddr;

use kube6_net::Family;

use super::{Check, Context, ips_text, service_ref};
use crate::catalog;
use crate::snapshot::{Addr, Service};

/// kube-dns: `kube-system/kube-dns` (k0s, k3s, kubeadm, KKP), else the kube-system Service
/// labelled `k8s-app=kube-dns` (RKE2's `rke2-coredns-rke2-coredns`).
fn find_kube_dns(services: &[Service]) -> Option<&Service> {
    services
        .iter()
        .find(|s| s.namespace == "kube-system" && s.name == "kube-dns")
        .or_else(|| {
            services.iter().find(|s| {
                s.namespace == "kube-system" && s.app_label.as_deref() == Some("kube-dns")
            })
        })
}

fn cluster_ips(service: &Service) -> Vec<IpAddr> {
    service
        .effective_cluster_ips()
        .iter()
        .filter_map(|t| Addr::from(*t).ip())
        .collect()
}

pub(super) fn kube_dns_service(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::KUBE_DNS_SERVICE);
    let (services, expect) = (&ctx.snapshot.services, ctx.expect);
    let kube_system_present = services.iter().any(|s| s.namespace == "kube-system");
    let kube_dns = find_kube_dns(services);
    let cluster_dns = &expect.dns.cluster_dns;

    // Every address the kubelets give pods must be some Service's cluster IP.
    if !cluster_dns.is_empty() {
        if !kube_system_present {
            return check.skip(
                "the input has no kube-system Services, so the cluster DNS addresses cannot be \
                 looked up",
            );
        }
        for ip in cluster_dns {
            check.checked += 1;
            let holder = kube_dns
                .filter(|s| cluster_ips(s).contains(ip))
                .or_else(|| services.iter().find(|s| cluster_ips(s).contains(ip)));
            match holder {
                None => check.fail(
                    vec![
                        kube_dns
                            .map(service_ref)
                            .unwrap_or_else(|| "service/kube-system/kube-dns".to_string()),
                    ],
                    format!(
                        "no Service holds {ip}, which the kubelets give pods as their DNS \
                         server (clusterDNS): every lookup through it times out"
                    ),
                ),
                Some(s) if Some(s) != kube_dns => check.note(format!(
                    "{ip} is served by {} rather than kube-dns",
                    service_ref(s)
                )),
                Some(_) => {}
            }
        }
    }

    let Some(service) = kube_dns else {
        if cluster_dns.is_empty() {
            if kube_system_present {
                check.warn(
                    vec!["service/kube-system/kube-dns".to_string()],
                    "no kube-dns Service in kube-system (nor one labelled k8s-app=kube-dns)"
                        .to_string(),
                );
                return check;
            }
            return check.skip("the input has no kube-system Services");
        }
        return check;
    };
    if cluster_dns.is_empty() {
        check.checked += 1;
    }
    let me = || vec![service_ref(service)];
    let ips = cluster_ips(service);
    match (ips.first(), cluster_dns.first(), expect.primary()) {
        (None, _, _) => check.fail(me(), "has no cluster IP".to_string()),
        (Some(first), Some(want), _) if first != want => {
            let why = if Family::of_addr(first) != Family::of_addr(want) {
                format!(
                    " ({}): pods get a DNS server of the other family than the distribution's \
                     (k0s#7294)",
                    Family::of_addr(first)
                )
            } else {
                String::new()
            };
            check.fail(
                me(),
                format!("its first cluster IP is {first}, but the distribution's is {want}{why}"),
            );
        }
        (Some(first), None, Some(primary)) if Family::of_addr(first) != primary => {
            check.fail(
                me(),
                format!(
                    "its first cluster IP {first} is {}, but the primary family is {primary}: \
                     pods get a DNS server of the other family (k0s#7294)",
                    Family::of_addr(first)
                ),
            );
        }
        _ => {}
    }
    // What the operator chose on top of the distribution's addresses is reported, not judged.
    let policy = service.ip_family_policy.as_deref().unwrap_or("SingleStack");
    if !cluster_dns.is_empty() && ips.len() > cluster_dns.len() {
        check.note(format!(
            "kube-dns also has {} ({policy}): made dual-stack beyond the kubelets' clusterDNS, \
             which is fine",
            ips_text(&ips[cluster_dns.len().min(ips.len())..])
        ));
    }
    if let Some(want) = &expect.dns.ip_family_policy
        && want != policy
    {
        check.note(format!(
            "ipFamilyPolicy {policy}, where the distribution sets {want}: an operator's choice"
        ));
    }
    if cluster_dns.is_empty() {
        check.note("the kubelets' clusterDNS addresses are known only with --plan");
    }
    check
}
