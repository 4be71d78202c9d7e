//! kubeadm: kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/validation/validation_test.go
//! (networking, pod-subnet/node-mask, service-subnet size, node-mask flags, API endpoint) and
//! cmd/kubeadm/app/constants/constants_test.go (the addresses kubeadm derives from the service
//! subnet). Each unit-test case is embedded in a kubeadm v1beta4 configuration whose other
//! settings pass, so the row's verdict is the one that test gives; where the configuration trips
//! another component's check too, the row lists that rule as well. Non-network tests of the same
//! files (tokens, discovery, CRI socket, certificates, etcd) are outside kube6's scope.

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const K8S: &str = "kubernetes/kubernetes";
const VALIDATION: &str = "cmd/kubeadm/app/apis/kubeadm/validation/validation_test.go";
const CONSTANTS: &str = "cmd/kubeadm/app/constants/constants_test.go";

fn at(test: &'static str, case: &'static str) -> Upstream {
    Upstream {
        repo: K8S,
        file: VALIDATION,
        test,
        case,
    }
}

/// A ClusterConfiguration with these networking fields and controller-manager flags.
fn cluster(pod: Option<&str>, service: Option<&str>, cm_args: &[(&str, &str)]) -> String {
    let mut text = String::from(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n",
    );
    if let Some(pod) = pod {
        text.push_str(&format!("  podSubnet: \"{pod}\"\n"));
    }
    if let Some(service) = service {
        text.push_str(&format!("  serviceSubnet: \"{service}\"\n"));
    }
    if !cm_args.is_empty() {
        text.push_str("controllerManager:\n  extraArgs:\n");
        for (name, value) in cm_args {
            text.push_str(&format!("  - name: {name}\n    value: \"{value}\"\n"));
        }
    }
    text
}

/// An InitConfiguration advertising `address`, with a service subnet of the address's family so
/// that only the address itself is judged.
fn advertising(address: &str, service: &str) -> String {
    format!(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: \"{address}\"\n---\n{}",
        cluster(None, Some(service), &[])
    )
}

fn refuses(ids: &'static [&'static str]) -> Kube6 {
    Kube6::Refuses(ids)
}

