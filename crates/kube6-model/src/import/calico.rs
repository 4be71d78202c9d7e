//! Calico documents that may accompany any cluster configuration: `IPPool`
//! (`projectcalico.org/v3`, `crd.projectcalico.org/v1`) and the operator's `Installation`
//! (`operator.tigera.io/v1`, `spec.calicoNetwork.ipPools`). Their presence also names the CNI.

use super::walk::{Fields, Notes, ShapeError};
use crate::model::{CalicoPool, ClusterNetwork, Cni};
use crate::source::{Located, Origin};
use crate::yaml::Node;

const TOP: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const POOL_SPEC: &[&str] = &[
    "cidr",
    "blockSize",
    "natOutgoing",
    "ipipMode",
    "vxlanMode",
    "disabled",
    "allowedUses",
];
const POOL_SPEC_IGNORED: &[&str] = &[
    "nodeSelector",
    "disableBGPExport",
    "assignmentMode",
    "namespaceSelector",
    "ipip",
];
const INSTALLATION_SPEC: &[&str] = &["calicoNetwork", "cni"];
const INSTALLATION_SPEC_IGNORED: &[&str] = &[
    "variant",
    "registry",
    "imagePath",
    "imagePrefix",
    "imagePullSecrets",
    "kubernetesProvider",
    "controlPlaneNodeSelector",
    "controlPlaneTolerations",
    "controlPlaneReplicas",
    "nodeMetricsPort",
    "typhaMetricsPort",
    "flexVolumePath",
    "nodeUpdateStrategy",
    "componentResources",
    "certificateManagement",
    "logging",
    "fipsMode",
    "typhaDeployment",
    "calicoNodeDaemonSet",
    "calicoKubeControllersDeployment",
    "csiNodeDriverDaemonSet",
    "serviceCIDRs",
];
const CNI: &[&str] = &["ipam"];
const CNI_IGNORED: &[&str] = &["type", "binDir", "confDir"];
const CALICO_NETWORK: &[&str] = &["ipPools", "bgp"];
const CALICO_NETWORK_IGNORED: &[&str] = &[
    "mtu",
    "nodeAddressAutodetectionV4",
    "nodeAddressAutodetectionV6",
    "hostPorts",
    "multiInterfaceMode",
    "containerIPForwarding",
    "linuxDataplane",
    "windowsDataplane",
    "linuxPolicySetupTimeoutSeconds",
    "sysctl",
    "bpfNetworkBootstrap",
    "kubeProxyManagement",
];
const OPERATOR_POOL: &[&str] = &[
    "name",
    "cidr",
    "blockSize",
    "natOutgoing",
    "encapsulation",
    "disableNewAllocations",
    "allowedUses",
];
const OPERATOR_POOL_IGNORED: &[&str] = &["nodeSelector", "disableBGPExport", "assignmentMode"];

fn mark_calico(net: &mut ClusterNetwork, doc: &Node) {
    if !matches!(net.cni.value, Cni::Calico | Cni::Canal) {
        net.cni = Located::new(
            Cni::Calico,
            Origin::input("kind", doc.get("kind").map(|n| n.pos)),
        );
    }
}

/// Adds `pool`, or replaces the pool of the same name: an IPPool applied under the name of an
/// operator pool (or of calico-node's default pool) updates that object, it does not add one.
fn upsert_pool(net: &mut ClusterNetwork, pool: CalicoPool) {
    let same = |p: &CalicoPool| {
        p.name
            .as_ref()
            .zip(pool.name.as_ref())
            .is_some_and(|(a, b)| a.value == b.value)
    };
    match net.calico.pools.iter_mut().find(|p| same(p)) {
        Some(existing) => *existing = pool,
        None => net.calico.pools.push(pool),
    }
}

