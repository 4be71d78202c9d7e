//! k3s and RKE2 `config.yaml` (keys are the command-line flags without dashes) and a k3s command
//! line (`server --node-ip 2001:db8::1 --cluster-cidr ...`), as the seeds give k3s settings as
//! install flags.
//!
//! Both forms become the same list of flag settings, read by one function. Paths are the flag
//! names: `cluster-cidr` (or `cluster-cidr[1]` for the second item of a YAML list) in a config
//! file, `--cluster-cidr` on a command line; an argument of a component flag is named like
//! `kube-controller-manager-arg: node-cidr-mask-size-ipv6`. k3s picks its default ranges from the
//! first node IP; that is done by `defaults::fill_ranges` from the node recorded here.

use super::walk::{self, Notes, ShapeError};
use crate::diagnostic::Diagnostic;
use crate::model::{
    AddrValue, CidrValue, ClusterNetwork, Cni, Distribution, Format, MaskValue, NodeSpec, Role,
};
use crate::rules::catalog;
use crate::source::{Located, Origin, Position};
use crate::yaml::{Kind, Node};

/// Flags whose values kube6 reads.
const KNOWN: &[&str] = &[
    "cluster-cidr",
    "service-cidr",
    "cluster-dns",
    "cluster-domain",
    "node-ip",
    "node-external-ip",
    "node-name",
    "advertise-address",
    "server",
    "flannel-backend",
    "flannel-ipv6-masq",
    "kube-controller-manager-arg",
    "kube-apiserver-arg",
    "kube-proxy-arg",
    "kubelet-arg",
    "cni",
];

/// Other k3s and RKE2 server/agent flags: accepted, nothing kube6 checks.
const IGNORED: &[&str] = &[
    "config",
    "debug",
    "v",
    "vmodule",
    "log",
    "alsologtostderr",
    "bind-address",
    "https-listen-port",
    "supervisor-port",
    "apiserver-port",
    "apiserver-bind-address",
    "advertise-port",
    "tls-san",
    "tls-san-security",
    "data-dir",
    "service-node-port-range",
    "node-internal-dns",
    "node-external-dns",
    "flannel-iface",
    "flannel-conf",
    "flannel-cni-conf",
    "flannel-external-ip",
    "egress-selector-mode",
    "servicelb-namespace",
    "write-kubeconfig",
    "write-kubeconfig-mode",
    "write-kubeconfig-group",
    "helm-job-image",
    "token",
    "token-file",
    "agent-token",
    "agent-token-file",
    "cluster-init",
    "cluster-reset",
    "cluster-reset-restore-path",
    "etcd-arg",
    "kube-scheduler-arg",
    "kube-cloud-controller-manager-arg",
    "cloud-controller-manager-arg",
    "datastore-endpoint",
    "datastore-cafile",
    "datastore-certfile",
    "datastore-keyfile",
    "etcd-expose-metrics",
    "etcd-disable-snapshots",
    "etcd-snapshot-name",
    "etcd-snapshot-schedule-cron",
    "etcd-snapshot-retention",
    "etcd-snapshot-dir",
    "etcd-snapshot-compress",
    "etcd-s3",
    "etcd-s3-endpoint",
    "etcd-s3-endpoint-ca",
    "etcd-s3-skip-ssl-verify",
    "etcd-s3-access-key",
    "etcd-s3-secret-key",
    "etcd-s3-bucket",
    "etcd-s3-region",
    "etcd-s3-folder",
    "etcd-s3-proxy",
    "etcd-s3-config-secret",
    "etcd-s3-insecure",
    "etcd-s3-timeout",
    "default-local-storage-path",
    "disable",
    "disable-scheduler",
    "disable-cloud-controller",
    "disable-kube-proxy",
    "disable-network-policy",
    "disable-helm-controller",
    "disable-apiserver",
    "disable-controller-manager",
    "disable-etcd",
    "disable-agent",
    "embedded-registry",
    "supervisor-metrics",
    "with-node-id",
    "node-label",
    "node-taint",
    "image-credential-provider-bin-dir",
    "image-credential-provider-config",
    "docker",
    "container-runtime-endpoint",
    "default-runtime",
    "image-service-endpoint",
    "disable-default-registry-endpoint",
    "nonroot-devices",
    "pause-image",
    "snapshotter",
    "private-registry",
    "system-default-registry",
    "resolv-conf",
    "vpn-auth",
    "vpn-auth-file",
    "protect-kernel-defaults",
    "secrets-encryption",
    "secrets-encryption-provider",
    "enable-pprof",
    "rootless",
    "prefer-bundled-bin",
    "selinux",
    "lb-server-port",
    "airgap-extra-registry",
    "kine-tls",
    "no-flannel",
    "no-deploy",
    "cluster-secret",
    // RKE2
    "profile",
    "audit-policy-file",
    "pod-security-admission-config-file",
    "control-plane-resource-requests",
    "control-plane-resource-limits",
    "control-plane-probe-configuration",
    "kube-apiserver-image",
    "kube-controller-manager-image",
    "kube-proxy-image",
    "kube-scheduler-image",
    "cloud-controller-manager-image",
    "runtime-image",
    "etcd-image",
    "kubelet-path",
    "cloud-provider-name",
    "cloud-provider-config",
    "enable-servicelb",
    "ingress-controller",
    "kube-apiserver-extra-mount",
    "kube-scheduler-extra-mount",
    "kube-controller-manager-extra-mount",
    "kube-proxy-extra-mount",
    "etcd-extra-mount",
    "cloud-controller-manager-extra-mount",
    "kube-apiserver-extra-env",
    "kube-scheduler-extra-env",
    "kube-controller-manager-extra-env",
    "kube-proxy-extra-env",
    "etcd-extra-env",
    "cloud-controller-manager-extra-env",
];

