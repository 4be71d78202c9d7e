//! Synthetic clusters in the shape `kubectl get nodes,pods,services,endpointslices -A -o json`
//! prints them, for tests and benchmarks: every IPAM a CNI may run (node podCIDRs, Calico IPAM
//! with IPPools and blocks, Cilium cluster-pool and multi-pool with their CiliumNodes and pools),
//! in every family layout, with the distribution's DNS and podCIDR order.
//!
//! The default [`Layout`] follows k3s: pod ranges split into /24 (IPv4) and /64 (IPv6) node
//! blocks, `kubernetes` on the first address of the primary service range, kube-dns on the
//! tenth address of every service range with `RequireDualStack` when there are two.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use kube6_net::Family;
use serde_json::{Value, json};

/// Where pods get their addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SynthIpam {
    /// host-local over the node's podCIDRs (Flannel, kube-router, Canal, Cilium `kubernetes`).
    NodePodCidrs,
    /// Calico IPAM: one IPPool per family; each node owns blocks from the pool's upper half (so
    /// that they never fall in the nodes' podCIDRs); now and then a pod borrows an address from
    /// another node's block.
    Calico { block_v4: u8, block_v6: u8 },
    /// Cilium cluster-pool: per-node CIDRs of `mask` cut from the pod ranges, in CiliumNodes.
    CiliumClusterPool { mask_v4: u8, mask_v6: u8 },
    /// Cilium multi-pool: one CiliumPodIPPool `default` over the pod ranges, per-node
    /// allocations of `mask` in CiliumNodes.
    CiliumMultiPool { mask_v4: u8, mask_v6: u8 },
}

/// How the cluster is laid out: its ranges and what the distribution and CNI do with them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub pod_v4: Ipv4Net,
    pub pod_v6: Ipv6Net,
    /// kube-controller-manager's node masks.
    pub node_mask_v4: u8,
    pub node_mask_v6: u8,
    pub service_v4: Ipv4Net,
    pub service_v6: Ipv6Net,
    /// The index of kube-dns's address in each service range.
    pub dns_index: u128,
    /// Whether kube-dns gets an address of every family (k3s), or of the primary one (k0s,
    /// kubeadm).
    pub dns_every_family: bool,
    /// kube-dns's `ipFamilyPolicy` when it has two addresses.
    pub dns_dual_policy: &'static str,
    /// Whether kube-controller-manager gives nodes podCIDRs.
    pub node_pod_cidrs: bool,
    /// Whether node podCIDRs list IPv6 first whatever the primary family (k0s before v1.36.1).
    pub pod_cidrs_ipv6_first: bool,
    pub ipam: SynthIpam,
}

impl Layout {
    /// k3s with Flannel (the default of [`Shape`]).
    pub fn k3s() -> Layout {
        Layout {
            pod_v4: net4("10.64.0.0/10"),
            pod_v6: net6("fd00:42::/48"),
            node_mask_v4: 24,
            node_mask_v6: 64,
            service_v4: net4("10.43.0.0/16"),
            service_v6: net6("fd00:43::/112"),
            dns_index: 10,
            dns_every_family: true,
            dns_dual_policy: "RequireDualStack",
            node_pod_cidrs: true,
            pod_cidrs_ipv6_first: false,
            ipam: SynthIpam::NodePodCidrs,
        }
    }

    /// k0s with kube-router, its default ranges and node masks (/24, /117 since v1.34.0), the
    /// DNS address at the tenth address of the primary service range only.
    pub fn k0s() -> Layout {
        Layout {
            pod_v4: net4("10.244.0.0/16"),
            pod_v6: net6("fd00:10:244::/104"),
            node_mask_v4: 24,
            node_mask_v6: 117,
            service_v4: net4("10.96.0.0/12"),
            service_v6: net6("fd00:10:96::/108"),
            dns_index: 10,
            dns_every_family: false,
            dns_dual_policy: "SingleStack",
            node_pod_cidrs: true,
            pod_cidrs_ipv6_first: false,
            ipam: SynthIpam::NodePodCidrs,
        }
    }

