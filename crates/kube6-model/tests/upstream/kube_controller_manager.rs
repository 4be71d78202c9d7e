//! kube-controller-manager's node IPAM, from kubernetes/kubernetes:
//! - cmd/kube-controller-manager/app/options/options_test.go (the service range flag) and
//!   pkg/controller/nodeipam/node_ipam_controller_test.go (cluster CIDRs, masks, service range),
//!   written as kubeadm configurations and judged by kube6's rules;
//! - cmd/kube-controller-manager/app/core.go's mask-flag handling, which has no test table
//!   upstream: those rows name the code path instead of a test;
//! - pkg/controller/nodeipam/ipam/cidrset/cidr_set_test.go and ipam/range_allocator_test.go, run
//!   against kube6-net's `CidrSet` and `NodeAllocator`, which the address plan uses to hand out
//!   node blocks.

use std::str::FromStr;

use ipnet::IpNet;
use kube6_net::{CidrSet, NodeAllocator};

use super::{Kube6, Row, Upstream, Upstreams, check, row};
use Upstreams::{Accepts, Refuses};

const K8S: &str = "kubernetes/kubernetes";
const OPTIONS_TEST: &str = "cmd/kube-controller-manager/app/options/options_test.go";
const CORE: &str = "cmd/kube-controller-manager/app/core.go";
const NODE_IPAM_TEST: &str = "pkg/controller/nodeipam/node_ipam_controller_test.go";
const CIDRSET_TEST: &str = "pkg/controller/nodeipam/ipam/cidrset/cidr_set_test.go";
const RANGE_TEST: &str = "pkg/controller/nodeipam/ipam/range_allocator_test.go";

fn at(file: &'static str, test: &'static str, case: &'static str) -> Upstream {
    Upstream {
        repo: K8S,
        file,
        test,
        case,
    }
}

/// The code path that checks the mask flags (no upstream test covers it).
fn core(case: &'static str) -> Upstream {
    at(CORE, "setNodeCIDRMaskSizes (code; no upstream test)", case)
}

/// A kubeadm ClusterConfiguration with these subnets and controller-manager flags.
fn kubeadm(pod: Option<&str>, service: &str, args: &[(&str, &str)]) -> String {
    let mut text = String::from(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nnetworking:\n",
    );
    if let Some(pod) = pod {
        text.push_str(&format!("  podSubnet: \"{pod}\"\n"));
    }
    text.push_str(&format!("  serviceSubnet: \"{service}\"\n"));
    if !args.is_empty() {
        text.push_str("controllerManager:\n  extraArgs:\n");
        for (name, value) in args {
            text.push_str(&format!("  - name: {name}\n    value: \"{value}\"\n"));
        }
    }
    text
}