/// Flags that take no value on a command line (`--flannel-ipv6-masq`).
const BOOLEAN: &[&str] = &[
    "flannel-ipv6-masq",
    "flannel-external-ip",
    "cluster-init",
    "cluster-reset",
    "disable-scheduler",
    "disable-cloud-controller",
    "disable-kube-proxy",
    "disable-network-policy",
    "disable-helm-controller",
    "disable-apiserver",
    "disable-controller-manager",
    "disable-etcd",
    "disable-agent",
    "embedded-registry",
    "supervisor-metrics",
    "with-node-id",
    "docker",
    "disable-default-registry-endpoint",
    "protect-kernel-defaults",
    "secrets-encryption",
    "enable-pprof",
    "rootless",
    "prefer-bundled-bin",
    "selinux",
    "etcd-expose-metrics",
    "etcd-disable-snapshots",
    "etcd-snapshot-compress",
    "etcd-s3",
    "etcd-s3-skip-ssl-verify",
    "etcd-s3-insecure",
    "debug",
    "alsologtostderr",
    "no-flannel",
    "kine-tls",
    "tls-san-security",
    "enable-servicelb",
];

/// Flags that only a server takes: a config file with one of them belongs to a server.
const SERVER_ONLY: &[&str] = &[
    "cluster-cidr",
    "service-cidr",
    "cluster-dns",
    "cluster-domain",
    "cluster-init",
    "flannel-backend",
    "kube-apiserver-arg",
    "kube-controller-manager-arg",
    "tls-san",
    "cni",
    "disable",
    "advertise-address",
];

/// Short command-line flags and the long flag they stand for.
const SHORT: &[(&str, &str)] = &[
    ("i", "node-ip"),
    ("t", "token"),
    ("s", "server"),
    ("d", "data-dir"),
    ("c", "config"),
];

/// One value of one flag, as the input gives it.
struct Setting {
    flag: String,
    value: Located<String>,
}

/// Whether a YAML document without apiVersion/kind is a k3s/RKE2 config file: a mapping with
/// at least one k3s/RKE2 flag name among its keys.
pub fn looks_like_config(doc: &Node) -> bool {
    doc.as_map().is_some_and(|entries| {
        entries.iter().any(|(key, _)| {
            let name = key.name.trim_end_matches('+');
            KNOWN.contains(&name) || IGNORED.contains(&name)
        })
    })
}

