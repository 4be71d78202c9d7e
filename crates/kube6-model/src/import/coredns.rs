//! CoreDNS configuration in an input: the `coredns` ConfigMap's Corefile (kubeadm, k0s, k3s),
//! k3s's `coredns-custom` ConfigMap (`*.override` keys hold plugins of the `.:53` block, `*.server`
//! keys whole server blocks) and RKE2's rke2-coredns HelmChartConfig (`servers[].plugins[]`,
//! `nodelocal`). Only what the DNS rules judge is read: the addresses `forward` sends to, the
//! dns64 plugins and NodeLocal DNSCache's address. The Corefile grammar (directives, arguments,
//! `{ ... }` blocks, `#` comments) is CoreDNS's (coredns/caddy caddyfile lexer).

use super::walk::{Fields, Notes, ShapeError};
use crate::facts::coredns as facts;
use crate::model::{AddrValue, CidrValue, ClusterNetwork, Dns64Plugin};
use crate::source::{Located, Origin, Position};
use crate::yaml::{Kind, Node};

/// Whether a ConfigMap is CoreDNS's (by name), so that the CNI importer leaves it alone.
pub fn is_coredns_config_map(name: &str) -> bool {
    name == facts::CONFIG_MAP || name == facts::K3S_CUSTOM_CONFIG_MAP
}

/// The `data` of the `coredns` or `coredns-custom` ConfigMap.
pub fn import_config_map_data(
    name: &str,
    data: &Fields<'_>,
    net: &mut ClusterNetwork,
) -> Result<(), ShapeError> {
    for (key, node) in data.entries() {
        let key = key.name.clone();
        // The coredns ConfigMap's Corefile and k3s's *.server keys hold server blocks, k3s's
        // *.override keys the plugins of one; NodeHosts and other keys are not Corefiles.
        let plugin_depth = if name == facts::CONFIG_MAP && key == "Corefile"
            || name == facts::K3S_CUSTOM_CONFIG_MAP && key.ends_with(facts::K3S_SERVER_SUFFIX)
        {
            1
        } else if name == facts::K3S_CUSTOM_CONFIG_MAP && key.ends_with(facts::K3S_OVERRIDE_SUFFIX)
        {
            0
        } else {
            continue;
        };
        let path = data.path_of(&key);
        let Kind::Str(text) = &node.kind else {
            return Err(ShapeError::new(
                &path,
                Some(node.pos),
                format!("expected a Corefile text, found {}", node.type_name()),
            ));
        };
        read_corefile(text, plugin_depth, &Anchor::of(node, text), &path, net);
    }
    Ok(())
}

/// The values of RKE2's rke2-coredns chart: NodeLocal DNSCache and the servers' plugins.
pub fn import_rke2_values(
    values: &Node,
    path: &str,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let values = Fields::any(values, path)?;
    if let Some(nodelocal) = values.get("nodelocal") {
        let nodelocal = Fields::any(nodelocal, &values.path_of("nodelocal"))?;
        if nodelocal.boolean("enabled")?.is_some_and(|e| e.value) {
            net.dns.node_local = Some(nodelocal.addr("ip_address")?.unwrap_or_else(|| {
                Located::new(
                    AddrValue::new(facts::RKE2_NODELOCAL_DEFAULT_ADDRESS),
                    Origin::default_by(
                        nodelocal.path_of("ip_address"),
                        "rke2-coredns chart default",
                    ),
                )
            }));
        }
    }
    let Some(servers) = values.list("servers")? else {
        return Ok(());
    };
    for (server_path, server) in servers {
        let server = Fields::read(
            server,
            &server_path,
            &["zones", "port", "plugins"],
            &[],
            notes,
        )?;
        let Some(plugins) = server.list("plugins")? else {
            continue;
        };
        for (plugin_path, plugin) in plugins {
            let plugin = Fields::any(plugin, &plugin_path)?;
            let Some(name) = plugin.text("name")? else {
                continue;
            };
            if name.value != "forward" && name.value != facts::DNS64_PLUGIN {
                continue;
            }
            let parameters = plugin.text("parameters")?;
            let block = plugin.text("configBlock")?;
            // The chart writes `NAME PARAMETERS {\n CONFIGBLOCK \n}`: read it as that Corefile text.
            let mut text = name.value.clone();
            if let Some(p) = &parameters {
                text.push(' ');
                text.push_str(&p.value);
            }
            if let Some(b) = &block {
                text.push_str(" {\n");
                text.push_str(&b.value);
                text.push_str("\n}");
            }
            let anchor = Anchor {
                line: name.origin.pos().map_or(0, |p| p.line),
                column: name.origin.pos().map_or(0, |p| p.column),
                per_line: false,
            };
            read_corefile(&text, 0, &anchor, &plugin_path, net);
        }
    }
    Ok(())
}

