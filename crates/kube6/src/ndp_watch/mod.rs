//! `kube6 ndp-proxy` watch mode: which load-balancer addresses this node answers neighbor
//! solicitations for, decided from the cluster's LoadBalancer Services, their EndpointSlices
//! and Cilium's L2 announcement leases. This module holds the decision (pure, over compact
//! views of the objects); [`live`] follows the objects through the API with kube-rs watchers
//! and hands the result to the daemon (`kube6_ndp::Control::set_watched`).

pub mod live;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

use ipnet::Ipv6Net;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube6_ndp::Election;

/// Cilium's L2 announcer names the lease of a Service `cilium-l2announce-NAMESPACE-NAME`, in the
/// namespace Cilium runs in, and the holder identity is the node's name (`leasePrefix`,
/// `newLeaseLock` and `leaseNamespace` in cilium/cilium pkg/l2announcer/l2announcer.go; the
/// documentation, Documentation/network/l2-announcements.rst "Leases", shows
/// `cilium-l2announce-default-deathstar` held by `worker-node` in kube-system).
pub const CILIUM_LEASE_PREFIX: &str = kube6_model::facts::cilium::L2_LEASE_PREFIX;

/// The `loadBalancerClass` Cilium's L2 announcements take besides none
/// (Documentation/network/l2-announcements.rst "Service Selector").
pub const CILIUM_L2_CLASS: &str = kube6_model::facts::cilium::L2_LOAD_BALANCER_CLASS;

/// The label that ties an EndpointSlice to its Service (`discoveryv1.LabelServiceName`,
/// kubernetes/kubernetes staging/src/k8s.io/api/discovery/v1/well_known_labels.go).
pub const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// IPv6 EndpointSlices with a ready endpoint on this node followed at most (each kept as its
/// Service's name); more are counted as overflows and not followed.
pub const MAX_SLICES: usize = 200_000;
/// Cilium leases followed at most.
pub const MAX_LEASES: usize = 100_000;

/// `namespace/name` of a Service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceKey {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// What watch mode keeps of a LoadBalancer Service: only those with an IPv6 load-balancer
/// address inside a watched pool are kept at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceView {
    /// IPv6 `status.loadBalancer.ingress[].ip` inside a watched pool.
    pub addresses: BTreeSet<Ipv6Addr>,
    /// `spec.externalTrafficPolicy: Local`.
    pub local: bool,
}

/// What watch mode keeps of an IPv6 EndpointSlice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceView {
    pub service: ServiceKey,
    /// The slice has a ready endpoint on this node.
    pub ready_here: bool,
}

/// The IPv6 EndpointSlices with a ready endpoint on this node, and how many each Service has:
/// only what `externalTrafficPolicy: Local` asks, so memory grows with this node's endpoints,
/// not the cluster's, and the question is one lookup on every event.
#[derive(Debug, Clone, Default)]
pub struct LocalSlices {
    /// (namespace, slice name) → its Service.
    by_slice: HashMap<(String, String), ServiceKey>,
    per_service: HashMap<ServiceKey, usize>,
}

impl LocalSlices {
    fn len(&self) -> usize {
        self.by_slice.len()
    }

    fn contains(&self, slice: &(String, String)) -> bool {
        self.by_slice.contains_key(slice)
    }

    fn insert(&mut self, slice: (String, String), service: ServiceKey) {
        self.remove(&slice);
        *self.per_service.entry(service.clone()).or_default() += 1;
        self.by_slice.insert(slice, service);
    }

    fn remove(&mut self, slice: &(String, String)) {
        if let Some(service) = self.by_slice.remove(slice)
            && let Some(count) = self.per_service.get_mut(&service)
        {
            *count -= 1;
            if *count == 0 {
                self.per_service.remove(&service);
            }
        }
    }

    fn has_ready(&self, service: &ServiceKey) -> bool {
        self.per_service.contains_key(service)
    }
}

