//! k0s (k0sproject/k0s): pkg/apis/k0s/v1beta1/network_test.go (TestValidation, TestAddresses and
//! the marshaling tests), clusterconfig_types_test.go (TestNetworkValidation_*), api_test.go
//! (TestValidation), and the endpoint-reconciler switch in cmd/controller/controller.go, which no
//! upstream test covers. The unit tests start from `DefaultNetwork()` (provider kuberouter,
//! podCIDR 10.244.0.0/16, serviceCIDR 10.96.0.0/12, kube-proxy iptables, clusterDomain
//! cluster.local) and change one field; each row is a k0s ClusterConfig with that field set.
//! Feature gates the tests set (IPv6SingleStack) are given as `--feature-gates`.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const K0S: &str = "k0sproject/k0s";
const NETWORK_TEST: &str = "pkg/apis/k0s/v1beta1/network_test.go";
const CLUSTERCONFIG_TEST: &str = "pkg/apis/k0s/v1beta1/clusterconfig_types_test.go";
const API_TEST: &str = "pkg/apis/k0s/v1beta1/api_test.go";
const CONTROLLER: &str = "cmd/controller/controller.go";

fn at(file: &'static str, test: &'static str, case: &'static str) -> Upstream {
    Upstream {
        repo: K0S,
        file,
        test,
        case,
    }
}

fn validation(case: &'static str) -> Upstream {
    at(NETWORK_TEST, "NetworkSuite.TestValidation", case)
}

/// A k0s ClusterConfig whose `spec` holds `spec` (YAML indented by two spaces, or empty).
fn k0s(spec: &str) -> String {
    format!(
        "apiVersion: k0s.k0sproject.io/v1beta1\nkind: ClusterConfig\nmetadata:\n  name: foobar\nspec:\n{spec}"
    )
}

/// `DefaultNetwork()` with these lines added under `spec.network`.
fn network(lines: &str) -> String {
    let body: String = lines.lines().map(|l| format!("    {l}\n")).collect();
    k0s(&format!("  network:\n{body}"))
}

const IPV6_SINGLE_STACK: &[(&str, bool)] = &[("IPv6SingleStack", true)];