/// Where line 1, column 1 of a Corefile text is in the input file.
struct Anchor {
    line: u32,
    column: u32,
    /// A block scalar: each Corefile line is a line of the input. Otherwise every position is
    /// the string's own.
    per_line: bool,
}

impl Anchor {
    fn of(node: &Node, text: &str) -> Anchor {
        Anchor {
            line: node.pos.line,
            column: node.pos.column,
            per_line: text.contains('\n'),
        }
    }

    fn pos(&self, line: usize, column: usize) -> Option<Position> {
        if self.line == 0 {
            return None;
        }
        Some(if self.per_line {
            Position {
                line: self.line + u32::try_from(line).unwrap_or(u32::MAX - self.line),
                column: self.column + u32::try_from(column).unwrap_or(0),
            }
        } else {
            Position {
                line: self.line,
                column: self.column,
            }
        })
    }
}

/// A token of a Corefile with its 0-based line and column.
struct Token<'t> {
    text: &'t str,
    line: usize,
    column: usize,
    first_on_line: bool,
}

fn tokens(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    for (line_no, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        let mut first = true;
        let mut rest = line;
        let mut offset = 0;
        while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
            let after = &rest[start..];
            let len = after.find(char::is_whitespace).unwrap_or(after.len());
            let word = &after[..len];
            // `{` and `}` glued to a word (`dns64{`) are tokens of their own, as caddy reads them.
            let mut pieces: Vec<(usize, &str)> = Vec::new();
            let mut piece_start = 0;
            for (i, c) in word.char_indices() {
                if c == '{' || c == '}' {
                    if piece_start < i {
                        pieces.push((piece_start, &word[piece_start..i]));
                    }
                    pieces.push((i, &word[i..i + 1]));
                    piece_start = i + 1;
                }
            }
            if piece_start < word.len() {
                pieces.push((piece_start, &word[piece_start..]));
            }
            for (at, piece) in pieces {
                out.push(Token {
                    text: piece,
                    line: line_no,
                    column: offset + start + at,
                    first_on_line: first,
                });
                first = false;
            }
            offset += start + len;
            rest = &after[len..];
        }
    }
    out
}

/// One directive being read: its name, arguments and its block's lines.
struct Directive<'t> {
    name: &'t Token<'t>,
    args: Vec<&'t Token<'t>>,
    /// Lines of its block: each a list of tokens.
    block: Vec<Vec<&'t Token<'t>>>,
}