fn options_and_controller() -> Vec<Row> {
    let t = "TestValidateControllersOptions";
    let n = "TestNewNodeIpamControllerWithCIDRMasks";
    let masks = |v4: &'static str, v6: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("node-cidr-mask-size-ipv4", v4),
            ("node-cidr-mask-size-ipv6", v6),
        ]
    };
    vec![
        row(
            at(
                OPTIONS_TEST,
                t,
                "NodeIPAMControllerOptions service cluster ip range more than two entries",
            ),
            Refuses,
            kubeadm(
                Some("10.244.0.0/16"),
                "10.0.0.0/16,244.0.0.0/16,3000::/108",
                &[],
            ),
            Kube6::Refuses(&["K6E003"]),
        ),
        row(
            at(NODE_IPAM_TEST, n, "valid_range_allocator"),
            Accepts,
            kubeadm(
                Some("10.0.0.0/21"),
                "10.1.0.0/21",
                &[("node-cidr-mask-size", "24")],
            ),
            Kube6::Accepts,
        ),
        row(
            at(NODE_IPAM_TEST, n, "valid_range_allocator_dualstack"),
            Accepts,
            // kubeadm needs a service range per pod family (K6W005 otherwise): the test's
            // single-stack service range is kept, and kube6 only warns.
            kubeadm(
                Some("10.0.0.0/21,2000::/48"),
                "10.1.0.0/21",
                &masks("24", "64"),
            ),
            Kube6::Warns("K6W005"),
        ),
        row(
            at(
                NODE_IPAM_TEST,
                n,
                "valid_range_allocator_dualstack_dualstackservice",
            ),
            Accepts,
            kubeadm(
                Some("10.0.0.0/21,2000::/48"),
                "10.1.0.0/21,3000::/112",
                &masks("24", "64"),
            ),
            Kube6::Accepts,
        ),
        row(
            at(NODE_IPAM_TEST, n, "invalid_cluster_CIDR"),
            Refuses,
            kubeadm(None, "10.1.0.0/21", &[("allocate-node-cidrs", "true")]),
            Kube6::Refuses(&["K6E319"]),
        ),
        row(
            at(
                NODE_IPAM_TEST,
                n,
                "invalid_CIDR_smaller_than_mask_other_allocators",
            ),
            Refuses,
            kubeadm(
                Some("10.0.0.0/26"),
                "10.1.0.0/21",
                &[("node-cidr-mask-size", "24")],
            ),
            // kubeadm's own check (K6E031) refuses the same mask first.
            Kube6::Refuses(&["K6E020", "K6E031"]),
        ),
        row(
            at(
                NODE_IPAM_TEST,
                n,
                "invalid_serviceCIDR_contains_clusterCIDR",
            ),
            Refuses,
            kubeadm(Some("10.0.0.0/16"), "10.0.0.0/12", &[]),
            Kube6::Refuses(&["K6E318"]),
        ),
        row(
            at(NODE_IPAM_TEST, n, "invalid_CIDR_mask_size"),
            Refuses,
            kubeadm(
                Some("10.0.0.0/24,2000::/64"),
                "10.1.0.0/21,3000::/112",
                &masks("24", "48"),
            ),
            Kube6::Refuses(&["K6E020", "K6E031"]),
        ),
    ]
}

fn mask_flags() -> Vec<Row> {
    const DUAL: &str = "10.244.0.0/16,fd00:10::/56";
    const DUAL_SVC: &str = "10.96.0.0/16,fd00:20::/112";
    vec![
        row(
            core("dual-stack with --node-cidr-mask-size"),
            Refuses,
            kubeadm(Some(DUAL), DUAL_SVC, &[("node-cidr-mask-size", "24")]),
            Kube6::Refuses(&["K6E022"]),
        ),
        row(
            core("dual-stack with --node-cidr-mask-size=0 (0 is the flag's unset value)"),
            Accepts,
            kubeadm(Some(DUAL), DUAL_SVC, &[("node-cidr-mask-size", "0")]),
            Kube6::Accepts,
        ),
        row(
            core("dual-stack with both per-family flags"),
            Accepts,
            kubeadm(
                Some(DUAL),
                DUAL_SVC,
                &[
                    ("node-cidr-mask-size-ipv4", "25"),
                    ("node-cidr-mask-size-ipv6", "64"),
                ],
            ),
            Kube6::Accepts,
        ),
        row(
            core("single-stack IPv4 with --node-cidr-mask-size and --node-cidr-mask-size-ipv4"),
            Refuses,
            kubeadm(
                Some("10.244.0.0/16"),
                "10.96.0.0/16",
                &[
                    ("node-cidr-mask-size", "24"),
                    ("node-cidr-mask-size-ipv4", "24"),
                ],
            ),
            Kube6::Refuses(&["K6E023"]),
        ),
        row(
            core("single-stack IPv4 with --node-cidr-mask-size-ipv6"),
            Refuses,
            kubeadm(
                Some("10.244.0.0/16"),
                "10.96.0.0/16",
                &[("node-cidr-mask-size-ipv6", "64")],
            ),
            Kube6::Refuses(&["K6E024"]),
        ),
        row(
            core("single-stack IPv6 with --node-cidr-mask-size-ipv4"),
            Refuses,
            kubeadm(
                Some("fd00:10::/56"),
                "fd00:20::/112",
                &[("node-cidr-mask-size-ipv4", "24")],
            ),
            Kube6::Refuses(&["K6E024"]),
        ),
        row(
            core("single-stack IPv6 with --node-cidr-mask-size (used for the family)"),
            Accepts,
            kubeadm(
                Some("fd00:10::/56"),
                "fd00:20::/112",
                &[("node-cidr-mask-size", "64")],
            ),
            Kube6::Accepts,
        ),
        row(
            core("single-stack IPv4 with --node-cidr-mask-size=0 (default 24)"),
            Accepts,
            kubeadm(
                Some("10.244.0.0/16"),
                "10.96.0.0/16",
                &[("node-cidr-mask-size", "0")],
            ),
            Kube6::Accepts,
        ),
        row(
            at(
                CORE,
                "startNodeIpamController (code; no upstream test)",
                "three cluster CIDRs",
            ),
            Refuses,
            kubeadm(
                Some("10.244.0.0/16,fd00:10::/56,10.245.0.0/16"),
                DUAL_SVC,
                &[],
            ),
            Kube6::Refuses(&["K6E003"]),
        ),
        row(
            at(
                CORE,
                "startNodeIpamController (code; no upstream test)",
                "two cluster CIDRs of one family",
            ),
            Refuses,
            kubeadm(Some("10.244.0.0/16,10.245.0.0/16"), "10.96.0.0/16", &[]),
            Kube6::Refuses(&["K6E003"]),
        ),
    ]
}

