//! Synthetic clusters in the shape `kubectl get nodes,pods,services,endpointslices -A -o json`
//! prints them, for tests and benchmarks, with the k3s configuration that plans them.
//!
//! The cluster follows k3s's rules: pod ranges split into /24 (IPv4) and /64 (IPv6) node blocks,
//! `kubernetes` on the first address of the primary service range, kube-dns on the tenth
//! address of every service range with `RequireDualStack` when there are two.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use kube6_net::Family;
use serde_json::{Value, json};

/// The cluster to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Families, primary first.
    pub families: Vec<Family>,
    pub nodes: usize,
    /// Pods in total, one hostNetwork pod (kube-proxy) per node among them.
    pub pods: usize,
    /// Services in total, `kubernetes` and `kube-dns` among them.
    pub services: usize,
}

const POD_V4: &str = "10.64.0.0/10";
const POD_V6: &str = "fd00:42::/48";
const SVC_V4: &str = "10.43.0.0/16";
const SVC_V6: &str = "fd00:43::/112";

impl Shape {
    pub fn new(families: &[Family], nodes: usize, pods: usize, services: usize) -> Shape {
        Shape {
            families: families.to_vec(),
            nodes: nodes.max(1),
            pods,
            services: services.max(2),
        }
    }

    /// IPv4 single-stack.
    pub fn ipv4() -> Shape {
        Shape::new(&[Family::IPv4], 4, 20, 6)
    }

    /// IPv6 single-stack.
    pub fn ipv6() -> Shape {
        Shape::new(&[Family::IPv6], 4, 20, 6)
    }

    /// Dual-stack, IPv4 primary.
    pub fn dual_ipv4_first() -> Shape {
        Shape::new(&[Family::IPv4, Family::IPv6], 4, 20, 6)
    }

    /// Dual-stack, IPv6 primary.
    pub fn dual_ipv6_first() -> Shape {
        Shape::new(&[Family::IPv6, Family::IPv4], 4, 20, 6)
    }