fn network_validation() -> Vec<Row> {
    vec![
        row(
            validation("defaults_are_valid"),
            Accepts,
            k0s("  network: {}\n"),
            Kube6::Accepts,
        ),
        row(
            validation("invalid_provider"),
            Refuses,
            network("provider: foobar"),
            Kube6::Refuses(&["K6E300"]),
        ),
        row(
            validation("invalid_pod_cidr"),
            Refuses,
            network("podCIDR: foobar"),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            validation("invalid_service_cidr"),
            Refuses,
            network("serviceCIDR: foobar"),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            validation("invalid_cluster_domain"),
            Refuses,
            network("clusterDomain: .invalid-cluster-domain"),
            Kube6::Refuses(&["K6E303"]),
        ),
        row(
            validation("invalid_ipv6_service_cidr"),
            Refuses,
            network(
                "calico: {mode: bird}\nkubeProxy: {mode: ipvs}\ndualStack:\n  enabled: true\n  IPv6podCIDR: fd00::/108\n  IPv6serviceCIDR: foobar",
            ),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            validation("invalid_ipv6_service_cidr_prefix_too_large"),
            Refuses,
            network("podCIDR: fd00::/108\nserviceCIDR: fd01::/120"),
            Kube6::Refuses(&["K6E041"]),
        )
        .gates(IPV6_SINGLE_STACK),
        row(
            validation("invalid_ipv6_pod_cidr"),
            Refuses,
            network(
                "calico: {mode: bird}\nkubeProxy: {mode: ipvs}\ndualStack:\n  enabled: true\n  IPv6podCIDR: foobar\n  IPv6serviceCIDR: fd00::/108",
            ),
            Kube6::Refuses(&["K6E001"]),
        ),
        row(
            validation("dualstack_ipv6_podcidr_rejects_ipv4"),
            Refuses,
            network(
                "podCIDR: 10.244.0.0/16\nserviceCIDR: 10.96.0.0/12\ndualStack:\n  enabled: true\n  IPv6podCIDR: 10.0.0.0/24\n  IPv6serviceCIDR: fd01::/108",
            ),
            // The two IPv4 pod ranges are also two of one family (K6E003).
            Kube6::Refuses(&["K6E043", "K6E003"]),
        ),
        row(
            validation("dualstack_ipv6_servicecidr_rejects_ipv4"),
            Refuses,
            network(
                "podCIDR: 10.244.0.0/16\nserviceCIDR: 10.96.0.0/12\ndualStack:\n  enabled: true\n  IPv6podCIDR: fd00::/108\n  IPv6serviceCIDR: 10.96.0.0/12",
            ),
            Kube6::Refuses(&["K6E043", "K6E003"]),
        ),
        row(
            validation("invalid_mode_for_kube_proxy"),
            Refuses,
            network("kubeProxy: {mode: foobar}"),
            Kube6::Refuses(&["K6E301"]),
        ),
        row(
            validation("valid_proxy_disabled_for_dualstack"),
            Accepts,
            network(
                "calico: {mode: bird}\nkubeProxy: {disabled: true, mode: iptables}\ndualStack:\n  enabled: true\n  IPv6podCIDR: fd00::/108\n  IPv6serviceCIDR: fd01::/108",
            ),
            Kube6::Accepts,
        ),
        row(
            validation("invalid_address_family (unset)"),
            Accepts,
            network("primaryAddressFamily: \"\""),
            Kube6::Accepts,
        ),
        row(
            validation("invalid_address_family (IPv4)"),
            Accepts,
            network("primaryAddressFamily: IPv4"),
            Kube6::Accepts,
        ),
        row(
            validation("invalid_address_family (IPv6)"),
            Accepts,
            network("primaryAddressFamily: IPv6"),
            Kube6::Accepts,
        ),
        row(
            validation("invalid_address_family (IPv5)"),
            Refuses,
            network("primaryAddressFamily: IPv5"),
            Kube6::Refuses(&["K6E008"]),
        ),
        row(
            validation("invalid_pod_cidr_service_cidr_protocol_mismatch"),
            Refuses,
            network("serviceCIDR: fd01::/108"),
            Kube6::Refuses(&["K6E047"]),
        ),
        row(
            validation("valid_single_stack_ipv6"),
            Accepts,
            network("podCIDR: fd00::/108\nserviceCIDR: fd01::/108"),
            Kube6::Accepts,
        )
        .gates(IPV6_SINGLE_STACK),
        row(
            validation("invalid_single_stack_ipv6_missing_feature_gates"),
            Refuses,
            network("podCIDR: fd00::/108\nserviceCIDR: fd01::/108"),
            Kube6::Refuses(&["K6E040"]),
        ),
        row(
            validation("invalid_dual_stack_ipv6_dualstack_CIDRs"),
            Refuses,
            network(
                "podCIDR: fd00::/108\nserviceCIDR: fd01::/108\ndualStack:\n  enabled: true\n  IPv6podCIDR: fd00::/108\n  IPv6serviceCIDR: fd01::/108",
            ),
            Kube6::Refuses(&["K6E043", "K6E003"]),
        ),
    ]
}