#[test]
fn validation_tests() {
    let mut rows = options_and_controller();
    rows.extend(mask_flags());
    check(rows);
}

fn net(s: &str) -> IpNet {
    // kube's tests parse with ParseCIDRSloppy, which keeps the network of the prefix.
    IpNet::from_str(s).map(|n| n.trunc()).unwrap()
}

fn set(cluster: &str, mask: u8) -> CidrSet {
    CidrSet::new(net(cluster), mask).unwrap()
}

/// TestCIDRSetFullyAllocated: a one-block set hands out the block, is full, and hands out the
/// same block again after a release.
#[test]
fn cidrset_fully_allocated() {
    for (case, cluster, mask) in [
        ("Fully allocated CIDR with IPv4", "127.123.234.0/30", 30),
        ("Fully allocated CIDR with IPv6", "beef:1234::/30", 30),
    ] {
        let upstream = at(CIDRSET_TEST, "TestCIDRSetFullyAllocated", case);
        let mut a = set(cluster, mask);
        let p = a.allocate_next().unwrap();
        assert_eq!(p, net(cluster), "{upstream}");
        assert!(a.allocate_next().is_err(), "{upstream}");
        a.release(&p).unwrap();
        assert_eq!(a.allocate_next().unwrap(), net(cluster), "{upstream}");
        assert!(a.allocate_next().is_err(), "{upstream}");
    }
}

/// TestIndexToCIDRBlock.
#[test]
fn cidrset_index_to_block() {
    let t = "TestIndexToCIDRBlock";
    for (case, cluster, mask, index, block) in [
        (
            "1st IP address indexed with IPv4",
            "127.123.3.0/16",
            24,
            0,
            "127.123.0.0/24",
        ),
        (
            "16th IP address indexed with IPv4",
            "127.123.0.0/16",
            24,
            15,
            "127.123.15.0/24",
        ),
        (
            "5th IP address indexed with IPv4",
            "192.168.5.219/28",
            32,
            5,
            "192.168.5.213/32",
        ),
        (
            "1st IP address indexed with IPv6 /64",
            "2001:0db8:1234:3::/48",
            64,
            0,
            "2001:db8:1234::/64",
        ),
        (
            "16th IP address indexed with IPv6 /64",
            "2001:0db8:1234::/48",
            64,
            15,
            "2001:db8:1234:f::/64",
        ),
        (
            "6426th IP address indexed with IPv6 /63",
            "2001:0db8:85a3::8a2e:0370:7334/50",
            63,
            6425,
            "2001:db8:85a3:3232::/63",
        ),
        (
            "1st IP address indexed with IPv6 /48",
            "2001:0db8::/32",
            48,
            0,
            "2001:db8::/48",
        ),
        (
            "16th IP address indexed with IPv6 /48",
            "2001:0db8::/32",
            48,
            15,
            "2001:db8:f::/48",
        ),
        (
            "6426th IP address indexed with IPv6 /48",
            "2001:0db8:85a3::8a2e:0370:7334/32",
            48,
            6425,
            "2001:db8:1919::/48",
        ),
        (
            "1st IP address indexed with IPv6 /72",
            "2001:0db8:1234:ff00::/56",
            72,
            0,
            "2001:db8:1234:ff00::/72",
        ),
        (
            "16th IP address indexed with IPv6 /72",
            "2001:0db8:1234:ff00::/56",
            72,
            15,
            "2001:db8:1234:ff00:f00::/72",
        ),
        (
            "6426th IP address indexed with IPv6 /72",
            "2001:0db8:1234:ff00::0370:7334/56",
            72,
            6425,
            "2001:db8:1234:ff19:1900::/72",
        ),
        (
            "1st IP address indexed with IPv6 /96",
            "2001:0db8:1234:0:1234::/80",
            96,
            0,
            "2001:db8:1234:0:1234::/96",
        ),
        (
            "16th IP address indexed with IPv6 /96",
            "2001:0db8:1234:0:1234::/80",
            96,
            15,
            "2001:db8:1234:0:1234:f::/96",
        ),
        (
            "6426th IP address indexed with IPv6 /96",
            "2001:0db8:1234:ff00::0370:7334/80",
            96,
            6425,
            "2001:db8:1234:ff00:0:1919::/96",
        ),
    ] {
        let upstream = at(CIDRSET_TEST, t, case);
        let a = set(cluster, mask);
        assert_eq!(a.block_at(index), Some(net(block)), "{upstream}");
    }
}

