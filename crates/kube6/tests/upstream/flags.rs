//! k3s and RKE2 `config.yaml`: every key is a flag of the `server` or `agent` command, spelled
//! without dashes (a trailing `+` appends to a slice flag). k3s turns each key into
//! `--key=value` (one per item for a list; k3s-io/k3s pkg/configfilearg/parser.go) and skips
//! a key its command has no flag for, with only a log line. So an unknown key, a server flag
//! in an agent's file, or a value the flag cannot parse is a setting that never takes effect.
//! The flags and their types come from `shared/schemas/k3s-rke2-flags.tsv`.

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Server,
    Agent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Flag {
    /// "server", "agent" or "both".
    role: String,
    /// string, bool, int, slice or duration (urfave/cli flag kinds).
    kind: String,
}

/// The flags of one distribution (k3s or rke2).
#[derive(Debug, Default)]
pub struct Flags {
    flags: HashMap<(String, String), Flag>,
}

impl Flags {
    /// Reads the TSV (`distribution role flag type`, with a header line).
    pub fn parse(text: &str) -> Result<Flags, String> {
        let mut flags = HashMap::new();
        for (n, line) in text.lines().enumerate().skip(1) {
            if line.trim().is_empty() {
                continue;
            }
            let cols: Vec<&str> = line.split('\t').collect();
            let [dist, role, flag, kind] = cols[..] else {
                return Err(format!("line {}: expected 4 columns: {line:?}", n + 1));
            };
            if !matches!(role, "server" | "agent" | "both")
                || !matches!(kind, "string" | "bool" | "int" | "slice" | "duration")
            {
                return Err(format!("line {}: unknown role or type: {line:?}", n + 1));
            }
            flags.insert(
                (dist.to_string(), flag.to_string()),
                Flag {
                    role: role.to_string(),
                    kind: kind.to_string(),
                },
            );
        }
        Ok(Flags { flags })
    }

    /// Problems with a config.yaml for `dist` (k3s or rke2) and `role`, as (key, message).
    pub fn check(&self, dist: &str, role: Role, doc: &Value) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let Some(map) = doc.as_object() else {
            out.push((
                String::new(),
                "a config.yaml must be a mapping of flag names to values".to_string(),
            ));
            return out;
        };
        for (key, value) in map {
            let (name, append) = match key.strip_suffix('+') {
                Some(n) => (n, true),
                None => (key.as_str(), false),
            };
            let Some(flag) = self.flags.get(&(dist.to_string(), name.to_string())) else {
                out.push((
                    key.clone(),
                    format!("{dist} has no flag --{name}: the key is skipped"),
                ));
                continue;
            };
            let fits = match role {
                Role::Server => flag.role != "agent",
                Role::Agent => flag.role != "server",
            };
            if !fits {
                out.push((
                    key.clone(),
                    format!(
                        "--{name} is a {} flag of {dist}; the {} command skips it",
                        flag.role,
                        match role {
                            Role::Server => "server",
                            Role::Agent => "agent",
                        }
                    ),
                ));
            }
            if append && flag.kind != "slice" {
                out.push((
                    key.clone(),
                    format!("{name}+ appends, but --{name} is a {} flag", flag.kind),
                ));
            }
            if let Some(problem) = value_problem(&flag.kind, value) {
                out.push((key.clone(), format!("--{name} ({}): {problem}", flag.kind)));
            }
        }
        out
    }
}

/// Why `value` does not parse as a flag of `kind`, if it does not.
fn value_problem(kind: &str, value: &Value) -> Option<String> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if kind == "slice" {
        return match value {
            Value::Array(items) if items.iter().all(|i| scalar(i).is_some()) => None,
            Value::Array(_) => Some("list items must be scalars".into()),
            v if scalar(v).is_some() => None,
            _ => Some("expected a string or a list of strings".into()),
        };
    }
    let Some(text) = scalar(value) else {
        return Some(match value {
            Value::Array(_) => "a list for a single-valued flag: only the last item counts".into(),
            _ => "expected a scalar".into(),
        });
    };
    match kind {
        // Go's strconv.ParseBool.
        "bool" => (!matches!(
            text.as_str(),
            "1" | "t"
                | "T"
                | "TRUE"
                | "true"
                | "True"
                | "0"
                | "f"
                | "F"
                | "FALSE"
                | "false"
                | "False"
        ))
        .then(|| format!("{text:?} is not a boolean")),
        "int" => text
            .parse::<i64>()
            .is_err()
            .then(|| format!("{text:?} is not an integer")),
        "duration" => (!is_go_duration(&text)).then(|| format!("{text:?} is not a Go duration")),
        _ => None,
    }
}

/// Go's time.ParseDuration: "0", or a sequence of decimal numbers with units.
fn is_go_duration(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    if s == "0" {
        return true;
    }
    let mut rest = s;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ns", "us", "µs", "μs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TSV: &str = "distribution\trole\tflag\ttype\nk3s\tserver\tcluster-cidr\tslice\nk3s\tboth\tnode-ip\tslice\nk3s\tserver\tcluster-init\tbool\nk3s\tboth\ttoken\tstring\nk3s\tserver\tetcd-snapshot-retention\tint\nk3s\tserver\tetcd-s3-timeout\tduration\nk3s\tagent\tdisable-apiserver-lb\tbool\n";

    #[test]
    fn keys_roles_and_types() {
        let flags = Flags::parse(TSV).unwrap();
        let ok = json!({"cluster-cidr": "fd00::/56", "node-ip": ["2001:db8::1"], "cluster-init": true,
            "token": "x", "etcd-snapshot-retention": 5, "etcd-s3-timeout": "5m30s", "node-ip+": "192.0.2.1"});
        assert_eq!(flags.check("k3s", Role::Server, &ok), vec![]);
        let bad = json!({"cluster-cidrs": "x", "cluster-init": "yes", "etcd-snapshot-retention": "five",
            "etcd-s3-timeout": "5 minutes", "token": ["a", "b"], "disable-apiserver-lb": true, "token+": "y"});
        let found: Vec<String> = flags
            .check("k3s", Role::Server, &bad)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(found.len(), 7, "{found:?}");
        // A server flag in an agent's file.
        let agent = flags.check("k3s", Role::Agent, &json!({"cluster-init": true}));
        assert!(agent[0].1.contains("server flag"), "{agent:?}");
        assert!(
            flags.check("rke2", Role::Server, &json!({"token": "x"}))[0]
                .1
                .contains("no flag")
        );
    }
}
