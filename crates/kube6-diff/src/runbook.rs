//! The runbook for the distribution: ordered steps with their commands, and after each step the
//! `kube6 verify` (and `kube6 probe`) checks that show it worked. Refused changes give no steps
//! but the alternative; unsafe ones keep their steps with what they cost.

use std::net::IpAddr;

use ipnet::IpNet;
use kube6_model::model::{Cni, Distribution};
use kube6_net::Family;
use serde::Serialize;

use crate::change::{ChangeKind, RangeChange};
use crate::classify::{Class, Classified, Context};
use crate::state::NetworkState;

/// A check that shows a step worked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepCheck {
    /// `kube6 verify` or `kube6 probe`.
    pub tool: &'static str,
    /// The check's id (`K6V003`) and name.
    pub id: &'static str,
    pub name: &'static str,
    /// The command that runs just this check (the others ignored) and exits 0 when it passes.
    pub command: String,
}

/// One step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub title: String,
    /// The rules that call for the step.
    pub rules: Vec<&'static str>,
    /// Commands in order; lines starting with `#` say what to do where no command does it.
    pub commands: Vec<String>,
    pub checks: Vec<StepCheck>,
    /// What the step costs, for unsafe changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// A change the proposed configuration cannot make, and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocked {
    pub change: String,
    /// The rules that refuse it, with the components enforcing them.
    pub rules: Vec<&'static str>,
    pub enforced_by: Vec<String>,
    pub alternative: String,
}

/// The runbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Runbook {
    pub distribution: Distribution,
    /// Refused changes: with any, the steps are empty and these say what to do instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<Blocked>,
    pub steps: Vec<Step>,
}

/// File names the runbook's commands use for the two sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Files {
    pub current: Option<String>,
    pub proposed: String,
}

fn verify(id: &'static str, plan: &str) -> StepCheck {
    let info = kube6_verify::catalog::find(id);
    StepCheck {
        tool: "kube6 verify",
        id: info.map_or(id, |c| c.id),
        name: info.map_or("", |c| c.name),
        command: format!("kube6 verify --plan {plan} --only {id}"),
    }
}

fn probe(id: &'static str, plan: &str) -> StepCheck {
    let info = kube6_probe::catalog::find(id);
    StepCheck {
        tool: "kube6 probe",
        id: info.map_or(id, |c| c.id),
        name: info.map_or("", |c| c.name),
        command: format!("kube6 probe --plan {plan} --only {id}"),
    }
}

/// The alternative to a refused change.
fn alternative(change: &Classified, rule: &str, ctx: &Context) -> String {
    match (change.change.kind, rule) {
        (ChangeKind::PrimaryFamily, _) => format!(
            "Keep {} as the primary family and add the other one as the secondary family (an allowed change), or build a new cluster with the proposed configuration and move the workloads to it.",
            ctx.current_families
                .first()
                .map_or("the current family".to_string(), |f| f.to_string())
        ),
        (ChangeKind::ServiceRange, "K6E611" | "K6E609") => {
            "Leave the Cluster object as it is; from Kubernetes 1.33 add the addresses with a ServiceCIDR object in the cluster itself, or build a new cluster.".to_string()
        }
        (ChangeKind::PodRange, "K6E602") => {
            "Keep the current pod range and extend it instead (a range that holds it), or delete the nodes whose blocks lie outside the new range before kube-controller-manager restarts.".to_string()
        }
        (_, "K6E612") => format!(
            "Label the Cluster with {} to let KKP migrate the CNI (with downtime), or keep the CNI.",
            kube6_model::facts::kkp::UNSAFE_CNI_MIGRATION_LABEL
        ),
        (_, "K6E613") => "Keep IPv6 as the primary family (spec.network.primaryAddressFamily: IPv6) and use a k0s release that runs IPv6-primary dual-stack with kube-router.".to_string(),
        (_, "K6E611" | "K6E609") => {
            "Create a new cluster with the proposed network and move the workloads to it; the running cluster's network fields cannot be edited.".to_string()
        }
        _ => "Build a new cluster with the proposed configuration and move the workloads to it.".to_string(),
    }
}

