//! CoreDNS as each distribution installs it, its dns64 plugin and NodeLocal DNSCache: what kube6
//! renders for an IPv6-only cluster with NAT64 and what its DNS rules check.

use crate::version::Release;

/// The namespace and name of the ConfigMap holding the Corefile, the same in kubeadm
/// (kubernetes/kubernetes cmd/kubeadm/app/phases/addons/dns/manifests.go `CoreDNSConfigMap`),
/// k3s (k3s-io/k3s manifests/coredns.yaml) and k0s (k0sproject/k0s
/// pkg/component/controller/coredns.go).
pub const NAMESPACE: &str = "kube-system";
pub const CONFIG_MAP: &str = "coredns";

/// k3s mounts this optional ConfigMap at /etc/coredns/custom: keys ending in `.override` are
/// imported inside the `.:53` server block, keys ending in `.server` as server blocks of their own
/// (k3s-io/k3s manifests/coredns.yaml, `import /etc/coredns/custom/*.override` and
/// `import /etc/coredns/custom/*.server`). k3s owns the `coredns` ConfigMap and rewrites it.
pub const K3S_CUSTOM_CONFIG_MAP: &str = "coredns-custom";
pub const K3S_OVERRIDE_SUFFIX: &str = ".override";
pub const K3S_SERVER_SUFFIX: &str = ".server";
/// Where k3s applies manifests from on the servers (auto-deploying manifests).
pub const K3S_MANIFESTS_DIR: &str = "/var/lib/rancher/k3s/server/manifests";
pub const RKE2_MANIFESTS_DIR: &str = "/var/lib/rancher/rke2/server/manifests";

/// RKE2's CoreDNS chart (rancher/rke2-charts packages/rke2-coredns): its HelmChartConfig name,
/// and the values kube6 sets. `servers` is a list, which Helm replaces as a whole, so a
/// HelmChartConfig that sets it repeats every plugin of the chart's default server
/// (charts/values.yaml `servers`: zones `.`, port 53, plugins errors, health {lameduck 5s},
/// ready, kubernetes, prometheus 0.0.0.0:9153, forward . /etc/resolv.conf, cache 30, loop,
/// reload, loadbalance). `nodelocal.enabled` and `nodelocal.ip_address` (default
/// 169.254.20.10) come from RKE2's patch generated-changes/patch/values.yaml.patch.
pub const RKE2_CHART: &str = "rke2-coredns";
pub const RKE2_NODELOCAL_DEFAULT_ADDRESS: &str = NODELOCAL_DEFAULT_ADDRESS;

/// k0s applies `spec.network.coreDNS.patches` (target kind/name/namespace, patch type JSON,
/// StrategicMergePatch or MergePatch) to the CoreDNS resources it generates, since v1.36.1
/// (k0sproject/k0s pkg/apis/k0s/v1beta1/coredns.go, commit 8448a3506a "Resource patches").
/// Without patches k0s reconciles its own Corefile back within seconds.
pub const K0S_PATCHES_SINCE: Release = Release::new(1, 36, 1);

/// The address NodeLocal DNSCache listens on by default: an IPv4 link-local address
/// (kubernetes/kubernetes cluster/addons/dns/nodelocaldns/nodelocaldns.yaml `__PILLAR__LOCAL__DNS__`,
/// documented as 169.254.20.10; the same default in RKE2's rke2-coredns `nodelocal.ip_address`).
pub const NODELOCAL_DEFAULT_ADDRESS: &str = "169.254.20.10";

/// The plugin directives of CoreDNS's dns64 plugin (coredns/coredns plugin/dns64/README.md,
/// setup.go): `dns64 [PREFIX] { [translate_all] prefix PREFIX [allow_ipv4] }`. Without a prefix it
/// uses 64:ff9b::/96. `translate_all` synthesizes AAAA records even for names that have their own,
/// so IPv6-capable destinations are sent through NAT64 too; `allow_ipv4` translates for clients
/// that asked over IPv4.
pub const DNS64_PLUGIN: &str = "dns64";
pub const DNS64_TRANSLATE_ALL: &str = "translate_all";
pub const DNS64_ALLOW_IPV4: &str = "allow_ipv4";
pub const DNS64_DEFAULT_PREFIX: &str = "64:ff9b::/96";

/// The dns64 plugin refuses a prefix that is not IPv6 or whose length is not a multiple of 8
/// from 32 to 96 (coredns/coredns plugin/dns64/setup.go `parsePrefix`: "invalid prefix
/// length"). That admits /72, /80 and /88, which RFC 6052 does not define; kube6 asks for the
/// RFC 6052 lengths, which every NAT64 (TAYGA, Jool) and RFC 7050 discovery also understand.
pub fn dns64_accepts_prefix_len(len: u8) -> bool {
    len.is_multiple_of(8) && (32..=96).contains(&len)
}
pub const RFC6052_PREFIX_LENGTHS: &[u8] = &[32, 40, 48, 56, 64, 96];

/// What CoreDNS forwards to when the Corefile says `forward . /etc/resolv.conf`: the resolvers of
/// the node the CoreDNS pod runs on (its dnsPolicy is `Default`), i.e. the kubelet's
/// `--resolv-conf` file.
pub const FORWARD_RESOLV_CONF: &str = "/etc/resolv.conf";

/// k3s/RKE2 pass this flag to the kubelet (pods with dnsPolicy Default, CoreDNS among them, get
/// the resolvers of that file): `resolv-conf` in config.yaml (shared/schemas/k3s-rke2-flags.tsv).
pub const K3S_RESOLV_CONF_FLAG: &str = "resolv-conf";