/// TestValidateIPNetFromString: the subnet list parser and per-subnet minimum.
fn ip_net_from_string() -> Vec<Row> {
    let t = "TestValidateIPNetFromString";
    vec![
        row(
            at(t, "invalid missing CIDR"),
            Refuses,
            cluster(None, Some(""), &[]),
            Kube6::Accepts,
        )
        .differs(
            "the function refuses an empty string, but in a configuration file kubeadm's defaulting \
             (SetDefaults_Networking) sets an empty serviceSubnet to 10.96.0.0/12 first; kube6 reads \
             the file as kubeadm does",
        ),
        row(
            at(t, "valid dual-stack enabled but only an IPv4 CIDR specified"),
            Accepts,
            cluster(None, Some("10.0.0.16/12"), &[]),
            Kube6::Warns("K6W001"),
        ),
        row(
            at(t, "valid dual-stack enabled but only an IPv6 CIDR specified"),
            Accepts,
            cluster(
                Some("2001:db8::/98"),
                None,
                &[("node-cidr-mask-size-ipv6", "112")],
            ),
            Kube6::Accepts,
        ),
        row(
            at(
                t,
                "invalid IPv4 address provided instead of CIDR representation",
            ),
            Refuses,
            cluster(
                Some("1.2.3.4,2001:db8::/98"),
                None,
                &[("node-cidr-mask-size-ipv6", "112")],
            ),
            refuses(&["K6E001"]),
        ),
        row(
            at(
                t,
                "invalid IPv6 address provided instead of CIDR representation",
            ),
            Refuses,
            cluster(Some("2001:db8::1,10.0.0.16/12"), None, &[]),
            refuses(&["K6E001"]),
        ),
        row(
            at(
                t,
                "valid, but IPv4 CIDR too small. At least 10 addresses needed",
            ),
            Refuses,
            cluster(None, Some("10.0.0.16/29,2001:db8::/98"), &[]),
            // The IPv6 subnet is also larger than kubeadm's service-subnet limit.
            refuses(&["K6E030", "K6E308"]),
        ),
        row(
            at(
                t,
                "valid, but IPv6 CIDR too small. At least 10 addresses needed",
            ),
            Refuses,
            cluster(None, Some("10.0.0.16/12,2001:db8::/125"), &[]),
            refuses(&["K6E030"]),
        ),
        row(
            at(
                t,
                "valid, but only IPv4 family addresses specified. IPv6 CIDR is necessary.",
            ),
            Refuses,
            cluster(None, Some("10.0.0.16/12,192.168.0.0/16"), &[]),
            refuses(&["K6E003"]),
        ),
        row(
            at(
                t,
                "valid, but only IPv6 family addresses specified. IPv4 CIDR is necessary.",
            ),
            Refuses,
            cluster(None, Some("2001:db8::/98,2005:db8::/98"), &[]),
            refuses(&["K6E003", "K6E308"]),
        ),
        row(
            at(t, "valid IPv4 and IPv6 CIDR"),
            Accepts,
            cluster(
                Some("10.0.0.16/12,2001:db8::/98"),
                None,
                &[("node-cidr-mask-size-ipv6", "112")],
            ),
            Kube6::Accepts,
        ),
        row(
            at(t, "valid IPv6 and IPv4 CIDR"),
            Accepts,
            cluster(
                Some("10.0.0.16/12,2001:db8::/98"),
                None,
                &[("node-cidr-mask-size-ipv6", "112")],
            ),
            Kube6::Accepts,
        ),
        row(
            at(t, "invalid IPv6 and IPv4 CIDR with more than 2 subnets"),
            Refuses,
            cluster(
                Some("10.0.0.16/12,2001:db8::/98,192.168.0.0/16"),
                None,
                &[("node-cidr-mask-size-ipv6", "112")],
            ),
            refuses(&["K6E003"]),
        ),
        row(
            at(
                t,
                "invalid IPv6 and IPv4 CIDR with more than 2 subnets (with a.b.c.d/24)",
            ),
            Refuses,
            cluster(
                Some("10.0.0.16/12,2001:db8::/98,192.168.0.0/16,a.b.c.d/24"),
                None,
                &[("node-cidr-mask-size-ipv6", "112")],
            ),
            refuses(&["K6E001", "K6E003"]),
        ),
    ]
}