/// A Calico `IPPool` document.
pub fn import_pool(
    doc: &Node,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let top = Fields::read(doc, "IPPool", TOP, &[], notes)?;
    let spec = top
        .map("spec", POOL_SPEC, POOL_SPEC_IGNORED, notes)?
        .ok_or_else(|| {
            ShapeError::new(
                "IPPool.spec",
                Some(doc.pos),
                "an IPPool needs a `spec` with a `cidr`",
            )
        })?;
    let cidr = spec
        .cidr("cidr")?
        .ok_or_else(|| ShapeError::new(&spec.path, Some(doc.pos), "an IPPool needs `spec.cidr`"))?;
    let name = doc
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(|n| {
            n.scalar_text()
                .map(|t| Located::new(t.to_string(), Origin::input("metadata.name", Some(n.pos))))
        });
    upsert_pool(
        net,
        CalicoPool {
            name,
            cidr,
            block_size: spec.mask("blockSize")?,
            nat_outgoing: spec.boolean("natOutgoing")?,
            ipip_mode: spec.string("ipipMode")?,
            vxlan_mode: spec.string("vxlanMode")?,
            disabled: spec.boolean("disabled")?,
            allowed_uses: spec.strings("allowedUses")?,
        },
    );
    mark_calico(net, doc);
    Ok(())
}

/// The Tigera operator's `Installation`: its `calicoNetwork.ipPools`.
pub fn import_installation(
    doc: &Node,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let top = Fields::read(doc, "Installation", TOP, &[], notes)?;
    mark_calico(net, doc);
    let Some(spec) = top.get("spec") else {
        return Ok(());
    };
    import_installation_spec(spec, "Installation.spec", net, notes)
}

/// An Installation's `spec` (also RKE2's rke2-calico values under `installation`).
pub fn import_installation_spec(
    node: &Node,
    path: &str,
    net: &mut ClusterNetwork,
    notes: &mut Notes,
) -> Result<(), ShapeError> {
    let spec = Fields::read(
        node,
        path,
        INSTALLATION_SPEC,
        INSTALLATION_SPEC_IGNORED,
        notes,
    )?;
    // spec.cni.ipam.type: which IPAM the Calico CNI plugin runs ("Default: Calico"; `HostLocal`
    // takes the nodes' podCIDRs).
    if let Some(cni) = spec.map("cni", CNI, CNI_IGNORED, notes)?
        && let Some(ipam) = cni.map("ipam", &["type"], &[], notes)?
    {
        net.calico.ipam = ipam.string("type")?;
    }
    let Some(network) = spec.map(
        "calicoNetwork",
        CALICO_NETWORK,
        CALICO_NETWORK_IGNORED,
        notes,
    )?
    else {
        return Ok(());
    };
    if let Some(bgp) = network.text("bgp")?
        && bgp.value.eq_ignore_ascii_case("enabled")
    {
        net.calico.mode = Some(bgp.map(|_| "bird".to_string()));
    }
    let Some(pools) = network.list("ipPools")? else {
        return Ok(());
    };
    for (path, pool) in pools {
        let fields = Fields::read(pool, &path, OPERATOR_POOL, OPERATOR_POOL_IGNORED, notes)?;
        let cidr = fields.cidr("cidr")?.ok_or_else(|| {
            ShapeError::new(&path, Some(pool.pos), "every ipPools entry needs a `cidr`")
        })?;
        // The operator spells the encapsulation as one field; map it to the IPPool modes.
        let encapsulation = fields.string("encapsulation")?;
        let (ipip, vxlan) = match encapsulation.as_ref().map(|e| e.value.as_str()) {
            Some("IPIP" | "IPIPCrossSubnet") => (encapsulation.clone(), None),
            Some("VXLAN" | "VXLANCrossSubnet") => (None, encapsulation.clone()),
            _ => (None, None),
        };
        let nat = fields
            .text("natOutgoing")?
            .map(|n| n.map(|v| v.eq_ignore_ascii_case("enabled") || v == "true"));
        upsert_pool(
            net,
            CalicoPool {
                name: fields.string("name")?,
                cidr,
                block_size: fields.mask("blockSize")?,
                nat_outgoing: nat,
                ipip_mode: ipip.map(|l| l.map(|_| "Always".to_string())),
                vxlan_mode: vxlan.map(|l| l.map(|_| "Always".to_string())),
                // The operator's `disableNewAllocations` becomes the IPPool's `disabled`.
                disabled: fields.boolean("disableNewAllocations")?,
                allowed_uses: fields.strings("allowedUses")?,
            },
        );
    }
    Ok(())
}
