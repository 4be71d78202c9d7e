//! K6V013 load-balancer addresses: every LoadBalancer Service the cluster's implementation
//! serves has an address of each family it must get, inside a planned pool (pool-based
//! implementations) or a node's address (ServiceLB).
//!
//! A Service is judged only by what its implementation really does: a Service of another
//! `loadBalancerClass` belongs to another controller; MetalLB gives a PreferDualStack Service
//! one family when no pool has a free address of both (internal/allocator/allocator.go
//! `findBestPoolForService`, allocation.go `selectIPsForFamilyAndPolicy`); pools limited by
//! `autoAssign: false` or a `serviceAllocation` leave other Services pending by design.

use std::collections::HashSet;
use std::net::IpAddr;

use kube6_model::facts;
use kube6_model::load_balancer::LbImplementation;
use kube6_net::Family;

use super::{Check, Context, k8s_family, service_ref};
use crate::catalog;
use crate::expect::LoadBalancerExpectation;
use crate::snapshot::{Addr, LbPoolObject, Service};

pub(super) fn load_balancer_addresses(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::LOAD_BALANCER_ADDRESSES);
    let plan = ctx.expect.load_balancer.as_ref();
    let implementation = plan.and_then(|p| p.implementation.parse::<LbImplementation>().ok());
    let node_ips: HashSet<IpAddr> = ctx
        .snapshot
        .nodes
        .iter()
        .flat_map(|n| n.addresses.iter())
        .filter_map(|a| Addr::from(a.address.as_str()).ip())
        .collect();
    for service in ctx
        .snapshot
        .services
        .iter()
        .filter(|s| s.is_load_balancer())
    {
        check.checked += 1;
        let me = || vec![service_ref(service)];
        // Another controller's Service: its addresses are not the plan's to judge.
        if let Some(class) = &service.load_balancer_class
            && implementation.is_none_or(|i| !facts::lb_service::serves_class(i, Some(class)))
        {
            check.note(format!(
                "{} has loadBalancerClass {class}, which {}: not judged",
                service_ref(service),
                implementation.map_or_else(
                    || "the controller of that class serves".to_string(),
                    |i| format!("{} does not serve", i.display_name())
                )
            ));
            continue;
        }
        for bad in service
            .load_balancer_ips
            .iter()
            .filter(|t| Addr::from(t.as_str()).ip().is_none())
        {
            check.fail(
                me(),
                format!("load-balancer ingress ip {bad:?} is not an IP address"),
            );
        }
        let ips: Vec<IpAddr> = service
            .load_balancer_ips
            .iter()
            .filter_map(|t| Addr::from(t.as_str()).ip())
            .collect();
        if ips.is_empty() {
            if !service.load_balancer_hostnames.is_empty() {
                check.note(format!(
                    "{} has load-balancer hostnames only ({}): their families are not judged",
                    service_ref(service),
                    service.load_balancer_hostnames.join(", ")
                ));
                continue;
            }
            pending(&mut check, ctx, plan, implementation, service);
            continue;
        }
        families(&mut check, service, &ips);
        if let Some(plan) = plan {
            placement(&mut check, plan, implementation, service, &ips, &node_ips);
        }
    }
    check.done("the input has no LoadBalancer Services")
}

/// A Service without any load-balancer address.
fn pending(
    check: &mut Check,
    ctx: &Context,
    plan: Option<&LoadBalancerExpectation>,
    implementation: Option<LbImplementation>,
    service: &Service,
) {
    let me = vec![service_ref(service)];
    let asked = requests_text(service);
    // The pools of the dump that belong to the implementation (all of them without a plan).
    let pools: Vec<&LbPoolObject> = ctx
        .snapshot
        .lb_pools
        .iter()
        .filter(|p| match implementation {
            Some(LbImplementation::Metallb) => p.kind == "IPAddressPool",
            Some(LbImplementation::Cilium) => p.kind == "CiliumLoadBalancerIPPool",
            _ => true,
        })
        .collect();
    if asked.is_empty() && !pools.is_empty() {
        let verdicts: Vec<Option<bool>> = pools
            .iter()
            .map(|p| p.may_serve(&service.namespace))
            .collect();
        if !verdicts.contains(&Some(true)) {
            let why: Vec<String> = pools.iter().map(|p| pool_limits(p)).collect();
            let how = if verdicts.contains(&None) {
                "only pools that select namespaces or Services by label, which the dump cannot evaluate, may serve it"
            } else {
                "no pool assigns addresses to its namespace automatically"
            };
            check.warn(
                me,
                format!(
                    "has no load-balancer address: {how} ({}); it gets one when a pool allows it, or when it names a pool or an address",
                    why.join("; ")
                ),
            );
            return;
        }
    }
    let why = match (plan.map(|p| p.implementation.as_str()), implementation) {
        (Some("none"), _) => " (the plan has no load-balancer implementation)".to_string(),
        (_, Some(i))
            if facts::lb_service::requested_address_needs_pool(i)
                && !asked.is_empty()
                && plan.is_some_and(|p| {
                    requested_ips(service)
                        .iter()
                        .any(|ip| !p.pools.iter().any(|pool| pool.contains(ip)))
                }) =>
        {
            format!(
                " (it asks for {}, which no planned pool holds: {} hands out only pool addresses)",
                asked.join(", "),
                i.display_name()
            )
        }
        _ if !asked.is_empty() => format!(" (it asks for {})", asked.join(", ")),
        _ => String::new(),
    };
    check.fail(
        me,
        format!("has no load-balancer address: it is pending{why}"),
    );
}