struct Commands {
    distribution: Distribution,
}

impl Commands {
    fn backup(&self) -> Vec<String> {
        match self.distribution {
            Distribution::K0s => vec!["sudo k0s backup --save-path /var/lib/k0s-backups".into()],
            Distribution::K3s => vec!["sudo k3s etcd-snapshot save --name kube6-before-network-change".into()],
            Distribution::Rke2 => vec!["sudo rke2 etcd-snapshot save --name kube6-before-network-change".into()],
            Distribution::Kubeadm => vec![
                "sudo ETCDCTL_API=3 etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/server.crt --key /etc/kubernetes/pki/etcd/server.key snapshot save /var/backups/etcd-before-network-change.db".into(),
                "kubectl -n kube-system get configmap kubeadm-config kube-proxy kubelet-config -o yaml > kubeadm-configmaps-before.yaml".into(),
            ],
            Distribution::Kkp => vec!["kubectl get cluster CLUSTER -o yaml > cluster-before.yaml".into()],
        }
    }

    /// Applying the configuration to the control plane.
    fn control_plane(&self, proposed: &NetworkState) -> Vec<String> {
        let pods = join_nets(proposed.pods.iter().filter_map(|p| p.cidr));
        let services = join_nets(proposed.services.iter().filter_map(|s| s.cidr));
        match self.distribution {
            Distribution::K0s => vec![
                format!("# on every controller, in /etc/k0s/k0s.yaml: spec.network as in the proposed file (pods {pods}, services {services})"),
                "sudo systemctl restart k0scontroller   # one controller at a time; wait for it to be ready".into(),
            ],
            Distribution::K3s | Distribution::Rke2 => {
                let (dir, unit) = if self.distribution == Distribution::K3s {
                    ("/etc/rancher/k3s", "k3s")
                } else {
                    ("/etc/rancher/rke2", "rke2-server")
                };
                vec![
                    format!("# on every server, in {dir}/config.yaml: cluster-cidr: {pods} and service-cidr: {services} (the same on all servers)"),
                    format!("sudo systemctl restart {unit}   # every server, one at a time"),
                    format!(
                        "sudo systemctl restart {}   # then every agent: its flannel and kube-proxy take the ranges from the servers",
                        if self.distribution == Distribution::K3s { "k3s-agent" } else { "rke2-agent" }
                    ),
                ]
            }
            Distribution::Kubeadm => vec![
                format!("kubectl -n kube-system edit configmap kubeadm-config   # networking.podSubnet: {pods}, networking.serviceSubnet: {services}"),
                format!("# on every control-plane node: /etc/kubernetes/manifests/kube-apiserver.yaml --service-cluster-ip-range={services}; kube-controller-manager.yaml --cluster-cidr={pods} and --service-cluster-ip-range={services} (the kubelet restarts them)"),
                format!("kubectl -n kube-system edit configmap kube-proxy   # clusterCIDR: {pods}"),
                "kubectl -n kube-system rollout restart daemonset kube-proxy".into(),
            ],
            Distribution::Kkp => vec![
                "kubectl edit cluster CLUSTER   # on the seed: spec.clusterNetwork as in the proposed file".into(),
            ],
        }
    }