/// TestValidatePodSubnetNodeMask: pod prefix <= node mask <= pod prefix + 16, per family, with
/// the per-family flags (or 24/64). kube-controller-manager refuses the same masks (K6E020,
/// K6E021), so those rows list its rules too.
fn pod_subnet_node_mask() -> Vec<Row> {
    let t = "TestValidatePodSubnetNodeMask";
    let v4 = |m| [("node-cidr-mask-size-ipv4", m)];
    let v6 = |m| [("node-cidr-mask-size-ipv6", m)];
    vec![
        row(
            at(t, "dual IPv4 only, but mask too small. Default node-mask"),
            Refuses,
            cluster(Some("10.0.0.16/29"), None, &[]),
            // A /29 is also below kubeadm's 14-address minimum for pods.
            refuses(&["K6E031", "K6E030", "K6E020"]),
        ),
        row(
            at(
                t,
                "dual IPv4 only, but mask too small. Configured node-mask",
            ),
            Refuses,
            cluster(Some("10.0.0.16/24"), None, &v4("23")),
            refuses(&["K6E031", "K6E020"]),
        ),
        row(
            at(t, "dual IPv6 only, but mask too small. Default node-mask"),
            Refuses,
            cluster(Some("2001:db8::1/112"), None, &[]),
            refuses(&["K6E031", "K6E020"]),
        ),
        row(
            at(
                t,
                "dual IPv6 only, but mask too small. Configured node-mask",
            ),
            Refuses,
            cluster(Some("2001:db8::1/64"), None, &v6("24")),
            refuses(&["K6E031", "K6E020"]),
        ),
        row(
            at(
                t,
                "dual IPv6 only, but mask difference greater than 16. Default node-mask",
            ),
            Refuses,
            cluster(Some("2001:db8::1/12"), None, &[]),
            refuses(&["K6E031", "K6E021"]),
        ),
        row(
            at(
                t,
                "dual IPv6 only, but mask difference greater than 16. Configured node-mask",
            ),
            Refuses,
            cluster(Some("2001:db8::1/64"), None, &v6("120")),
            refuses(&["K6E031", "K6E021"]),
        ),
        row(
            at(t, "dual IPv4 only CIDR"),
            Accepts,
            cluster(Some("10.0.0.16/12"), None, &[]),
            Kube6::Accepts,
        ),
        row(
            at(t, "dual IPv6 only CIDR"),
            Accepts,
            cluster(Some("2001:db8::/48"), None, &[]),
            Kube6::Accepts,
        ),
        row(
            at(t, "dual, but IPv4 mask too small. Default node-mask"),
            Refuses,
            cluster(Some("10.0.0.16/29,2001:db8::/48"), None, &[]),
            refuses(&["K6E031", "K6E030", "K6E020"]),
        ),
        row(
            at(t, "dual, but IPv4 mask too small. Configured node-mask"),
            Refuses,
            cluster(Some("10.0.0.16/24,2001:db8::/48"), None, &v4("23")),
            refuses(&["K6E031", "K6E020"]),
        ),
        row(
            at(t, "dual, but IPv6 mask too small. Default node-mask"),
            Refuses,
            cluster(Some("2001:db8::1/112,10.0.0.16/16"), None, &[]),
            refuses(&["K6E031", "K6E020"]),
        ),
        row(
            at(t, "dual, but IPv6 mask too small. Configured node-mask"),
            Refuses,
            cluster(Some("10.0.0.16/16,2001:db8::1/64"), None, &v6("24")),
            refuses(&["K6E031", "K6E020"]),
        ),
        row(
            at(
                t,
                "dual, but mask difference greater than 16. Default node-mask",
            ),
            Refuses,
            cluster(Some("2001:db8::1/12,10.0.0.16/16"), None, &[]),
            refuses(&["K6E031", "K6E021"]),
        ),
        row(
            at(
                t,
                "dual, but mask difference greater than 16. Configured node-mask",
            ),
            Refuses,
            cluster(Some("10.0.0.16/16,2001:db8::1/64"), None, &v6("120")),
            refuses(&["K6E031", "K6E021"]),
        ),
        row(
            at(t, "dual IPv4 IPv6"),
            Accepts,
            cluster(Some("2001:db8::/48,10.0.0.16/12"), None, &[]),
            Kube6::Accepts,
        ),
        row(
            at(t, "dual IPv6 IPv4"),
            Accepts,
            cluster(Some("2001:db8::/48,10.0.0.16/12"), None, &[]),
            Kube6::Accepts,
        ),
    ]
}

/// TestValidateServiceSubnetSize: at most 20 host bits, whatever the Kubernetes version.
fn service_subnet_size() -> Vec<Row> {
    let t = "TestValidateServiceSubnetSize";
    vec![
        row(
            at(t, "single IPv4, but mask too large."),
            Refuses,
            cluster(None, Some("10.0.0.16/2"), &[]),
            // 0.0.0.0/2 also covers 0.0.0.0/8 and the unspecified address.
            refuses(&["K6E308", "K6E102"]),
        ),
        row(
            at(t, "single IPv6, but mask too large."),
            Refuses,
            cluster(None, Some("2001:db8::1/64"), &[]),
            refuses(&["K6E308"]),
        ),
        row(
            at(t, "single IPv4 CIDR"),
            Accepts,
            cluster(None, Some("10.0.0.16/12"), &[]),
            Kube6::Accepts,
        ),
        row(
            at(t, "single IPv6 CIDR"),
            Accepts,
            cluster(None, Some("2001:db8::/112"), &[]),
            Kube6::Accepts,
        ),
        row(
            at(t, "dual, but IPv4 mask too large."),
            Refuses,
            cluster(None, Some("2001:db8::1/112,10.0.0.16/6"), &[]),
            refuses(&["K6E308"]),
        ),
        row(
            at(t, "dual, but IPv6 mask too large."),
            Refuses,
            cluster(None, Some("2001:db8::1/12,10.0.0.16/16"), &[]),
            // kube-apiserver's ClusterIP allocator refuses an IPv6 range shorter than /64 too.
            refuses(&["K6E308", "K6E310"]),
        ),
        row(
            at(t, "dual IPv4 IPv6"),
            Accepts,
            cluster(None, Some("10.0.0.16/12,2001:db8::/112"), &[]),
            Kube6::Accepts,
        ),
        row(
            at(t, "dual IPv6 IPv4"),
            Accepts,
            cluster(None, Some("2001:db8::/112,10.0.0.16/12"), &[]),
            Kube6::Accepts,
        ),
    ]
}