/// Reads a k3s (`Format::K3s`) or RKE2 (`Format::Rke2`) `config.yaml`.
pub fn import_config(
    doc: &Node,
    format: Format,
    notes: &mut Notes,
) -> Result<ClusterNetwork, ShapeError> {
    let Some(entries) = doc.as_map() else {
        return Err(ShapeError::new(
            "",
            Some(doc.pos),
            format!(
                "a {format} config.yaml is a mapping of flag names to values, found {}",
                doc.type_name()
            ),
        ));
    };
    let mut settings = Vec::new();
    for (key, value) in entries {
        // `flag+:` appends to a value set in an earlier file; here it is the same flag.
        let flag = key.name.trim_end_matches('+').to_string();
        let key_origin = Origin::input(&key.name, Some(key.pos));
        if !check_flag(&flag, &key_origin, format, notes) {
            continue;
        }
        match &value.kind {
            Kind::Null => {}
            Kind::Map(_) => {
                return Err(ShapeError::new(
                    &key.name,
                    Some(value.pos),
                    "expected a value or a list of values, found a mapping",
                ));
            }
            Kind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    settings.push(Setting {
                        flag: flag.clone(),
                        value: walk::text(item, &walk::index(&key.name, i))?,
                    });
                }
            }
            _ => settings.push(Setting {
                flag,
                value: walk::text(value, &key.name)?,
            }),
        }
    }
    let distribution = match format {
        Format::Rke2 => Distribution::Rke2,
        _ => Distribution::K3s,
    };
    let format = if format == Format::Rke2 {
        Format::Rke2
    } else {
        Format::K3s
    };
    let by = Origin::derived("", "a config.yaml of k3s/RKE2 flags");
    let mut net = ClusterNetwork::new(format, Located::new(distribution, by));
    let role = entries.iter().find_map(|(key, _)| {
        SERVER_ONLY
            .contains(&key.name.trim_end_matches('+'))
            .then(|| Located::new(Role::Controller, Origin::input(&key.name, Some(key.pos))))
    });
    apply(&mut net, settings, role, "")?;
    Ok(net)
}

/// Reads a k3s command line: `[k3s] server|agent --flag value --flag=value ...`, or the install
/// script's line that carries one (`curl -sfL https://get.k3s.io | INSTALL_K3S_EXEC="server
/// ..." sh -s - [more flags]`), as guides write it. A byte-order mark and CRLF line ends are
/// taken as the YAML reader takes them.
pub fn import_command_line(text: &str, notes: &mut Notes) -> Result<ClusterNetwork, ShapeError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let unix;
    let text = if text.contains("\r\n") {
        unix = text.replace("\r\n", "\n");
        unix.as_str()
    } else {
        text
    };
    let tokens = tokenize(text)
        .map_err(|(offset, message)| ShapeError::new("", Some(position(text, offset)), message))?;
    let (tokens, agent_by_url) = from_install_script(text, tokens)?;
    let mut tokens = tokens.into_iter().peekable();
    let mut role = None;
    if tokens.peek().is_some_and(|t| t.text == "k3s") {
        tokens.next();
    }
    if let Some(t) = tokens.peek()
        && (t.text == "server" || t.text == "agent")
    {
        let value = if t.text == "server" {
            Role::Controller
        } else {
            Role::Worker
        };
        role = Some(Located::new(
            value,
            Origin::input(t.text.clone(), Some(position(text, t.start))),
        ));
        tokens.next();
    }
    let mut settings = Vec::new();
    while let Some(token) = tokens.next() {
        let pos = position(text, token.start);
        let Some(body) = token.text.strip_prefix('-') else {
            return Err(ShapeError::new(
                &token.text,
                Some(pos),
                format!(
                    "expected a flag (--name value), found {:?}; k3s takes no other arguments",
                    token.text
                ),
            ));
        };
        let body_start = if body.starts_with('-') { 2 } else { 1 };
        let body = body.strip_prefix('-').unwrap_or(body);
        let (name, inline) = match body.split_once('=') {
            Some((name, _)) => (name, Some(name.chars().count() + 1)),
            None => (body, None),
        };
        let flag = SHORT
            .iter()
            .find(|(short, _)| *short == name)
            .map_or(name, |(_, long)| long)
            .to_string();
        let path = format!("--{flag}");
        if !check_flag(
            &flag,
            &Origin::input(&path, Some(pos)),
            Format::K3sArgs,
            notes,
        ) {
            // Unknown: skip its value too, when one follows.
            if inline.is_none() && tokens.peek().is_some_and(|t| !t.text.starts_with('-')) {
                tokens.next();
            }
            continue;
        }
        let value = if let Some(skip) = inline {
            let first = body_start + skip;
            let text_value: String = token.text.chars().skip(first).collect();
            let offset = token.offsets.get(first).copied().unwrap_or(token.end);
            Located::new(
                text_value,
                Origin::input(&path, Some(position(text, offset))),
            )
        } else if BOOLEAN.contains(&flag.as_str()) {
            Located::new("true".to_string(), Origin::input(&path, Some(pos)))
        } else {
            let Some(next) = tokens.next() else {
                return Err(ShapeError::new(
                    &path,
                    Some(pos),
                    format!("{path} needs a value"),
                ));
            };
            let offset = next.offsets.first().copied().unwrap_or(next.start);
            if next.text.starts_with(['(', '<', '[']) && !next.text.contains(':') {
                return Err(ShapeError::new(
                    &path,
                    Some(position(text, offset)),
                    format!(
                        "the value is a placeholder ({:?}...), as guides write them: put this \
                         node's real value there",
                        next.text
                    ),
                ));
            }
            Located::new(
                next.text,
                Origin::input(&path, Some(position(text, offset))),
            )
        };
        settings.push(Setting { flag, value });
    }
    let distribution = Located::new(Distribution::K3s, Origin::derived("", "a k3s command line"));
    let mut net = ClusterNetwork::new(Format::K3sArgs, distribution);
    if let Some(agent) = role.as_ref().filter(|r| r.value == Role::Worker) {
        net.specific.k3s_agent = Some(Located::new(true, agent.origin.clone()));
    }
    let role = role.or_else(|| {
        Some(if agent_by_url {
            // install.sh: "If K3S_URL is set, default to agent".
            Located::new(
                Role::Worker,
                Origin::default_by("agent", "k3s install script with K3S_URL set"),
            )
        } else {
            Located::new(
                Role::Controller,
                Origin::default_by("server", "k3s command line without server/agent"),
            )
        })
    });
    apply(&mut net, settings, role, "--")?;
    Ok(net)
}