/// TestCIDRSet_RandomishAllocation and TestCIDRSet_AllocationOccupied: allocate all 256 blocks,
/// release them, and allocate again (all of them, or the first half with the second half occupied);
/// the second round returns the same blocks in the same order.
#[test]
fn cidrset_reallocation() {
    for (test, case, cluster) in [
        (
            "TestCIDRSet_RandomishAllocation",
            "RandomishAllocation with IPv4",
            "127.123.234.0/16",
        ),
        (
            "TestCIDRSet_RandomishAllocation",
            "RandomishAllocation with IPv6",
            "beef:1234::/16",
        ),
        (
            "TestCIDRSet_AllocationOccupied",
            "AllocationOccupied with IPv4",
            "127.123.234.0/16",
        ),
        (
            "TestCIDRSet_AllocationOccupied",
            "AllocationOccupied with IPv6",
            "beef:1234::/16",
        ),
    ] {
        let upstream = at(CIDRSET_TEST, test, case);
        let mut a = set(cluster, 24);
        let first: Vec<IpNet> = (0..256).map(|_| a.allocate_next().unwrap()).collect();
        assert!(a.allocate_next().is_err(), "{upstream}");
        for block in &first {
            a.release(block).unwrap();
        }
        let again: Vec<IpNet> = if test == "TestCIDRSet_AllocationOccupied" {
            for block in &first[128..] {
                a.occupy(block).unwrap();
            }
            a.occupy(&first[128]).unwrap();
            let mut again: Vec<IpNet> = (0..128).map(|_| a.allocate_next().unwrap()).collect();
            again.extend_from_slice(&first[128..]);
            again
        } else {
            (0..256).map(|_| a.allocate_next().unwrap()).collect()
        };
        assert!(a.allocate_next().is_err(), "{upstream}");
        assert_eq!(first, again, "{upstream}");
    }
}

/// TestDoubleOccupyRelease: the count of used blocks after each occupy/release, then exactly
/// 2^8 - 3 more allocations.
#[test]
fn cidrset_double_occupy_release() {
    let upstream = at(
        CIDRSET_TEST,
        "TestDoubleOccupyRelease",
        "10.42.0.0/16 sequence",
    );
    let mut a = set("10.42.0.0/16", 24);
    for (cidr, occupy, used) in [
        ("10.42.5.0/24", true, 1),
        ("10.42.9.0/24", true, 2),
        ("10.42.8.0/22", true, 5),
        ("10.42.9.0/24", true, 5),
        ("10.42.9.0/24", false, 4),
        ("10.42.9.0/24", false, 4),
        ("10.42.4.0/22", false, 3),
    ] {
        if occupy {
            a.occupy(&net(cidr)).unwrap();
        } else {
            a.release(&net(cidr)).unwrap();
        }
        assert_eq!(a.allocated(), used, "{upstream}: after {cidr}");
    }
    for i in 0..(1 << 8) - 3 {
        assert!(a.allocate_next().is_ok(), "{upstream}: allocation {i}");
    }
    assert!(a.allocate_next().is_err(), "{upstream}");
}

