//! The kubelet's --node-ip parser: kubernetes/kubernetes
//! staging/src/k8s.io/component-helpers/node/util/ips_test.go TestParseNodeIPArgument, with no
//! cloud provider (kube6 models no in-tree cloud provider; with `--cloud-provider=external` the
//! verdicts are the same). Each case is the node-ip of a kubeadm InitConfiguration's
//! kubeletExtraArgs on a dual-stack cluster, so the parser alone decides. The kubelet logs and
//! ignores entries that are not addresses, and kube6 warns about them (K6W311); the kubelet
//! refuses to start (`bad --node-ip`) on the cases the test expects an error for, and kube6
//! refuses them with K6E014.
//!
//! TestParseNodeIPAnnotation covers the `alpha.kubernetes.io/provided-node-ip` annotation, which
//! the kubelet writes itself for cloud providers; it is no input kube6 reads.

use super::{Kube6, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

fn at(case: &'static str) -> Upstream {
    Upstream {
        repo: "kubernetes/kubernetes",
        file: "staging/src/k8s.io/component-helpers/node/util/ips_test.go",
        test: "TestParseNodeIPArgument",
        case,
    }
}

fn kubeadm(node_ip: &str) -> String {
    format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  podSubnet: \"10.244.0.0/16,fd00:10::/56\"\n  serviceSubnet: \"10.96.0.0/16,fd00:20::/112\"\n---\napiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: a\n  kubeletExtraArgs:\n  - name: node-ip\n    value: \"{node_ip}\"\n"
    )
}

#[test]
fn parse_node_ip_argument() {
    const PAIR: &[&str] = &["K6E014"];
    let cases: [(&str, &str, Upstreams, Kube6); 20] = [
        ("empty --node-ip", "", Accepts, Kube6::Accepts),
        (
            "just whitespace (ignored)",
            " ",
            Accepts,
            Kube6::Warns("K6W311"),
        ),
        ("garbage (ignored)", "blah", Accepts, Kube6::Warns("K6W311")),
        ("single IPv4", "1.2.3.4", Accepts, Kube6::Accepts),
        (
            "single IPv4 with whitespace",
            " 1.2.3.4   ",
            Accepts,
            Kube6::Accepts,
        ),
        (
            "single IPv4 non-canonical",
            "01.2.3.004",
            Accepts,
            Kube6::Accepts,
        ),
        (
            "single IPv4 invalid (ignored)",
            "1.2.3",
            Accepts,
            Kube6::Warns("K6W311"),
        ),
        (
            "single IPv4 CIDR (ignored)",
            "1.2.3.0/24",
            Accepts,
            Kube6::Warns("K6W311"),
        ),
        (
            "single IPv4 unspecified",
            "0.0.0.0",
            Accepts,
            Kube6::Accepts,
        ),
        (
            "single IPv4 plus ignored garbage",
            "1.2.3.4,not-an-IPv6-address",
            Accepts,
            Kube6::Warns("K6W311"),
        ),
        ("single IPv6", "abcd::ef01", Accepts, Kube6::Accepts),
        (
            "single IPv6 non-canonical",
            "abcd:0abc:00ab:0000:0000::1",
            Accepts,
            Kube6::Accepts,
        ),
        (
            "simple dual-stack",
            "1.2.3.4,abcd::ef01",
            Accepts,
            Kube6::Accepts,
        ),
        (
            "dual-stack with whitespace",
            "abcd::ef01 , 1.2.3.4",
            Accepts,
            Kube6::Accepts,
        ),
        (
            "double IPv4",
            "1.2.3.4,5.6.7.8",
            Refuses,
            Kube6::Refuses(PAIR),
        ),
        (
            "double IPv6",
            "abcd::1,abcd::2",
            Refuses,
            Kube6::Refuses(PAIR),
        ),
        (
            "dual-stack with unspecified",
            "1.2.3.4,::",
            Refuses,
            Kube6::Refuses(PAIR),
        ),
        (
            "dual-stack with unspecified",
            "0.0.0.0,abcd::1",
            Refuses,
            Kube6::Refuses(PAIR),
        ),
        (
            "dual-stack plus ignored garbage",
            "abcd::ef01 , 1.2.3.4, something else",
            Accepts,
            Kube6::Warns("K6W311"),
        ),
        (
            "triple stack!",
            "1.2.3.4,abcd::1,5.6.7.8",
            Refuses,
            Kube6::Refuses(PAIR),
        ),
    ];
    check(
        cases
            .into_iter()
            .map(|(case, node_ip, verdict, kube6)| row(at(case), verdict, kubeadm(node_ip), kube6))
            .collect(),
    );
}
