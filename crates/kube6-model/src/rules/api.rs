//! The highly available API endpoint: a DNS name or a virtual IP every node and client reaches
//! the control plane by. Its addresses must be of the cluster's families, at most one per
//! family, and one of them of the primary family: nodes of a single-stack cluster have no route
//! to another family, and k0s takes its primary family from `externalAddress`.

use std::net::IpAddr;

use kube6_net::Family;

use super::Out;
use super::catalog as r;
use crate::diagnostic::Diagnostic;
use crate::model::ClusterNetwork;
use crate::source::Origin;

pub fn check(net: &ClusterNetwork, out: &mut Out) {
    let families = net.families();
    let Some(&primary) = families.first() else {
        return;
    };
    let mut addresses: Vec<(IpAddr, Origin, &str)> = Vec::new();
    if let (Some(ip), Some(external)) = (net.api.external_ip(), &net.api.external) {
        addresses.push((ip, external.origin.clone(), "the API endpoint"));
    }
    addresses.extend(net.api.endpoint_addresses.iter().filter_map(|a| {
        a.value
            .parsed
            .map(|ip| (ip, a.origin.clone(), "the API endpoint's virtual IP"))
    }));
    if addresses.is_empty() {
        return;
    }
    let mut seen: Vec<(Family, IpAddr)> = Vec::new();
    for (ip, origin, what) in &addresses {
        let family = Family::of_addr(ip);
        if !families.contains(&family) {
            out.push(Diagnostic::new(
                &r::API_ENDPOINT_FAMILY,
                origin,
                format!(
                    "{what} {ip} is {family}, but the cluster is {} only: its nodes have no {family} address to reach it",
                    primary
                ),
                format!("use a {primary} address (or a DNS name with a {primary} record) for the endpoint"),
            ));
            continue;
        }
        match seen.iter().find(|(f, _)| *f == family) {
            Some((_, other)) if other != ip => out.push(Diagnostic::new(
                &r::API_ENDPOINT_FAMILY,
                origin,
                format!("{what} {ip} is a second {family} address of the endpoint (the other is {other})"),
                "give the endpoint one virtual IP per family",
            )),
            Some(_) => {}
            None => seen.push((family, *ip)),
        }
    }
    if !seen.iter().any(|(f, _)| *f == primary) {
        let (ip, origin, what) = &addresses[0];
        let rule = if families.contains(&Family::of_addr(ip)) {
            &r::API_ENDPOINT_SECONDARY
        } else {
            // Already reported as a family the cluster lacks.
            return;
        };
        out.push(Diagnostic::new(
            rule,
            origin,
            format!(
                "{what} {ip} is {}, but the primary family is {primary}: k0s would take {} as its primary family, and \
                 kubeadm and k3s advertise the control plane in {primary}",
                Family::of_addr(ip),
                Family::of_addr(ip)
            ),
            format!("add a {primary} virtual IP for the endpoint (kube6: spec.api.endpointAddresses), or use a DNS name with records of both families"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::import::ImportOptions;

    fn ids(spec: &str) -> Vec<&'static str> {
        let text = format!(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n{spec}"
        );
        crate::analyze("t.yaml", &text, &ImportOptions::default())
            .unwrap()
            .plan
            .diagnostics
            .iter()
            .map(|d| d.id)
            .collect()
    }

    const V6: &str = "  pods: [fd00:10::/56]\n  services: [fd00:20::/112]\n";
    const DUAL: &str =
        "  pods: [10.244.0.0/16, fd00:10::/56]\n  services: [10.96.0.0/12, fd00:20::/112]\n";

    #[test]
    fn endpoint_of_a_missing_family_fires() {
        let got = ids(&format!(
            "{V6}  api:\n    externalAddress: 192.0.2.10:6443\n"
        ));
        assert!(got.contains(&"K6E205"), "{got:?}");
        let got = ids(&format!(
            "{V6}  api:\n    externalAddress: \"[2001:db8::10]:6443\"\n"
        ));
        assert!(!got.contains(&"K6E205"), "{got:?}");
    }

    #[test]
    fn virtual_ips_need_the_primary_family_once() {
        let got = ids(&format!(
            "{DUAL}  api:\n    externalAddress: api.example.com\n    endpointAddresses: [2001:db8::10]\n"
        ));
        assert!(got.contains(&"K6W206"), "{got:?}");
        let got = ids(&format!(
            "{DUAL}  api:\n    externalAddress: api.example.com\n    endpointAddresses: [192.0.2.10, 2001:db8::10]\n"
        ));
        assert!(
            !got.contains(&"K6W206") && !got.contains(&"K6E205"),
            "{got:?}"
        );
        let got = ids(&format!(
            "{DUAL}  api:\n    endpointAddresses: [192.0.2.10, 192.0.2.11]\n"
        ));
        assert!(got.contains(&"K6E205"), "{got:?}");
    }

    #[test]
    fn a_dns_name_alone_is_not_judged() {
        let got = ids(&format!(
            "{V6}  api:\n    externalAddress: api.example.com:6443\n"
        ));
        assert!(
            !got.iter()
                .any(|id| id.starts_with("K6E20") || *id == "K6W206"),
            "{got:?}"
        );
    }
}