/// Why this node does or does not answer for a Service's addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// This node announces the Service: answer.
    Announce,
    /// Cilium elected another node (the lease's holder).
    OtherHolder(String),
    /// No Cilium lease, or a released one (empty holder): no node announces the Service (no
    /// L2 announcement policy selects it, or its leader let go).
    NoLease,
    /// `externalTrafficPolicy: Local` and no ready endpoint of the Service on this node.
    NoLocalEndpoint,
}

/// The objects watch mode follows, in compact form, and the rules over them.
#[derive(Debug, Clone)]
pub struct Announcer {
    pub node: String,
    pub election: Election,
    pub lease_namespace: String,
    pub pools: Vec<Ipv6Net>,
    pub max_services: usize,
    pub services: BTreeMap<ServiceKey, ServiceView>,
    /// The IPv6 EndpointSlices with a ready endpoint on this node.
    pub slices: LocalSlices,
    /// Lease name → holder identity (Cilium leases in the lease namespace only).
    pub leases: HashMap<String, String>,
}

/// What applying an object did to the followed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Kept,
    /// Not relevant to watch mode (removed if it was followed).
    Ignored,
    /// A bound was reached: not followed.
    Overflow,
}

impl Announcer {
    pub fn new(settings: &kube6_ndp::WatchSettings, node: String, pools: Vec<Ipv6Net>) -> Self {
        Announcer {
            node,
            election: settings.election,
            lease_namespace: settings.lease_namespace.clone(),
            pools,
            max_services: settings.max_services,
            services: BTreeMap::new(),
            slices: LocalSlices::default(),
            leases: HashMap::new(),
        }
    }

    /// The same settings with nothing followed (where a re-list collects its objects).
    pub fn empty_like(&self) -> Announcer {
        Announcer {
            node: self.node.clone(),
            election: self.election,
            lease_namespace: self.lease_namespace.clone(),
            pools: self.pools.clone(),
            max_services: self.max_services,
            services: BTreeMap::new(),
            slices: LocalSlices::default(),
            leases: HashMap::new(),
        }
    }