/// TestGetBitforCIDR: the index of a block, or none outside the cluster CIDR.
#[test]
fn cidrset_index_for_cidr() {
    let t = "TestGetBitforCIDR";
    for (case, cluster, mask, subnet, index) in [
        (
            "Get 0 Bit with IPv4",
            "127.0.0.0/8",
            16,
            "127.0.0.0/16",
            Some(0),
        ),
        ("Get 0 Bit with IPv6", "be00::/8", 16, "be00::/16", Some(0)),
        (
            "Get 123rd Bit with IPv4",
            "127.0.0.0/8",
            16,
            "127.123.0.0/16",
            Some(123),
        ),
        (
            "Get xef Bit with IPv6",
            "be00::/8",
            16,
            "beef::/16",
            Some(0xef),
        ),
        (
            "Get 168th Bit with IPv4",
            "127.0.0.0/8",
            16,
            "127.168.0.0/16",
            Some(168),
        ),
        (
            "Get x68th Bit with IPv6",
            "be00::/8",
            16,
            "be68::/16",
            Some(0x68),
        ),
        (
            "Get 224th Bit with IPv4",
            "127.0.0.0/8",
            16,
            "127.224.0.0/16",
            Some(224),
        ),
        (
            "Get x24th Bit with IPv6",
            "be00::/8",
            16,
            "be24::/16",
            Some(0x24),
        ),
        (
            "Get 12th Bit with IPv4",
            "192.168.0.0/16",
            24,
            "192.168.12.0/24",
            Some(12),
        ),
        (
            "Get x12th Bit with IPv6",
            "beef::/16",
            24,
            "beef:1200::/24",
            Some(0x12),
        ),
        (
            "Get 151st Bit with IPv4",
            "192.168.0.0/16",
            24,
            "192.168.151.0/24",
            Some(151),
        ),
        (
            "Get x97st Bit with IPv6",
            "beef::/16",
            24,
            "beef:9700::/24",
            Some(0x97),
        ),
        (
            "Get error with IPv4",
            "192.168.0.0/16",
            24,
            "127.168.224.0/24",
            None,
        ),
        (
            "Get error with IPv6",
            "beef::/16",
            24,
            "2001:db00::/24",
            None,
        ),
    ] {
        let upstream = at(CIDRSET_TEST, t, case);
        assert_eq!(
            set(cluster, mask).index_of(&net(subnet)),
            index,
            "{upstream}"
        );
    }
}

