//! K6V008 Service families, K6V009 service ranges, K6V010 the kubernetes Service, K6V012
//! EndpointSlices.

use std::collections::{HashMap, HashSet};

use ipnet::IpNet;
use kube6_net::Family;

use super::{Check, Context, bit, families_text, k8s_family, nets_text, service_ref};
use crate::catalog;
use crate::snapshot::Addr;

const NO_SERVICES: &str = "the input has no Services";

pub(super) fn service_ip_families(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::SERVICE_IP_FAMILIES);
    let expect = ctx.expect;
    for service in &ctx.snapshot.services {
        if service.is_external_name() {
            continue;
        }
        check.checked += 1;
        let me = || vec![service_ref(service)];
        let mut families = Vec::new();
        for text in &service.ip_families {
            match k8s_family(text) {
                Some(f) if families.contains(&f) => {
                    check.fail(me(), format!("ipFamilies lists {f} twice"));
                }
                Some(f) => families.push(f),
                None => check.fail(me(), format!("ipFamilies has {text:?}")),
            }
        }
        for f in &families {
            if !expect.expects(*f) {
                check.fail(
                    me(),
                    format!("ipFamilies has {f}, but the cluster has no {f} service range"),
                );
            }
        }
        let policy = service.ip_family_policy.as_deref();
        let count = if service.is_headless() {
            families.len()
        } else {
            let ips = service.effective_cluster_ips();
            if let (Some(one), Some(first)) = (service.cluster_ip.as_deref(), ips.first())
                && one != *first
            {
                check.fail(
                    me(),
                    format!("clusterIP {one} is not clusterIPs[0] ({first})"),
                );
            }
            if ips.len() != families.len() {
                check.fail(
                    me(),
                    format!(
                        "clusterIPs has {} addresses ({}), ipFamilies {} ({})",
                        ips.len(),
                        ips.join(", "),
                        families.len(),
                        families_text(&families)
                    ),
                );
            }
            for (i, text) in ips.iter().enumerate() {
                match Addr::from(*text) {
                    Addr::Ip(ip) => {
                        let family = Family::of_addr(&ip);
                        if let Some(listed) = families.get(i)
                            && *listed != family
                        {
                            check.fail(
                                me(),
                                format!(
                                    "clusterIPs[{i}] {ip} is {family}, but ipFamilies[{i}] is {listed}"
                                ),
                            );
                        }
                    }
                    Addr::Invalid(_) => {
                        check.fail(
                            me(),
                            format!("clusterIPs[{i}] {text:?} is not an IP address"),
                        );
                    }
                }
            }
            ips.len()
        };
        match policy {
            Some("SingleStack") if count != 1 => check.fail(
                me(),
                format!("ipFamilyPolicy SingleStack with {count} families"),
            ),
            Some("RequireDualStack") if count != 2 => check.fail(
                me(),
                format!("ipFamilyPolicy RequireDualStack with {count} families"),
            ),
            Some("PreferDualStack") if count == 1 && expect.is_dual() => check.warn(
                me(),
                "ipFamilyPolicy PreferDualStack but only one family in a dual-stack cluster \
                 (created before the cluster became dual-stack?)"
                    .to_string(),
            ),
            Some("SingleStack" | "RequireDualStack" | "PreferDualStack") => {}
            Some(other) => check.fail(me(), format!("unknown ipFamilyPolicy {other:?}")),
            None => check.warn(me(), "has no ipFamilyPolicy".to_string()),
        }
    }
    check.done(NO_SERVICES)
}

