//! RKE2 (rancher/rke2): the `cni` list that pkg/cli/cmds/server.go `validateCNI` and
//! `disableExceptSelected` check at start-up against pkg/cli/types.go `CNIItems`. RKE2 has no
//! test of its own for them (pkg/cli/cmds/cmds_test.go only builds the commands), so each row
//! names the code path. Each row is an RKE2 config.yaml; every value is split on commas and
//! compared exactly (no trimming, no case folding).

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

fn validate_cni(case: &'static str) -> Upstream {
    Upstream {
        repo: "rancher/rke2",
        file: "pkg/cli/cmds/server.go",
        test: "validateCNI (code; no upstream test)",
        case,
    }
}

fn config(cni: &str) -> String {
    format!(
        "cni: {cni}\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n"
    )
}

fn rows() -> Vec<Row> {
    let refused = Kube6::Refuses(&["K6E325"]);
    vec![
        row(
            validate_cni("one primary CNI"),
            Accepts,
            config("cilium"),
            Kube6::Accepts,
        ),
        row(
            validate_cni("none"),
            Accepts,
            config("none"),
            Kube6::Accepts,
        ),
        row(
            validate_cni("multus first, then a primary CNI (one value)"),
            Accepts,
            config("multus,canal"),
            Kube6::Accepts,
        ),
        row(
            validate_cni("multus first, then a primary CNI (a list)"),
            Accepts,
            config("[multus, calico]"),
            Kube6::Accepts,
        ),
        row(
            validate_cni("multus alone: must be used alongside another primary cni selection"),
            Refuses,
            config("multus"),
            refused,
        ),
        row(
            validate_cni("two values without multus first"),
            Refuses,
            config("canal,multus"),
            refused,
        ),
        row(
            validate_cni("three values: must specify 1 or 2 values"),
            Refuses,
            config("multus,canal,cilium"),
            refused,
        ),
        row(
            validate_cni("a value outside CNIItems"),
            Refuses,
            config("weave"),
            refused,
        ),
        row(
            validate_cni("values are compared exactly: upper case is another value"),
            Refuses,
            config("Cilium"),
            refused,
        ),
        row(
            validate_cni("a trailing comma leaves an empty value"),
            Refuses,
            config("\"multus,\""),
            refused,
        ),
        row(
            validate_cni("a space after the comma is part of the value"),
            Refuses,
            config("\"multus, cilium\""),
            refused,
        ),
    ]
}

#[test]
fn cni_list() {
    check(rows());
}
