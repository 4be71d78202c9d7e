//! kube-apiserver: kubernetes/kubernetes cmd/kube-apiserver/app/options/validation_test.go
//! (the service range flag, the advertise address's family). Cases are written as k3s
//! config.yaml files, since k3s adds no service-range check of its own and passes the range to
//! kube-apiserver as given, or as kubeadm configurations where the case needs apiServer flags.
//!
//! The test's `gate` switched on MultiCIDRServiceAllocator alone; the code the tests now run
//! against needs DisableAllocatorDualWrite too (both are on by default from Kubernetes 1.34), so
//! the gated rows set both. The other rows pin Kubernetes 1.33, where the flag is still limited.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const TEST_FILE: &str = "cmd/kube-apiserver/app/options/validation_test.go";

fn at(test: &'static str, case: &'static str) -> Upstream {
    Upstream {
        repo: "kubernetes/kubernetes",
        file: TEST_FILE,
        test,
        case,
    }
}

const GATES_ON: &[(&str, bool)] = &[
    ("MultiCIDRServiceAllocator", true),
    ("DisableAllocatorDualWrite", true),
];

/// A k3s config for Kubernetes 1.33 with `service_cidr`, and a cluster-cidr of the same families.
fn k3s(service_cidr: Option<&str>, cluster_cidr: &str) -> String {
    let mut text = format!("cluster-cidr: \"{cluster_cidr}\"\n");
    if let Some(service) = service_cidr {
        text.push_str(&format!("service-cidr: \"{service}\"\n"));
    }
    text
}

/// As a `version: v1.33.4+k3s1` k3s server.
fn k133(text: String) -> String {
    // k3s config.yaml has no version key: kube6 reads it from the kube6 form instead.
    let pods: Vec<String> = field(&text, "cluster-cidr");
    let services: Vec<String> = field(&text, "service-cidr");
    let list = |v: &[String]| {
        v.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n  distribution: {{name: k3s, version: v1.33.4+k3s1}}\n  pods: [{}]\n",
        list(&pods)
    );
    if !services.is_empty() {
        out.push_str(&format!("  services: [{}]\n", list(&services)));
    }
    out
}

/// The comma-separated values of `key` in a one-line-per-key config.
fn field(text: &str, key: &str) -> Vec<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")))
        .map(|v| v.trim_matches('"').split(',').map(str::to_string).collect())
        .unwrap_or_default()
}

const V4: &str = "172.16.0.0/16";
const V6: &str = "fd00:42::/56";
const DUAL: &str = "172.16.0.0/16,fd00:42::/56";

fn cluster_service_ip_range() -> Vec<Row> {
    let t = "TestClusterServiceIPRange";
    vec![
        row(at(t, "no service cidr"), Refuses, k3s(None, V4), Kube6::Accepts).differs(
            "the test calls the check without defaulting; every distribution kube6 reads passes a range \
             (k3s 10.43.0.0/16 here), and kube-apiserver itself defaults a missing flag",
        ),
        row(
            at(t, "only secondary service cidr"),
            Refuses,
            k3s(Some(",10.0.0.0/16"), V4),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            at(t, "primary and secondary are provided but not dual stack v4-v4"),
            Refuses,
            k3s(Some("10.0.0.0/16,11.0.0.0/16"), V4),
            Kube6::Refuses(&["K6E003"]),
        ),
        row(
            at(t, "primary and secondary are provided but not dual stack v6-v6"),
            Refuses,
            k3s(Some("2000::/108,3000::/108"), V6),
            Kube6::Refuses(&["K6E003"]),
        ),
        row(
            at(t, "service cidr is too big"),
            Refuses,
            k133(k3s(Some("10.0.0.0/8"), V4)),
            Kube6::Refuses(&["K6E010"]),
        ),
        row(
            at(t, "service cidr IPv4 is too big but gate enbled"),
            Accepts,
            k133(k3s(Some("10.0.0.0/8"), V4)),
            Kube6::Accepts,
        )
        .gates(GATES_ON),
        row(
            at(t, "service cidr IPv6 is too big but gate enbled"),
            Accepts,
            k133(k3s(Some("2001:db8::/64"), V6)),
            Kube6::Accepts,
        )
        .gates(GATES_ON),
        row(
            at(t, "service cidr IPv6 is too big and gate enbled"),
            Accepts,
            k133(k3s(Some("2001:db8::/12"), V6)),
            Kube6::Refuses(&["K6E310"]),
        )
        .gates(GATES_ON)
        .differs(
            "the flag check passes with both gates on, but the IPAddress allocator they switch on refuses \
             an IPv6 range shorter than /64 (pkg/registry/core/service/ipallocator/ipallocator.go), so no \
             ClusterIP can be allocated from it",
        ),
        row(
            at(t, "dual-stack secondary cidr too big"),
            Refuses,
            k133(k3s(Some("10.0.0.0/16,3000::/64"), DUAL)),
            Kube6::Refuses(&["K6E010"]),
        ),
        row(
            at(t, "dual-stack secondary cidr too big gate enabled"),
            Accepts,
            k133(k3s(Some("10.0.0.0/16,3000::/48"), DUAL)),
            Kube6::Refuses(&["K6E310"]),
        )
        .gates(GATES_ON)
        .differs(
            "the flag check passes, but the IPAddress allocator refuses the /48 (shorter than /64)",
        ),
        row(
            at(t, "more than two entries"),
            Refuses,
            k3s(Some("10.0.0.0/16,244.0.0.0/16,3000::/108"), DUAL),
            Kube6::Refuses(&["K6E003"]),
        ),
        row(
            at(t, "valid primary"),
            Accepts,
            k3s(Some("10.0.0.0/16"), V4),
            Kube6::Accepts,
        ),
        row(
            at(t, "valid primary, class E range"),
            Accepts,
            k3s(Some("244.0.0.0/16"), V4),
            Kube6::Warns("K6W103"),
        ),
        row(
            at(t, "valid v4-v6 dual stack"),
            Accepts,
            k3s(Some("10.0.0.0/16,3000::/108"), DUAL),
            Kube6::Accepts,
        ),
        row(
            at(t, "valid v6-v4 dual stack"),
            Accepts,
            k3s(Some("3000::/108,10.0.0.0/16"), "fd00:42::/56,172.16.0.0/16"),
            Kube6::Accepts,
        ),
    ]
}