    /// The compact view of a Service, or `None` when watch mode has nothing to answer for it:
    /// not of type LoadBalancer, handled by another load-balancer class, or without an IPv6
    /// load-balancer address inside a watched pool (addresses outside the pools are never
    /// answered, whoever assigned them).
    pub fn service_view(&self, service: &Service) -> Option<ServiceView> {
        let spec = service.spec.as_ref()?;
        if spec.type_.as_deref() != Some("LoadBalancer") {
            return None;
        }
        // A Service with a loadBalancerClass belongs to that class's controller; Cilium's L2
        // announcer takes none or its own class (l2-announcements.rst "Service Selector").
        match (self.election, spec.load_balancer_class.as_deref()) {
            (_, None) => {}
            (Election::CiliumLease, Some(CILIUM_L2_CLASS)) => {}
            _ => return None,
        }
        let addresses: BTreeSet<Ipv6Addr> = service
            .status
            .as_ref()
            .and_then(|s| s.load_balancer.as_ref())
            .and_then(|lb| lb.ingress.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|ingress| ingress.ip.as_deref())
            .filter_map(|ip| match ip.parse::<IpAddr>() {
                Ok(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => Some(v6),
                _ => None,
            })
            .filter(|ip| self.pools.iter().any(|pool| pool.contains(ip)))
            .collect();
        if addresses.is_empty() {
            return None;
        }
        Some(ServiceView {
            addresses,
            local: spec.external_traffic_policy.as_deref() == Some("Local"),
        })
    }

    pub fn apply_service(&mut self, service: &Service) -> Applied {
        let Some(key) = service_key(service) else {
            return Applied::Ignored;
        };
        match self.service_view(service) {
            None => {
                self.services.remove(&key);
                Applied::Ignored
            }
            Some(view) => {
                if !self.services.contains_key(&key) && self.services.len() >= self.max_services {
                    return Applied::Overflow;
                }
                self.services.insert(key, view);
                Applied::Kept
            }
        }
    }

    pub fn delete_service(&mut self, service: &Service) {
        if let Some(key) = service_key(service) {
            self.services.remove(&key);
        }
    }

    /// The compact view of an EndpointSlice: only IPv6 slices count, as the IPv6 proxier of
    /// kube-proxy handles IPv6 load-balancer addresses from the IPv6 slices alone
    /// (kubernetes/kubernetes pkg/proxy/endpointslicecache.go keeps slices per address type).
    /// An endpoint is ready when `conditions.ready` is true or absent (the same file:
    /// `Ready: endpoint.Conditions.Ready == nil || *endpoint.Conditions.Ready`), and local to
    /// the node named by `nodeName`.
    pub fn slice_view(&self, slice: &EndpointSlice) -> Option<SliceView> {
        if slice.address_type != "IPv6" {
            return None;
        }
        let namespace = slice.metadata.namespace.clone()?;
        let service = slice
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get(SERVICE_NAME_LABEL))?
            .clone();
        let ready_here = slice.endpoints.iter().any(|e| {
            e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true)
                && e.node_name.as_deref() == Some(self.node.as_str())
        });
        Some(SliceView {
            service: ServiceKey {
                namespace,
                name: service,
            },
            ready_here,
        })
    }

    pub fn apply_slice(&mut self, slice: &EndpointSlice) -> Applied {
        let (Some(namespace), Some(name)) = (&slice.metadata.namespace, &slice.metadata.name)
        else {
            return Applied::Ignored;
        };
        let key = (namespace.clone(), name.clone());
        match self.slice_view(slice) {
            Some(view) if view.ready_here => {
                if !self.slices.contains(&key) && self.slices.len() >= MAX_SLICES {
                    return Applied::Overflow;
                }
                self.slices.insert(key, view.service);
                Applied::Kept
            }
            // Not IPv6, or no ready endpoint here: nothing this node needs to remember.
            _ => {
                self.slices.remove(&key);
                Applied::Ignored
            }
        }
    }

    pub fn delete_slice(&mut self, slice: &EndpointSlice) {
        if let (Some(namespace), Some(name)) = (&slice.metadata.namespace, &slice.metadata.name) {
            self.slices.remove(&(namespace.clone(), name.clone()));
        }
    }

    pub fn apply_lease(&mut self, lease: &Lease) -> Applied {
        let Some(name) = lease.metadata.name.as_deref() else {
            return Applied::Ignored;
        };
        if lease.metadata.namespace.as_deref() != Some(self.lease_namespace.as_str())
            || !name.starts_with(CILIUM_LEASE_PREFIX)
        {
            return Applied::Ignored;
        }
        // client-go empties holderIdentity when a leader releases the lease (Cilium releases on
        // cancel, `ReleaseOnCancel: true` in l2announcer.go): nobody holds it then.
        let holder = lease
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.clone())
            .unwrap_or_default();
        if !self.leases.contains_key(name) && self.leases.len() >= MAX_LEASES {
            return Applied::Overflow;
        }
        self.leases.insert(name.to_string(), holder);
        Applied::Kept
    }

    pub fn delete_lease(&mut self, lease: &Lease) {
        if let Some(name) = lease.metadata.name.as_deref() {
            self.leases.remove(name);
        }
    }

    /// Whether this node has a ready endpoint of the Service (IPv6 slices).
    fn ready_here(&self, key: &ServiceKey) -> bool {
        self.slices.has_ready(key)
    }

    /// Whether this node answers for the Service's addresses.
    ///
    /// - Cilium's L2 announcements elect one node per Service with a lease; before 1.19 that
    ///   node answers ARP only, so the proxy answers NDP on the same node, and nowhere else:
    ///   hosts keep one link-layer address per IP, so one node must answer
    ///   (l2-announcements.rst "Leader Election"). No lease, or a released one: no node.
    /// - `externalTrafficPolicy: Local`: kube-proxy delivers traffic to a load-balancer
    ///   address only to endpoints on the node it arrives at (kubernetes/kubernetes
    ///   pkg/proxy/topology.go, CategorizeEndpoints), so only a node with a ready endpoint
    ///   answers. With a Cilium lease both must hold: Cilium documents Local as incompatible
    ///   with its L2 announcements because the holder may have no endpoint
    ///   (l2-announcements.rst "Limitations"); answering from another node would make two
    ///   nodes answer.
    /// - No elector and policy Cluster: every node's kube-proxy accepts the address and
    ///   forwards it to any endpoint, so every node answers (as the static mode does).
    pub fn decide(&self, key: &ServiceKey, view: &ServiceView) -> Decision {
        if self.election == Election::CiliumLease {
            let lease = format!("{CILIUM_LEASE_PREFIX}{}-{}", key.namespace, key.name);
            match self.leases.get(&lease).map(String::as_str) {
                None | Some("") => return Decision::NoLease,
                Some(holder) if holder != self.node => {
                    return Decision::OtherHolder(holder.to_string());
                }
                Some(_) => {}
            }
        }
        if view.local && !self.ready_here(key) {
            return Decision::NoLocalEndpoint;
        }
        Decision::Announce
    }

    /// Every address this node answers for, with the Services that have it (a shared address
    /// is answered when one of its Services is announced here).
    pub fn announced(&self) -> BTreeMap<Ipv6Addr, Vec<ServiceKey>> {
        let mut out: BTreeMap<Ipv6Addr, Vec<ServiceKey>> = BTreeMap::new();
        for (key, view) in &self.services {
            if self.decide(key, view) == Decision::Announce {
                for address in &view.addresses {
                    out.entry(*address).or_default().push(key.clone());
                }
            }
        }
        out
    }
}