    /// Drain, delete and register one node again.
    fn rotate_node(&self, node: &str) -> Vec<String> {
        let mut out = vec![
            format!("kubectl drain {node} --ignore-daemonsets --delete-emptydir-data"),
            format!("kubectl delete node {node}"),
        ];
        match self.distribution {
            Distribution::K0s => out.push(format!(
                "ssh {node} sudo reboot   # k0s registers the node again at boot; the reboot clears the old bridge address and IPAM state"
            )),
            Distribution::K3s | Distribution::Rke2 => {
                let (uninstall, install) = if self.distribution == Distribution::K3s {
                    ("k3s-uninstall.sh (servers) or k3s-agent-uninstall.sh (agents)", "curl -sfL https://get.k3s.io | sh -s - <server|agent>")
                } else {
                    ("rke2-uninstall.sh", "curl -sfL https://get.rke2.io | sh - && systemctl enable --now rke2-<server|agent>")
                };
                out.push(format!(
                    "ssh {node} sudo {uninstall}   # removes the node's local data, local-path volumes included"
                ));
                out.push(format!(
                    "ssh {node} '{install}'   # with the same config.yaml and token"
                ));
            }
            Distribution::Kubeadm => {
                // No `kubeadm reset`: it would take etcd and the control plane off a
                // control-plane node. The kubelet registers its Node again on its own.
                out.push(format!(
                    "ssh {node} sudo reboot   # the kubelet registers the Node again at boot; the reboot clears the CNI's bridge and IPAM state"
                ));
                out.push(format!(
                    "kubectl label node {node} node-role.kubernetes.io/control-plane= && kubectl taint node {node} node-role.kubernetes.io/control-plane:NoSchedule   # control-plane nodes only: kubeadm set these at join"
                ));
            }
            Distribution::Kkp => out.push(
                "kubectl -n kube-system patch machinedeployment MACHINEDEPLOYMENT --type merge -p '{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"kube6.dev/rotate\":\"1\"}}}}}'   # machine-controller replaces the machines one by one".into(),
            ),
        }
        out.push(format!(
            "kubectl wait --for=condition=Ready node/{node} --timeout=15m"
        ));
        out
    }
}

fn join_nets(nets: impl Iterator<Item = IpNet>) -> String {
    nets.map(|n| n.to_string()).collect::<Vec<_>>().join(",")
}

