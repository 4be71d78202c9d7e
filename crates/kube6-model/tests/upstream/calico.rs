//! Calico (projectcalico/calico): the IPPool entries of
//! libcalico-go/lib/validator/v3/validator_test.go ("Validator" table: IPPool, IPIPMode, VXLANMode),
//! the IPPool checks of libcalico-go/lib/clientv3/ippool_e2e_test.go (pool CIDR and block-size
//! validation), and the CEL rules of the IPPool CRD (api/config/crd/projectcalico.org_ippools.yaml,
//! v3.32.1), which no upstream test table covers. Each row is a kube6 ClusterNetwork with Calico and
//! the case's IPPool document(s) as a user applies them.
//!
//! The validator test builds CIDRs with Go's net.ParseCIDR, which keeps only the network address
//! ("1.2.3.4/27" becomes 1.2.3.0/27); the rows write that network address. Cases on fields kube6
//! does not model (awsSubnetID, assignmentMode, nodeSelector, disableBGPExport, the read-only
//! APIv1 fields ipip and natOutgoingV1) are left out.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const CALICO: &str = "projectcalico/calico";

fn validator(case: &'static str) -> Upstream {
    Upstream {
        repo: CALICO,
        file: "libcalico-go/lib/validator/v3/validator_test.go",
        test: "Validator",
        case,
    }
}

fn e2e(test: &'static str, case: &'static str) -> Upstream {
    Upstream {
        repo: CALICO,
        file: "libcalico-go/lib/clientv3/ippool_e2e_test.go",
        test,
        case,
    }
}

fn crd(case: &'static str) -> Upstream {
    Upstream {
        repo: CALICO,
        file: "api/config/crd/projectcalico.org_ippools.yaml",
        test: "x-kubernetes-validations (CEL; no upstream test)",
        case,
    }
}

/// A kubeadm-style cluster with Calico and one IPPool per spec (each spec is YAML flow-mapping
/// content, e.g. `cidr: 1.2.3.0/26, disabled: true`).
fn pools(specs: &[&str]) -> String {
    let mut text = String::from(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: kubeadm\n  pods: [10.244.0.0/16]\n  services: [10.96.0.0/16]\n  cni: {name: calico}\n",
    );
    for (i, spec) in specs.iter().enumerate() {
        text.push_str(&format!(
            "---\napiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ippool{}\nspec: {{{spec}}}\n",
            i + 1
        ));
    }
    text
}

fn pool(spec: &str) -> String {
    pools(&[spec])
}