    /// kubeadm with Calico IPAM: kube-controller-manager still hands out node podCIDRs (a
    /// podSubnet is set), which Calico does not use.
    pub fn kubeadm_calico() -> Layout {
        Layout {
            pod_v4: net4("10.64.0.0/16"),
            pod_v6: net6("fd00:42::/56"),
            node_mask_v4: 24,
            node_mask_v6: 64,
            service_v4: net4("10.96.0.0/12"),
            service_v6: net6("fd00:96::/108"),
            dns_index: 10,
            dns_every_family: false,
            dns_dual_policy: "SingleStack",
            node_pod_cidrs: true,
            pod_cidrs_ipv6_first: false,
            ipam: SynthIpam::Calico {
                block_v4: 26,
                block_v6: 122,
            },
        }
    }

    /// Cilium cluster-pool as KKP runs it: the pod ranges are the pool lists, the node masks
    /// the pool masks, and kube-controller-manager hands out no node podCIDRs.
    pub fn cilium_cluster_pool() -> Layout {
        Layout {
            pod_v4: net4("172.25.0.0/16"),
            pod_v6: net6("fd01::/104"),
            node_mask_v4: 24,
            node_mask_v6: 120,
            service_v4: net4("10.240.16.0/20"),
            service_v6: net6("fd02::/108"),
            dns_index: 10,
            dns_every_family: false,
            dns_dual_policy: "SingleStack",
            node_pod_cidrs: false,
            pod_cidrs_ipv6_first: false,
            ipam: SynthIpam::CiliumClusterPool {
                mask_v4: 24,
                mask_v6: 120,
            },
        }
    }

    /// Cilium multi-pool: one `default` pool, /27 and /122 allocations per node.
    pub fn cilium_multi_pool() -> Layout {
        Layout {
            ipam: SynthIpam::CiliumMultiPool {
                mask_v4: 27,
                mask_v6: 122,
            },
            ..Layout::cilium_cluster_pool()
        }
    }

    pub fn pod_range(&self, family: Family) -> IpNet {
        match family {
            Family::IPv4 => IpNet::V4(self.pod_v4),
            Family::IPv6 => IpNet::V6(self.pod_v6),
        }
    }

    pub fn service_range(&self, family: Family) -> IpNet {
        match family {
            Family::IPv4 => IpNet::V4(self.service_v4),
            Family::IPv6 => IpNet::V6(self.service_v6),
        }
    }

    pub fn node_mask(&self, family: Family) -> u8 {
        match family {
            Family::IPv4 => self.node_mask_v4,
            Family::IPv6 => self.node_mask_v6,
        }
    }

    /// The prefix of what the IPAM gives a node (a node block, a Calico block, a Cilium
    /// per-node CIDR).
    pub fn share_mask(&self, family: Family) -> u8 {
        let (v4, v6) = match self.ipam {
            SynthIpam::NodePodCidrs => (self.node_mask_v4, self.node_mask_v6),
            SynthIpam::Calico { block_v4, block_v6 } => (block_v4, block_v6),
            SynthIpam::CiliumClusterPool { mask_v4, mask_v6 }
            | SynthIpam::CiliumMultiPool { mask_v4, mask_v6 } => (mask_v4, mask_v6),
        };
        match family {
            Family::IPv4 => v4,
            Family::IPv6 => v6,
        }
    }
}

fn net4(text: &str) -> Ipv4Net {
    text.parse().unwrap_or_else(|_| Ipv4Net::default())
}

fn net6(text: &str) -> Ipv6Net {
    text.parse().unwrap_or_else(|_| Ipv6Net::default())
}

/// The `index`-th subnet of prefix `mask` in `net`, starting `offset` addresses in.
fn subnet(net: &IpNet, mask: u8, index: u128, offset: u128) -> IpNet {
    let bits = match net {
        IpNet::V4(_) => 32,
        IpNet::V6(_) => 128,
    };
    let size = 1u128 << (bits - u32::from(mask.min(bits as u8)));
    let start = address(net, offset.saturating_add(index.saturating_mul(size)));
    IpNet::new(start, mask).unwrap_or(*net)
}