const INSTALL_EXEC: &str = "INSTALL_K3S_EXEC=";

/// The words of the k3s command line in an install script line: INSTALL_K3S_EXEC's value, then
/// whatever follows `sh -s -` (install.sh runs k3s with `$INSTALL_K3S_EXEC "$@"`), every word
/// keeping its place in `text`. Also whether K3S_URL is set (the script then defaults to agent).
/// Other lines are returned as they are.
fn from_install_script(text: &str, tokens: Vec<Token>) -> Result<(Vec<Token>, bool), ShapeError> {
    let Some(at) = tokens.iter().position(|t| t.text.starts_with(INSTALL_EXEC)) else {
        return Ok((tokens, false));
    };
    let by_url = tokens.iter().any(|t| t.text.starts_with("K3S_URL="));
    let exec = &tokens[at];
    let skip = INSTALL_EXEC.chars().count();
    let inner: String = exec.text.chars().skip(skip).collect();
    let inner_offsets = &exec.offsets[skip.min(exec.offsets.len())..];
    // Where each byte of the value is in `text`.
    let place = |byte: usize| -> usize {
        inner
            .char_indices()
            .position(|(b, _)| b >= byte)
            .and_then(|ci| inner_offsets.get(ci).copied())
            .unwrap_or(exec.end)
    };
    let mut words: Vec<Token> = tokenize(&inner)
        .map_err(|(offset, message)| {
            ShapeError::new(
                INSTALL_EXEC.trim_end_matches('='),
                Some(position(text, place(offset))),
                message,
            )
        })?
        .into_iter()
        .map(|t| Token {
            offsets: t.offsets.iter().map(|o| place(*o)).collect(),
            start: place(t.start),
            end: place(t.end),
            text: t.text,
        })
        .collect();
    // `| sh -s - --flag ...` (or `sh -s -- ...`, `bash -s ...`): the script's own arguments.
    let rest = &tokens[at + 1..];
    if let Some(sh) = rest.iter().position(|t| t.text == "sh" || t.text == "bash") {
        let args = rest[sh + 1..]
            .iter()
            .skip_while(|t| t.text == "-s" || t.text == "-" || t.text == "--");
        words.extend(args.map(|t| Token {
            text: t.text.clone(),
            offsets: t.offsets.clone(),
            start: t.start,
            end: t.end,
        }));
    }
    Ok((words, by_url))
}

