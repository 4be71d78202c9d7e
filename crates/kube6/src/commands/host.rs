//! `kube6 host check|fix` (being built; see issue 4), and the expectation flags shared with
//! `kube6 node-ip`.

use kube6_host::expect::{Expectations, Upstream, parse_families, parse_node_ips};
use serde::Serialize;

use crate::exit::{CommandResult, Failure};
use crate::output::OutputFormat;

/// What the cluster expects of this node, as flags. Becomes a [`kube6_host::Expectations`].
#[derive(Debug, Clone, clap::Args)]
pub struct ExpectationArgs {
    /// Address families, primary first: IPv4, IPv6, dual (IPv4 first), dual6 (IPv6 first), or a
    /// comma list such as IPv6,IPv4.
    #[arg(long, default_value = "IPv6", value_name = "FAMILIES")]
    pub family: String,
    /// The node IPs the kubelet will use (at most one per family), e.g. 2001:db8::10,192.0.2.10.
    #[arg(long = "node-ip", value_name = "ADDR[,ADDR]")]
    pub node_ip: Option<String>,
    /// The node name to resolve (default: this host's hostname).
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
}

impl ExpectationArgs {
    pub fn to_expectations(&self) -> Result<Expectations, Failure> {
        let exp = Expectations {
            families: parse_families(&self.family).map_err(Failure::usage)?,
            node_ips: match &self.node_ip {
                Some(s) => parse_node_ips(s).map_err(Failure::usage)?,
                None => Vec::new(),
            },
            hostname: self.hostname.clone(),
            ..Expectations::default()
        };
        exp.validate().map_err(Failure::usage)?;
        Ok(exp)
    }
}

#[allow(dead_code)]
fn _upstream(_: Upstream) {}

/// Prints a document as JSON or YAML.
pub fn print_structured<T: Serialize>(format: OutputFormat, doc: &T) -> Result<(), Failure> {
    let text = match format {
        OutputFormat::Yaml => {
            serde_saphyr::to_string(doc).map_err(|e| Failure::failed(anyhow::anyhow!("{e}")))?
        }
        _ => serde_json::to_string_pretty(doc).map_err(Failure::failed)? + "\n",
    };
    print!("{text}");
    Ok(())
}

#[derive(Debug, clap::Subcommand)]
pub enum HostCommand {
    /// Check this node.
    Check,
}

pub fn run(_cmd: HostCommand) -> CommandResult {
    Err(Failure::usage(anyhow::anyhow!(
        "host is not available in this build"
    )))
}