/// TestOccupy: which block indices a CIDR marks used (a CIDR containing the cluster CIDR marks
/// them all).
#[test]
fn cidrset_occupy() {
    let t = "TestOccupy";
    for (case, cluster, mask, subnet, begin, end) in [
        (
            "Occupy all Bits with IPv4",
            "127.0.0.0/8",
            16,
            "127.0.0.0/8",
            0,
            255,
        ),
        (
            "Occupy all Bits with IPv6",
            "2001:beef:1200::/40",
            48,
            "2001:beef:1200::/40",
            0,
            255,
        ),
        (
            "Occupy every Bit with IPv4",
            "127.0.0.0/8",
            16,
            "127.0.0.0/2",
            0,
            255,
        ),
        (
            "Occupy every Bit with IPv6",
            "2001:beef:1200::/40",
            48,
            "2001:beef:1234::/34",
            0,
            255,
        ),
        (
            "Occupy 1st Bit with IPv4",
            "127.0.0.0/8",
            16,
            "127.0.0.0/16",
            0,
            0,
        ),
        (
            "Occupy 1st Bit with IPv6",
            "2001:beef:1200::/40",
            48,
            "2001:beef:1200::/48",
            0,
            0,
        ),
        (
            "Occupy 65535 Bits with IPv4",
            "127.0.0.0/8",
            32,
            "127.0.0.0/16",
            0,
            65535,
        ),
        (
            "Occupy 65535 Bits with IPv6",
            "2001:beef:1200::/48",
            64,
            "2001:beef:1200::/48",
            0,
            65535,
        ),
        (
            "Occupy 257th Bit with IPv4",
            "127.0.0.0/7",
            16,
            "127.0.0.0/15",
            256,
            257,
        ),
        (
            "Occupy 257th Bit with IPv6",
            "2001:beef:7f00::/39",
            48,
            "2001:beef:7f00::/47",
            256,
            257,
        ),
        (
            "Occupy 128th Bit with IPv4",
            "127.0.0.0/7",
            15,
            "127.0.0.0/15",
            128,
            128,
        ),
        (
            "Occupy 128th Bit with IPv6",
            "2001:beef:7f00::/39",
            47,
            "2001:beef:7f00::/47",
            128,
            128,
        ),
        (
            "Occupy 1031st Bit with IPv4",
            "127.0.0.0/7",
            18,
            "127.0.0.0/15",
            1024,
            1031,
        ),
        (
            "Occupy 1031st Bit with IPv6",
            "2001:beef:7f00::/39",
            50,
            "2001:beef:7f00::/47",
            1024,
            1031,
        ),
    ] {
        let upstream = at(CIDRSET_TEST, t, case);
        let mut a = set(cluster, mask);
        a.occupy(&net(subnet)).unwrap();
        assert_eq!(a.allocated(), end - begin + 1, "{upstream}");
        assert!(a.is_used(begin) && a.is_used(end), "{upstream}");
        assert!(begin == 0 || !a.is_used(begin - 1), "{upstream}");
        assert!(!a.is_used(end + 1), "{upstream}");
    }
}

/// TestCIDRSetv6: the IPv6 limit of 16 bits between cluster prefix and node mask, and the first
/// two allocations.
#[test]
fn cidrset_v6() {
    let t = "TestCIDRSetv6";
    for (case, cluster, mask, expected) in [
        (
            "Max cluster subnet size with IPv4",
            "127.0.0.0/8",
            32,
            Some(("127.0.0.0/32", "127.0.0.1/32")),
        ),
        (
            "Max cluster subnet size with IPv6",
            "beef:1234::/32",
            49,
            None,
        ),
        (
            "Allocate a few IPv6",
            "2001:beef:1234:369b::/60",
            64,
            Some(("2001:beef:1234:3690::/64", "2001:beef:1234:3691::/64")),
        ),
    ] {
        let upstream = at(CIDRSET_TEST, t, case);
        match (CidrSet::new(net(cluster), mask), expected) {
            (Ok(mut a), Some((first, second))) => {
                assert_eq!(a.allocate_next().unwrap(), net(first), "{upstream}");
                assert_eq!(a.allocate_next().unwrap(), net(second), "{upstream}");
            }
            (Err(_), None) => {}
            (got, _) => panic!("{upstream}: {got:?}"),
        }
    }
}

/// The same limit as kube6 rules see it: K6E021 for an IPv6 node mask more than 16 bits longer
/// than the pod range.
#[test]
fn cidrset_v6_limit_as_rule() {
    check(vec![
        row(
            at(
                CIDRSET_TEST,
                "TestCIDRSetv6",
                "Max cluster subnet size with IPv6",
            ),
            Refuses,
            kubeadm(
                Some("beef:1234::/32"),
                "fd00:20::/112",
                &[("node-cidr-mask-size-ipv6", "49")],
            ),
            // kubeadm's own pod-subnet check refuses the same mask (K6E031).
            Kube6::Refuses(&["K6E021", "K6E031"]),
        ),
        row(
            at(CIDRSET_TEST, "TestCIDRSetv6", "Allocate a few IPv6"),
            Accepts,
            kubeadm(Some("2001:beef:1234:3690::/60"), "fd00:20::/112", &[]),
            Kube6::Accepts,
        ),
    ]);
}

struct AllocatorCase {
    upstream: Upstream,
    cluster: &'static [(&'static str, u8)],
    service: Option<&'static str>,
    /// Nodes that already have pod CIDRs when the controller starts.
    existing: &'static [&'static [&'static str]],
    /// Blocks occupied directly in the first set (the tests' white-box `allocatedCIDRs`).
    occupied: &'static [&'static str],
    /// What the next node gets: its blocks, or None when allocation fails.
    expected: Option<&'static [&'static str]>,
}

