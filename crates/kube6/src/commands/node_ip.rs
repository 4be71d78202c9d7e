//! `kube6 node-ip`: this node's IP per family, primary first, with the reason for each choice.
//! The text output is one line usable as-is as the kubelet's `--node-ip` value.

use kube6_host::dns::SystemResolver;
use kube6_host::expect::Expectations;
use kube6_host::netlink::read_interfaces;
use kube6_host::nodeip::{NodeIpChoice, NodeIps, detect};
use kube6_host::snapshot::{HostPaths, hostname_lookup};
use kube6_net::Family;
use serde::Serialize;

use crate::commands::host::ExpectationArgs;
use crate::exit::{CommandResult, Failure, Status};
use crate::output::{self, OutputFormat};

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
            // Problems first: stdout may be closed early (`| head -1`), stderr still says why.
            let mut problems = String::new();
            for choice in ips.choices.iter().filter(|c| !c.ok()) {
                let what = match (choice.address, &choice.problem) {
                    (Some(ip), Some(problem)) => format!("{ip}: {problem}"),
                    _ => format!("no usable address: {}", choice.reason),
                };
                problems.push_str(&format!("kube6: node-ip {}: {what}\n", choice.family));
                for r in &choice.rejected {
                    problems.push_str(&format!("  skipped {}: {}\n", r.address, r.reason));
                }
            }
            output::write_stderr(&problems);
            if ips.complete() {
                output::write_stdout(&format!("{}\n", ips.kubelet_value()))?;
            }
        }
        format => output::print_structured(
            &Document {
                node_ip: ips.kubelet_value(),
                families: &exp.families,
                complete: ips.complete(),
                choices: &ips.choices,
            },
            format,
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