/// TestGetClusterNodeMask: which flag kubeadm reads the node mask from. Each case is embedded
/// with a pod subnet that only that mask accepts (a wider or narrower one would be refused).
fn cluster_node_mask() -> Vec<Row> {
    let t = "TestGetClusterNodeMask";
    let kcm_pair = "kubeadm reads the per-family flag and accepts, but kube-controller-manager \
                    refuses --node-cidr-mask-size together with a per-family flag (K6E023)";
    vec![
        row(
            at(t, "dual ipv4 default mask"),
            Accepts,
            cluster(Some("10.0.0.0/8"), None, &[]),
            Kube6::Accepts,
        ),
        row(
            at(t, "dual ipv4 custom mask"),
            Accepts,
            cluster(
                Some("10.0.0.0/7"),
                None,
                &[("node-cidr-mask-size", "21"), ("node-cidr-mask-size-ipv4", "23")],
            ),
            refuses(&["K6E023"]),
        )
        .differs(kcm_pair),
        row(
            at(t, "dual ipv6 default mask"),
            Accepts,
            cluster(Some("fd00::/48"), None, &[]),
            Kube6::Accepts,
        ),
        row(
            at(t, "dual ipv6 custom mask"),
            Accepts,
            cluster(Some("fd00::/67"), None, &[("node-cidr-mask-size-ipv6", "83")]),
            Kube6::Accepts,
        ),
        row(
            at(t, "dual ipv4 custom mask (ipv4 flag only)"),
            Accepts,
            cluster(Some("10.0.0.0/7"), None, &[("node-cidr-mask-size-ipv4", "23")]),
            Kube6::Accepts,
        ),
        row(
            at(t, "dual ipv4 wrong mask"),
            Refuses,
            cluster(Some("10.0.0.0/8"), None, &[("node-cidr-mask-size-ipv4", "aa")]),
            refuses(&["K6E025"]),
        ),
        row(
            at(t, "dual ipv6 default mask and legacy flag"),
            Accepts,
            cluster(Some("fd00::/48"), None, &[("node-cidr-mask-size", "23")]),
            refuses(&["K6E020"]),
        )
        .differs(
            "kubeadm ignores --node-cidr-mask-size and checks /64, but kube-controller-manager uses the \
             /23 it sets, which is shorter than the pod subnet (K6E020; K6W032 explains the difference)",
        ),
        row(
            at(t, "dual ipv6 custom mask and legacy flag"),
            Accepts,
            cluster(
                Some("fd00::/67"),
                None,
                &[("node-cidr-mask-size", "23"), ("node-cidr-mask-size-ipv6", "83")],
            ),
            refuses(&["K6E023", "K6E020"]),
        )
        .differs(kcm_pair),
        row(
            at(t, "dual ipv6 custom mask and wrong flag"),
            Refuses,
            cluster(
                Some("fd00::/67"),
                None,
                &[("node-cidr-mask-size", "23"), ("node-cidr-mask-size-ipv6", "a83")],
            ),
            refuses(&["K6E025", "K6E023", "K6E020"]),
        ),
    ]
}

