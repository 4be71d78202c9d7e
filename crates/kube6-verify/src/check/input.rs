//! K6V001: what the input holds, and what it lacks.

use super::{Check, Context};
use crate::catalog;
use crate::dump::DUMP_COMMAND;
use crate::ipam::IpamMode;

/// Kinds `kubectl get all` prints (besides Pods and Services): a dump of them has no Nodes.
const GET_ALL_KINDS: &[&str] = &[
    "Deployment",
    "ReplicaSet",
    "DaemonSet",
    "StatefulSet",
    "Job",
    "CronJob",
    "ReplicationController",
    "HorizontalPodAutoscaler",
];

pub(super) fn input_coverage(ctx: &Context) -> Check {
    let mut check = Check::new(&catalog::INPUT_COVERAGE);
    let s = ctx.snapshot;
    let counts = s.counts();
    check.checked = counts.nodes
        + counts.pods
        + counts.services
        + counts.endpoint_slices
        + counts.calico_ip_pools
        + counts.calico_ipam_blocks
        + counts.cilium_nodes
        + counts.cilium_pod_ip_pools;
    let looks_like_get_all =
        s.endpoint_slices.is_empty() && GET_ALL_KINDS.iter().any(|k| s.ignored.contains_key(*k));
    if s.nodes.is_empty() {
        let mut held = Vec::new();
        for (n, what) in [
            (counts.pods, "Pods"),
            (counts.services, "Services"),
            (counts.endpoint_slices, "EndpointSlices"),
        ] {
            if n > 0 {
                held.push(format!("{n} {what}"));
            }
        }
        if counts.ignored > 0 {
            let kinds: Vec<&str> = s.ignored.keys().map(String::as_str).take(4).collect();
            held.push(format!(
                "{} objects of other kinds ({}{})",
                counts.ignored,
                kinds.join(", "),
                if s.ignored.len() > kinds.len() {
                    ", ..."
                } else {
                    ""
                }
            ));
        }
        let held = if held.is_empty() {
            "nothing verify reads".to_string()
        } else {
            held.join(", ")
        };
        let hint = if looks_like_get_all {
            "; it looks like `kubectl get all -A`, which leaves out Nodes and EndpointSlices"
        } else {
            ""
        };
        check.fail(
            Vec::new(),
            format!(
                "the input has no Nodes (it holds {held}){hint}: without them no node or pod \
                 address can be judged; dump the cluster with `{DUMP_COMMAND}`"
            ),
        );
    }
    if s.pods.is_empty() {
        check.note("no Pods: K6V005-K6V007 skip");
    }
    if s.services.is_empty() {
        check.note("no Services: K6V008-K6V012 skip");
    } else {
        if !s
            .services
            .iter()
            .any(|svc| svc.namespace == "default" && svc.name == "kubernetes")
        {
            check.note(
                "no default/kubernetes Service (a dump of some namespaces only?): K6V010 skips",
            );
        }
        if s.endpoint_slices.is_empty() {
            check.note(if looks_like_get_all {
                "no EndpointSlices (`kubectl get all` leaves them out): K6V012 skips"
            } else {
                "no EndpointSlices: K6V012 skips"
            });
        }
    }
    if let Some(only) = s.only_namespace() {
        check.note(format!(
            "every Pod and Service is of the namespace {only:?}: only it is judged (`-A` dumps all)"
        ));
    }
    let cni = &s.cni;
    match ctx.expect.ipam.mode {
        IpamMode::CalicoIpam if cni.calico_pools.is_empty() && cni.calico_blocks.is_empty() => {
            check.note(
                "no Calico IPPools or IPAMBlocks: add `ippools.crd.projectcalico.org,\
                 ipamblocks.crd.projectcalico.org` to the dump to check Calico's IPAM (K6V004)",
            );
        }
        IpamMode::CiliumClusterPool | IpamMode::CiliumMultiPool
            if cni.cilium_nodes.is_empty() && cni.cilium_pools.is_empty() =>
        {
            check.note(
                "no CiliumNodes: add `ciliumnodes,ciliumpodippools` to the dump to check \
                 Cilium's IPAM (K6V004)",
            );
        }
        _ => {}
    }
    check
}
