//! kube-proxy: kubernetes/kubernetes pkg/proxy/apis/config/validation/validation_test.go
//! (`TestValidateKubeProxyConfiguration`, `TestValidateProxyMode`), the cases about what kube6
//! models: `clusterCIDR`, `mode` and `detectLocalMode`. kube-proxy splits `clusterCIDR` on commas
//! (pkg/proxy/apis/config/v1alpha1/conversion.go) before `validateDualStackCIDRStrings`; rows for
//! code paths without a test case of their own name the function. Each row is a kubeadm
//! configuration with a KubeProxyConfiguration document, whose other settings pass. The cases
//! about bind addresses, sync periods, conntrack, logging and the interface names of the
//! interface-based local-traffic modes are outside kube6's scope.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const K8S: &str = "kubernetes/kubernetes";
const VALIDATION_TEST: &str = "pkg/proxy/apis/config/validation/validation_test.go";
const VALIDATION: &str = "pkg/proxy/apis/config/validation/validation.go";

fn configuration(case: &'static str) -> Upstream {
    Upstream {
        repo: K8S,
        file: VALIDATION_TEST,
        test: "TestValidateKubeProxyConfiguration",
        case,
    }
}

fn proxy_mode(case: &'static str) -> Upstream {
    Upstream {
        repo: K8S,
        file: VALIDATION_TEST,
        test: "TestValidateProxyMode",
        case,
    }
}

fn dual_stack_strings(case: &'static str) -> Upstream {
    Upstream {
        repo: K8S,
        file: VALIDATION,
        test: "validateDualStackCIDRStrings (code; no upstream test case)",
        case,
    }
}

/// A kubeadm cluster (pods 192.168.59.0/24 and fd00:192:168::/64, as in the upstream base
/// configuration) and a KubeProxyConfiguration with these fields.
fn proxy(fields: &[(&str, &str)]) -> String {
    let mut text = String::from(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: \"192.168.59.0/24,fd00:192:168::/64\"\n  serviceSubnet: \"10.96.0.0/16,fd00:20::/112\"\ncontrollerManager:\n  extraArgs:\n  - name: node-cidr-mask-size-ipv4\n    value: \"26\"\n  - name: node-cidr-mask-size-ipv6\n    value: \"80\"\n---\napiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n",
    );
    for (name, value) in fields {
        text.push_str(&format!("{name}: \"{value}\"\n"));
    }
    text
}

fn rows() -> Vec<Row> {
    vec![
        row(
            configuration("base case"),
            Accepts,
            proxy(&[("clusterCIDR", "192.168.59.0/24")]),
            Kube6::Accepts,
        ),
        row(
            configuration("different proxy mode"),
            Accepts,
            proxy(&[("clusterCIDR", "192.168.59.0/24"), ("mode", "ipvs")]),
            Kube6::Accepts,
        ),
        row(
            configuration("ipv6 only cluster"),
            Accepts,
            proxy(&[("clusterCIDR", "fd00:192:168:59::/64")]),
            Kube6::Accepts,
        ),
        row(
            configuration("ipv6 cluster cidr"),
            Accepts,
            proxy(&[("clusterCIDR", "fd00:192:168::/64")]),
            Kube6::Accepts,
        ),
        row(
            configuration("dual stack cluster cidr"),
            Accepts,
            proxy(&[("clusterCIDR", "192.168.59.0/24,fd00:192:168::/64")]),
            Kube6::Accepts,
        ),
        row(
            configuration("detect local mode interface prefix"),
            Accepts,
            proxy(&[
                ("clusterCIDR", "192.168.59.0/24"),
                ("detectLocalMode", "InterfaceNamePrefix"),
            ]),
            Kube6::Accepts,
        ),
        row(
            configuration("detect local mode bridge prefix"),
            Accepts,
            proxy(&[
                ("clusterCIDR", "192.168.59.0/24"),
                ("detectLocalMode", "BridgeInterface"),
            ]),
            Kube6::Accepts,
        ),
        row(
            configuration("clusterCIDR missing subset range"),
            Refuses,
            proxy(&[("clusterCIDR", "192.168.59.0")]),
            Kube6::Refuses(&["K6E321"]),
        ),
        row(
            configuration("invalid number of ClusterCIDRs"),
            Refuses,
            proxy(&[(
                "clusterCIDR",
                "192.168.59.0/24,fd00:192:168::/64,10.0.0.0/16",
            )]),
            Kube6::Refuses(&["K6E321"]),
        ),
        row(
            configuration("invalid DetectLocalMode"),
            Refuses,
            proxy(&[
                ("clusterCIDR", "192.168.59.0/24"),
                ("detectLocalMode", "Guess"),
            ]),
            Kube6::Refuses(&["K6E322"]),
        ),
        row(
            dual_stack_strings("two CIDRs of one family"),
            Refuses,
            proxy(&[("clusterCIDR", "192.168.59.0/24,10.0.0.0/16")]),
            Kube6::Refuses(&["K6E321"]),
        ),
        row(
            dual_stack_strings("a trailing comma leaves an empty entry, not a CIDR"),
            Refuses,
            proxy(&[("clusterCIDR", "192.168.59.0/24,")]),
            Kube6::Refuses(&["K6E321"]),
        ),
        row(
            dual_stack_strings("a space after the comma is part of the entry"),
            Refuses,
            proxy(&[("clusterCIDR", "192.168.59.0/24, fd00:192:168::/64")]),
            Kube6::Refuses(&["K6E321"]),
        ),
        row(
            dual_stack_strings("not read outside ClusterCIDR mode"),
            Accepts,
            proxy(&[
                ("clusterCIDR", "192.168.59.0/24,"),
                ("detectLocalMode", "NodeCIDR"),
            ]),
            Kube6::Accepts,
        ),
        row(
            proxy_mode("blank mode should default"),
            Accepts,
            proxy(&[("mode", "")]),
            Kube6::Accepts,
        ),
        row(
            proxy_mode("success case iptables"),
            Accepts,
            proxy(&[("mode", "iptables")]),
            Kube6::Accepts,
        ),
        row(
            proxy_mode("success case ipvs"),
            Accepts,
            proxy(&[("mode", "ipvs")]),
            Kube6::Accepts,
        ),
        row(
            proxy_mode("invalid mode non-existent"),
            Refuses,
            proxy(&[("mode", "non-existing")]),
            Kube6::Refuses(&["K6E307"]),
        ),
    ]
}

#[test]
fn validation_tests() {
    check(rows());
}