/// Splits a command line into words the way a POSIX shell does: single quotes keep everything,
/// double quotes allow `\"`, `\\`, `\$` and `` \` ``, a backslash outside quotes escapes the next
/// character, backslash-newline joins lines, and `#` at the start of a word starts a comment.
pub fn parse_command_line(text: &str) -> Vec<String> {
    match tokenize(text) {
        Ok(tokens) => tokens.into_iter().map(|t| t.text).collect(),
        Err(_) => text.split_whitespace().map(str::to_string).collect(),
    }
}

/// A word of a command line, with the byte offset in the input of each of its characters.
struct Token {
    text: String,
    offsets: Vec<usize>,
    start: usize,
    end: usize,
}

fn tokenize(text: &str) -> Result<Vec<Token>, (usize, String)> {
    let mut tokens = Vec::new();
    let mut current: Option<Token> = None;
    let mut chars = text.char_indices().peekable();
    let push = |current: &mut Option<Token>, start: usize, c: char, at: usize| {
        let token = current.get_or_insert_with(|| Token {
            text: String::new(),
            offsets: Vec::new(),
            start,
            end: start,
        });
        token.text.push(c);
        token.offsets.push(at);
    };
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(mut token) = current.take() {
                    token.end = i;
                    tokens.push(token);
                }
            }
            '\'' => {
                current.get_or_insert_with(|| Token {
                    text: String::new(),
                    offsets: Vec::new(),
                    start: i,
                    end: i,
                });
                loop {
                    match chars.next() {
                        Some((_, '\'')) => break,
                        Some((j, c)) => push(&mut current, i, c, j),
                        None => return Err((i, "unterminated single quote".into())),
                    }
                }
            }
            '"' => {
                current.get_or_insert_with(|| Token {
                    text: String::new(),
                    offsets: Vec::new(),
                    start: i,
                    end: i,
                });
                loop {
                    match chars.next() {
                        Some((_, '"')) => break,
                        Some((j, '\\')) => match chars.peek().copied() {
                            Some((k, e @ ('"' | '\\' | '$' | '`'))) => {
                                chars.next();
                                push(&mut current, i, e, k);
                            }
                            Some((_, '\n')) => {
                                chars.next();
                            }
                            _ => push(&mut current, i, '\\', j),
                        },
                        Some((j, c)) => push(&mut current, i, c, j),
                        None => return Err((i, "unterminated double quote".into())),
                    }
                }
            }
            '#' if current.is_none() => {
                // A comment runs to the end of the line.
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\\' => match chars.next() {
                Some((_, '\n')) => {}
                Some((j, e)) => push(&mut current, i, e, j),
                None => return Err((i, "a backslash ends the line".into())),
            },
            c => push(&mut current, i, c, i),
        }
    }
    if let Some(mut token) = current.take() {
        token.end = text.len();
        tokens.push(token);
    }
    Ok(tokens)
}

/// The 1-based line and column (in characters) of a byte offset.
fn position(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    let column = before[line_start..].chars().count() + 1;
    Position {
        line: line as u32,
        column: column as u32,
    }
}

/// Warns about a flag kube6 does not know (with a suggestion); returns whether it is known.
fn check_flag(flag: &str, origin: &Origin, format: Format, notes: &mut Notes) -> bool {
    let prefix = if format == Format::K3sArgs { "--" } else { "" };
    if flag == "cni" && format != Format::Rke2 {
        notes.push(Diagnostic::new(
            &catalog::UNKNOWN_FIELD,
            origin,
            format!("`{prefix}cni` is an RKE2 setting; k3s does not have it"),
            "for an RKE2 config.yaml pass --format rke2; for k3s use flannel-backend (none to bring your own CNI)",
        ));
        return false;
    }
    if KNOWN.contains(&flag) || IGNORED.contains(&flag) {
        return true;
    }
    let hint = match walk::suggest(flag, KNOWN.iter().chain(IGNORED)) {
        Some(s) => format!("did you mean `{prefix}{s}`? Rename it, or remove it"),
        None => format!(
            "remove it; the network flags kube6 reads are {}",
            KNOWN.join(", ")
        ),
    };
    notes.push(Diagnostic::new(
        &catalog::UNKNOWN_FIELD,
        origin,
        format!("unknown flag `{prefix}{flag}`"),
        hint,
    ));
    false
}