fn validator_rows() -> Vec<Row> {
    vec![
        row(validator("should accept IP pool with IPv4 CIDR /26"), Accepts, pool("cidr: 1.2.3.0/26"), Kube6::Accepts),
        row(validator("should accept IP pool with IPv4 CIDR /10"), Accepts, pool("cidr: 1.0.0.0/10"), Kube6::Accepts),
        row(
            validator("should accept IP pool with IPv6 CIDR /122"),
            Accepts,
            pool("cidr: \"aabb:aabb::ffc0/122\", ipipMode: Never, vxlanMode: Never"),
            Kube6::Accepts,
        ),
        row(
            validator("should accept IP pool with IPv6 CIDR /10"),
            Accepts,
            pool("cidr: \"aa80::/10\", ipipMode: Never, vxlanMode: Never"),
            Kube6::Accepts,
        ),
        row(
            validator("should accept a disabled IP pool with IPv4 CIDR /27"),
            Accepts,
            pool("cidr: 1.2.3.0/27, disabled: true"),
            Kube6::Accepts,
        ),
        row(
            validator("should accept a disabled IP pool with IPv6 CIDR /128"),
            Accepts,
            pool("cidr: \"aabb:aabb::ffff/128\", ipipMode: Never, vxlanMode: Never, disabled: true"),
            Kube6::Accepts,
        ),
        row(
            validator("should reject IP pool with IPv4 CIDR /27"),
            Refuses,
            pool("cidr: 1.2.3.0/27"),
            Kube6::Refuses(&["K6E071"]),
        ),
        row(
            validator("should reject IP pool with IPv6 CIDR /128"),
            Refuses,
            pool("cidr: \"aabb:aabb::ffff/128\""),
            Kube6::Refuses(&["K6E071"]),
        ),
        row(
            validator("should reject IP pool with IPv4 CIDR /33"),
            Refuses,
            pool("cidr: 1.2.3.4/33"),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            validator("should reject IP pool with IPv6 CIDR /129"),
            Refuses,
            pool("cidr: \"aa:bb::/129\""),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            validator("should reject IPIPMode 'Always' for IPv6 pool"),
            Refuses,
            pool("cidr: \"aabb:aabb::ffff/128\", ipipMode: Always, vxlanMode: Never"),
            // The /128 is also smaller than the default block size /122.
            Kube6::Refuses(&["K6E072", "K6E071"]),
        ),
        row(
            validator("should reject VXLANMode 'Always' for IPv6 pool"),
            Refuses,
            // VXLAN over IPv6 is valid since Calico 3.23: the case is refused because the /128 is
            // smaller than the default block size /122, which is what kube6 reports.
            pool("cidr: \"aabb:aabb::ffff/128\", vxlanMode: Always, ipipMode: Never"),
            Kube6::Refuses(&["K6E071"]),
        ),
        row(
            validator("should reject IPv4 pool with a CIDR range overlapping with Link Local range"),
            Refuses,
            pool("cidr: 169.254.5.0/24"),
            Kube6::Refuses(&["K6E314"]),
        ),
        row(
            validator("should reject IPv6 pool with a CIDR range overlapping with Link Local range"),
            Refuses,
            pool("cidr: \"fe80::/120\""),
            Kube6::Refuses(&["K6E314"]),
        ),
        row(
            validator("should accept IP pool with valid allowed uses"),
            Accepts,
            pool("cidr: 1.0.0.0/10, allowedUses: [Workload, Tunnel, HostSecondaryInterface]"),
            Kube6::Refuses(&["K6E316"]),
        )
        .differs(
            "the validator on Calico's main branch knows the HostSecondary use (AWS secondary interfaces), \
             but the IPPool CRD of Calico v3.32.1, the release kube6 checks against, enumerates only \
             Workload, Tunnel and LoadBalancer, so the API server refuses the pool",
        ),
        row(
            validator("should reject IP pool with invalid allowed uses combination"),
            Refuses,
            pool("cidr: 1.0.0.0/10, allowedUses: [LoadBalancer, Tunnel]"),
            Kube6::Refuses(&["K6E316"]),
        ),
        row(
            validator("should reject IP pool with invalid allowed uses"),
            Refuses,
            pool("cidr: 1.0.0.0/10, allowedUses: [Garbage]"),
            Kube6::Refuses(&["K6E316"]),
        ),
        row(
            validator("should reject IP pool with LoadBlancer and VXLAN mode enabled"),
            Refuses,
            pool("cidr: 1.0.0.0/10, allowedUses: [LoadBalancer], vxlanMode: Always"),
            Kube6::Refuses(&["K6E316"]),
        ),
        row(
            validator("should reject IP pool with LoadBlancer and IPIP mode enabled"),
            Refuses,
            pool("cidr: 1.0.0.0/10, allowedUses: [LoadBalancer], ipipMode: Always"),
            Kube6::Refuses(&["K6E316"]),
        ),
        row(validator("should accept IPPool with no IPIP mode specified"), Accepts, pool("cidr: 1.2.3.0/24"), Kube6::Accepts),
        row(
            validator("should accept IPIP mode Never (api)"),
            Accepts,
            pool("cidr: 1.2.3.0/24, ipipMode: Never, vxlanMode: Never"),
            Kube6::Accepts,
        ),
        row(validator("should accept IPIP mode Never"), Accepts, pool("cidr: 1.2.3.0/24, ipipMode: Never"), Kube6::Accepts),
        row(validator("should accept IPIP mode Always"), Accepts, pool("cidr: 1.2.3.0/24, ipipMode: Always"), Kube6::Accepts),
        row(
            validator("should accept IPIP mode CrossSubnet"),
            Accepts,
            pool("cidr: 1.2.3.0/24, ipipMode: CrossSubnet"),
            Kube6::Accepts,
        ),
        row(
            validator("should reject IPIP mode badVal"),
            Refuses,
            pool("cidr: 1.2.3.0/24, ipipMode: badVal"),
            Kube6::Refuses(&["K6E316"]),
        ),
        row(
            validator("should reject IPIP mode never (lower case)"),
            Refuses,
            pool("cidr: 1.2.3.0/24, ipipMode: never"),
            Kube6::Refuses(&["K6E316"]),
        ),
        row(
            validator("should reject IPIP mode and VXLAN mode"),
            Refuses,
            pool("cidr: 1.2.3.0/24, ipipMode: Always, vxlanMode: Always"),
            Kube6::Refuses(&["K6E073"]),
        ),
        row(validator("should accept VXLAN mode Always"), Accepts, pool("cidr: 1.2.3.0/24, vxlanMode: Always"), Kube6::Accepts),
        row(
            validator("should accept VXLAN mode CrossSubnet"),
            Accepts,
            pool("cidr: 1.2.3.0/24, vxlanMode: CrossSubnet"),
            Kube6::Accepts,
        ),
        row(validator("should accept VXLAN mode Never "), Accepts, pool("cidr: 1.2.3.0/24, vxlanMode: Never"), Kube6::Accepts),
        row(
            validator("should reject VXLAN mode never"),
            Refuses,
            pool("cidr: 1.2.3.0/24, vxlanMode: never"),
            Kube6::Refuses(&["K6E316"]),
        ),
        row(
            validator("should reject VXLAN mode badVal"),
            Refuses,
            pool("cidr: 1.2.3.0/24, vxlanMode: badVal"),
            Kube6::Refuses(&["K6E316"]),
        ),
    ]
}