    /// The k3s `config.yaml` that plans this cluster.
    pub fn k3s_config(&self) -> String {
        let pick = |v4: &str, v6: &str| {
            self.families
                .iter()
                .map(|f| match f {
                    Family::IPv4 => v4,
                    Family::IPv6 => v6,
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        format!(
            "cluster-cidr: {}\nservice-cidr: {}\n",
            pick(POD_V4, POD_V6),
            pick(SVC_V4, SVC_V6)
        )
    }

    fn node_ip(&self, family: Family, node: usize) -> IpAddr {
        let n = node as u32 + 10;
        match family {
            Family::IPv4 => IpAddr::V4(Ipv4Addr::from(u32::from(Ipv4Addr::new(172, 16, 0, 0)) + n)),
            Family::IPv6 => IpAddr::V6(Ipv6Addr::from(
                u128::from(Ipv6Addr::new(0x2001, 0xdb8, 0x10, 0, 0, 0, 0, 0)) + u128::from(n),
            )),
        }
    }

    /// The node's pod block: the `node`-th /24 or /64 of the pod range.
    fn node_block(&self, family: Family, node: usize) -> String {
        match family {
            Family::IPv4 => {
                let base = u32::from(Ipv4Addr::new(10, 64, 0, 0)) + ((node as u32) << 8);
                format!("{}/24", Ipv4Addr::from(base))
            }
            Family::IPv6 => {
                let base = u128::from(Ipv6Addr::new(0xfd00, 0x42, 0, 0, 0, 0, 0, 0))
                    + ((node as u128) << 64);
                format!("{}/64", Ipv6Addr::from(base))
            }
        }
    }

    /// The `slot`-th address in the node's pod block (slot 0 is the first one handed out).
    fn pod_ip(&self, family: Family, node: usize, slot: usize) -> IpAddr {
        match family {
            Family::IPv4 => {
                let base = u32::from(Ipv4Addr::new(10, 64, 0, 0)) + ((node as u32) << 8);
                IpAddr::V4(Ipv4Addr::from(base + 2 + (slot as u32 % 250)))
            }
            Family::IPv6 => {
                let base = u128::from(Ipv6Addr::new(0xfd00, 0x42, 0, 0, 0, 0, 0, 0))
                    + ((node as u128) << 64);
                IpAddr::V6(Ipv6Addr::from(base + 2 + slot as u128))
            }
        }
    }

    /// The `index`-th address of the service range of `family`.
    pub fn service_ip(&self, family: Family, index: usize) -> IpAddr {
        match family {
            Family::IPv4 => IpAddr::V4(Ipv4Addr::from(
                u32::from(Ipv4Addr::new(10, 43, 0, 0)) + index as u32,
            )),
            Family::IPv6 => IpAddr::V6(Ipv6Addr::from(
                u128::from(Ipv6Addr::new(0xfd00, 0x43, 0, 0, 0, 0, 0, 0)) + index as u128,
            )),
        }
    }

    fn families_json(&self) -> Vec<&'static str> {
        self.families.iter().map(|f| f.as_str()).collect()
    }

    /// Every object, in the order kubectl prints them: nodes, pods, services, endpointslices.
    pub fn items(&self) -> impl Iterator<Item = Value> + '_ {
        let nodes = (0..self.nodes).map(|i| self.node(i));
        let pods = (0..self.pods).map(|i| self.pod(i));
        let services = (0..self.services).map(|i| self.service(i));
        let slices = (0..self.services).flat_map(|i| self.slices(i));
        nodes.chain(pods).chain(services).chain(slices)
    }

    /// The whole dump as one value (small clusters; tests change it before writing).
    pub fn list(&self) -> Value {
        list(self.items().collect())
    }

    /// Streams the dump, indented as kubectl does, without holding it in memory.
    pub fn write<W: Write>(&self, out: W) -> io::Result<()> {
        let mut out = io::BufWriter::new(out);
        out.write_all(b"{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n")?;
        for (i, item) in self.items().enumerate() {
            if i > 0 {
                out.write_all(b",\n")?;
            }
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
            let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
            serde::Serialize::serialize(&item, &mut ser).map_err(io::Error::other)?;
        }
        out.write_all(
            b"\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\n        \"resourceVersion\": \"\"\n    }\n}\n",
        )?;
        out.flush()
    }

    fn node(&self, i: usize) -> Value {
        let name = format!("node-{i}");
        let mut addresses: Vec<Value> = self
            .families
            .iter()
            .map(|f| json!({"type": "InternalIP", "address": self.node_ip(*f, i).to_string()}))
            .collect();
        addresses.push(json!({"type": "Hostname", "address": name}));
        let cidrs: Vec<String> = self
            .families
            .iter()
            .map(|f| self.node_block(*f, i))
            .collect();
        json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "annotations": {
                    "flannel.alpha.coreos.com/backend-type": "vxlan",
                    "k3s.io/node-args": "[\"agent\"]",
                    "node.alpha.kubernetes.io/ttl": "0",
                    "volumes.kubernetes.io/controller-managed-attach-detach": "true"
                },
                "creationTimestamp": "2026-11-01T10:00:00Z",
                "labels": {
                    "beta.kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "node.kubernetes.io/instance-type": "k3s"
                },
                "name": name,
                "resourceVersion": format!("{}", 1000 + i),
                "uid": format!("00000000-0000-4000-8000-{i:012}")
            },
            "spec": {
                "podCIDR": cidrs[0],
                "podCIDRs": cidrs,
                "providerID": format!("k3s://{name}")
            },
            "status": {
                "addresses": addresses,
                "allocatable": {"cpu": "4", "ephemeral-storage": "39358207765", "memory": "8026120Ki", "pods": "110"},
                "capacity": {"cpu": "4", "ephemeral-storage": "40458684Ki", "memory": "8026120Ki", "pods": "110"},
                "conditions": [
                    {"lastHeartbeatTime": "2026-11-23T06:00:00Z", "lastTransitionTime": "2026-11-01T10:00:00Z",
                     "message": "kubelet has sufficient memory available", "reason": "KubeletHasSufficientMemory",
                     "status": "False", "type": "MemoryPressure"},
                    {"lastHeartbeatTime": "2026-11-23T06:00:00Z", "lastTransitionTime": "2026-11-01T10:00:00Z",
                     "message": "kubelet is posting ready status", "reason": "KubeletReady",
                     "status": "True", "type": "Ready"}
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64", "containerRuntimeVersion": "containerd://2.1.4-k3s1",
                    "kernelVersion": "6.12.0-amd64", "kubeProxyVersion": "v1.34.2+k3s1",
                    "kubeletVersion": "v1.34.2+k3s1", "operatingSystem": "linux",
                    "osImage": "Debian GNU/Linux 13 (trixie)"
                }
            }
        })
    }

    fn pod(&self, i: usize) -> Value {
        // The first `nodes` pods are kube-proxy, one per node, on the host network.
        if i < self.nodes {
            let ips: Vec<Value> = self
                .families
                .iter()
                .map(|f| json!({"ip": self.node_ip(*f, i).to_string()}))
                .collect();
            return pod_json(
                "kube-system",
                &format!("kube-proxy-{i:05}"),
                &format!("node-{i}"),
                true,
                "kube-proxy",
                ips,
                &self.node_ip(self.families[0], i).to_string(),
            );
        }
        let node = i % self.nodes;
        let slot = i / self.nodes;
        let ips: Vec<Value> = self
            .families
            .iter()
            .map(|f| json!({"ip": self.pod_ip(*f, node, slot).to_string()}))
            .collect();
        let app = format!("app-{}", i % 997);
        pod_json(
            &format!("ns-{}", i % 50),
            &format!("{app}-{i:06}"),
            &format!("node-{node}"),
            false,
            &app,
            ips,
            &self.node_ip(self.families[0], node).to_string(),
        )
    }

    /// Service `i`: 0 is `kubernetes`, 1 is kube-dns, the rest alternate between
    /// SingleStack, PreferDualStack and RequireDualStack (single-stack clusters: SingleStack).
    fn service(&self, i: usize) -> Value {
        let dual = self.families.len() > 1;
        let (namespace, name, policy, families, selector, index) = match i {
            0 => (
                "default".to_string(),
                "kubernetes".to_string(),
                "SingleStack",
                vec![self.families[0]],
                None,
                1,
            ),
            1 => (
                "kube-system".to_string(),
                "kube-dns".to_string(),
                if dual {
                    "RequireDualStack"
                } else {
                    "SingleStack"
                },
                self.families.clone(),
                Some(json!({"k8s-app": "kube-dns"})),
                10,
            ),
            _ => {
                let policy = if !dual {
                    "SingleStack"
                } else {
                    ["SingleStack", "PreferDualStack", "RequireDualStack"][i % 3]
                };
                let families = if policy == "SingleStack" {
                    vec![self.families[0]]
                } else {
                    self.families.clone()
                };
                (
                    format!("ns-{}", i % 50),
                    format!("svc-{i:05}"),
                    policy,
                    families,
                    Some(json!({"app": format!("app-{}", i % 997)})),
                    i + 9,
                )
            }
        };
        let ips: Vec<String> = families
            .iter()
            .map(|f| self.service_ip(*f, index).to_string())
            .collect();
        let port = if i == 0 { 443 } else { 80 };
        let mut labels = json!({"app.kubernetes.io/managed-by": "Helm"});
        if i == 0 {
            labels = json!({"component": "apiserver", "provider": "kubernetes"});
        } else if i == 1 {
            labels = json!({"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                            "kubernetes.io/name": "CoreDNS"});
        }
        let mut spec = json!({
            "clusterIP": ips[0],
            "clusterIPs": ips,
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": families.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            "ipFamilyPolicy": policy,
            "ports": [{"name": "http", "port": port, "protocol": "TCP", "targetPort": port}],
            "sessionAffinity": "None",
            "type": "ClusterIP"
        });
        if let (Some(selector), Some(map)) = (selector, spec.as_object_mut()) {
            map.insert("selector".to_string(), selector);
        }
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "creationTimestamp": "2026-11-01T10:00:00Z",
                "labels": labels,
                "name": name,
                "namespace": namespace,
                "resourceVersion": format!("{}", 50000 + i),
                "uid": format!("00000000-0000-4000-9000-{i:012}")
            },
            "spec": spec,
            "status": {"loadBalancer": {}}
        })
    }

    /// The EndpointSlices of Service `i`: one per family of the Service.
    fn slices(&self, i: usize) -> Vec<Value> {
        let service = self.service(i);
        let namespace = service["metadata"]["namespace"].clone();
        let name = service["metadata"]["name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let families: Vec<String> = service["spec"]["ipFamilies"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        families
            .iter()
            .map(|family| {
                let f = if family == "IPv6" { Family::IPv6 } else { Family::IPv4 };
                let node = i % self.nodes;
                let endpoints: Vec<Value> = (0..2)
                    .map(|k| {
                        json!({
                            "addresses": [self.pod_ip(f, node, 100 + k).to_string()],
                            "conditions": {"ready": true, "serving": true, "terminating": false},
                            "nodeName": format!("node-{node}")
                        })
                    })
                    .collect();
                json!({
                    "addressType": family,
                    "apiVersion": "discovery.k8s.io/v1",
                    "endpoints": endpoints,
                    "kind": "EndpointSlice",
                    "metadata": {
                        "generateName": format!("{name}-"),
                        "labels": {
                            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                            "kubernetes.io/service-name": name
                        },
                        "name": format!("{name}-{}", family.to_lowercase()),
                        "namespace": namespace
                    },
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]
                })
            })
            .collect()
    }

    /// The families spelled as Kubernetes does (for tests).
    pub fn family_names(&self) -> Vec<&'static str> {
        self.families_json()
    }
}

