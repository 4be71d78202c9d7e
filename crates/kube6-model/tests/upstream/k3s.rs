//! k3s (k3s-io/k3s): pkg/util/net_test.go Test_UnitParseStringSliceToIPs (the node-ip /
//! node-external-ip / cluster-dns list parser), and the start-up checks of pkg/cli/server/server.go
//! and pkg/agent/run.go, which have no upstream test table: those rows name the code path. Each
//! row is a k3s config.yaml.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const K3S: &str = "k3s-io/k3s";

fn net_test(case: &'static str) -> Upstream {
    Upstream {
        repo: K3S,
        file: "pkg/util/net_test.go",
        test: "Test_UnitParseStringSliceToIPs",
        case,
    }
}

fn server(case: &'static str) -> Upstream {
    Upstream {
        repo: K3S,
        file: "pkg/cli/server/server.go",
        test: "run (code; no upstream test)",
        case,
    }
}

fn agent(case: &'static str) -> Upstream {
    Upstream {
        repo: K3S,
        file: "pkg/agent/run.go",
        test: "run (code; no upstream test)",
        case,
    }
}

const BOTH_TO_KUBELET: &str = "the parser accepts the list, but with its embedded cloud controller (the default) k3s \
     passes every node-ip to the kubelet's --node-ip, which refuses more than one address of a family";

fn parse_string_slice() -> Vec<Row> {
    vec![
        row(
            net_test("nil string slice must return no errors"),
            Accepts,
            "cluster-cidr: 10.42.0.0/16\n".to_string(),
            Kube6::Accepts,
        ),
        row(
            net_test("empty string slice must return no errors"),
            Accepts,
            "cluster-cidr: 10.42.0.0/16\nnode-ip: []\n".to_string(),
            Kube6::Accepts,
        ),
        row(
            net_test("single element slice with correct IP must succeed"),
            Accepts,
            "node-ip: 10.10.10.10\n".to_string(),
            Kube6::Accepts,
        ),
        row(
            net_test("single element slice with correct IP list must succeed"),
            Accepts,
            "node-ip: 10.10.10.10,10.10.10.11\n".to_string(),
            Kube6::Refuses(&["K6E014"]),
        )
        .differs(BOTH_TO_KUBELET),
        row(
            net_test("multi element slice with correct IP list must succeed"),
            Accepts,
            "node-ip:\n- 10.10.10.10,10.10.10.11\n- 10.10.10.12,10.10.10.13\n".to_string(),
            Kube6::Refuses(&["K6E014"]),
        )
        .differs(BOTH_TO_KUBELET),
        row(
            net_test("single element slice with correct IP list with trailing comma must fail"),
            Refuses,
            "node-ip: \"10.10.10.10,\"\n".to_string(),
            Kube6::Refuses(&["K6E002"]),
        ),
        row(
            net_test("single element slice with incorrect IP (overflow) must fail"),
            Refuses,
            "node-ip: 10.10.10.256\n".to_string(),
            Kube6::Refuses(&["K6E002"]),
        ),
        row(
            net_test("single element slice with incorrect IP (foreign symbols) must fail"),
            Refuses,
            "node-ip: xxx.yyy.zzz.www\n".to_string(),
            Kube6::Refuses(&["K6E002"]),
        ),
        // The same parser reads node-external-ip and (server.go) cluster-dns.
        row(
            net_test(
                "single element slice with correct IP list with trailing comma must fail (node-external-ip)",
            ),
            Refuses,
            "node-external-ip: \"10.10.10.10,\"\n".to_string(),
            Kube6::Refuses(&["K6E002"]),
        ),
        row(
            server("cluster-dns with an empty entry"),
            Refuses,
            "cluster-dns: \"10.43.0.10,\"\n".to_string(),
            Kube6::Refuses(&["K6E002"]),
        ),
    ]
}

