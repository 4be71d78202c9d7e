//! The probe's test network: a small cluster without Kubernetes, on real kernels and real CNI
//! plugins.
//!
//! ```text
//!   outside (203.0.113.130, 2001:db8:40::2: IPv4-only and IPv6 servers, dnsmasq for example.)
//!      │ out0
//!     rtr (lan0 bridge 192.0.2.1/25, 2001:db8:10::1/64; unbound: cluster DNS with DNS64;
//!      │   TAYGA: NAT64 2001:db8:64::/96 → pool 192.0.2.128/25; routes to every pod block)
//!   ┌──┴──────────┐
//!  node a          node b        eth0 192.0.2.10+i/25, 2001:db8:10::a+i/64; cni0 bridge (the
//!   │ cni0          │ cni0       CNI bridge plugin) with host-local pod blocks 198.51.100.0/25
//!  pods           pods           and 2001:db8:20:a::/64 (b: .128/25, 2001:db8:20:b::/64)
//! ```
//!
//! Pods are network namespaces attached by Debian's containernetworking-plugins (`bridge` with
//! `host-local` over both families), exactly as a CNI runtime calls them. Nodes route each
//! other's pod blocks directly (as Flannel's host-gw or kube-router do); the router routes every
//! pod block back to its node for egress but does not forward between two nodes (no hairpin),
//! so a node that loses its route to another node's pods cannot reach them another way. Services
//! are DNAT rules (nftables) in every node, to the backend on that node (kube-proxy with
//! `internalTrafficPolicy: Local`, so that results do not depend on a random backend); their
//! names are records in the cluster DNS, written as the API server creates them.
//!
//! TAYGA refuses the well-known prefix 64:ff9b::/96 with IPv4 documentation addresses (RFC 6052
//! section 3.1, TAYGA's `is_private_ip4_addr`), so the NAT64 prefix is a network-specific one
//! inside 2001:db8::/32.
//!
//! Every namespace and process is removed when the [`ProbeNet`] is dropped, also on panic.

use std::collections::HashMap;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use crate::netns::{Netns, veth};
use crate::{describe, wait_for, which};

/// The NAT64 prefix of the test network.
pub const NAT64_PREFIX: &str = "2001:db8:64::/96";
/// The cluster DNS (kube-dns's "ClusterIPs": the router's LAN addresses).
pub const DNS4: &str = "192.0.2.1";
pub const DNS6: &str = "2001:db8:10::1";
/// The outside servers.
pub const OUTSIDE4: &str = "203.0.113.130";
pub const OUTSIDE6: &str = "2001:db8:40::2";
/// The service ranges the API server fixture allocates from.
pub const SERVICE4: &str = "203.0.113.0/25";
pub const SERVICE6: &str = "2001:db8:30::/112";
/// The cluster domain.
pub const DOMAIN: &str = "cluster.local";

/// What the programs the test network needs are.
pub const PROGRAMS: &[&str] = &[
    "unbound",
    "unbound-control",
    "dnsmasq",
    "tayga",
    "nft",
    "ss",
];
/// The CNI plugins it calls.
pub const CNI_DIR: &str = "/usr/lib/cni";

/// Which families the cluster has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    Dual,
    Ipv6Only,
}

/// One node.
pub struct Node {
    pub name: String,
    pub ns: Netns,
    pub lan4: String,
    pub lan6: String,
    pub pods4: String,
    pub pods6: String,
    cni_conf: PathBuf,
}

/// The test network. See the module documentation.
pub struct ProbeNet {
    pub stack: Stack,
    pub rtr: Netns,
    pub outside: Netns,
    pub nodes: Vec<Node>,
    /// Pod namespaces made by the CNI plugin, by pod key (`NS/NAME`).
    pods: Mutex<HashMap<String, Netns>>,
    /// Every process started, with the pod key it belongs to (empty for infrastructure).
    children: Mutex<Vec<(String, Child)>>,
    /// Whether the cluster DNS gets AAAA records (the "DNS without AAAA" fault when false).
    dns_aaaa: Mutex<bool>,
    unbound_conf: PathBuf,
    tayga: Mutex<Option<u32>>,
    scratch: tempfile::TempDir,
    pid_counter: Mutex<u32>,
}