fn single(values: &[Located<String>], flag: &str) -> Result<Option<Located<String>>, ShapeError> {
    match values {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        [.., second] => Err(ShapeError::new(
            second.origin.path(),
            second.origin.pos(),
            format!("{flag} takes one value, but it is given more than once"),
        )),
    }
}

fn boolean(value: &Located<String>) -> Result<Located<bool>, ShapeError> {
    match value.value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(Located::new(true, value.origin.clone())),
        "false" => Ok(Located::new(false, value.origin.clone())),
        other => Err(ShapeError::new(
            value.origin.path(),
            value.origin.pos(),
            format!("expected true or false, found {other:?}"),
        )),
    }
}

/// All items of a CIDR list flag, split as k3s splits them (spaces and empty items kept).
fn cidr_items(values: &[Located<String>]) -> Vec<Located<String>> {
    values.iter().flat_map(walk::split_cidr_list).collect()
}

/// All items of a list flag, comma-separated strings split, in order. An empty item stays: k3s
/// splits on commas (`util.SplitStringSlice`) and refuses the empty CIDR or address it leaves
/// (pkg/cli/server/server.go, pkg/util/net.go `ParseStringSliceToIPs`).
fn items(values: &[Located<String>]) -> Vec<Located<String>> {
    values.iter().flat_map(walk::split_list).collect()
}

/// The list as k3s joins it, for rules that count entries.
fn raw(values: &[Located<String>]) -> Option<Located<String>> {
    let first = values.first()?;
    let text = values
        .iter()
        .map(|v| v.value.as_str())
        .collect::<Vec<_>>()
        .join(",");
    Some(Located::new(text, first.origin.clone()))
}

/// `name=value` arguments of a component flag (`kube-controller-manager-arg`), each value with
/// the path `<flag>: <name>` and its column moved to where the value starts.
fn component_args(values: &[Located<String>], flag: &str) -> Vec<(String, Located<String>)> {
    values
        .iter()
        .filter_map(|v| {
            let eq = v.value.find('=')?;
            let name = v.value[..eq].trim().trim_start_matches('-');
            let value = &v.value[eq + 1..];
            let shift = v.value[..=eq].chars().count() as u32;
            let path = format!("{flag}: {name}");
            let origin = match v.origin.pos() {
                Some(p) => Origin::input(
                    path,
                    Some(Position {
                        line: p.line,
                        column: p.column + shift,
                    }),
                ),
                None => Origin::input(path, None),
            };
            Some((name.to_string(), Located::new(value.to_string(), origin)))
        })
        .collect()
}

fn cni_of(value: &str) -> Cni {
    match value.trim().to_ascii_lowercase().as_str() {
        "canal" => Cni::Canal,
        "calico" => Cni::Calico,
        "cilium" => Cni::Cilium,
        "flannel" => Cni::Flannel,
        _ => Cni::Custom,
    }
}