fn e2e_rows() -> Vec<Row> {
    let cidr = "Verify pool CIDR validation";
    let block = "Verify pool blocksize validation";
    let vxlan = "Verify handling of VXLAN mode";
    let ipip = "Verify handling of IPIP mode";
    vec![
        row(
            e2e(vxlan, "Attempting to create a VXLAN IPv6 pool"),
            Refuses,
            // aa:bb::cc/120 has host bits: ippool.go refuses it as not strictly masked.
            pool("cidr: \"aa:bb::cc/120\", vxlanMode: Always"),
            Kube6::Refuses(&["K6E313"]),
        ),
        row(
            e2e(ipip, "Attempting to create an IPIP IPv6 pool"),
            Refuses,
            pool("cidr: \"aa:bb::cc/120\", ipipMode: Always"),
            Kube6::Refuses(&["K6E313", "K6E072"]),
        ),
        row(
            e2e(ipip, "Creating an IPIPModeAlways pool"),
            Accepts,
            pool("cidr: 1.2.4.0/24, ipipMode: Always"),
            Kube6::Accepts,
        ),
        row(
            e2e(cidr, "Attempting to create a pool with the same CIDR"),
            Refuses,
            pools(&["cidr: 1.2.3.0/24", "cidr: 1.2.3.0/24"]),
            Kube6::Refuses(&["K6E315"]),
        ),
        row(
            e2e(
                cidr,
                "Attempting to create a pool with a larger overlapping CIDR",
            ),
            Refuses,
            pools(&["cidr: 1.2.3.0/24", "cidr: 1.2.0.0/16"]),
            Kube6::Refuses(&["K6E315"]),
        ),
        row(
            e2e(
                cidr,
                "Attempting to create a pool with a smaller overlapping CIDR",
            ),
            Refuses,
            pools(&["cidr: 1.2.3.0/24", "cidr: 1.2.3.128/25"]),
            Kube6::Refuses(&["K6E315"]),
        ),
        row(
            e2e(
                block,
                "should prevent pools from being created with bad block sizes (19)",
            ),
            Refuses,
            pool("cidr: 1.2.3.0/24, blockSize: 19"),
            Kube6::Refuses(&["K6E070"]),
        ),
        row(
            e2e(
                block,
                "should prevent pools from being created with bad block sizes (33)",
            ),
            Refuses,
            pool("cidr: 1.2.3.0/24, blockSize: 33"),
            Kube6::Refuses(&["K6E070"]),
        ),
        row(
            e2e(block, "Creating a pool (1.2.3.0/24, blockSize 25)"),
            Accepts,
            pool("cidr: 1.2.3.0/24, blockSize: 25"),
            Kube6::Accepts,
        ),
        row(
            e2e(
                block,
                "Attempting to create a pool half overlapping CIDR and a different block size",
            ),
            Refuses,
            pools(&["cidr: 1.2.3.0/24, blockSize: 25", "cidr: 1.2.3.8/31"]),
            // The /31 is also smaller than the default block size /26 (K6E071).
            Kube6::Refuses(&["K6E315", "K6E071"]),
        ),
    ]
}

fn crd_rows() -> Vec<Row> {
    vec![
        row(
            crd("LoadBalancer cannot be combined with Workload or Tunnel allowed uses"),
            Refuses,
            pool("cidr: 10.50.0.0/24, allowedUses: [LoadBalancer, Workload]"),
            Kube6::Refuses(&["K6E316"]),
        ),
        row(
            crd("LoadBalancer IP pool without encapsulation"),
            Accepts,
            pool(
                "cidr: 10.50.0.0/24, allowedUses: [LoadBalancer], ipipMode: Never, vxlanMode: Never",
            ),
            Kube6::Accepts,
        ),
        row(
            crd("IPIP is not supported on IPv6 pools"),
            Refuses,
            pool("cidr: \"fd00:50::/120\", ipipMode: CrossSubnet"),
            Kube6::Refuses(&["K6E072"]),
        ),
        row(
            crd("ipipMode and vxlanMode cannot both be enabled"),
            Refuses,
            pool("cidr: 10.50.0.0/24, ipipMode: CrossSubnet, vxlanMode: CrossSubnet"),
            Kube6::Refuses(&["K6E073"]),
        ),
        row(
            Upstream {
                repo: CALICO,
                file: "libcalico-go/lib/clientv3/ippool.go",
                test: "validateAndSetDefaults (code; no upstream test)",
                case: "IPPool CIDR is not strictly masked",
            },
            Refuses,
            pool("cidr: 10.50.0.1/24"),
            Kube6::Refuses(&["K6E313"]),
        ),
    ]
}

#[test]
fn validation_tests() {
    let mut rows = validator_rows();
    rows.extend(e2e_rows());
    rows.extend(crd_rows());
    check(rows);
}