fn check(cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl ProbeNet {
    /// Builds the network with two nodes, `a` and `b`.
    pub fn build(stack: Stack) -> ProbeNet {
        let scratch = crate::scratch_dir("probe");
        let rtr = Netns::new("rtr");
        let outside = Netns::new("out");
        let dual = stack == Stack::Dual;
        // The router: a LAN bridge for the nodes, a link to the outside.
        rtr.ip("link add lan0 type bridge");
        rtr.ip("link set lan0 up");
        rtr.ip(&format!("addr add {DNS4}/25 dev lan0"));
        rtr.ip(&format!("addr add {DNS6}/64 dev lan0 nodad"));
        rtr.sysctl_set("net.ipv4.ip_forward", "1");
        rtr.sysctl_set("net.ipv6.conf.all.forwarding", "1");
        // Frames the LAN bridge switches between two nodes are no business of the router's
        // packet filter: with br_netfilter in the kernel (Docker loads it), they would pass the
        // inet forward hook and meet the no-hairpin rule below.
        for family in ["iptables", "ip6tables"] {
            let key = format!("net.bridge.bridge-nf-call-{family}");
            if Path::new("/proc/sys").join(key.replace('.', "/")).exists() {
                rtr.sysctl_set(&key, "0");
            }
        }
        veth(&rtr, "out0", &outside, "eth0");
        rtr.ip("addr add 203.0.113.129/25 dev out0");
        rtr.ip("addr add 2001:db8:40::1/64 dev out0 nodad");
        outside.ip(&format!("addr add {OUTSIDE4}/25 dev eth0"));
        outside.ip(&format!("addr add {OUTSIDE6}/64 dev eth0 nodad"));
        outside.ip("route add default via 203.0.113.129");
        outside.ip("-6 route add default via 2001:db8:40::1");
        // No hairpin: the router does not forward from the LAN back to the LAN.
        nft(
            &rtr,
            "table inet k6rtr {\n  chain k6forward {\n    type filter hook forward priority 0; policy accept;\n    iifname \"lan0\" oifname \"lan0\" drop\n  }\n}\n",
        );
        let mut nodes = Vec::new();
        for (i, name) in ["a", "b"].iter().enumerate() {
            let ns = Netns::new(&format!("node{name}"));
            // Both ends in their namespaces at once (the bridge port in the router).
            rtr.ip(&format!(
                "link add p{name} type veth peer name eth0 netns {}",
                ns.name()
            ));
            rtr.ip(&format!("link set p{name} master lan0"));
            rtr.ip(&format!("link set p{name} up"));
            ns.ip("link set eth0 up");
            let lan4 = format!("192.0.2.{}", 10 + i);
            let lan6 = format!("2001:db8:10::{}", ["a", "b"][i]);
            let pods4 = format!("198.51.100.{}/25", i * 128);
            let pods6 = format!("2001:db8:20:{name}::/64");
            ns.ip(&format!("addr add {lan6}/64 dev eth0 nodad"));
            ns.ip(&format!("-6 route add default via {DNS6}"));
            if dual {
                ns.ip(&format!("addr add {lan4}/25 dev eth0"));
                ns.ip(&format!("route add default via {DNS4}"));
            }
            ns.sysctl_set("net.ipv4.ip_forward", "1");
            ns.sysctl_set("net.ipv6.conf.all.forwarding", "1");
            rtr.ip(&format!("-6 route add {pods6} via {lan6}"));
            if dual {
                rtr.ip(&format!("route add {pods4} via {lan4}"));
            }
            let mut ranges = vec![format!("[{{\"subnet\": \"{pods6}\"}}]")];
            let mut routes = vec!["{\"dst\": \"::/0\"}".to_string()];
            if dual {
                ranges.insert(0, format!("[{{\"subnet\": \"{pods4}\"}}]"));
                routes.insert(0, "{\"dst\": \"0.0.0.0/0\"}".to_string());
            }
            let cni_conf = scratch.path().join(format!("cni-{name}.json"));
            fs::write(
                &cni_conf,
                format!(
                    "{{\"cniVersion\": \"1.0.0\", \"name\": \"k6-{pid}-{name}\", \"type\": \"bridge\", \"bridge\": \"cni0\", \"isGateway\": true, \"ipMasq\": false, \"mtu\": 1500, \"ipam\": {{\"type\": \"host-local\", \"dataDir\": \"{dir}\", \"ranges\": [{ranges}], \"routes\": [{routes}]}}}}",
                    pid = std::process::id(),
                    dir = scratch.path().join(format!("ipam-{name}")).display(),
                    ranges = ranges.join(", "),
                    routes = routes.join(", "),
                ),
            )
            .expect("write the CNI configuration");
            nodes.push(Node {
                name: name.to_string(),
                ns,
                lan4,
                lan6,
                pods4,
                pods6,
                cni_conf,
            });
        }
        // Each node routes the other's pod blocks directly.
        for i in 0..nodes.len() {
            for j in 0..nodes.len() {
                if i != j {
                    let (me, other) = (&nodes[i], &nodes[j]);
                    me.ns
                        .ip(&format!("-6 route add {} via {}", other.pods6, other.lan6));
                    if dual {
                        me.ns
                            .ip(&format!("route add {} via {}", other.pods4, other.lan4));
                    }
                }
            }
        }
        let net = ProbeNet {
            stack,
            unbound_conf: scratch.path().join("unbound.conf"),
            rtr,
            outside,
            nodes,
            pods: Mutex::new(HashMap::new()),
            children: Mutex::new(Vec::new()),
            dns_aaaa: Mutex::new(true),
            tayga: Mutex::new(None),
            scratch,
            pid_counter: Mutex::new(0),
        };
        net.resolv_conf_everywhere();
        net.start_outside();
        net.start_dns();
        net.kubernetes_record();
        net.start_nat64();
        net
    }

    pub fn scratch(&self) -> &Path {
        self.scratch.path()
    }

    /// The cluster DNS servers, kube-dns's ClusterIPs (IPv4 first in dual-stack).
    pub fn dns_servers(&self) -> Vec<String> {
        match self.stack {
            Stack::Dual => vec![DNS4.to_string(), DNS6.to_string()],
            Stack::Ipv6Only => vec![DNS6.to_string()],
        }
    }

    fn resolv_conf(&self, namespace: &str) -> String {
        let mut text =
            format!("search {namespace}.svc.{DOMAIN} svc.{DOMAIN} {DOMAIN}\noptions ndots:5\n");
        for s in self.dns_servers() {
            text.push_str(&format!("nameserver {s}\n"));
        }
        text
    }

    fn resolv_conf_everywhere(&self) {
        for node in &self.nodes {
            node.ns
                .etc_file("resolv.conf", &self.resolv_conf("default"));
        }
    }

    /// Starts a process in `ns`, stdout and stderr to `log`; killed on drop.
    pub fn spawn_in(&self, ns: &Netns, key: &str, program: &str, args: &[&str], log: &Path) -> u32 {
        let file = fs::File::create(log).expect("create a log file");
        let mut cmd = ns.command(program);
        cmd.args(args)
            .stdout(file.try_clone().expect("clone the log file"))
            .stderr(file);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let pid = child.id();
        self.children
            .lock()
            .expect("children")
            .push((key.to_string(), child));
        pid
    }

    /// A log file name of its own.
    pub fn log_path(&self, what: &str) -> PathBuf {
        let mut n = self.pid_counter.lock().expect("counter");
        *n += 1;
        self.scratch
            .path()
            .join(format!("{n}-{}.log", what.replace('/', "_")))
    }

    fn start_outside(&self) {
        // The IPv4-only and the IPv6 server: kube6 agents answering TCP on port 80, each on
        // one address.
        let bin = self.kube6_bin();
        let log = self.log_path("outside-v4");
        self.spawn_in(
            &self.outside,
            "",
            bin.to_str().unwrap_or_default(),
            &[
                "probe",
                "agent",
                "serve",
                "--agent",
                "outside-ipv4",
                "--port",
                "80",
                "--listen",
                OUTSIDE4,
            ],
            &log,
        );
        let log = self.log_path("outside-v6");
        self.spawn_in(
            &self.outside,
            "",
            bin.to_str().unwrap_or_default(),
            &[
                "probe",
                "agent",
                "serve",
                "--agent",
                "outside-ipv6",
                "--port",
                "80",
                "--listen",
                OUTSIDE6,
            ],
            &log,
        );
        // The outside world's DNS for `example.`: an IPv4-only name, a dual-stack one, an
        // IPv6-only one.
        let log = self.log_path("dnsmasq");
        self.spawn_in(
            &self.outside,
            "",
            "dnsmasq",
            &[
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--pid-file",
                "--bind-interfaces",
                &format!("--listen-address={OUTSIDE4}"),
                "--port=53",
                &format!("--host-record=ipv4only.example,{OUTSIDE4}"),
                &format!("--host-record=dual.example,{OUTSIDE4},{OUTSIDE6}"),
                &format!("--host-record=ipv6only.example,{OUTSIDE6}"),
                // Names of example. that do not exist are NXDOMAIN, not forwarded.
                "--local=/example/",
            ],
            &log,
        );
        self.outside.wait_udp_listener(53);
        let outside = &self.outside;
        wait_for(Duration::from_secs(10), "the outside servers", || {
            let out = outside.exec("ss", &["-Htln", "sport = :80"]);
            String::from_utf8_lossy(&out.stdout).lines().count() >= 2
        });
    }

    fn start_dns(&self) {
        let dir = self.scratch.path();
        let servers: Vec<String> = self.dns_servers().iter().map(|a| a.to_string()).collect();
        let servers: Vec<&str> = servers.iter().map(String::as_str).collect();
        let conf = crate::unbound::dns64_conf(
            &servers,
            NAT64_PREFIX,
            dir,
            Some(&dir.join("unbound.pid")),
            &format!(
                "  cache-max-ttl: 0\n  cache-max-negative-ttl: 0\n  local-zone: \"{DOMAIN}.\" static\n"
            ),
            &format!(
                "remote-control:\n  control-enable: yes\n  control-interface: \"{}\"\nforward-zone:\n  name: \"example.\"\n  forward-addr: {OUTSIDE4}\n",
                dir.join("unbound.ctl").display()
            ),
        );
        fs::write(&self.unbound_conf, conf).expect("write unbound.conf");
        let log = self.log_path("unbound");
        let conf = self.unbound_conf.display().to_string();
        self.spawn_in(&self.rtr, "", "unbound", &["-d", "-c", &conf], &log);
        self.rtr.wait_udp_listener(53);
        let ctl = dir.join("unbound.ctl");
        wait_for(Duration::from_secs(10), "unbound's control socket", || {
            ctl.exists()
        });
    }

    fn start_nat64(&self) {
        let dir = self.scratch.path().join("tayga");
        fs::create_dir_all(&dir).expect("create TAYGA's directory");
        let conf = self.scratch.path().join("tayga.conf");
        fs::write(
            &conf,
            format!(
                "tun-device nat64\nipv4-addr 192.0.2.129\nprefix {NAT64_PREFIX}\ndynamic-pool 192.0.2.128/25\ndata-dir {}\n",
                dir.display()
            ),
        )
        .expect("write tayga.conf");
        let conf = conf.display().to_string();
        check(self.rtr.command("tayga").args(["--mktun", "-c", &conf]));
        self.rtr.ip("link set nat64 up");
        self.rtr.ip("route add 192.0.2.128/25 dev nat64");
        self.rtr
            .ip(&format!("-6 route add {NAT64_PREFIX} dev nat64"));
        let log = self.log_path("tayga");
        let pid = self.spawn_in(&self.rtr, "", "tayga", &["-d", "-c", &conf], &log);
        *self.tayga.lock().expect("tayga") = Some(pid);
    }

    /// The kube6 binary the agents run (set by the test with [`set_kube6_bin`]).
    fn kube6_bin(&self) -> PathBuf {
        KUBE6_BIN
            .get()
            .cloned()
            .expect("call kube6_testnet::probe::set_kube6_bin before building the network")
    }

    /// `unbound-control local_data` / `local_data_remove`.
    fn unbound_control(&self, args: &[&str]) {
        let conf = self.unbound_conf.display().to_string();
        let mut all = vec!["-c", conf.as_str()];
        all.extend_from_slice(args);
        check(self.rtr.command("unbound-control").args(&all));
    }

    /// Gives `name` these addresses in the cluster DNS (AAAA only while AAAA records are on).
    pub fn dns_records(&self, name: &str, addresses: &[IpAddr]) {
        let aaaa = *self.dns_aaaa.lock().expect("dns flag");
        for a in addresses {
            let record = match a {
                IpAddr::V4(_) => format!("{name}. 5 IN A {a}"),
                IpAddr::V6(_) if aaaa => format!("{name}. 5 IN AAAA {a}"),
                IpAddr::V6(_) => continue,
            };
            self.unbound_control(&["local_data", &record]);
        }
        // A DNS that filters AAAA still knows the name (NOERROR without an answer, as
        // dnsmasq's filter-AAAA or a CoreDNS template answers), also when it has only IPv6
        // addresses: a record of another type keeps the name in the zone.
        if !aaaa && addresses.iter().all(IpAddr::is_ipv6) && !addresses.is_empty() {
            self.unbound_control(&["local_data", &format!("{name}. 5 IN TXT \"aaaa-filtered\"")]);
        }
    }

    /// Removes every record of `name`.
    pub fn dns_forget(&self, name: &str) {
        self.unbound_control(&["local_data_remove", &format!("{name}.")]);
    }

    /// Attaches a new pod namespace on `node` with the CNI bridge plugin; returns its addresses.
    pub fn add_pod(&self, node: &str, key: &str) -> Vec<IpAddr> {
        let node = self.node(node);
        let ns = Netns::new("pod");
        let id = key.replace('/', "-");
        let conf = fs::File::open(&node.cni_conf).expect("open the CNI configuration");
        let out = node
            .ns
            .command(Path::new(CNI_DIR).join("bridge"))
            .env("CNI_COMMAND", "ADD")
            .env("CNI_CONTAINERID", &id)
            .env("CNI_NETNS", format!("/var/run/netns/{}", ns.name()))
            .env("CNI_IFNAME", "eth0")
            .env("CNI_PATH", CNI_DIR)
            .stdin(conf)
            .output()
            .expect("run the CNI bridge plugin");
        assert!(out.status.success(), "CNI ADD failed: {}", describe(&out));
        let result: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("the CNI result is JSON");
        let addresses: Vec<IpAddr> = result["ips"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|ip| ip["address"].as_str())
            .filter_map(|a| a.split('/').next())
            .filter_map(|a| a.parse().ok())
            .collect();
        let namespace = key.split('/').next().unwrap_or("default");
        ns.etc_file("resolv.conf", &self.resolv_conf(namespace));
        self.pods.lock().expect("pods").insert(key.to_string(), ns);
        addresses
    }

    /// Runs `f` with the namespace of a pod made by [`add_pod`](Self::add_pod).
    pub fn with_pod<T>(&self, key: &str, f: impl FnOnce(&Netns) -> T) -> Option<T> {
        let pods = self.pods.lock().expect("pods");
        pods.get(key).map(f)
    }

    pub fn node(&self, name: &str) -> &Node {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }

    /// Node addresses, as the Node object lists them (InternalIPs).
    pub fn node_addresses(&self, name: &str) -> Vec<IpAddr> {
        let node = self.node(name);
        let mut out = Vec::new();
        if self.stack == Stack::Dual {
            out.push(node.lan4.parse().expect("an address"));
        }
        out.push(node.lan6.parse().expect("an address"));
        out
    }

    /// Kills the processes of the pods whose key starts with `prefix` and removes their
    /// namespaces (a deleted Kubernetes namespace).
    pub fn remove_pods(&self, prefix: &str) {
        let mut children = self.children.lock().expect("children");
        for (key, child) in children.iter_mut() {
            if !key.is_empty() && key.starts_with(prefix) {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        children.retain(|(key, _)| key.is_empty() || !key.starts_with(prefix));
        self.pods
            .lock()
            .expect("pods")
            .retain(|key, _| !key.starts_with(prefix));
    }

    /// Whether the process started for a pod has ended, and how.
    pub fn pod_exit(&self, key: &str) -> Option<Option<bool>> {
        let mut children = self.children.lock().expect("children");
        let (_, child) = children.iter_mut().find(|(k, _)| k == key)?;
        Some(match child.try_wait() {
            Ok(Some(status)) => Some(status.success()),
            _ => None,
        })
    }

    /// Replaces the `k6svc` nftables table of a node.
    pub fn node_nft(&self, node: &str, table: &str) {
        let ns = &self.node(node).ns;
        let _ = ns
            .command("nft")
            .args(["delete", "table", "inet", "k6svc"])
            .output();
        nft(ns, table);
    }

    // -- Faults ---------------------------------------------------------------------------

    /// Node `from` loses its route to node `to`'s pod block of one family.
    pub fn drop_pod_route(&self, from: &str, to: &str, ipv6: bool) {
        let other = self.node(to);
        let me = self.node(from);
        if ipv6 {
            me.ns.ip(&format!("-6 route del {}", other.pods6));
        } else {
            me.ns.ip(&format!("route del {}", other.pods4));
        }
    }

    /// The nodes' uplinks get a smaller MTU than the pods' links (1500): a link of smaller MTU
    /// in the middle of every path between two nodes' pods.
    pub fn uplink_mtu(&self, mtu: u32) {
        for node in &self.nodes {
            node.ns.ip(&format!("link set eth0 mtu {mtu}"));
        }
    }

    /// Node `node` drops the ICMPv6 Packet Too Big it would send (a firewall that filters all
    /// of ICMPv6): its pods never learn the smaller path MTU.
    pub fn filter_packet_too_big(&self, node: &str) {
        nft(
            &self.node(node).ns,
            "table inet k6filter {\n  chain k6output {\n    type filter hook output priority 0; policy accept;\n    icmpv6 type packet-too-big drop\n  }\n}\n",
        );
    }

    /// The cluster DNS forgets AAAA records, and writes none from now on.
    pub fn dns_without_aaaa(&self) {
        *self.dns_aaaa.lock().expect("dns flag") = false;
        self.kubernetes_record();
    }

    /// `kubernetes.default` with the addresses the API server fixture gives it.
    fn kubernetes_record(&self) {
        let name = format!("kubernetes.default.svc.{DOMAIN}");
        self.dns_forget(&name);
        let mut ips: Vec<IpAddr> = Vec::new();
        if self.stack == Stack::Dual {
            ips.push(IpAddr::from([203, 0, 113, 1]));
        }
        ips.push("2001:db8:30::1".parse().expect("an address"));
        self.dns_records(&name, &ips);
    }

    /// TAYGA stops: the NAT64 prefix is still routed to its tunnel, where nothing reads.
    pub fn stop_nat64(&self) {
        let pid = self.tayga.lock().expect("tayga").take();
        if let Some(pid) = pid {
            let mut children = self.children.lock().expect("children");
            if let Some(pos) = children.iter().position(|(_, c)| c.id() == pid) {
                let (_, mut child) = children.remove(pos);
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    /// The upstream router forgets the IPv6 pod blocks (no NDP proxy, no BGP).
    pub fn upstream_forgets_ipv6_pods(&self) {
        for node in &self.nodes {
            self.rtr.ip(&format!("-6 route del {}", node.pods6));
        }
    }
}

impl Drop for ProbeNet {
    fn drop(&mut self) {
        if let Ok(mut children) = self.children.lock() {
            for (_, child) in children.iter_mut() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        // The namespaces (pods, nodes, router, outside) go with their fields.
    }
}

/// Loads an nftables ruleset into a namespace.
pub fn nft(ns: &Netns, ruleset: &str) {
    use std::io::Write;
    let mut child = ns
        .command("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nft");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(ruleset.as_bytes())
            .expect("write the ruleset");
    }
    let out = child.wait_with_output().expect("wait for nft");
    assert!(
        out.status.success(),
        "nft failed for\n{ruleset}\n{}",
        describe(&out)
    );
}

static KUBE6_BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// The kube6 binary the agents and outside servers run (the test's `CARGO_BIN_EXE_kube6`).
pub fn set_kube6_bin(path: &Path) {
    let _ = KUBE6_BIN.set(path.to_path_buf());
}

/// Whether `test` can build the test network here (root, the programs, the CNI plugins); under
/// `CI=true` a missing requirement fails the test (see [`crate::require`]).
pub fn require(test: &str) -> bool {
    crate::require_that(test, missing())
}

/// Why the test network cannot be built here, if it cannot.
pub fn missing() -> Option<String> {
    let mut programs: Vec<&str> = PROGRAMS.to_vec();
    programs.push("ip");
    let mut why = crate::missing(&programs);
    for plugin in ["bridge", "host-local"] {
        if !Path::new(CNI_DIR).join(plugin).is_file() {
            let m = format!("the CNI plugin {CNI_DIR}/{plugin} (containernetworking-plugins)");
            why = Some(match why {
                Some(w) => format!("{w}, {m}"),
                None => m,
            });
        }
    }
    let _ = which("ip");
    why
}