fn apply(
    net: &mut ClusterNetwork,
    settings: Vec<Setting>,
    role: Option<Located<Role>>,
    prefix: &str,
) -> Result<(), ShapeError> {
    let values = |flag: &str| -> Vec<Located<String>> {
        settings
            .iter()
            .filter(|s| s.flag == flag)
            .map(|s| s.value.clone())
            .collect()
    };
    let name_of = |flag: &str| format!("{prefix}{flag}");

    let pods = values("cluster-cidr");
    net.pods = cidr_items(&pods)
        .into_iter()
        .map(|v| v.map(CidrValue::new))
        .collect();
    net.specific.raw_pod_list = raw(&pods);
    let services = values("service-cidr");
    net.services = cidr_items(&services)
        .into_iter()
        .map(|v| v.map(CidrValue::new))
        .collect();
    net.specific.raw_service_list = raw(&services);
    net.cluster_dns = items(&values("cluster-dns"))
        .into_iter()
        .map(|v| v.map(AddrValue::new))
        .collect();
    if let Some(domain) = single(&values("cluster-domain"), &name_of("cluster-domain"))? {
        net.cluster_domain = domain;
    }
    net.api.address = single(&values("advertise-address"), &name_of("advertise-address"))?;
    net.specific.node_external_ips = items(&values("node-external-ip"))
        .into_iter()
        .map(|v| v.map(AddrValue::new))
        .collect();
    net.api.external = single(&values("server"), &name_of("server"))?;
    net.api.sans = items(&values("tls-san"));

    let addresses: Vec<Located<AddrValue>> = items(&values("node-ip"))
        .into_iter()
        .map(|v| v.map(AddrValue::new))
        .collect();
    let name = single(&values("node-name"), &name_of("node-name"))?;
    if !addresses.is_empty() || name.is_some() {
        let name = name.unwrap_or_else(|| {
            Located::new(
                "this node".to_string(),
                Origin::default_by(name_of("node-name"), "k3s default (the host name)"),
            )
        });
        net.nodes.push(NodeSpec {
            name,
            role,
            addresses,
            ignored_addresses: Vec::new(),
        });
    }

    if let Some(masq) = single(&values("flannel-ipv6-masq"), &name_of("flannel-ipv6-masq"))? {
        net.flannel.ipv6_masquerade = Some(boolean(&masq)?);
    }
    if let Some(backend) = single(&values("flannel-backend"), &name_of("flannel-backend"))? {
        if net.distribution.value == Distribution::K3s {
            let cni = if backend.value.trim() == "none" {
                Cni::Custom
            } else {
                Cni::Flannel
            };
            net.cni = Located::new(cni, backend.origin.clone());
        }
        net.flannel.backend = Some(backend);
    }
    if net.distribution.value == Distribution::K3s
        && let Some(no_flannel) = values("no-flannel").pop()
        && boolean(&no_flannel)?.value
    {
        net.cni = Located::new(Cni::Custom, no_flannel.origin);
    }
    if net.distribution.value == Distribution::Rke2 {
        // `cni` is a list (`multus,cilium`); multus is a meta-plugin in front of the real one.
        // RKE2 splits every value on commas and keeps what it gets, empty entries included
        // (rancher/rke2 pkg/cli/cmds/server.go `disableExceptSelected`); rules judge the list.
        net.specific.rke2_cni = values("cni")
            .iter()
            .flat_map(walk::split_list_raw)
            .collect();
        if let Some(cni) = net
            .specific
            .rke2_cni
            .iter()
            .rfind(|c| c.value.trim() != "multus")
        {
            let kind = cni_of(&cni.value);
            net.cni = Located::new(kind, cni.origin.clone());
        }
    }

    for (name, value) in component_args(
        &values("kube-controller-manager-arg"),
        "kube-controller-manager-arg",
    ) {
        match name.as_str() {
            "node-cidr-mask-size" => net.node_masks.single = Some(value.map(MaskValue::new)),
            "node-cidr-mask-size-ipv4" => net.node_masks.ipv4 = Some(value.map(MaskValue::new)),
            "node-cidr-mask-size-ipv6" => net.node_masks.ipv6 = Some(value.map(MaskValue::new)),
            "allocate-node-cidrs" => net.specific.allocate_node_cidrs = Some(value),
            _ => {}
        }
    }
    for (name, value) in component_args(&values("kube-apiserver-arg"), "kube-apiserver-arg") {
        if name == "endpoint-reconciler-type" {
            net.specific.endpoint_reconciler_type = Some(value);
        }
    }
    for (name, value) in component_args(&values("kube-proxy-arg"), "kube-proxy-arg") {
        match name.as_str() {
            "proxy-mode" => net.kube_proxy_mode = Some(value),
            "cluster-cidr" => net.kube_proxy_cluster_cidr = Some(value),
            "detect-local-mode" => net.kube_proxy_detect_local_mode = Some(value),
            _ => {}
        }
    }
    Ok(())
}