/// TestValidateIPFromString (the API endpoint's advertise address) and the networking cases of
/// TestValidateInitConfiguration.
fn addresses_and_init() -> Vec<Row> {
    let t = "TestValidateIPFromString";
    let v4 = "10.96.0.0/12";
    let v6 = "fd00:20::/112";
    let mut rows = vec![
        row(
            at(t, "invalid missing address"),
            Refuses,
            advertising("", v4),
            Kube6::Accepts,
        )
        .differs(
            "the function refuses an empty string, but kubeadm's dynamic defaulting fills an empty \
             advertiseAddress with the host's address before validation; kube6 reads the file as kubeadm does",
        ),
        row(
            at(t, "invalid missing decimal points in IPv4 address"),
            Refuses,
            advertising("1234", v4),
            refuses(&["K6E002"]),
        ),
        row(
            at(t, "invalid incomplete IPv4 address"),
            Refuses,
            advertising("1.2", v4),
            refuses(&["K6E002"]),
        ),
        row(
            at(t, "invalid IPv4 CIDR provided instead of IPv4 address"),
            Refuses,
            advertising("1.2.3.4/16", v4),
            refuses(&["K6E002"]),
        ),
        row(
            at(t, "valid IPv4 address"),
            Accepts,
            advertising("1.2.3.4", v4),
            Kube6::Accepts,
        ),
        row(
            at(t, "valid IPv6 address"),
            Accepts,
            advertising("2001:db8::1", v6),
            Kube6::Accepts,
        ),
        row(
            at(t, "invalid IPv6 CIDR provided instead of IPv6 address"),
            Refuses,
            advertising("2001:db8::1/64", v6),
            refuses(&["K6E002"]),
        ),
        row(
            at(t, "invalid hex character in IPv6 address"),
            Refuses,
            advertising("2001:xb8::", v6),
            refuses(&["K6E002"]),
        ),
        row(
            at(t, "invalid use of colons in IPv6 address"),
            Refuses,
            advertising("2001::db8::", v6),
            refuses(&["K6E002"]),
        ),
    ];
    let t = "TestValidateInitConfiguration";
    rows.extend([
        row(
            at(t, "valid InitConfiguration with incorrect IPv4 pod subnet"),
            Refuses,
            format!(
                "{}---\n{}",
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 1.2.3.4\n",
                cluster(Some("10.0.1.15"), Some("10.96.0.1/12"), &[])
            ),
            refuses(&["K6E001"]),
        ),
        row(
            at(t, "valid InitConfiguration with IPv4 service subnet"),
            Accepts,
            format!(
                "{}---\n{}",
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: 1.2.3.4\n",
                cluster(Some("10.0.1.15/16"), Some("10.96.0.1/12"), &[])
            ),
            Kube6::Warns("K6W001"),
        ),
        row(
            at(t, "valid InitConfiguration using IPv6 service subnet"),
            Accepts,
            format!(
                "{}---\n{}",
                "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nlocalAPIEndpoint:\n  advertiseAddress: \"1:2:3::4\"\n",
                cluster(None, Some("2001:db8::1/112"), &[])
            ),
            Kube6::Warns("K6W001"),
        ),
    ]);
    rows
}

/// The API server's Service address and (when the case checks it) CoreDNS's.
type ServiceIps = (&'static str, Option<&'static str>);

