//! `kube6 node-ip`: this node's IP per family, primary first, with the reason for each choice.
//! The text output is one line usable as-is as the kubelet's `--node-ip` value.

use kube6_host::dns::SystemResolver;
use kube6_host::expect::Expectations;
use kube6_host::netlink::read_interfaces;
use kube6_host::nodeip::{NodeIpChoice, NodeIps, detect};
use kube6_host::snapshot::{HostPaths, hostname_lookup};
use kube6_net::Family;
use serde::Serialize;

use crate::commands::host::{ExpectationArgs, print_structured};
use crate::exit::{CommandResult, Failure, Status};
use crate::output::OutputFormat;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub expect: ExpectationArgs,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// The JSON/YAML document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    /// The kubelet `--node-ip` value.
    node_ip: String,
    families: &'a [Family],
    complete: bool,
    choices: &'a [NodeIpChoice],
}

pub fn run(args: Args) -> CommandResult {
    let exp = args.expect.to_expectations()?;
    let ips = detect_node_ips(&exp)?;
    match args.output {
        OutputFormat::Text => {
            if ips.complete() {
                println!("{}", ips.kubelet_value());
            }
            for choice in &ips.choices {
                if !choice.ok() {
                    let what = match (choice.address, &choice.problem) {
                        (Some(ip), Some(problem)) => format!("{ip}: {problem}"),
                        _ => format!("no usable address: {}", choice.reason),
                    };
                    eprintln!("kube6: node-ip {}: {what}", choice.family);
                    for r in &choice.rejected {
                        eprintln!("  skipped {}: {}", r.address, r.reason);
                    }
                }
            }
        }
        format => print_structured(
            format,
            &Document {
                node_ip: ips.kubelet_value(),
                families: &exp.families,
                complete: ips.complete(),
                choices: &ips.choices,
            },
        )?,
    }
    Ok(if ips.complete() {
        Status::Ok
    } else {
        Status::Invalid
    })
}

fn detect_node_ips(exp: &Expectations) -> Result<NodeIps, Failure> {
    let interfaces = read_interfaces().map_err(Failure::failed)?;
    let lookup = hostname_lookup(exp, &HostPaths::system(), &SystemResolver);
    Ok(detect(exp, &interfaces, &lookup))
}