/// Reads the `forward` and `dns64` directives of a Corefile text whose plugins are at
/// `plugin_depth` (1 inside server blocks, 0 for a bare list of plugins).
fn read_corefile(
    text: &str,
    plugin_depth: usize,
    anchor: &Anchor,
    path: &str,
    net: &mut ClusterNetwork,
) {
    let all = tokens(text);
    let mut directives: Vec<Directive<'_>> = Vec::new();
    let mut depth = 0usize;
    for token in &all {
        match token.text {
            "{" => depth += 1,
            "}" => depth = depth.saturating_sub(1),
            _ if depth == plugin_depth => {
                if token.first_on_line || directives.is_empty() {
                    directives.push(Directive {
                        name: token,
                        args: Vec::new(),
                        block: Vec::new(),
                    });
                } else if let Some(d) = directives.last_mut() {
                    d.args.push(token);
                }
            }
            _ if depth == plugin_depth + 1 => {
                if let Some(d) = directives.last_mut() {
                    match d.block.last_mut() {
                        Some(line) if !token.first_on_line => line.push(token),
                        _ => d.block.push(vec![token]),
                    }
                }
            }
            _ => {}
        }
    }
    let origin = |t: &Token<'_>| Origin::input(path, anchor.pos(t.line, t.column));
    for d in &directives {
        match d.name.text {
            "forward" => {
                // `forward FROM TO...`: every TO that is an address (not a file).
                for to in d.args.iter().skip(1) {
                    if let Some(ip) = facts::forward_target_address(to.text) {
                        net.dns
                            .forwarders
                            .push(Located::new(AddrValue::new(ip.to_string()), origin(to)));
                    }
                }
            }
            facts::DNS64_PLUGIN => {
                let mut plugin = Dns64Plugin {
                    origin: origin(d.name),
                    prefix: d
                        .args
                        .first()
                        .map(|p| Located::new(CidrValue::new(p.text), origin(p))),
                    translate_all: None,
                    allow_ipv4: None,
                };
                for line in &d.block {
                    let Some(first) = line.first() else { continue };
                    match first.text {
                        "prefix" => {
                            if let Some(p) = line.get(1) {
                                plugin.prefix =
                                    Some(Located::new(CidrValue::new(p.text), origin(p)));
                            }
                        }
                        facts::DNS64_TRANSLATE_ALL => plugin.translate_all = Some(origin(first)),
                        facts::DNS64_ALLOW_IPV4 => plugin.allow_ipv4 = Some(origin(first)),
                        _ => {}
                    }
                }
                net.dns.dns64.push(plugin);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn read(text: &str, depth: usize) -> ClusterNetwork {
        let mut net = ClusterNetwork::new(
            crate::model::Format::Kube6,
            Located::new(
                crate::model::Distribution::Kubeadm,
                Origin::input("spec", None),
            ),
        );
        let anchor = Anchor {
            line: 10,
            column: 5,
            per_line: true,
        };
        read_corefile(text, depth, &anchor, "data.Corefile", &mut net);
        net
    }

    #[test]
    fn forward_targets_and_dns64_of_a_server_block() {
        let net = read(
            ".:53 {\n    errors\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n    }\n    dns64 64:ff9b::/96 {\n       translate_all # breaks dual-stack names\n    }\n    forward . 192.0.2.53 [2001:db8::53]:53 /etc/resolv.conf {\n       max_concurrent 1000\n    }\n}\nexample.test:53 {\n    forward . tls://192.0.2.1%dns.example\n}\n",
            1,
        );
        let targets: Vec<&str> = net
            .dns
            .forwarders
            .iter()
            .map(|f| f.value.text.as_str())
            .collect();
        assert_eq!(targets, ["192.0.2.53", "2001:db8::53", "192.0.2.1"]);
        assert_eq!(
            net.dns.forwarders[0].origin.pos(),
            Some(Position {
                line: 18,
                column: 19
            })
        );
        assert_eq!(net.dns.dns64.len(), 1);
        let dns64 = &net.dns.dns64[0];
        assert_eq!(dns64.prefix.as_ref().unwrap().value.text, "64:ff9b::/96");
        assert_eq!(
            dns64.translate_all.as_ref().unwrap().pos().unwrap().line,
            16
        );
        assert!(dns64.allow_ipv4.is_none());
    }

    #[test]
    fn an_override_file_is_a_list_of_plugins() {
        let net = read("dns64 {\n  prefix 2001:db8:64::/96\n  allow_ipv4\n}\n", 0);
        let dns64 = &net.dns.dns64[0];
        assert_eq!(
            dns64.prefix.as_ref().unwrap().value.text,
            "2001:db8:64::/96"
        );
        assert!(dns64.allow_ipv4.is_some() && dns64.translate_all.is_none());
        // A plugin named in a block (a `kubernetes` property) is no directive.
        let net = read(".:53 {\n  hosts {\n    dns64\n  }\n}\n", 1);
        assert!(net.dns.dns64.is_empty());
    }
}