/// constants_test.go: the API server's and CoreDNS's Service addresses kubeadm derives from the
/// first service subnet (kube6's plan shows the same), and the subnet lists it refuses.
fn service_addresses() -> Vec<(Upstream, &'static str, Option<ServiceIps>)> {
    let at = |test, case| Upstream {
        repo: K8S,
        file: CONSTANTS,
        test,
        case,
    };
    let vip = "TestGetAPIServerVirtualIP";
    let dns = "TestGetDNSIP";
    let cidr = "TestGetKubernetesServiceCIDR";
    // (case, service subnet list, Some((API server IP, DNS IP)) or None when refused)
    vec![
        (
            at(vip, "subnet mask 24"),
            "10.96.0.12/24",
            Some(("10.96.0.1", None)),
        ),
        (
            at(vip, "subnet mask 12"),
            "10.96.0.0/12",
            Some(("10.96.0.1", None)),
        ),
        (
            at(vip, "subnet mask 26"),
            "10.87.116.64/26",
            Some(("10.87.116.65", None)),
        ),
        (
            at(vip, "dual-stack ipv4 primary, subnet mask 26"),
            "10.87.116.64/26,fd03::/112",
            Some(("10.87.116.65", None)),
        ),
        (
            at(vip, "dual-stack, subnet mask 26 , missing first ip segment"),
            ",10.87.116.64/26",
            None,
        ),
        (
            at(
                vip,
                "dual-stack ipv4 primary, subnet mask 26, missing second ip segment",
            ),
            "10.87.116.64/26,",
            None,
        ),
        (
            at(vip, "dual-stack ipv6 primary, subnet mask 112"),
            "fd03::/112,10.87.116.64/26",
            Some(("fd03::1", None)),
        ),
        (
            at(
                vip,
                "dual-stack, subnet mask 26, missing first ip segment (IPv6)",
            ),
            ",fd03::/112",
            None,
        ),
        (
            at(
                vip,
                "dual-stack, subnet mask 26, missing second ip segment (IPv6)",
            ),
            "fd03::/112,",
            None,
        ),
        (
            at(dns, "valid IPv4 range from single-stack"),
            "192.168.10.0/24",
            Some(("192.168.10.1", Some("192.168.10.10"))),
        ),
        (
            at(dns, "valid IPv6 range from single-stack"),
            "fd03::/112",
            Some(("fd03::1", Some("fd03::a"))),
        ),
        (
            at(dns, "valid <IPv4,IPv6> ranges from dual-stack"),
            "192.168.10.0/24,fd03::/112",
            Some(("192.168.10.1", Some("192.168.10.10"))),
        ),
        (
            at(dns, "valid <IPv6,IPv4> ranges from dual-stack"),
            "fd03::/112,192.168.10.0/24",
            Some(("fd03::1", Some("fd03::a"))),
        ),
        (
            at(dns, "invalid subnet range from dual-stack"),
            "192.168.10.0/24,fd03:x::/112",
            None,
        ),
        (
            at(cidr, "invalid: failed to parse subnet range for dual-stack"),
            "192.168.10.0/24,fd03:x::/112",
            None,
        ),
    ]
}

#[test]
fn validation_tests() {
    let mut rows = ip_net_from_string();
    rows.extend(pod_subnet_node_mask());
    rows.extend(service_subnet_size());
    rows.extend(cluster_node_mask());
    rows.extend(addresses_and_init());
    check(rows);
}

#[test]
fn constants_tests() {
    let mut failures = Vec::new();
    for (upstream, list, expected) in service_addresses() {
        let analysis = super::analyze(&cluster(None, Some(list), &[]), &[]);
        let plan = &analysis.plan;
        match expected {
            None => {
                if !plan.diagnostics.iter().any(|d| d.id == "K6E001") {
                    failures.push(format!("{upstream}: {list:?} is not refused"));
                }
            }
            Some((vip, dns)) => {
                let first = plan.services.first();
                let got_vip = first.and_then(|s| s.api_server_ip).map(|ip| ip.to_string());
                let got_dns = first.and_then(|s| s.dns_ip).map(|ip| ip.to_string());
                if got_vip.as_deref() != Some(vip) {
                    failures.push(format!(
                        "{upstream}: API server IP {got_vip:?}, upstream {vip}"
                    ));
                }
                if let Some(dns) = dns
                    && got_dns.as_deref() != Some(dns)
                {
                    failures.push(format!("{upstream}: DNS IP {got_dns:?}, upstream {dns}"));
                }
                if !plan.valid {
                    failures.push(format!(
                        "{upstream}: {list:?} is refused: {:?}",
                        plan.diagnostics
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