/// A kubectl `List` around `items`.
pub fn list(items: Vec<Value>) -> Value {
    json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""}
    })
}

fn pod_json(
    namespace: &str,
    name: &str,
    node: &str,
    host_network: bool,
    app: &str,
    ips: Vec<Value>,
    host_ip: &str,
) -> Value {
    let first_ip = ips[0]["ip"].clone();
    let mut spec = json!({
        "containers": [{
            "image": format!("registry.example/{app}:1.0"),
            "imagePullPolicy": "IfNotPresent",
            "name": app,
            "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
            "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "10m", "memory": "64Mi"}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "volumeMounts": [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                              "name": "kube-api-access", "readOnly": true}]
        }],
        "dnsPolicy": "ClusterFirst",
        "enableServiceLinks": true,
        "nodeName": node,
        "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0,
        "restartPolicy": "Always",
        "schedulerName": "default-scheduler",
        "serviceAccountName": "default",
        "terminationGracePeriodSeconds": 30,
        "tolerations": [
            {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists", "tolerationSeconds": 300},
            {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists", "tolerationSeconds": 300}
        ]
    });
    if host_network && let Some(map) = spec.as_object_mut() {
        map.insert("hostNetwork".to_string(), Value::Bool(true));
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "creationTimestamp": "2026-11-01T10:05:00Z",
            "generateName": format!("{app}-7d4b9c8f6d-"),
            "labels": {"app": app, "pod-template-hash": "7d4b9c8f6d"},
            "name": name,
            "namespace": namespace,
            "ownerReferences": [{"apiVersion": "apps/v1", "blockOwnerDeletion": true, "controller": true,
                                 "kind": "ReplicaSet", "name": format!("{app}-7d4b9c8f6d"),
                                 "uid": "11111111-2222-4333-8444-555555555555"}],
            "resourceVersion": "123456",
            "uid": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
        },
        "spec": spec,
        "status": {
            "conditions": [
                {"lastProbeTime": null, "lastTransitionTime": "2026-11-01T10:05:01Z", "status": "True", "type": "Initialized"},
                {"lastProbeTime": null, "lastTransitionTime": "2026-11-01T10:05:03Z", "status": "True", "type": "Ready"},
                {"lastProbeTime": null, "lastTransitionTime": "2026-11-01T10:05:00Z", "status": "True", "type": "PodScheduled"}
            ],
            "containerStatuses": [{
                "containerID": "containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "image": format!("registry.example/{app}:1.0"),
                "imageID": "registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "lastState": {}, "name": app, "ready": true, "restartCount": 0, "started": true,
                "state": {"running": {"startedAt": "2026-11-01T10:05:02Z"}}
            }],
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "phase": "Running",
            "podIP": first_ip,
            "podIPs": ips,
            "qosClass": "Burstable",
            "startTime": "2026-11-01T10:05:00Z"
        }
    })
}
