//! Writes a synthetic `kubectl get nodes,pods,services,endpointslices -A -o json` dump, and
//! optionally the plan that describes it (k3s config.yaml for the k3s layout, a kube6
//! ClusterNetwork for the others).
//!
//! ```sh
//! cargo run --release -p kube6-verify --example gen-dump -- \
//!     --nodes 5000 --pods 150000 --services 10000 [--stack dual] \
//!     [--layout k3s|k0s|calico|cilium-cluster-pool|cilium-multi-pool] [--plan PLAN.yaml] OUT.json
//! ```

use std::process::ExitCode;

use kube6_net::Family;
use kube6_verify::synth::{Layout, Shape};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-dump: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let (mut nodes, mut pods, mut services) = (5000usize, 150_000usize, 10_000usize);
    let mut families = vec![Family::IPv6, Family::IPv4];
    let (mut out, mut plan) = (None, None);
    let mut layout = ("k3s", Layout::k3s());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        let number = |v: String| v.parse::<usize>().map_err(|e| format!("{v}: {e}"));
        match arg.as_str() {
            "--nodes" => nodes = number(value()?)?,
            "--pods" => pods = number(value()?)?,
            "--services" => services = number(value()?)?,
            "--plan" => plan = Some(value()?),
            "--layout" => {
                layout = match value()?.as_str() {
                    "k3s" => ("k3s", Layout::k3s()),
                    "k0s" => ("k0s", Layout::k0s()),
                    "calico" => ("calico", Layout::kubeadm_calico()),
                    "cilium-cluster-pool" => ("cilium", Layout::cilium_cluster_pool()),
                    "cilium-multi-pool" => ("cilium", Layout::cilium_multi_pool()),
                    other => {
                        return Err(format!(
                            "--layout {other}: use k3s, k0s, calico, cilium-cluster-pool or cilium-multi-pool"
                        ));
                    }
                }
            }
            "--stack" => {
                families = match value()?.as_str() {
                    "ipv4" => vec![Family::IPv4],
                    "ipv6" => vec![Family::IPv6],
                    "dual" | "dual-ipv6-first" => vec![Family::IPv6, Family::IPv4],
                    "dual-ipv4-first" => vec![Family::IPv4, Family::IPv6],
                    other => {
                        return Err(format!(
                            "--stack {other}: use ipv4, ipv6, dual-ipv4-first or dual-ipv6-first"
                        ));
                    }
                }
            }
            other if !other.starts_with('-') && out.is_none() => out = Some(other.to_string()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let out = out.ok_or(
        "usage: gen-dump [--nodes N] [--pods N] [--services N] [--stack S] [--layout L] [--plan FILE] OUT.json",
    )?;
    if nodes > 16_384 {
        return Err("at most 16384 nodes (the IPv4 pod range holds that many /24s)".to_string());
    }
    let shape = Shape::new(&families, nodes, pods, services).with_layout(layout.1);
    let file = std::fs::File::create(&out).map_err(|e| format!("{out}: {e}"))?;
    shape.write(file).map_err(|e| format!("{out}: {e}"))?;
    if let Some(plan) = plan {
        let text = match layout.0 {
            "k3s" => shape.k3s_config(),
            "k0s" => shape.cluster_network("k0s", "kube-router"),
            "calico" => shape.cluster_network("kubeadm", "calico"),
            _ => shape.cluster_network("kubeadm", "cilium"),
        };
        std::fs::write(&plan, text).map_err(|e| format!("{plan}: {e}"))?;
    }
    Ok(())
}