fn server_checks() -> Vec<Row> {
    vec![
        row(
            server("cluster-cidr with a trailing comma (net.ParseCIDR(\"\") fails)"),
            Refuses,
            "cluster-cidr: \"10.42.0.0/16,\"\n".to_string(),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            server("service-cidr with a leading comma"),
            Refuses,
            "service-cidr: \",10.43.0.0/16\"\n".to_string(),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            server("default cluster-dns: the 10th address of a /28 (16 addresses)"),
            Accepts,
            "service-cidr: 10.43.0.0/28\n".to_string(),
            Kube6::Accepts,
        ),
        row(
            server("default cluster-dns: a /29 has no 10th address (GetIndexedIP fails)"),
            Refuses,
            "service-cidr: 10.43.0.0/29\n".to_string(),
            Kube6::Refuses(&["K6E312"]),
        ),
        row(
            server("default cluster-dns: every service range needs a 10th address (IPv6 /125)"),
            Refuses,
            "node-ip: 10.0.0.5,fd00::5\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/125\n".to_string(),
            Kube6::Refuses(&["K6E312"]),
        ),
        row(
            server("default cluster-dns: an IPv6 /124 has 16 addresses"),
            Accepts,
            "node-ip: 10.0.0.5,fd00::5\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/124\n".to_string(),
            Kube6::Accepts,
        ),
        row(
            server("cluster-dns set: a /29 service range is enough"),
            Accepts,
            "service-cidr: 10.43.0.0/29\ncluster-dns: 10.43.0.2\n".to_string(),
            Kube6::Accepts,
        ),
        row(
            server("options.ServiceIPRange refuses a primary range under 8 addresses"),
            Refuses,
            "service-cidr: 10.43.0.0/30\ncluster-dns: 10.43.0.2\n".to_string(),
            Kube6::Refuses(&["K6E011"]),
        ),
        row(
            server("advertise address from the first valid node-ip (IPv6) with IPv4 services"),
            Refuses,
            "node-ip: fd00::5,10.0.0.5\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n".to_string(),
            // kube-apiserver refuses the advertise address; k3s's own family-order check refuses
            // the IPv6-first node-ip with IPv4-first ranges only as the kubelet's preference
            // (K6W052 is a warning).
            Kube6::Refuses(&["K6E012"]),
        ),
        row(
            server("advertise address from the first valid node-external-ip"),
            Refuses,
            "node-ip: 10.0.0.5\nnode-external-ip: 2001:db8::5\n".to_string(),
            Kube6::Refuses(&["K6E012"]),
        ),
        row(
            server("advertise-address wins over node-ip"),
            Accepts,
            "node-ip: fd00::5,10.0.0.5\nadvertise-address: 10.0.0.5\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n".to_string(),
            Kube6::Accepts,
        ),
    ]
}

fn agent_checks() -> Vec<Row> {
    vec![
        row(
            agent("cluster-cidr and service-cidr must share the same IP version"),
            Refuses,
            "node-ip: 10.0.0.5,fd00::5\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16\n".to_string(),
            Kube6::Refuses(&["K6E050"]),
        ),
        row(
            agent("cluster-cidr and service-cidr must share the same IP version (order)"),
            Refuses,
            "node-ip: 10.0.0.5,fd00::5\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: fd00:43::/112,10.43.0.0/16\n".to_string(),
            // The IPv6-first service range also makes the advertise address (IPv4) the wrong
            // family for kube-apiserver.
            Kube6::Refuses(&["K6E050", "K6E012"]),
        ),
        row(
            agent("cluster-cidr and node-ip must share the same IP version"),
            Refuses,
            "node-ip: 10.0.0.5\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n".to_string(),
            Kube6::Refuses(&["K6E051"]),
        ),
        row(
            agent("dual-stack cluster, node-ip and service-cidr"),
            Accepts,
            "node-ip: 10.0.0.5,fd00::5\ncluster-cidr: 10.42.0.0/16,fd00:42::/56\nservice-cidr: 10.43.0.0/16,fd00:43::/112\n".to_string(),
            Kube6::Accepts,
        ),
        row(
            agent("IPv6-only: defaults from the first node-ip (fd00:42::/56, fd00:43::/112)"),
            Accepts,
            "node-ip: fd00::5\n".to_string(),
            Kube6::Accepts,
        ),
    ]
}

#[test]
fn validation_tests() {
    let mut rows = parse_string_slice();
    rows.extend(server_checks());
    rows.extend(agent_checks());
    check(rows);
}