/// kubeadm with apiServer flags: `--advertise-address` and `--endpoint-reconciler-type`.
fn kubeadm(service: &str, advertise: &str, reconciler: &str) -> String {
    format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n  serviceSubnet: \"{service}\"\napiServer:\n  extraArgs:\n  - name: advertise-address\n    value: \"{advertise}\"\n  - name: endpoint-reconciler-type\n    value: {reconciler}\n"
    )
}

fn public_ip_families() -> Vec<Row> {
    let t = "TestValidatePublicIPServiceClusterIPRangeIPFamilies";
    let (v4cidr, v6cidr) = ("192.168.0.0/24", "2001:db8::/112");
    let (v4, v6) = ("192.168.1.1", "2001:db8::1");
    let mut rows = Vec::new();
    for reconciler in ["master-count", "lease"] {
        let case = |what: &'static str| -> &'static str {
            match (reconciler, what) {
                ("master-count", "v4") => "master endpoint reconciler - IPv4 families",
                ("master-count", "v6") => "master endpoint reconciler - IPv6 families",
                ("master-count", _) => "master endpoint reconciler - wrong IP families",
                (_, "v4") => "lease endpoint reconciler - IPv4 families",
                (_, "v6") => "lease endpoint reconciler - IPv6 families",
                _ => "lease endpoint reconciler - wrong IP families",
            }
        };
        rows.extend([
            row(
                at(t, case("v4")),
                Accepts,
                kubeadm(v4cidr, v4, reconciler),
                Kube6::Accepts,
            ),
            row(
                at(t, case("v6")),
                Accepts,
                kubeadm(v6cidr, v6, reconciler),
                Kube6::Accepts,
            ),
            row(
                at(t, case("wrong")),
                Refuses,
                kubeadm(v4cidr, v6, reconciler),
                Kube6::Refuses(&["K6E012"]),
            ),
            row(
                at(t, case("wrong")),
                Refuses,
                kubeadm(v6cidr, v4, reconciler),
                Kube6::Refuses(&["K6E012"]),
            ),
        ]);
    }
    rows.push(row(
        at(t, "none endpoint reconciler - wrong IP families"),
        Accepts,
        kubeadm(v4cidr, v6, "none"),
        Kube6::Accepts,
    ));
    rows
}

fn max_cidr_range() -> Vec<Row> {
    let t = "TestValidateMaxCIDRRange";
    vec![
        row(
            at(t, "valid ipv4 cidr"),
            Accepts,
            k133(k3s(Some("10.92.0.0/12"), V4)),
            Kube6::Warns("K6W001"),
        ),
        row(
            at(t, "valid ipv6 cidr"),
            Accepts,
            k133(k3s(Some("3000::/108"), V6)),
            Kube6::Accepts,
        ),
        row(
            at(t, "ipv4 cidr too big"),
            Refuses,
            k133(k3s(Some("10.92.0.0/8"), V4)),
            Kube6::Refuses(&["K6E010"]),
        ),
        row(
            at(t, "ipv6 cidr too big"),
            Refuses,
            k133(k3s(Some("3000::/64"), V6)),
            Kube6::Refuses(&["K6E010"]),
        ),
    ]
}

#[test]
fn validation_tests() {
    let mut rows = cluster_service_ip_range();
    rows.extend(public_ip_families());
    rows.extend(max_cidr_range());
    check(rows);
}