fn join_ips(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(|ip| ip.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// A Calico IPPool for a new range (a pool's CIDR cannot be modified).
fn calico_pool(family: Family, range: &str) -> Vec<String> {
    vec![
        format!(
            "kubectl apply -f - <<'EOF'\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: kube6-{}-pool\nspec:\n  cidr: {range}\n  nodeSelector: all()\nEOF",
            if family == Family::IPv6 { "ipv6" } else { "ipv4" }
        ),
        "# a replaced range: disable the old pool (spec.disabled: true), restart the pods that hold its addresses, then delete it".into(),
    ]
}

/// The CNI's own part of adding a family.
fn cni_family_steps(
    cni: Option<Cni>,
    distribution: Distribution,
    family: Family,
    proposed: &NetworkState,
) -> Vec<String> {
    let range = proposed
        .pod_range(family)
        .and_then(|p| p.cidr)
        .map_or("POD-RANGE".to_string(), |c| c.to_string());
    let flag = if family == Family::IPv6 {
        "ipv6"
    } else {
        "ipv4"
    };
    match cni {
        Some(Cni::Calico | Cni::Canal) => vec![
            format!(
                "kubectl apply -f - <<'EOF'\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: default-{flag}-ippool\nspec:\n  cidr: {range}\n  natOutgoing: {}\n  nodeSelector: all()\nEOF",
                family == Family::IPv4
            ),
            format!(
                "kubectl -n calico-system set env daemonset/calico-node FELIX_{}SUPPORT=true   # with the operator: Installation spec.calicoNetwork.ipPools instead",
                flag.to_ascii_uppercase()
            ),
            format!("# the CNI configuration's ipam: assign_{flag}: \"true\""),
        ],
        Some(Cni::Cilium) => vec![format!(
            "helm upgrade cilium cilium/cilium -n kube-system --reuse-values --set {flag}.enabled=true --set ipam.operator.clusterPool{}PodCIDRList={{{range}}}",
            if family == Family::IPv6 {
                "IPv6"
            } else {
                "IPv4"
            }
        )],
        // k3s and RKE2 run flannel inside their agent and give it cluster-cidr: restarting them
        // (the control-plane step) is all it takes.
        Some(Cni::Flannel) if distribution.is_k3s_family() => vec![format!(
            "# {distribution}'s embedded flannel takes the {family} range from cluster-cidr: the restarts of the control-plane step gave it {range}"
        )],
        Some(Cni::Flannel) => vec![format!(
            "# flannel's net-conf.json: \"Enable{}\": true and \"{}\": \"{range}\"; then kubectl -n kube-flannel rollout restart daemonset kube-flannel-ds",
            if family == Family::IPv6 {
                "IPv6"
            } else {
                "IPv4"
            },
            if family == Family::IPv6 {
                "IPv6Network"
            } else {
                "Network"
            }
        )],
        Some(Cni::KubeRouter) => vec![format!(
            "kubectl -n kube-system rollout restart daemonset kube-router   # it reads --enable-{flag} and the node's podCIDRs at start"
        )],
        Some(Cni::Custom) | None => {
            vec![format!("# configure the CNI for {family} pods in {range}")]
        }
    }
}

/// The runbook for `changes`.
pub fn build(
    changes: &[Classified],
    ctx: &Context,
    current: &NetworkState,
    proposed: &NetworkState,
    files: &Files,
) -> Runbook {
    let blocked: Vec<Blocked> = changes
        .iter()
        .filter_map(|c| {
            let refusing: Vec<_> = c
                .verdicts
                .iter()
                .filter(|v| v.class == Class::Refused)
                .collect();
            let first = refusing.first()?;
            let mut enforced_by: Vec<String> =
                refusing.iter().map(|v| v.enforced_by.to_string()).collect();
            enforced_by.dedup();
            Some(Blocked {
                change: c.change.summary.clone(),
                rules: refusing.iter().map(|v| v.rule).collect(),
                enforced_by,
                alternative: alternative(c, first.rule, ctx),
            })
        })
        .collect();
    let mut runbook = Runbook {
        distribution: ctx.distribution,
        blocked,
        steps: Vec::new(),
    };
    if !runbook.blocked.is_empty() || changes.is_empty() {
        return runbook;
    }
    let plan = files.proposed.as_str();
    let cmd = Commands {
        distribution: ctx.distribution,
    };
    let has = |kind: ChangeKind| changes.iter().any(|c| c.change.kind == kind);
    let rules_of = |kinds: &[ChangeKind]| -> Vec<&'static str> {
        let mut ids: Vec<&'static str> = changes
            .iter()
            .filter(|c| kinds.contains(&c.change.kind))
            .flat_map(|c| c.verdicts.iter().map(|v| v.rule))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let unsafe_warning = |kinds: &[ChangeKind]| -> Option<String> {
        let reasons: Vec<String> = changes
            .iter()
            .filter(|c| kinds.contains(&c.change.kind))
            .flat_map(|c| c.verdicts.iter().filter(|v| v.class == Class::Unsafe))
            .map(|v| format!("{}: {}", v.rule, v.reason))
            .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    };

    let mut baseline = cmd.backup();
    baseline.push(match &files.current {
        Some(current) => format!("kube6 verify --plan {current}"),
        None => "kube6 verify".to_string(),
    });
    runbook.steps.push(Step {
        title: "Back up the cluster and record how it verifies now".into(),
        rules: Vec::new(),
        commands: baseline,
        checks: vec![verify("K6V001", files.current.as_deref().unwrap_or(plan))],
        warning: None,
    });

    // Services leave a family before the control plane drops it.
    if has(ChangeKind::FamilyRemoved) {
        let family = changes
            .iter()
            .find(|c| c.change.kind == ChangeKind::FamilyRemoved)
            .and_then(|c| c.change.family)
            .unwrap_or(Family::IPv6);
        runbook.steps.push(Step {
            title: format!("Make every Service single-stack before {family} goes"),
            rules: rules_of(&[ChangeKind::FamilyRemoved]),
            commands: vec![
                "kubectl get services -A -o jsonpath='{range .items[?(@.spec.ipFamilyPolicy!=\"SingleStack\")]}{.metadata.namespace} {.metadata.name}{\"\\n\"}{end}' | while read ns name; do kubectl -n \"$ns\" patch service \"$name\" -p '{\"spec\":{\"ipFamilyPolicy\":\"SingleStack\"}}'; done".into(),
            ],
            checks: vec![verify("K6V008", plan)],
            warning: unsafe_warning(&[ChangeKind::FamilyRemoved]),
        });
    }

    let config_kinds = [
        ChangeKind::FamilyAdded,
        ChangeKind::FamilyRemoved,
        ChangeKind::PodRange,
        ChangeKind::NodeMask,
    ];
    let service_flag_change = changes.iter().any(|c| {
        c.change.kind == ChangeKind::ServiceRange
            && !c.verdicts.iter().any(|v| {
                v.rule == kube6_model::rules::catalog::SERVICE_RANGE_EXTENDED_SERVICECIDR.id
            })
    });
    if config_kinds.iter().any(|k| has(*k)) || service_flag_change {
        let mut kinds = config_kinds.to_vec();
        kinds.push(ChangeKind::ServiceRange);
        runbook.steps.push(Step {
            title: "Give the control plane the proposed ranges".into(),
            rules: rules_of(&kinds),
            commands: cmd.control_plane(proposed),
            checks: vec![verify("K6V010", plan), verify("K6V009", plan)],
            warning: unsafe_warning(&[ChangeKind::PodRange, ChangeKind::ServiceRange]),
        });
    }

    // An extension the cluster's ServiceCIDRs already serve needs no new object.
    for change in changes.iter().filter(|c| {
        c.change.kind == ChangeKind::ServiceRange
            && c.change.range_change == Some(RangeChange::Extended)
            && c.change.served_by.is_empty()
            && c.verdicts.iter().any(|v| {
                v.rule == kube6_model::rules::catalog::SERVICE_RANGE_EXTENDED_SERVICECIDR.id
            })
    }) {
        let family = change.change.family.unwrap_or(Family::IPv6);
        let range = change.change.proposed.clone().unwrap_or_default();
        let name = format!(
            "kube6-{}-extension",
            if family == Family::IPv6 {
                "ipv6"
            } else {
                "ipv4"
            }
        );
        runbook.steps.push(Step {
            title: format!("Extend the {family} service range with a ServiceCIDR"),
            rules: change.verdicts.iter().map(|v| v.rule).collect(),
            commands: vec![
                format!(
                    "kubectl apply -f - <<'EOF'\napiVersion: networking.k8s.io/v1\nkind: ServiceCIDR\nmetadata:\n  name: {name}\nspec:\n  cidrs:\n  - {range}\nEOF"
                ),
                format!("kubectl wait --for=condition=Ready servicecidr/{name}"),
                "# keep the distribution's own service range (kube-apiserver's flag) as it is: it must keep matching the default ServiceCIDR `kubernetes`".into(),
            ],
            checks: vec![verify("K6V009", plan), probe("K6P006", plan)],
            warning: None,
        });
    }

    if has(ChangeKind::ApiEndpoint) {
        let endpoint = proposed.api_endpoint.clone().unwrap_or_default();
        runbook.steps.push(Step {
            title: "Move clients to the new API endpoint".into(),
            rules: rules_of(&[ChangeKind::ApiEndpoint]),
            commands: vec![
                format!("# add {endpoint} to the API server certificate's names (k0s spec.api.sans, k3s tls-san, kubeadm apiServer.certSANs) and renew the certificate"),
                format!("openssl s_client -connect {endpoint} </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName"),
                format!("# point every kubeconfig (kubelets, kube-proxy, admins) and the join configuration at {endpoint}"),
            ],
            checks: vec![verify("K6V002", plan)],
            warning: None,
        });
    }

    for change in changes.iter().filter(|c| {
        c.change.kind == ChangeKind::PodRange
            && c.change.range_change != Some(RangeChange::InUseOutside)
    }) {
        let family = change.change.family.unwrap_or(Family::IPv6);
        let range = change.change.proposed.clone().unwrap_or_default();
        let flag = if family == Family::IPv6 {
            "IPv6"
        } else {
            "IPv4"
        };
        let commands = match ctx.cni {
            Some(Cni::Calico) => calico_pool(family, &range),
            Some(Cni::Canal) if !ctx.node_blocks => calico_pool(family, &range),
            Some(Cni::Flannel) if ctx.distribution.is_k3s_family() => vec![format!(
                "# {}'s embedded flannel takes the range from cluster-cidr: the restarts of the control-plane step gave it {range}",
                ctx.distribution
            )],
            Some(Cni::Flannel | Cni::Canal) => vec![format!(
                "# flannel's net-conf.json: \"{}\": \"{range}\"; then restart flannel's DaemonSet",
                if family == Family::IPv6 {
                    "IPv6Network"
                } else {
                    "Network"
                }
            )],
            Some(Cni::Cilium) => vec![format!(
                "helm upgrade cilium cilium/cilium -n kube-system --reuse-values --set ipam.operator.clusterPool{flag}PodCIDRList={{{range}}}   # cluster-pool: CIDRs may be added, not changed"
            )],
            Some(Cni::KubeRouter) => {
                vec!["kubectl -n kube-system rollout restart daemonset kube-router".into()]
            }
            Some(Cni::Custom) | None => {
                vec![format!("# give the CNI the {family} pod range {range}")]
            }
        };
        runbook.steps.push(Step {
            title: format!("Give the CNI the {family} pod range {range}"),
            rules: change.verdicts.iter().map(|v| v.rule).collect(),
            commands,
            checks: vec![verify("K6V004", plan), verify("K6V003", plan)],
            warning: None,
        });
    }

    let rotate = changes.iter().any(|c| {
        c.verdicts.iter().any(|v| {
            v.rule == kube6_model::rules::catalog::NODE_POD_CIDRS_KEPT.id
                || v.rule == kube6_model::rules::catalog::NODE_MASK_CHANGED.id
        })
    });
    if rotate {
        // The running cluster's nodes, else those the configuration names, else a placeholder.
        let known = if current.nodes.is_empty() {
            &proposed.nodes
        } else {
            &current.nodes
        };
        let nodes: Vec<String> = if known.is_empty() {
            vec!["NODE".to_string()]
        } else {
            known.iter().map(|n| n.name.clone()).collect()
        };
        for node in nodes {
            runbook.steps.push(Step {
                title: format!("Register node {node} again to get its new podCIDRs"),
                rules: rules_of(&[
                    ChangeKind::FamilyAdded,
                    ChangeKind::PodRange,
                    ChangeKind::NodeMask,
                ]),
                commands: {
                    let mut commands = cmd.rotate_node(&node);
                    if has(ChangeKind::FamilyAdded) {
                        // Before the node joins again: dual-stack nodes need an address of each
                        // family (kubelet --node-ip, the primary family first).
                        commands.insert(
                            2,
                            format!(
                                "# on {node}: the kubelet's --node-ip lists an address of each family, the primary family first"
                            ),
                        );
                    }
                    commands
                },
                checks: vec![verify("K6V003", plan), verify("K6V002", plan)],
                warning: unsafe_warning(&[ChangeKind::FamilyAdded, ChangeKind::PodRange]),
            });
        }
    }

    // The CNI gets the family once every node has a podCIDR of it: Cilium's kubernetes IPAM
    // requires a podCIDR of every enabled family and stops its agent without one
    // (cilium/cilium daemon/cmd/local_node_sync.go "required IPv6 PodCIDR not available"), and host-local
    // IPAM has nothing to hand out before.
    for change in changes
        .iter()
        .filter(|c| c.change.kind == ChangeKind::FamilyAdded)
    {
        let family = change.change.family.unwrap_or(Family::IPv6);
        let mut commands = cni_family_steps(ctx.cni, ctx.distribution, family, proposed);
        commands.push(
            "kubectl rollout restart deployment,statefulset,daemonset -A   # pods created before get the family when recreated".into(),
        );
        runbook.steps.push(Step {
            title: format!("Let the CNI hand out {family} pod addresses"),
            rules: change.verdicts.iter().map(|v| v.rule).collect(),
            commands,
            checks: vec![
                verify("K6V004", plan),
                verify("K6V005", plan),
                probe("K6P002", plan),
                probe("K6P003", plan),
            ],
            warning: None,
        });
    }

    if has(ChangeKind::NodeAddresses) {
        for change in changes
            .iter()
            .filter(|c| c.change.kind == ChangeKind::NodeAddresses)
        {
            let node = change.change.node.clone().unwrap_or_else(|| "NODE".into());
            let ips = change.change.proposed.clone().unwrap_or_default();
            runbook.steps.push(Step {
                title: format!("Give node {node} its new addresses"),
                rules: change.verdicts.iter().map(|v| v.rule).collect(),
                commands: vec![
                    format!("# on {node}: the kubelet's --node-ip={} (k0s --kubelet-extra-args, k3s node-ip, kubeadm kubeletExtraArgs)", ips.replace(", ", ",")),
                    format!("ssh {node} sudo systemctl restart {}", kubelet_unit(ctx.distribution)),
                    format!("kubectl delete pods -A --field-selector spec.nodeName={node},spec.hostNetwork=true   # hostNetwork pods take the new addresses"),
                ],
                checks: vec![verify("K6V002", plan), verify("K6V007", plan), probe("K6P004", plan)],
                warning: None,
            });
        }
    }

    if has(ChangeKind::FamilyAdded) {
        runbook.steps.push(Step {
            title: "Give existing Services the new family".into(),
            rules: rules_of(&[ChangeKind::FamilyAdded]),
            commands: vec![
                "kubectl get services -A -o jsonpath='{range .items[?(@.spec.ipFamilyPolicy==\"SingleStack\")]}{.metadata.namespace} {.metadata.name}{\"\\n\"}{end}' | while read ns name; do kubectl -n \"$ns\" patch service \"$name\" -p '{\"spec\":{\"ipFamilyPolicy\":\"PreferDualStack\"}}'; done   # skip Services that must stay single-stack".into(),
                "# headless Services and Services that set clusterIP explicitly: recreate them as PreferDualStack".into(),
            ],
            checks: vec![
                verify("K6V008", plan),
                verify("K6V012", plan),
                probe("K6P006", plan),
                probe("K6P008", plan),
            ],
            warning: None,
        });
    }

    if has(ChangeKind::DnsAddress) {
        let dns = join_ips(&proposed.dns_ips);
        let first = proposed
            .dns_ips
            .first()
            .map_or("DNS-IP".to_string(), |ip| ip.to_string());
        runbook.steps.push(Step {
            title: "Serve the cluster DNS on its new address".into(),
            rules: rules_of(&[ChangeKind::DnsAddress]),
            commands: vec![
                format!(
                    "kubectl -n kube-system get service kube-dns -o json | jq '.metadata = {{name: \"kube-dns-kube6\", namespace: \"kube-system\", labels: .metadata.labels}} | .spec.clusterIP = \"{first}\" | .spec.clusterIPs = [\"{first}\"] | del(.status)' | kubectl apply -f -"
                ),
                format!("# every kubelet: clusterDNS: [{dns}] (the distribution's cluster DNS setting), then restart the kubelet node by node"),
                "kubectl rollout restart deployment,statefulset,daemonset -A   # pods take the new resolver when recreated".into(),
            ],
            checks: vec![verify("K6V011", plan), probe("K6P008", plan)],
            warning: None,
        });
    }

    if has(ChangeKind::Cni) {
        runbook.steps.push(Step {
            title: "Replace the CNI".into(),
            rules: rules_of(&[ChangeKind::Cni]),
            commands: vec![
                "# remove the old CNI's DaemonSets, its files in /etc/cni/net.d and its interfaces on every node, then install the new CNI".into(),
                "kubectl delete pods -A --field-selector spec.hostNetwork=false   # every pod joins the new network".into(),
            ],
            checks: vec![verify("K6V005", plan), probe("K6P003", plan)],
            warning: unsafe_warning(&[ChangeKind::Cni]),
        });
    }

    runbook.steps.push(Step {
        title: "Verify the whole cluster against the proposed plan".into(),
        rules: Vec::new(),
        commands: vec![
            format!("kube6 verify --plan {plan}"),
            format!("kube6 probe --plan {plan}"),
        ],
        checks: Vec::new(),
        warning: None,
    });
    runbook
}

fn kubelet_unit(distribution: Distribution) -> &'static str {
    match distribution {
        Distribution::K0s => "k0sworker",
        Distribution::K3s => "k3s-agent",
        Distribution::Rke2 => "rke2-agent",
        Distribution::Kubeadm | Distribution::Kkp => "kubelet",
    }
}