/// The address `index` past the network address of `net` (wrapping inside the family).
fn address(net: &IpNet, index: u128) -> IpAddr {
    match net {
        IpNet::V4(n) => IpAddr::V4(Ipv4Addr::from(
            u32::from(n.network()).wrapping_add(index as u32),
        )),
        IpNet::V6(n) => IpAddr::V6(Ipv6Addr::from(u128::from(n.network()).wrapping_add(index))),
    }
}

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
    pub layout: Layout,
}

impl Shape {
    pub fn new(families: &[Family], nodes: usize, pods: usize, services: usize) -> Shape {
        Shape {
            families: families.to_vec(),
            nodes: nodes.max(1),
            pods,
            services: services.max(2),
            layout: Layout::k3s(),
        }
    }

    /// The same cluster laid out differently.
    pub fn with_layout(mut self, layout: Layout) -> Shape {
        self.layout = layout;
        self
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

    fn is_dual(&self) -> bool {
        self.families.len() > 1
    }

    fn pick<T: Copy>(&self, family: Family, v4: T, v6: T) -> T {
        match family {
            Family::IPv4 => v4,
            Family::IPv6 => v6,
        }
    }

    /// The families joined with `,`, each through `f`.
    fn joined(&self, f: impl Fn(Family) -> String) -> String {
        self.families
            .iter()
            .map(|&x| f(x))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The k3s `config.yaml` that plans this cluster (k3s layout).
    pub fn k3s_config(&self) -> String {
        let l = &self.layout;
        format!(
            "cluster-cidr: {}\nservice-cidr: {}\n",
            self.joined(|f| l.pod_range(f).to_string()),
            self.joined(|f| l.service_range(f).to_string())
        )
    }

    /// A kube6 `ClusterNetwork` that plans this cluster for `distribution` (`name` or
    /// `name@version`) and the CNI `cni` (with its IPAM settings where it has them).
    pub fn cluster_network(&self, distribution: &str, cni: &str) -> String {
        let l = &self.layout;
        let (name, version) = distribution.split_once('@').unwrap_or((distribution, ""));
        let mut out = format!(
            "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nmetadata:\n  name: synth\nspec:\n  distribution:\n    name: {name}\n"
        );
        if !version.is_empty() {
            out.push_str(&format!("    version: {version}\n"));
        }
        out.push_str(&format!("  cni:\n    name: {cni}\n"));
        match (cni, l.ipam) {
            ("calico", SynthIpam::Calico { .. }) => {
                out.push_str("    calico:\n      pools:\n");
                for &f in &self.families {
                    out.push_str(&format!(
                        "      - cidr: {}\n        blockSize: {}\n",
                        l.pod_range(f),
                        l.share_mask(f)
                    ));
                }
            }
            ("cilium", SynthIpam::CiliumClusterPool { mask_v4, mask_v6 }) => {
                out.push_str("    cilium:\n      ipamMode: cluster-pool\n");
                for &f in &self.families {
                    let (label, mask) = self.pick(f, ("IPv4", mask_v4), ("IPv6", mask_v6));
                    out.push_str(&format!(
                        "      clusterPool{label}PodCIDRList: [\"{}\"]\n      clusterPool{label}MaskSize: {mask}\n",
                        l.pod_range(f)
                    ));
                }
                if self.families.contains(&Family::IPv6) {
                    out.push_str("      ipv6Enabled: true\n");
                }
            }
            ("cilium", SynthIpam::CiliumMultiPool { .. }) => {
                out.push_str("    cilium:\n      ipamMode: multi-pool\n");
                if self.families.contains(&Family::IPv6) {
                    out.push_str("      ipv6Enabled: true\n");
                }
            }
            ("cilium", SynthIpam::NodePodCidrs) => {
                out.push_str("    cilium:\n      ipamMode: kubernetes\n");
                if self.families.contains(&Family::IPv6) {
                    out.push_str("      ipv6Enabled: true\n");
                }
            }
            _ => {}
        }
        out.push_str("  pods:\n");
        for &f in &self.families {
            out.push_str(&format!(
                "  - cidr: {}\n    nodeMaskSize: {}\n",
                l.pod_range(f),
                l.node_mask(f)
            ));
        }
        out.push_str("  services:\n");
        for &f in &self.families {
            out.push_str(&format!("  - cidr: {}\n", l.service_range(f)));
        }
        out
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

    /// kube-controller-manager's block for the node: the `node`-th node-mask subnet of the
    /// pod range.
    pub fn node_block(&self, family: Family, node: usize) -> IpNet {
        let l = &self.layout;
        subnet(&l.pod_range(family), l.node_mask(family), node as u128, 0)
    }

    /// Addresses in one share of the IPAM, the first two left out (the network address and
    /// the gateway CNIs take).
    fn share_capacity(&self, family: Family) -> u128 {
        let bits = u32::from(family.bits());
        let mask = u32::from(self.layout.share_mask(family));
        (1u128 << (bits - mask).min(100)).saturating_sub(2).max(1)
    }

    /// Where the IPAM's shares start in the pod range: Calico blocks from the upper half (never
    /// inside the nodes' podCIDRs), everything else from the start.
    fn share_offset(&self, family: Family) -> u128 {
        match self.layout.ipam {
            SynthIpam::Calico { .. } => {
                let range = self.layout.pod_range(family);
                let bits = u32::from(family.bits()) - u32::from(range.prefix_len());
                1u128 << (bits - 1).min(120)
            }
            _ => 0,
        }
    }

    /// The `k`-th share (Calico block, Cilium per-node CIDR, node block) node `node` owns.
    pub fn share(&self, family: Family, node: usize, k: usize) -> IpNet {
        if self.layout.ipam == SynthIpam::NodePodCidrs {
            return self.node_block(family, node);
        }
        let index = (node + k * self.nodes) as u128;
        subnet(
            &self.layout.pod_range(family),
            self.layout.share_mask(family),
            index,
            self.share_offset(family),
        )
    }

    /// How many shares node `node` needs for its pods.
    fn shares_of(&self, family: Family, node: usize) -> usize {
        if self.layout.ipam == SynthIpam::NodePodCidrs {
            return 1;
        }
        let pods = self.pods_on(node) as u128 + 104;
        pods.div_ceil(self.share_capacity(family)).max(1) as usize
    }

    /// Pods (not hostNetwork) on node `node`, plus the addresses EndpointSlices use.
    fn pods_on(&self, node: usize) -> usize {
        let ordinary = self.pods.saturating_sub(self.nodes);
        ordinary / self.nodes + usize::from(node < ordinary % self.nodes)
    }

    /// Whether pod `i` (not hostNetwork) borrows its address from the next node's block
    /// (Calico only, where the blocks have room to spare).
    fn borrows(&self, i: usize) -> bool {
        matches!(self.layout.ipam, SynthIpam::Calico { .. })
            && self.nodes > 1
            && i % 13 == 7
            && self
                .families
                .iter()
                .all(|&f| (self.pods_on(0) as u128 + 8) < self.share_capacity(f))
    }

    /// The `slot`-th address the IPAM hands out on node `node`.
    fn pod_ip(&self, family: Family, node: usize, slot: usize) -> IpAddr {
        if self.layout.ipam == SynthIpam::NodePodCidrs && family == Family::IPv4 {
            // Node blocks of IPv4 are small: wrap as before (the k3s layout's fixtures).
            let block = self.node_block(family, node);
            return address(&block, 2 + (slot as u128 % 250));
        }
        let capacity = self.share_capacity(family);
        let k = (slot as u128 / capacity) as usize;
        let share = self.share(family, node, k);
        address(&share, 2 + slot as u128 % capacity)
    }

    /// The address a borrowing pod takes: from the top of the next node's first block.
    fn borrowed_ip(&self, family: Family, node: usize, i: usize) -> IpAddr {
        let lender = (node + 1) % self.nodes;
        let share = self.share(family, lender, 0);
        let top = self.share_capacity(family);
        address(&share, top - (i as u128 / 13) % 8)
    }

    /// The `index`-th address of the service range of `family`.
    pub fn service_ip(&self, family: Family, index: usize) -> IpAddr {
        address(&self.layout.service_range(family), index as u128)
    }

    fn families_json(&self) -> Vec<&'static str> {
        self.families.iter().map(|f| f.as_str()).collect()
    }

    /// Every object, in the order kubectl prints them: nodes, pods, services, endpointslices,
    /// then the CNI's IPAM objects.
    pub fn items(&self) -> impl Iterator<Item = Value> + '_ {
        let nodes = (0..self.nodes).map(|i| self.node(i));
        let pods = (0..self.pods).map(|i| self.pod(i));
        let services = (0..self.services).map(|i| self.service(i));
        let slices = (0..self.services).flat_map(|i| self.slices(i));
        nodes
            .chain(pods)
            .chain(services)
            .chain(slices)
            .chain(self.cni_objects())
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
        let mut order = self.families.clone();
        if self.layout.pod_cidrs_ipv6_first {
            order.sort_by_key(|f| *f == Family::IPv4);
        }
        let cidrs: Vec<String> = order
            .iter()
            .map(|f| self.node_block(*f, i).to_string())
            .collect();
        let mut spec = json!({"providerID": format!("k3s://{name}")});
        let mut managed = json!({
            "f:metadata": {"f:annotations": {"f:node.alpha.kubernetes.io/ttl": {}}},
        });
        if self.layout.node_pod_cidrs {
            spec["podCIDR"] = json!(cidrs[0]);
            spec["podCIDRs"] = json!(cidrs);
            let mut v = serde_json::Map::new();
            v.insert(".".to_string(), json!({}));
            for c in &cidrs {
                v.insert(format!("v:\"{c}\""), json!({}));
            }
            managed["f:spec"] = json!({"f:podCIDR": {}, "f:podCIDRs": Value::Object(v)});
        }
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
                "managedFields": [{
                    "apiVersion": "v1",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": managed,
                    "manager": "kube-controller-manager",
                    "operation": "Update",
                    "time": "2026-11-01T10:00:05Z"
                }],
                "name": name,
                "resourceVersion": format!("{}", 1000 + i),
                "uid": format!("00000000-0000-4000-8000-{i:012}")
            },
            "spec": spec,
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
            .map(|&f| {
                let ip = if self.borrows(i) {
                    self.borrowed_ip(f, node, i)
                } else {
                    self.pod_ip(f, node, slot)
                };
                json!({"ip": ip.to_string()})
            })
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
        let dual = self.is_dual();
        let l = &self.layout;
        let (namespace, name, policy, families, selector, index) = match i {
            0 => (
                "default".to_string(),
                "kubernetes".to_string(),
                "SingleStack",
                vec![self.families[0]],
                None,
                1,
            ),
            1 => {
                let both = dual && l.dns_every_family;
                (
                    "kube-system".to_string(),
                    "kube-dns".to_string(),
                    if both {
                        l.dns_dual_policy
                    } else {
                        "SingleStack"
                    },
                    if both {
                        self.families.clone()
                    } else {
                        vec![self.families[0]]
                    },
                    Some(json!({"k8s-app": "kube-dns"})),
                    l.dns_index as usize,
                )
            }
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

    /// The CNI's IPAM objects, as `kubectl get ippools,ipamblocks` or `ciliumnodes,
    /// ciliumpodippools` print them.
    pub fn cni_objects(&self) -> Vec<Value> {
        let mut out = Vec::new();
        match self.layout.ipam {
            SynthIpam::NodePodCidrs => {}
            SynthIpam::Calico { .. } => {
                for &f in &self.families {
                    let v6 = f == Family::IPv6;
                    out.push(json!({
                        "apiVersion": "crd.projectcalico.org/v1",
                        "kind": "IPPool",
                        "metadata": {
                            "annotations": {"projectcalico.org/metadata": "{\"creationTimestamp\":null}"},
                            "creationTimestamp": "2026-11-01T10:01:00Z",
                            "generation": 1,
                            "name": if v6 { "default-ipv6-ippool" } else { "default-ipv4-ippool" },
                            "resourceVersion": "812",
                            "uid": format!("00000000-0000-4000-a000-00000000000{}", u8::from(v6))
                        },
                        "spec": {
                            "allowedUses": ["Workload", "Tunnel"],
                            "blockSize": self.layout.share_mask(f),
                            "cidr": self.layout.pod_range(f).to_string(),
                            "ipipMode": "Never",
                            "natOutgoing": !v6,
                            "nodeSelector": "all()",
                            "vxlanMode": if v6 { "Never" } else { "CrossSubnet" }
                        }
                    }));
                }
                for node in 0..self.nodes {
                    for &f in &self.families {
                        for k in 0..self.shares_of(f, node) {
                            let block = self.share(f, node, k);
                            let name = block.to_string().replace(['.', ':', '/'], "-");
                            out.push(json!({
                                "apiVersion": "crd.projectcalico.org/v1",
                                "kind": "IPAMBlock",
                                "metadata": {
                                    "annotations": {"projectcalico.org/metadata": "{}"},
                                    "generation": 4,
                                    "name": name,
                                    "resourceVersion": "990"
                                },
                                "spec": {
                                    "affinity": format!("host:node-{node}"),
                                    "allocations": [0, null, 1, 2],
                                    "attributes": [{"handle_id": "ipip-tunnel-addr-node", "secondary": {"node": format!("node-{node}"), "type": "ipipTunnelAddress"}}],
                                    "cidr": block.to_string(),
                                    "deleted": false,
                                    "sequenceNumber": 1_762_000_000u64,
                                    "sequenceNumberForAllocation": {"0": 1_762_000_000u64},
                                    "strictAffinity": false,
                                    "unallocated": [3, 4, 5]
                                }
                            }));
                        }
                    }
                }
            }
            SynthIpam::CiliumClusterPool { .. } | SynthIpam::CiliumMultiPool { .. } => {
                let multi = matches!(self.layout.ipam, SynthIpam::CiliumMultiPool { .. });
                if multi {
                    let mut spec = serde_json::Map::new();
                    for &f in &self.families {
                        spec.insert(
                            f.as_str().to_lowercase(),
                            json!({"cidrs": [self.layout.pod_range(f).to_string()],
                                   "maskSize": self.layout.share_mask(f)}),
                        );
                    }
                    out.push(json!({
                        "apiVersion": "cilium.io/v2alpha1",
                        "kind": "CiliumPodIPPool",
                        "metadata": {"creationTimestamp": "2026-11-01T10:01:00Z", "generation": 1,
                                     "name": "default", "resourceVersion": "700"},
                        "spec": Value::Object(spec)
                    }));
                }
                for node in 0..self.nodes {
                    let name = format!("node-{node}");
                    let cidrs: Vec<String> = self
                        .families
                        .iter()
                        .flat_map(|&f| (0..self.shares_of(f, node)).map(move |k| (f, k)))
                        .map(|(f, k)| self.share(f, node, k).to_string())
                        .collect();
                    let ipam = if multi {
                        json!({"pools": {
                            "allocated": [{"cidrs": cidrs, "pool": "default"}],
                            "requested": [{"needed": {"ipv4-addrs": 16, "ipv6-addrs": 16}, "pool": "default"}]
                        }})
                    } else {
                        json!({"podCIDRs": cidrs})
                    };
                    let addresses: Vec<Value> = self
                        .families
                        .iter()
                        .map(|f| json!({"ip": self.node_ip(*f, node).to_string(), "type": "InternalIP"}))
                        .collect();
                    out.push(json!({
                        "apiVersion": "cilium.io/v2",
                        "kind": "CiliumNode",
                        "metadata": {
                            "creationTimestamp": "2026-11-01T10:00:30Z",
                            "generation": 3,
                            "labels": {"kubernetes.io/hostname": name},
                            "name": name,
                            "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                                                 "uid": format!("00000000-0000-4000-8000-{node:012}")}],
                            "resourceVersion": "1500"
                        },
                        "spec": {
                            "addresses": addresses,
                            "alibaba-cloud": {}, "azure": {}, "encryption": {}, "eni": {},
                            "health": {"ipv4": "", "ipv6": ""},
                            "ipam": ipam
                        },
                        "status": {"alibaba-cloud": {}, "azure": {}, "eni": {},
                                   "ipam": {"operator-status": {}}}
                    }));
                }
            }
        }
        out
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