pub(super) fn service_ranges(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::SERVICE_RANGES);
    let expect = ctx.expect;
    if expect.service_ranges.is_empty() {
        return check.skip("the service ranges are unknown without --plan");
    }
    // Ranges an operator added with ServiceCIDR objects hold ClusterIPs as rightly as the
    // configured ones (kube-apiserver allocates from every ServiceCIDR); the default one,
    // `kubernetes`, is the configured range itself and must agree with the plan.
    let added: Vec<IpNet> = ctx
        .snapshot
        .service_cidrs
        .iter()
        .filter(|c| !c.is_default())
        .flat_map(|c| c.nets())
        .collect();
    for service in &ctx.snapshot.services {
        if service.is_external_name() || service.is_headless() {
            continue;
        }
        check.checked += 1;
        for ip in service
            .effective_cluster_ips()
            .iter()
            .filter_map(|t| Addr::from(*t).ip())
        {
            if !expect
                .service_ranges
                .iter()
                .chain(&added)
                .any(|r| r.contains(&ip))
            {
                check.fail(
                    vec![service_ref(service)],
                    format!(
                        "clusterIP {ip} is outside the service ranges ({}{})",
                        nets_text(&expect.service_ranges),
                        if added.is_empty() {
                            String::new()
                        } else {
                            format!("; ServiceCIDRs: {}", nets_text(&added))
                        }
                    ),
                );
            }
        }
    }
    check.done("the input has no Services with cluster IPs")
}

pub(super) fn kubernetes_service(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::KUBERNETES_SERVICE);
    let expect = ctx.expect;
    // The API server keeps this Service in place; an input without it is a dump of other
    // namespaces, not a cluster without it.
    let Some(service) = ctx
        .snapshot
        .services
        .iter()
        .find(|s| s.namespace == "default" && s.name == "kubernetes")
    else {
        return check.skip("the input has no default/kubernetes Service");
    };
    check.checked = 1;
    let first = service
        .effective_cluster_ips()
        .first()
        .and_then(|t| Addr::from(*t).ip());
    match (first, expect.api_server_ip) {
        (None, _) => check.fail(vec![service_ref(service)], "has no cluster IP".to_string()),
        (Some(ip), Some(want)) if ip != want => check.fail(
            vec![service_ref(service)],
            format!("has {ip}, but the first address of the primary service range is {want}"),
        ),
        (Some(ip), _) => {
            if let Some(primary) = expect.primary()
                && Family::of_addr(&ip) != primary
            {
                check.fail(
                    vec![service_ref(service)],
                    format!("has {ip}, but the primary family is {primary}"),
                );
            }
        }
    }
    if expect.api_server_ip.is_none() {
        check.note("the exact address is known only with --plan");
    }
    check
}

pub(super) fn endpointslice_families(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::ENDPOINTSLICE_FAMILIES);
    let snapshot = ctx.snapshot;
    if snapshot.services.is_empty() {
        return check.skip(NO_SERVICES);
    }
    if snapshot.endpoint_slices.is_empty() {
        return check.skip(
            "the input has no EndpointSlices (`kubectl get all` leaves them out; add \
             endpointslices to the dump)",
        );
    }
    let mut have: HashMap<(&str, &str), u8> = HashMap::new();
    let mut namespaces_with_slices: HashSet<&str> = HashSet::new();
    for slice in &snapshot.endpoint_slices {
        namespaces_with_slices.insert(slice.namespace.as_str());
        let Some(service) = slice.service_name.as_deref() else {
            continue;
        };
        let family = slice.address_type.as_deref().and_then(k8s_family);
        let entry = have.entry((slice.namespace.as_str(), service)).or_default();
        if let Some(f) = family {
            *entry |= bit(f);
        }
    }
    let mut unseen_namespaces = 0usize;
    for service in &snapshot.services {
        if service.is_external_name() || !service.has_selector || service.ip_families.len() < 2 {
            continue;
        }
        if !namespaces_with_slices.contains(service.namespace.as_str()) {
            // The dump holds this namespace's Services but none of its EndpointSlices.
            unseen_namespaces += 1;
            continue;
        }
        check.checked += 1;
        let got = have
            .get(&(service.namespace.as_str(), service.name.as_str()))
            .copied()
            .unwrap_or(0);
        let missing: Vec<Family> = service
            .ip_families
            .iter()
            .filter_map(|t| k8s_family(t))
            .filter(|f| got & bit(*f) == 0)
            .collect();
        if !missing.is_empty() {
            check.fail(
                vec![service_ref(service)],
                format!(
                    "dual-stack Service without an {} EndpointSlice",
                    families_text(&missing)
                ),
            );
        }
    }
    if unseen_namespaces > 0 {
        check.note(format!(
            "{unseen_namespaces} dual-stack Services are in namespaces whose EndpointSlices the \
             input lacks: not judged"
        ));
    }
    check.done("the input has no dual-stack Services with a selector")
}