fn run(case: &AllocatorCase) -> Result<Option<Vec<IpNet>>, String> {
    let cluster: Vec<(IpNet, u8)> = case.cluster.iter().map(|(c, m)| (net(c), *m)).collect();
    let services: Vec<IpNet> = case.service.iter().map(|s| net(s)).collect();
    let mut allocator = NodeAllocator::new(&cluster, &services).map_err(|e| e.to_string())?;
    for node in case.existing {
        let blocks: Vec<IpNet> = node.iter().map(|b| net(b)).collect();
        allocator.occupy_node(&blocks).map_err(|e| e.to_string())?;
    }
    // A one-element list occupies in the first set only, like the tests' cidrSets[0].Occupy.
    for block in case.occupied {
        allocator
            .occupy_node(&[net(block)])
            .map_err(|e| e.to_string())?;
    }
    Ok(allocator.allocate_node().ok())
}

/// TestAllocateOrOccupyCIDRSuccess and TestAllocateOrOccupyCIDRFailure.
#[test]
fn range_allocator_allocate() {
    let ok = "TestAllocateOrOccupyCIDRSuccess";
    let cases = [
        AllocatorCase {
            upstream: at(
                RANGE_TEST,
                ok,
                "When there's no ServiceCIDR return first CIDR in range",
            ),
            cluster: &[("127.123.234.0/24", 30)],
            service: None,
            existing: &[],
            occupied: &[],
            expected: Some(&["127.123.234.0/30"]),
        },
        AllocatorCase {
            upstream: at(RANGE_TEST, ok, "Correctly filter out ServiceCIDR"),
            cluster: &[("127.123.234.0/24", 30)],
            service: Some("127.123.234.0/26"),
            existing: &[],
            occupied: &[],
            expected: Some(&["127.123.234.64/30"]),
        },
        AllocatorCase {
            upstream: at(RANGE_TEST, ok, "Correctly ignore already allocated CIDRs"),
            cluster: &[("127.123.234.0/24", 30)],
            service: Some("127.123.234.0/26"),
            existing: &[],
            occupied: &[
                "127.123.234.64/30",
                "127.123.234.68/30",
                "127.123.234.72/30",
                "127.123.234.80/30",
            ],
            expected: Some(&["127.123.234.76/30"]),
        },
        AllocatorCase {
            upstream: at(RANGE_TEST, ok, "Dualstack CIDRs v4,v6"),
            cluster: &[("127.123.234.0/8", 24), ("ace:cab:deca::/84", 98)],
            service: Some("127.123.234.0/26"),
            existing: &[],
            occupied: &[],
            expected: Some(&["127.0.0.0/24", "ace:cab:deca::/98"]),
        },
        AllocatorCase {
            upstream: at(RANGE_TEST, ok, "Dualstack CIDRs v6,v4"),
            cluster: &[("ace:cab:deca::/84", 98), ("127.123.234.0/8", 24)],
            service: Some("127.123.234.0/26"),
            existing: &[],
            occupied: &[],
            expected: Some(&["ace:cab:deca::/98", "127.0.0.0/24"]),
        },
        AllocatorCase {
            upstream: at(RANGE_TEST, ok, "Dualstack CIDRs, more than two"),
            cluster: &[
                ("127.123.234.0/8", 24),
                ("ace:cab:deca::/84", 98),
                ("10.0.0.0/8", 24),
            ],
            service: Some("127.123.234.0/26"),
            existing: &[],
            occupied: &[],
            expected: Some(&["127.0.0.0/24", "ace:cab:deca::/98", "10.0.0.0/24"]),
        },
        AllocatorCase {
            upstream: at(RANGE_TEST, ok, "no double counting"),
            cluster: &[("10.10.0.0/22", 24)],
            service: None,
            existing: &[&["10.10.0.0/24"], &["10.10.2.0/24"]],
            occupied: &[],
            expected: Some(&["10.10.1.0/24"]),
        },
        AllocatorCase {
            upstream: at(
                RANGE_TEST,
                "TestAllocateOrOccupyCIDRFailure",
                "When there's no ServiceCIDR return first CIDR in range",
            ),
            cluster: &[("127.123.234.0/28", 30)],
            service: None,
            existing: &[],
            occupied: &[
                "127.123.234.0/30",
                "127.123.234.4/30",
                "127.123.234.8/30",
                "127.123.234.12/30",
            ],
            expected: None,
        },
    ];
    for case in &cases {
        let got = run(case).unwrap_or_else(|e| panic!("{}: {e}", case.upstream));
        let expected = case
            .expected
            .map(|e| e.iter().map(|b| net(b)).collect::<Vec<_>>());
        assert_eq!(got, expected, "{}", case.upstream);
    }
}