fn marshaling_and_cluster_config() -> Vec<Row> {
    vec![
        row(
            at(NETWORK_TEST, "NetworkSuite.TestDomainMarshaling", "clusterDomain something.local"),
            Accepts,
            k0s("  storage:\n    type: kine\n  network:\n    clusterDomain: something.local\n"),
            Kube6::Accepts,
        ),
        row(
            at(NETWORK_TEST, "NetworkSuite.TestCalicoDefaultsAfterMarshaling", "calico with empty settings"),
            Accepts,
            network("provider: calico\ncalico:"),
            Kube6::Accepts,
        ),
        row(
            at(NETWORK_TEST, "NetworkSuite.TestCalicoConfigMarshaling", "calico vxlan, mtu 1550, vxlanPort 4700"),
            Accepts,
            network("provider: calico\ncalico:\n  mode: vxlan\n  mtu: 1550\n  overlay: Never\n  vxlanPort: 4700"),
            Kube6::Accepts,
        ),
        row(
            at(NETWORK_TEST, "NetworkSuite.TestKubeRouterDefaultsAfterMarshaling", "kuberouter with empty settings"),
            Accepts,
            network("provider: kuberouter\nkuberouter:"),
            Kube6::Accepts,
        ),
        row(
            at(NETWORK_TEST, "NetworkSuite.TestKubeRouterConfigMarshaling", "kuberouter autoMTU false, mtu 1500"),
            Accepts,
            network("provider: kuberouter\nkuberouter:\n  autoMTU: false\n  mtu: 1500"),
            Kube6::Accepts,
        ),
        row(
            at(NETWORK_TEST, "NetworkSuite.TestKubeProxyDefaultsAfterMarshaling", "empty spec"),
            Accepts,
            k0s(""),
            Kube6::Accepts,
        ),
        row(
            at(NETWORK_TEST, "NetworkSuite.TestKubeProxyDisabling", "kubeProxy disabled"),
            Accepts,
            network("kubeProxy:\n  disabled: true"),
            Kube6::Accepts,
        ),
        row(
            at(CLUSTERCONFIG_TEST, "TestNetworkValidation_Custom", "provider custom"),
            Accepts,
            k0s("  network:\n    provider: custom\n  storage:\n    type: etcd\n"),
            Kube6::Accepts,
        ),
        row(
            at(CLUSTERCONFIG_TEST, "TestNetworkValidation_Calico", "provider calico"),
            Accepts,
            k0s("  network:\n    provider: calico\n  storage:\n    type: etcd\n"),
            Kube6::Accepts,
        ),
        row(
            at(CLUSTERCONFIG_TEST, "TestNetworkValidation_Invalid", "provider invalidProvider"),
            Refuses,
            k0s("  network:\n    provider: invalidProvider\n  storage:\n    type: etcd\n"),
            Kube6::Refuses(&["K6E300"]),
        ),
        row(
            at(CLUSTERCONFIG_TEST, "TestApiExternalAddress", "externalAddress foo.bar.com, address 1.2.3.4"),
            Accepts,
            k0s("  api:\n    externalAddress: foo.bar.com\n    address: 1.2.3.4\n"),
            Kube6::Accepts,
        ),
        row(
            at(CLUSTERCONFIG_TEST, "TestApiNoExternalAddress", "address 1.2.3.4"),
            Accepts,
            k0s("  api:\n    address: 1.2.3.4\n"),
            Kube6::Accepts,
        ),
        row(
            at(CLUSTERCONFIG_TEST, "TestNullValues", "every section null"),
            Accepts,
            k0s("  images: null\n  storage: null\n  network: null\n  api: null\n  extensions: null\n  controllerManager: null\n  scheduler: null\n  installConfig: null\n  telemetry: null\n  konnectivity: null\n"),
            Kube6::Accepts,
        ),
        row(
            at(API_TEST, "APISuite.TestValidation", "accepts_ipv6_as_address"),
            Accepts,
            // An IPv6 API address with the default IPv4 service range: k0s's API validation
            // passes (the test validates APISpec alone), but kube-apiserver refuses an advertise
            // address of another family than the primary service range.
            k0s("  api:\n    address: 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n"),
            Kube6::Refuses(&["K6E012"]),
        )
        .differs(
            "the test validates APISpec alone; with k0s's default IPv4 service range, kube-apiserver \
             refuses the IPv6 advertise address (\"service IP family must match public address family\")",
        ),
        row(
            at(API_TEST, "APISuite.TestValidation", "accepts_ipv6_as_address (with IPv6 ranges)"),
            Accepts,
            k0s("  api:\n    address: 2001:0db8:85a3:0000:0000:8a2e:0370:7334\n  network:\n    podCIDR: fd00::/108\n    serviceCIDR: fd01::/108\n"),
            Kube6::Accepts,
        )
        .gates(IPV6_SINGLE_STACK),
        row(
            at(API_TEST, "APISuite.TestValidation", "invalid_api_address"),
            Refuses,
            k0s("  api:\n    address: \"something.that.is.not.valid//(())\"\n"),
            Kube6::Refuses(&["K6E002"]),
        ),
        row(
            at("pkg/apis/k0s/v1beta1/api.go", "APISpec.Validate (code; no upstream test)", "address 0.0.0.0"),
            Refuses,
            k0s("  api:\n    address: 0.0.0.0\n"),
            Kube6::Refuses(&["K6E320"]),
        ),
        row(
            at("pkg/apis/k0s/v1beta1/api.go", "APISpec.Validate (code; no upstream test)", "address ::"),
            Refuses,
            k0s("  api:\n    address: \"::\"\n"),
            Kube6::Refuses(&["K6E320"]),
        ),
    ]
}

/// k0s sets `--endpoint-reconciler-type=none` when spec.api.externalAddress is set (unless
/// control-plane load balancing is on), and kube-apiserver then skips its advertise-address
/// family check.
fn endpoint_reconciler() -> Vec<Row> {
    let code = |case| {
        at(
            CONTROLLER,
            "enableK0sEndpointReconciler (code; no upstream test)",
            case,
        )
    };
    vec![
        row(
            code("IPv6 API address, IPv4 services, no externalAddress"),
            Refuses,
            k0s("  api:\n    address: 2001:db8::10\n"),
            Kube6::Refuses(&["K6E012"]),
        ),
        row(
            code("IPv6 API address, IPv4 services, externalAddress set"),
            Accepts,
            k0s("  api:\n    address: 2001:db8::10\n    externalAddress: k8s.example.com\n"),
            Kube6::Accepts,
        ),
        row(
            code(
                "IPv6 API address, IPv4 services, externalAddress and control-plane load balancing",
            ),
            Refuses,
            k0s(
                "  api:\n    address: 2001:db8::10\n    externalAddress: k8s.example.com\n  network:\n    controlPlaneLoadBalancing:\n      enabled: true\n",
            ),
            Kube6::Refuses(&["K6E012"]),
        ),
    ]
}