/// One plugin line (or block) of a server block: the directive, its arguments, its block lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plugin {
    pub name: &'static str,
    pub args: String,
    pub block: Vec<String>,
}

impl Plugin {
    const fn bare(name: &'static str) -> Plugin {
        Plugin {
            name,
            args: String::new(),
            block: Vec::new(),
        }
    }
}

/// The `.:53` server block of the Corefile kubeadm writes (cmd/kubeadm/app/phases/addons/dns/
/// manifests.go, release 1.3x), which k0s and the rke2-coredns chart share but for small details:
/// kubeadm's health has `lameduck 5s` and its forward `max_concurrent 1000`. `forwarders` empty
/// means `/etc/resolv.conf`; `dns64_prefix` adds the dns64 plugin (the plugin's position in a
/// server block does not matter: CoreDNS orders plugins by its build's plugin.cfg).
pub fn server_block(
    domain: &str,
    forwarders: &[String],
    dns64_prefix: Option<&str>,
) -> Vec<Plugin> {
    let forward_to = if forwarders.is_empty() {
        FORWARD_RESOLV_CONF.to_string()
    } else {
        forwarders.join(" ")
    };
    let mut plugins = vec![
        Plugin::bare("errors"),
        Plugin {
            name: "health",
            args: String::new(),
            block: vec!["lameduck 5s".into()],
        },
        Plugin::bare("ready"),
        Plugin {
            name: "kubernetes",
            args: format!("{domain} in-addr.arpa ip6.arpa"),
            block: vec![
                "pods insecure".into(),
                "fallthrough in-addr.arpa ip6.arpa".into(),
                "ttl 30".into(),
            ],
        },
        Plugin {
            name: "prometheus",
            args: ":9153".into(),
            block: Vec::new(),
        },
    ];
    if let Some(prefix) = dns64_prefix {
        plugins.push(Plugin {
            name: DNS64_PLUGIN,
            args: String::new(),
            block: vec![format!("prefix {prefix}")],
        });
    }
    plugins.push(Plugin {
        name: "forward",
        args: format!(". {forward_to}"),
        block: vec!["max_concurrent 1000".into()],
    });
    plugins.push(Plugin {
        name: "cache",
        args: "30".into(),
        block: Vec::new(),
    });
    plugins.extend([
        Plugin::bare("loop"),
        Plugin::bare("reload"),
        Plugin::bare("loadbalance"),
    ]);
    plugins
}

/// The Corefile text of one `.:53` server block.
pub fn corefile(plugins: &[Plugin]) -> String {
    let mut out = String::from(".:53 {\n");
    for p in plugins {
        out.push_str("    ");
        out.push_str(p.name);
        if !p.args.is_empty() {
            out.push(' ');
            out.push_str(&p.args);
        }
        if p.block.is_empty() {
            out.push('\n');
        } else {
            out.push_str(" {\n");
            for line in &p.block {
                out.push_str("       ");
                out.push_str(line);
                out.push('\n');
            }
            out.push_str("    }\n");
        }
    }
    out.push_str("}\n");
    out
}

/// The address part of a `forward` target: `dns://`/`tls://` schemes, a `:port` and IPv6
/// brackets removed (coredns/coredns plugin/pkg/parse/host.go `HostPortOrFile`). None for a file
/// (`/etc/resolv.conf`) or anything that is no address.
pub fn forward_target_address(target: &str) -> Option<std::net::IpAddr> {
    let rest = target
        .split_once("://")
        .map_or(target, |(_, rest)| rest)
        .trim();
    if rest.starts_with('/') {
        return None;
    }
    // `tls://1.1.1.1%cloudflare-dns.com`: the server name after % (TLS) is not the address.
    let rest = rest.split('%').next().unwrap_or(rest);
    if let Some(inner) = rest.strip_prefix('[') {
        return inner.split(']').next()?.parse().ok();
    }
    if let Ok(ip) = rest.parse() {
        return Some(ip);
    }
    // `1.1.1.1:53`: one colon is a port.
    let (host, port) = rest.rsplit_once(':')?;
    (!host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()))
        .then(|| host.parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn forward_targets_in_every_spelling() {
        let cases = [
            ("1.1.1.1", Some("1.1.1.1")),
            ("1.1.1.1:5353", Some("1.1.1.1")),
            ("dns://192.0.2.53:53", Some("192.0.2.53")),
            ("tls://192.0.2.1%dns.example", Some("192.0.2.1")),
            ("2001:db8::53", Some("2001:db8::53")),
            ("[2001:db8::53]:53", Some("2001:db8::53")),
            ("dns://[2001:db8::53]", Some("2001:db8::53")),
            ("/etc/resolv.conf", None),
            ("example.com", None),
        ];
        for (text, want) in cases {
            assert_eq!(
                forward_target_address(text).map(|ip| ip.to_string()),
                want.map(str::to_string),
                "{text}"
            );
        }
    }

    #[test]
    fn the_corefile_has_dns64_without_translate_all() {
        let text = corefile(&server_block(
            "cluster.local",
            &["2001:db8::53".into()],
            Some("64:ff9b::/96"),
        ));
        assert!(
            text.contains("    dns64 {\n       prefix 64:ff9b::/96\n    }\n"),
            "{text}"
        );
        assert!(!text.contains("translate_all"));
        assert!(text.contains("    forward . 2001:db8::53 {\n"), "{text}");
        assert!(text.starts_with(".:53 {\n") && text.ends_with("}\n"));
        let plain = corefile(&server_block("cluster.local", &[], None));
        assert!(plain.contains("forward . /etc/resolv.conf"));
        assert!(!plain.contains("dns64"));
    }
}