/// Cluster CIDRs with their node masks.
type ClusterCidrs = &'static [(&'static str, u8)];

/// TestOccupyPreExistingCIDR: the allocator refuses to start when an existing node's pod CIDR
/// is outside its cluster CIDR, or a node has more pod CIDRs than there are cluster CIDRs.
#[test]
fn range_allocator_pre_existing() {
    let t = "TestOccupyPreExistingCIDR";
    const V4: (&str, u8) = ("10.10.0.0/16", 24);
    const V6: (&str, u8) = ("ace:cab:deca::/8", 24);
    let cases: [(&str, ClusterCidrs, &[&str], bool); 8] = [
        ("success, single stack no node allocation", &[V4], &[], true),
        (
            "success, dual stack no node allocation",
            &[V4, V6],
            &[],
            true,
        ),
        (
            "success, single stack correct node allocation",
            &[V4],
            &["10.10.0.1/24"],
            true,
        ),
        (
            "success, dual stack both allocated correctly",
            &[V4, V6],
            &["10.10.0.1/24", "a00::/86"],
            true,
        ),
        (
            "fail, single stack incorrect node allocation",
            &[V4],
            &["172.10.0.1/24"],
            false,
        ),
        (
            "fail, dualstack node allocating from non existing cidr",
            &[V4],
            &["10.10.0.1/24", "a00::/86"],
            false,
        ),
        (
            "fail, dualstack node allocating bad v4",
            &[V4, V6],
            &["172.10.0.1/24", "a00::/86"],
            false,
        ),
        (
            "fail, dualstack node allocating bad v6",
            &[V4, V6],
            &["10.10.0.1/24", "cdd::/86"],
            false,
        ),
    ];
    for (name, cluster, node, starts) in cases {
        let upstream = at(RANGE_TEST, t, name);
        let cluster: Vec<(IpNet, u8)> = cluster.iter().map(|(c, m)| (net(c), *m)).collect();
        let mut allocator = NodeAllocator::new(&cluster, &[]).unwrap();
        let blocks: Vec<IpNet> = node.iter().map(|b| net(b)).collect();
        assert_eq!(allocator.occupy_node(&blocks).is_ok(), starts, "{upstream}");
    }
}

/// TestReleaseCIDRSuccess: a released block is handed out again.
#[test]
fn range_allocator_release() {
    let t = "TestReleaseCIDRSuccess";
    for (case, occupied, first, release) in [
        (
            "Correctly release preallocated CIDR",
            &[
                "127.123.234.0/30",
                "127.123.234.4/30",
                "127.123.234.8/30",
                "127.123.234.12/30",
            ][..],
            None,
            "127.123.234.4/30",
        ),
        (
            "Correctly recycle CIDR",
            &["127.123.234.4/30", "127.123.234.8/30", "127.123.234.12/30"][..],
            Some("127.123.234.0/30"),
            "127.123.234.0/30",
        ),
    ] {
        let upstream = at(RANGE_TEST, t, case);
        let mut allocator = NodeAllocator::new(&[(net("127.123.234.0/28"), 30)], &[]).unwrap();
        for block in occupied {
            allocator.occupy_node(&[net(block)]).unwrap();
        }
        let got = allocator.allocate_node().ok();
        assert_eq!(got, first.map(|b| vec![net(b)]), "{upstream}: first round");
        allocator.release_node(&[net(release)]).unwrap();
        assert_eq!(
            allocator.allocate_node().unwrap(),
            vec![net(release)],
            "{upstream}: second round"
        );
    }
}