#[test]
fn validation_tests() {
    let mut rows = network_validation();
    rows.extend(marshaling_and_cluster_config());
    rows.extend(endpoint_reconciler());
    check(rows);
}

/// Feature gates given on the command line.
type Gates = &'static [(&'static str, bool)];
/// The internal API addresses and the DNS address (when the case checks it).
type Addresses = (&'static [&'static str], Option<&'static str>);

/// NetworkSuite.TestAddresses: the cluster DNS address (the 10th address of the primary service
/// range, the 2nd when the range has 8 addresses or fewer; refused when that is outside the range)
/// and the internal API addresses (the 1st address of each service range), as kube6's plan gives
/// them.
#[test]
fn addresses() {
    let t = "NetworkSuite.TestAddresses";
    // (case, network lines, gates, Some((API IPs, DNS IP)) or None when k0s cannot compute it)
    let cases: [(&str, &str, Gates, Option<Addresses>); 9] = [
        (
            "DNS_default_service_cidr",
            "",
            &[],
            Some((&["10.96.0.1"], Some("10.96.0.10"))),
        ),
        (
            "DNS_uses_non_default_service_cidr",
            "serviceCIDR: 10.96.0.248/29",
            &[],
            Some((&["10.96.0.249"], Some("10.96.0.250"))),
        ),
        (
            "DNS_service_cidr_too_narrow",
            "serviceCIDR: 192.168.178.0/31",
            &[],
            None,
        ),
        (
            "DNS_uses_v6_service_cidr",
            "podCIDR: fd00:10::/56\nserviceCIDR: fd00:abcd:1234::/64",
            IPV6_SINGLE_STACK,
            Some((&["fd00:abcd:1234::1"], Some("fd00:abcd:1234::a"))),
        ),
        (
            "DNS_uses_v6_small_service_cidr",
            "podCIDR: fd00:10::/56\nserviceCIDR: fd00::/126",
            IPV6_SINGLE_STACK,
            Some((&["fd00::1"], Some("fd00::2"))),
        ),
        (
            "DNS_service_v6_cidr_too_narrow",
            "podCIDR: fd00:10::/56\nserviceCIDR: fd00::/127",
            IPV6_SINGLE_STACK,
            None,
        ),
        (
            "Internal_api_address_default",
            "",
            &[],
            Some((&["10.96.0.1"], None)),
        ),
        (
            "Internal_api_address_non_default_single_stack",
            "serviceCIDR: 10.96.0.248/29",
            &[],
            Some((&["10.96.0.249"], None)),
        ),
        (
            "Internal_api_address_non_default_dual_stack",
            "serviceCIDR: 10.96.0.248/29\ndualStack:\n  enabled: true\n  IPv6podCIDR: fd00:10::/56\n  IPv6serviceCIDR: fd00::/108",
            &[],
            Some((&["10.96.0.249", "fd00::1"], None)),
        ),
    ];
    let mut failures = Vec::new();
    for (case, lines, gates, expected) in cases {
        let upstream = at(NETWORK_TEST, t, case);
        let text = if lines.is_empty() {
            k0s("")
        } else {
            network(lines)
        };
        let analysis = super::analyze(&text, gates);
        let plan = &analysis.plan;
        match expected {
            None => {
                if !plan.diagnostics.iter().any(|d| d.id == "K6E045") {
                    failures.push(format!(
                        "{upstream}: the DNS address is not refused (K6E045)"
                    ));
                }
            }
            Some((api, dns)) => {
                let got_api: Vec<String> = plan
                    .services
                    .iter()
                    .filter_map(|s| s.api_server_ip.map(|ip| ip.to_string()))
                    .collect();
                if got_api != api {
                    failures.push(format!(
                        "{upstream}: API addresses {got_api:?}, upstream {api:?}"
                    ));
                }
                let got_dns = plan
                    .services
                    .first()
                    .and_then(|s| s.dns_ip)
                    .map(|ip| ip.to_string());
                if let Some(dns) = dns
                    && got_dns.as_deref() != Some(dns)
                {
                    failures.push(format!(
                        "{upstream}: DNS address {got_dns:?}, upstream {dns}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