/// The families of a Service with addresses: every family of a SingleStack or RequireDualStack
/// Service; at least one of a PreferDualStack Service.
fn families(check: &mut Check, service: &Service, ips: &[IpAddr]) {
    let missing: Vec<Family> = service
        .ip_families
        .iter()
        .filter_map(|t| k8s_family(t))
        .filter(|f| !ips.iter().any(|ip| Family::of_addr(ip) == *f))
        .collect();
    if missing.is_empty() {
        return;
    }
    let got: Vec<String> = ips.iter().map(ToString::to_string).collect();
    let prefer = service.ip_family_policy.as_deref() == Some("PreferDualStack");
    for family in missing {
        if prefer {
            check.note(format!(
                "{} (PreferDualStack) has no {family} load-balancer address (has {}): MetalLB and Cilium give a PreferDualStack Service the families their pools have free",
                service_ref(service),
                got.join(", ")
            ));
        } else {
            check.fail(
                vec![service_ref(service)],
                format!(
                    "asks for {family} ({}) but has no {family} load-balancer address (has {})",
                    service.ip_family_policy.as_deref().unwrap_or("ipFamilies"),
                    got.join(", ")
                ),
            );
        }
    }
}

/// Whether each address lies where the plan's implementation hands addresses out.
fn placement(
    check: &mut Check,
    plan: &LoadBalancerExpectation,
    implementation: Option<LbImplementation>,
    service: &Service,
    ips: &[IpAddr],
    node_ips: &HashSet<IpAddr>,
) {
    let requested = requested_ips(service);
    for ip in ips {
        if plan.uses_pools {
            if plan.pools.iter().any(|p| p.contains(ip)) {
                continue;
            }
            let free_choice = implementation
                .is_some_and(|i| !facts::lb_service::requested_address_needs_pool(i))
                && requested.contains(ip);
            if free_choice {
                // kube-vip announces whatever the Service names, and kube-vip-cloud-provider
                // writes its own allocations there too (kube-vip/kube-vip-cloud-provider
                // pkg/provider/loadBalancer.go, syncLoadBalancer: the loadbalancerIPs annotation
                // and spec.loadBalancerIP), so a pinned address and a ConfigMap whose pools
                // drifted from the plan look alike: said, not judged.
                check.note(format!(
                    "{} has the load-balancer address {ip}, outside the planned pools: kube-vip announces the address the Service names; if nobody pinned it, the kubevip ConfigMap's pools differ from the plan",
                    service_ref(service)
                ));
                continue;
            }
            let pools: Vec<String> = plan
                .pools
                .iter()
                .map(|p| format!("{} {}", p.pool, p.addresses))
                .collect();
            check.fail(
                vec![service_ref(service)],
                format!(
                    "load-balancer address {ip} is outside the planned pools ({})",
                    if pools.is_empty() {
                        "none".to_string()
                    } else {
                        pools.join(", ")
                    }
                ),
            );
        } else if implementation == Some(LbImplementation::Servicelb)
            && !node_ips.is_empty()
            && !node_ips.contains(ip)
        {
            if ip.to_string() == facts::servicelb::ROOTLESS_ADDRESS {
                check.note(format!(
                    "{} has the load-balancer address {ip}: rootless k3s's ServiceLB reports it for every Service",
                    service_ref(service)
                ));
            } else {
                check.fail(
                    vec![service_ref(service)],
                    format!(
                        "load-balancer address {ip} is no node's address, though ServiceLB hands out node addresses"
                    ),
                );
            }
        }
    }
}

/// What the Service asks for, for messages: `spec.loadBalancerIP=...`, `ANNOTATION=...`.
fn requests_text(service: &Service) -> Vec<String> {
    service
        .load_balancer_requests
        .iter()
        .map(|(field, value)| format!("{field}={value}"))
        .collect()
}

/// The addresses the Service asks for (pool names and unreadable values left out).
fn requested_ips(service: &Service) -> Vec<IpAddr> {
    service
        .load_balancer_requests
        .iter()
        .filter(|(field, _)| !field.ends_with("/address-pool"))
        .flat_map(|(_, value)| value.split(','))
        .filter_map(|v| v.trim().parse().ok())
        .collect()
}

/// Why a pool does not serve every Service, for messages.
fn pool_limits(pool: &LbPoolObject) -> String {
    let mut limits = Vec::new();
    if pool.disabled {
        limits.push("disabled".to_string());
    }
    if !pool.auto_assign {
        limits.push("autoAssign: false".to_string());
    }
    if !pool.namespaces.is_empty() {
        limits.push(format!("namespaces {}", pool.namespaces.join(", ")));
    }
    if pool.selects_by_label {
        limits.push("label selectors".to_string());
    }
    format!("{} {}: {}", pool.kind, pool.name, limits.join(", "))
}