fn service_key(service: &Service) -> Option<ServiceKey> {
    Some(ServiceKey {
        namespace: service.metadata.namespace.clone()?,
        name: service.metadata.name.clone()?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn announcer(election: Election, node: &str) -> Announcer {
        let settings = kube6_ndp::WatchSettings {
            election,
            ..Default::default()
        };
        Announcer::new(
            &settings,
            node.to_string(),
            vec!["2001:db8:5::ff00/120".parse().unwrap()],
        )
    }

    /// A LoadBalancer Service as the API returns it after LB-IPAM assigned its addresses.
    pub fn service(name: &str, policy: &str, ips: &[&str]) -> Service {
        serde_json::from_value(json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": "shop", "uid": "8d3e5a1c-0c4f-4c1e-9a57-6a1f0e0c3b21",
                          "labels": {"app.kubernetes.io/name": name}},
            "spec": {
                "type": "LoadBalancer",
                "clusterIP": "2001:db8:1:0:1::4d2",
                "clusterIPs": ["2001:db8:1:0:1::4d2", "10.96.4.210"],
                "ipFamilies": ["IPv6", "IPv4"],
                "ipFamilyPolicy": "PreferDualStack",
                "externalTrafficPolicy": policy,
                "internalTrafficPolicy": "Cluster",
                "allocateLoadBalancerNodePorts": true,
                "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443, "nodePort": 31443}],
                "selector": {"app.kubernetes.io/name": name},
                "sessionAffinity": "None",
            },
            "status": {"loadBalancer": {"ingress": ips.iter().map(|ip| json!({"ip": ip, "ipMode": "VIP"})).collect::<Vec<_>>()}},
        }))
        .unwrap()
    }

    /// An EndpointSlice as the EndpointSlice controller writes it.
    pub fn slice(
        name: &str,
        service: &str,
        family: &str,
        endpoints: &[(&str, Option<bool>)],
    ) -> EndpointSlice {
        let endpoints: Vec<_> = endpoints
            .iter()
            .enumerate()
            .map(|(i, (node, ready))| {
                let mut conditions = json!({"serving": true, "terminating": false});
                if let Some(ready) = ready {
                    conditions["ready"] = json!(ready);
                }
                json!({
                    "addresses": [if family == "IPv6" { format!("2001:db8:1:a::{:x}", 0x10 + i) } else { format!("10.244.1.{}", 10 + i) }],
                    "conditions": conditions,
                    "nodeName": node,
                    "targetRef": {"kind": "Pod", "name": format!("{service}-7d9c6b5f4-{i}"), "namespace": "shop"},
                })
            })
            .collect();
        serde_json::from_value(json!({
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": "shop",
                          "labels": {"kubernetes.io/service-name": service,
                                     "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"},
                          "ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": service, "uid": "8d3e5a1c-0c4f-4c1e-9a57-6a1f0e0c3b21"}]},
            "addressType": family,
            "endpoints": endpoints,
            "ports": [{"name": "https", "port": 8443, "protocol": "TCP"}],
        }))
        .unwrap()
    }

    /// A lease as Cilium's L2 announcer keeps it (l2-announcements.rst "Leases").
    pub fn lease(namespace: &str, name: &str, holder: &str) -> Lease {
        serde_json::from_value(json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"acquireTime": "2026-11-20T15:14:20.108431Z", "holderIdentity": holder,
                     "leaseDurationSeconds": 15, "leaseTransitions": 1,
                     "renewTime": "2026-11-24T12:15:26.773020Z"},
        }))
        .unwrap()
    }

    fn key(name: &str) -> ServiceKey {
        ServiceKey {
            namespace: "shop".into(),
            name: name.into(),
        }
    }

    fn addresses(a: &Announcer) -> Vec<String> {
        a.announced().keys().map(|a| a.to_string()).collect()
    }

    #[test]
    fn the_cilium_lease_holder_answers_and_no_other_node() {
        let svc = service("web", "Cluster", &["2001:db8:5::ff10", "192.0.2.70"]);
        for (node, want) in [("worker-1", true), ("worker-2", false)] {
            let mut a = announcer(Election::CiliumLease, node);
            assert_eq!(a.apply_service(&svc), Applied::Kept);
            // No lease yet: Cilium announces nothing, neither does the proxy.
            assert_eq!(
                a.decide(&key("web"), &a.services[&key("web")]),
                Decision::NoLease
            );
            assert!(a.announced().is_empty());
            a.apply_lease(&lease(
                "kube-system",
                "cilium-l2announce-shop-web",
                "worker-1",
            ));
            assert_eq!(!a.announced().is_empty(), want, "{node}");
            if want {
                assert_eq!(addresses(&a), ["2001:db8:5::ff10"]);
            } else {
                assert_eq!(
                    a.decide(&key("web"), &a.services[&key("web")]),
                    Decision::OtherHolder("worker-1".into())
                );
            }
        }
    }

    #[test]
    fn leases_elsewhere_or_released_elect_nobody() {
        let mut a = announcer(Election::CiliumLease, "worker-1");
        a.apply_service(&service("web", "Cluster", &["2001:db8:5::ff10"]));
        // Another namespace (Cilium runs in kube-system here), another prefix, another Service.
        assert_eq!(
            a.apply_lease(&lease("default", "cilium-l2announce-shop-web", "worker-1")),
            Applied::Ignored
        );
        assert_eq!(
            a.apply_lease(&lease("kube-system", "kube-controller-manager", "worker-1")),
            Applied::Ignored
        );
        a.apply_lease(&lease(
            "kube-system",
            "cilium-l2announce-shop-webshop",
            "worker-1",
        ));
        assert!(a.announced().is_empty());
        a.apply_lease(&lease(
            "kube-system",
            "cilium-l2announce-shop-web",
            "worker-1",
        ));
        assert_eq!(addresses(&a), ["2001:db8:5::ff10"]);
        // Released (client-go empties holderIdentity), then moved, then deleted.
        a.apply_lease(&lease("kube-system", "cilium-l2announce-shop-web", ""));
        assert!(a.announced().is_empty());
        a.apply_lease(&lease(
            "kube-system",
            "cilium-l2announce-shop-web",
            "worker-1",
        ));
        assert_eq!(addresses(&a).len(), 1);
        a.delete_lease(&lease(
            "kube-system",
            "cilium-l2announce-shop-web",
            "worker-1",
        ));
        assert!(a.announced().is_empty());
    }

    #[test]
    fn local_policy_needs_a_ready_ipv6_endpoint_on_this_node() {
        let mut a = announcer(Election::None, "worker-2");
        a.apply_service(&service("api", "Local", &["2001:db8:5::ff20"]));
        assert_eq!(
            a.decide(&key("api"), &a.services[&key("api")]),
            Decision::NoLocalEndpoint
        );
        // The IPv4 slice has an endpoint here; the IPv6 one does not: IPv6 traffic would drop.
        a.apply_slice(&slice(
            "api-4xk2p",
            "api",
            "IPv4",
            &[("worker-2", Some(true))],
        ));
        a.apply_slice(&slice(
            "api-9zq7d",
            "api",
            "IPv6",
            &[("worker-1", Some(true))],
        ));
        assert!(a.announced().is_empty());
        // Not ready here: still nothing; ready (or no ready condition at all): answered.
        a.apply_slice(&slice(
            "api-9zq7d",
            "api",
            "IPv6",
            &[("worker-1", Some(true)), ("worker-2", Some(false))],
        ));
        assert!(a.announced().is_empty());
        a.apply_slice(&slice("api-9zq7d", "api", "IPv6", &[("worker-2", None)]));
        assert_eq!(addresses(&a), ["2001:db8:5::ff20"]);
        a.delete_slice(&slice("api-9zq7d", "api", "IPv6", &[]));
        assert!(a.announced().is_empty());
    }

    /// Only slices with a ready endpoint here are kept, counted per Service: a Service with two
    /// such slices stays answered until the last one goes, and slices of other nodes cost nothing.
    #[test]
    fn local_slices_are_counted_per_service_and_only_kept_when_ready_here() {
        let mut a = announcer(Election::None, "worker-2");
        a.apply_service(&service("api", "Local", &["2001:db8:5::ff20"]));
        for n in 0..50 {
            let name = format!("web-{n:05}");
            assert_eq!(
                a.apply_slice(&slice(&name, "web", "IPv6", &[("worker-1", Some(true))])),
                Applied::Ignored
            );
        }
        assert_eq!(a.slices.len(), 0);
        let here = [("worker-2", Some(true))];
        a.apply_slice(&slice("api-a", "api", "IPv6", &here));
        a.apply_slice(&slice("api-b", "api", "IPv6", &here));
        // Applying the same slice again is an update, not a second slice.
        a.apply_slice(&slice("api-b", "api", "IPv6", &here));
        assert_eq!(a.slices.len(), 2);
        a.delete_slice(&slice("api-a", "api", "IPv6", &[]));
        assert_eq!(addresses(&a), ["2001:db8:5::ff20"]);
        // The last ready endpoint here turns not ready: no longer answered, nothing kept.
        a.apply_slice(&slice("api-b", "api", "IPv6", &[("worker-2", Some(false))]));
        assert!(a.announced().is_empty());
        assert_eq!(a.slices.len(), 0);
    }

    #[test]
    fn local_policy_with_a_lease_needs_both() {
        let mut a = announcer(Election::CiliumLease, "worker-1");
        a.apply_service(&service("api", "Local", &["2001:db8:5::ff20"]));
        a.apply_lease(&lease(
            "kube-system",
            "cilium-l2announce-shop-api",
            "worker-1",
        ));
        assert!(a.announced().is_empty(), "the holder has no endpoint");
        a.apply_slice(&slice(
            "api-9zq7d",
            "api",
            "IPv6",
            &[("worker-1", Some(true))],
        ));
        assert_eq!(addresses(&a), ["2001:db8:5::ff20"]);
    }

    #[test]
    fn cluster_policy_without_elector_answers_on_every_node() {
        for node in ["worker-1", "worker-2"] {
            let mut a = announcer(Election::None, node);
            a.apply_service(&service("web", "Cluster", &["2001:db8:5::ff10"]));
            assert_eq!(addresses(&a), ["2001:db8:5::ff10"]);
        }
    }

    #[test]
    fn only_addresses_inside_the_pools_of_load_balancer_services() {
        let mut a = announcer(Election::None, "worker-1");
        // Outside the pool, IPv4, IPv4-mapped, hostnames: never.
        let svc = service(
            "web",
            "Cluster",
            &[
                "2001:db8:6::10",
                "192.0.2.70",
                "::ffff:192.0.2.71",
                "2001:db8:5::ff10",
            ],
        );
        a.apply_service(&svc);
        assert_eq!(addresses(&a), ["2001:db8:5::ff10"]);
        let mut outside = service("other", "Cluster", &["2001:db8:6::10"]);
        assert_eq!(a.apply_service(&outside), Applied::Ignored);
        // Not a LoadBalancer (any more): forgotten.
        let mut node_port = svc.clone();
        node_port.spec.as_mut().unwrap().type_ = Some("NodePort".into());
        a.apply_service(&node_port);
        assert!(a.announced().is_empty());
        // Another implementation's class (MetalLB answers NDP itself): never.
        outside = service("lb", "Cluster", &["2001:db8:5::ff30"]);
        outside.spec.as_mut().unwrap().load_balancer_class = Some("metallb.io/metallb".into());
        assert_eq!(a.apply_service(&outside), Applied::Ignored);
        let mut cilium = announcer(Election::CiliumLease, "worker-1");
        outside.spec.as_mut().unwrap().load_balancer_class = Some(CILIUM_L2_CLASS.into());
        assert_eq!(cilium.apply_service(&outside), Applied::Kept);
        // Pending (no ingress yet): nothing to follow.
        assert_eq!(
            a.apply_service(&service("new", "Cluster", &[])),
            Applied::Ignored
        );
    }

    #[test]
    fn bounds_are_kept() {
        let mut a = announcer(Election::None, "worker-1");
        a.max_services = 2;
        assert_eq!(
            a.apply_service(&service("a", "Cluster", &["2001:db8:5::ff01"])),
            Applied::Kept
        );
        assert_eq!(
            a.apply_service(&service("b", "Cluster", &["2001:db8:5::ff02"])),
            Applied::Kept
        );
        assert_eq!(
            a.apply_service(&service("c", "Cluster", &["2001:db8:5::ff03"])),
            Applied::Overflow
        );
        // An update of a followed Service is not a new one.
        assert_eq!(
            a.apply_service(&service("b", "Cluster", &["2001:db8:5::ff04"])),
            Applied::Kept
        );
        assert_eq!(addresses(&a), ["2001:db8:5::ff01", "2001:db8:5::ff04"]);
    }

    #[test]
    fn a_shared_address_names_every_service_announcing_it() {
        let mut a = announcer(Election::None, "worker-1");
        a.apply_service(&service("tcp", "Cluster", &["2001:db8:5::ff40"]));
        a.apply_service(&service("udp", "Local", &["2001:db8:5::ff40"]));
        let announced = a.announced();
        assert_eq!(announced.len(), 1);
        assert_eq!(announced.values().next().unwrap(), &vec![key("tcp")]);
    }
}
