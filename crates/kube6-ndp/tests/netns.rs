#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The proxy in network namespaces: router (r0) ↔ (n0) node (p0) ↔ (eth0) pod, as in the
//! reference topology. Each test builds its own namespaces (names contain the pid), runs the proxy
//! (`ndp-bench serve`, the library's thin front end, from kube6-testnet) in the node namespace and probes it with raw
//! frames from the router namespace. Needs root; fails under CI=true without it.

use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube6_ndp::packet::{self, DropReason, ETH_HLEN, IPV6_HLEN, ND_MIN_LEN};
use kube6_testnet::ndp::{self as testnet, Prober, Topology, in_netns, metric};

const PORT: u16 = 9465;

fn addr(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn router() -> Ipv6Addr {
    addr(testnet::ROUTER)
}

fn pod() -> Ipv6Addr {
    addr(testnet::POD)
}

/// Writes CONFIG into a temp file and starts the proxy in the node namespace.
fn start_proxy(topo: &mut Topology, config: &str) -> (u32, PathBuf) {
    let dir = topo.scratch.clone();
    let path = dir.join("ndp.yaml");
    std::fs::write(&path, config).unwrap();
    let log = dir.join("proxy.log");
    let node = topo.node.clone();
    let pid = topo
        .spawn(
            &node,
            kube6_testnet::ndp_bench(),
            &["serve", path.to_str().unwrap(), "-v"],
            Some(log.clone()),
        )
        .unwrap();
    if let Err(e) = topo.wait_proxy_up(&node, PORT) {
        panic!(
            "{e}; log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    (pid, path)
}

fn static_config() -> String {
    format!(
        "uplink: n0\nprefixes:\n  - 2001:db8:1::a:0/112\nmetrics: 127.0.0.1:{PORT}\nrate-limit:\n  per-second: 0\n"
    )
}

fn ping(topo: &Topology, target: &str) -> bool {
    // Forget the neighbour first so the router has to solicit again.
    let _ = topo.ip(&topo.rtr, &["-6", "neigh", "flush", "dev", "r0"]);
    for _ in 0..2 {
        let out = topo
            .exec(&topo.rtr, "ping", &["-6", "-c", "1", "-W", "1", target])
            .unwrap();
        if out.status.success() {
            return true;
        }
    }
    false
}

/// Sends each frame from the router and returns, per frame, the NA answering it (if any).
fn ask_all(topo: &Topology, frames: Vec<(Vec<u8>, Ipv6Addr)>) -> Vec<Option<testnet::Received>> {
    in_netns(&topo.rtr, move || {
        let p = Prober::open("r0").unwrap();
        frames
            .iter()
            .map(|(f, target)| p.ask(f, *target, Duration::from_millis(400)).unwrap())
            .collect()
    })
    .unwrap()
}

fn ns_frame(topo: &Topology, src: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let mac = topo.mac(&topo.rtr, "r0").unwrap();
    packet::build_ns(packet::NsSpec {
        eth_src: mac,
        src,
        dst: None,
        target,
        source_lla: (!src.is_unspecified()).then_some(mac),
    })
}

fn fix_checksum(frame: &mut [u8]) {
    let start = ETH_HLEN + IPV6_HLEN;
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[ETH_HLEN + 8..ETH_HLEN + 24]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[ETH_HLEN + 24..ETH_HLEN + 40]).unwrap());
    frame[start + 2] = 0;
    frame[start + 3] = 0;
    let sum = packet::checksum(&src, &dst, &frame[start..]);
    frame[start + 2..start + 4].copy_from_slice(&sum.to_be_bytes());
}

#[test]
fn ping_works_only_while_proxy_runs() {
    if !kube6_testnet::require("ping_works_only_while_proxy_runs", &["ping"]) {
        return;
    }
    let mut topo = Topology::create("ping").unwrap();
    assert!(!ping(&topo, testnet::POD), "pod reachable without a proxy");
    let (pid, _) = start_proxy(&mut topo, &static_config());
    assert!(
        ping(&topo, testnet::POD),
        "pod not reachable with the proxy"
    );
    let neigh = topo
        .ip(&topo.rtr, &["-6", "neigh", "show", "dev", "r0"])
        .unwrap();
    let text = String::from_utf8_lossy(&neigh.stdout).to_string();
    let n0 = topo.mac(&topo.node, "n0").unwrap();
    let mac = n0.map(|b| format!("{b:02x}")).join(":");
    assert!(
        text.lines()
            .any(|l| l.starts_with(testnet::POD) && l.contains(&mac) && l.contains("router")),
        "neighbour entry: {text}"
    );
    assert!(
        topo.signal(pid, libc::SIGTERM),
        "proxy did not stop on SIGTERM"
    );
    assert!(
        !ping(&topo, testnet::POD),
        "pod reachable after the proxy stopped"
    );
}

#[test]
fn answers_carry_rfc4861_fields() {
    if !kube6_testnet::require("answers_carry_rfc4861_fields", &[]) {
        return;
    }
    let mut topo = Topology::create("fields").unwrap();
    start_proxy(&mut topo, &static_config());
    let n0 = topo.mac(&topo.node, "n0").unwrap();
    let r0 = topo.mac(&topo.rtr, "r0").unwrap();
    let unicast_dst = packet::build_ns(packet::NsSpec {
        eth_src: r0,
        src: router(),
        dst: Some((pod(), n0)),
        target: pod(),
        source_lla: Some(r0),
    });
    let answers = ask_all(
        &topo,
        vec![
            (ns_frame(&topo, router(), pod()), pod()),
            (ns_frame(&topo, Ipv6Addr::UNSPECIFIED, pod()), pod()),
            (unicast_dst, pod()),
        ],
    );
    // Multicast NS from a unicast source: S set, to the solicitor.
    let a = answers[0].as_ref().expect("no answer to a multicast NS");
    assert_eq!(a.na.dst, router());
    assert_eq!(a.eth_dst, r0);
    assert_eq!(a.hop_limit, 255);
    assert!(a.na.router && a.na.solicited && !a.na.override_flag);
    assert_eq!(a.na.target_lla, Some(n0));
    assert_eq!(a.na.eth_src, n0);
    // DAD NS: to ff02::1, S clear.
    let d = answers[1].as_ref().expect("no answer to a DAD NS");
    assert_eq!(d.na.dst, addr("ff02::1"));
    assert_eq!(d.eth_dst, [0x33, 0x33, 0, 0, 0, 1]);
    assert!(!d.na.solicited && !d.na.override_flag && d.na.router);
    assert_eq!(d.hop_limit, 255);
    // Unicast NS (reachability probe): answered too.
    let u = answers[2].as_ref().expect("no answer to a unicast NS");
    assert!(u.na.solicited);
    assert_eq!(u.na.dst, router());
}

#[test]
fn outside_prefix_and_own_addresses_get_no_answer() {
    if !kube6_testnet::require("outside_prefix_and_own_addresses_get_no_answer", &[]) {
        return;
    }
    let mut topo = Topology::create("outside").unwrap();
    // The node's own address inside a proxied prefix must never be answered by the proxy.
    topo.ip(
        &topo.node,
        &["addr", "add", "2001:db8:1::a:1/128", "dev", "p0", "nodad"],
    )
    .unwrap();
    start_proxy(&mut topo, &static_config());
    let answers = ask_all(
        &topo,
        vec![
            (
                ns_frame(&topo, router(), addr("2001:db8:1::b:1")),
                addr("2001:db8:1::b:1"),
            ),
            (
                ns_frame(&topo, router(), addr("2001:db8:1::a:1")),
                addr("2001:db8:1::a:1"),
            ),
            (
                ns_frame(&topo, router(), addr("2001:db8:1::a:ffff")),
                addr("2001:db8:1::a:ffff"),
            ),
        ],
    );
    assert!(answers[0].is_none(), "answered outside the prefix");
    assert!(
        answers[1].is_none(),
        "proxy answered for the host's own address"
    );
    assert!(
        answers[2].is_some(),
        "last address of the prefix not answered"
    );
    let m = topo.metrics(&topo.node, PORT).unwrap();
    assert_eq!(
        metric(&m, "kube6_ndp_drops_total{reason=\"outside_prefix\"}"),
        Some(1),
        "{m}"
    );
    assert_eq!(
        metric(&m, "kube6_ndp_drops_total{reason=\"own_address\"}"),
        Some(1),
        "{m}"
    );
}

#[test]
fn malformed_ns_are_dropped_and_counted() {
    if !kube6_testnet::require("malformed_ns_are_dropped_and_counted", &[]) {
        return;
    }
    let mut topo = Topology::create("malformed").unwrap();
    start_proxy(&mut topo, &static_config());
    let good = ns_frame(&topo, router(), pod());
    let icmp = ETH_HLEN + IPV6_HLEN;

    let mut hop = good.clone();
    hop[ETH_HLEN + 7] = 64;
    let mut sum = good.clone();
    sum[icmp + 2] ^= 0xff;
    let mut zero_opt = good.clone();
    zero_opt[icmp + ND_MIN_LEN + 1] = 0;
    fix_checksum(&mut zero_opt);
    let mut mcast = good.clone();
    mcast[icmp + 8..icmp + 24].copy_from_slice(&addr("ff02::1").octets());
    fix_checksum(&mut mcast);
    let mut dad_slla = good.clone();
    dad_slla[ETH_HLEN + 8..ETH_HLEN + 24].copy_from_slice(&Ipv6Addr::UNSPECIFIED.octets());
    fix_checksum(&mut dad_slla);
    let mut code = good.clone();
    code[icmp + 1] = 7;
    fix_checksum(&mut code);

    let frames = vec![
        (hop, pod()),
        (sum, pod()),
        (zero_opt, pod()),
        (mcast, addr("ff02::1")),
        (dad_slla, pod()),
        (code, pod()),
        (good, pod()),
    ];
    let answers = ask_all(&topo, frames);
    for (i, a) in answers[..6].iter().enumerate() {
        assert!(a.is_none(), "malformed NS #{i} was answered");
    }
    assert!(
        answers[6].is_some(),
        "the valid NS after them was not answered"
    );
    let m = topo.metrics(&topo.node, PORT).unwrap();
    for reason in [
        DropReason::HopLimit,
        DropReason::Checksum,
        DropReason::ZeroLengthOption,
        DropReason::MulticastTarget,
        DropReason::DadSourceLinkLayer,
        DropReason::Code,
    ] {
        let name = format!("kube6_ndp_drops_total{{reason=\"{}\"}}", reason.as_str());
        assert_eq!(metric(&m, &name), Some(1), "{name} in:\n{m}");
    }
    assert_eq!(metric(&m, "kube6_ndp_na_sent_total"), Some(1), "{m}");
}

#[test]
fn routed_mode_follows_route_events() {
    if !kube6_testnet::require("routed_mode_follows_route_events", &[]) {
        return;
    }
    let mut topo = Topology::create("routed").unwrap();
    let config = format!(
        "uplink: n0\nprefixes:\n  - prefix: 2001:db8:1::c:0/112\n    mode: routed\nmetrics: 127.0.0.1:{PORT}\n"
    );
    start_proxy(&mut topo, &config);
    let target = addr("2001:db8:1::c:5");
    let frame = ns_frame(&topo, router(), target);
    let ask = |topo: &Topology| ask_all(topo, vec![(frame.clone(), target)]).remove(0);
    assert!(ask(&topo).is_none(), "answered without a route");
    topo.ip(
        &topo.node,
        &["-6", "route", "add", "2001:db8:1::c:0/120", "dev", "p0"],
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut answered = false;
    while Instant::now() < deadline && !answered {
        answered = ask(&topo).is_some();
    }
    assert!(answered, "not answered after the route was added");
    topo.ip(
        &topo.node,
        &["-6", "route", "del", "2001:db8:1::c:0/120", "dev", "p0"],
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        ask(&topo).is_none(),
        "still answered after the route was removed"
    );
    // A route back out the uplink does not count.
    topo.ip(
        &topo.node,
        &["-6", "route", "add", "2001:db8:1::c:0/120", "dev", "n0"],
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        ask(&topo).is_none(),
        "answered for a target routed via the uplink"
    );
    let m = topo.metrics(&topo.node, PORT).unwrap();
    assert!(
        metric(&m, "kube6_ndp_drops_total{reason=\"no_route\"}").unwrap_or(0) >= 3,
        "{m}"
    );
}

#[test]
fn probe_mode_answers_only_when_the_owner_does() {
    if !kube6_testnet::require("probe_mode_answers_only_when_the_owner_does", &[]) {
        return;
    }
    let mut topo = Topology::create("probe").unwrap();
    let config = format!(
        "uplink: n0\nprefixes:\n  - 2001:db8:1::a:0/112=probe:p0\nmetrics: 127.0.0.1:{PORT}\nprobe:\n  timeout-ms: 300\n"
    );
    start_proxy(&mut topo, &config);
    let absent = addr("2001:db8:1::a:99");
    let answers = ask_all(
        &topo,
        vec![
            (ns_frame(&topo, router(), pod()), pod()),
            (ns_frame(&topo, router(), absent), absent),
            (ns_frame(&topo, router(), pod()), pod()),
        ],
    );
    assert!(answers[0].is_some(), "present pod not answered");
    assert!(answers[1].is_none(), "absent pod answered");
    assert!(answers[2].is_some(), "cached pod not answered");
    std::thread::sleep(Duration::from_millis(400));
    let m = topo.metrics(&topo.node, PORT).unwrap();
    assert_eq!(
        metric(&m, "kube6_ndp_drops_total{reason=\"probe_timeout\"}"),
        Some(1),
        "{m}"
    );
    assert_eq!(metric(&m, "kube6_ndp_probes_sent_total"), Some(2), "{m}");
    assert!(ping(&topo, testnet::POD));
}

#[test]
fn allmulti_is_released_after_kill_9() {
    if !kube6_testnet::require("allmulti_is_released_after_kill_9", &[]) {
        return;
    }
    let mut topo = Topology::create("kill").unwrap();
    assert_eq!(topo.allmulti(&topo.node, "n0").unwrap(), 0);
    let (pid, _) = start_proxy(&mut topo, &static_config());
    assert_eq!(topo.allmulti(&topo.node, "n0").unwrap(), 1);
    let _ = topo.signal(pid, libc::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(3);
    while topo.allmulti(&topo.node, "n0").unwrap() != 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        topo.allmulti(&topo.node, "n0").unwrap(),
        0,
        "allmulti left set"
    );
}

#[test]
fn survives_uplink_down_up_and_recreation() {
    if !kube6_testnet::require("survives_uplink_down_up_and_recreation", &[]) {
        return;
    }
    let mut topo = Topology::create("flap").unwrap();
    start_proxy(&mut topo, &static_config());
    let answered = |topo: &Topology| {
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            let frame = ns_frame(topo, router(), pod());
            if ask_all(topo, vec![(frame, pod())])[0].is_some() {
                return true;
            }
        }
        false
    };
    assert!(answered(&topo));
    topo.ip(&topo.node, &["link", "set", "n0", "down"]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    topo.ip(&topo.node, &["link", "set", "n0", "up"]).unwrap();
    assert!(answered(&topo), "not answering after down/up");
    topo.ip(&topo.node, &["link", "del", "n0"]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    topo.make_uplink().unwrap();
    assert!(
        answered(&topo),
        "not answering after the uplink was recreated"
    );
    assert_eq!(topo.allmulti(&topo.node, "n0").unwrap(), 1);
}

#[test]
fn sighup_reloads_without_a_gap() {
    if !kube6_testnet::require("sighup_reloads_without_a_gap", &[]) {
        return;
    }
    let mut topo = Topology::create("reload").unwrap();
    let (pid, path) = start_proxy(&mut topo, &static_config());
    let second = addr("2001:db8:1::d:7");
    let extended = format!(
        "uplink: n0\nprefixes:\n  - 2001:db8:1::a:0/112\n  - 2001:db8:1::d:0/112\nmetrics: 127.0.0.1:{PORT}\nrate-limit:\n  per-second: 0\n"
    );
    let rtr = topo.rtr.clone();
    let frame = ns_frame(&topo, router(), pod());
    let frame2 = ns_frame(&topo, router(), second);
    assert!(ask_all(&topo, vec![(frame2.clone(), second)])[0].is_none());
    // Keep asking for the pod while the configuration is reloaded twice.
    let asker = std::thread::spawn(move || {
        in_netns(&rtr, move || {
            let p = Prober::open("r0").unwrap();
            let mut missed = 0;
            for _ in 0..300 {
                if p.ask(&frame, pod(), Duration::from_secs(1))
                    .unwrap()
                    .is_none()
                {
                    missed += 1;
                }
            }
            missed
        })
        .unwrap()
    });
    std::thread::sleep(Duration::from_millis(50));
    std::fs::write(&path, &extended).unwrap();
    topo.signal(pid, libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(50));
    topo.signal(pid, libc::SIGHUP);
    assert_eq!(
        asker.join().unwrap(),
        0,
        "solicitations missed during reload"
    );
    assert!(
        ask_all(&topo, vec![(frame2, second)])[0].is_some(),
        "new prefix not answered"
    );
    let m = topo.metrics(&topo.node, PORT).unwrap();
    assert_eq!(metric(&m, "kube6_ndp_reloads_total"), Some(2), "{m}");
    // An invalid file is rejected and the running configuration stays.
    std::fs::write(&path, "uplink: n0\nprefixes: [2001:db8:1::a:1/112]\n").unwrap();
    topo.signal(pid, libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(100));
    let frame = ns_frame(&topo, router(), pod());
    assert!(ask_all(&topo, vec![(frame, pod())])[0].is_some());
}

#[test]
fn rate_limit_caps_answers_per_source() {
    if !kube6_testnet::require("rate_limit_caps_answers_per_source", &[]) {
        return;
    }
    let mut topo = Topology::create("rate").unwrap();
    let config = format!(
        "uplink: n0\nprefixes:\n  - 2001:db8:1::a:0/112\nmetrics: 127.0.0.1:{PORT}\nrate-limit:\n  per-second: 5\n  burst: 5\n"
    );
    start_proxy(&mut topo, &config);
    let mac = topo.mac(&topo.rtr, "r0").unwrap();
    let got = in_netns(&topo.rtr, move || {
        let p = Prober::open("r0").unwrap();
        for i in 0..50u16 {
            let target = Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0xa, 0x100 + i);
            let f = packet::build_ns(packet::NsSpec {
                eth_src: mac,
                src: router(),
                dst: None,
                target,
                source_lla: Some(mac),
            });
            p.send(&f).unwrap();
        }
        p.collect(Instant::now() + Duration::from_millis(500), None)
            .unwrap()
            .len()
    })
    .unwrap();
    // 5 from the bucket, plus a few refilled if sending was slow on a loaded machine.
    assert!(
        (5..=10).contains(&got),
        "{got} answers to 50 NS with a limit of 5/s"
    );
    let m = topo.metrics(&topo.node, PORT).unwrap();
    assert!(
        metric(&m, "kube6_ndp_drops_total{reason=\"rate_limited\"}").unwrap_or(0) >= 40,
        "{m}"
    );
}

#[test]
fn waits_for_an_uplink_created_after_start() {
    if !kube6_testnet::require("waits_for_an_uplink_created_after_start", &[]) {
        return;
    }
    let mut topo = Topology::create("late").unwrap();
    topo.ip(&topo.node, &["link", "del", "n0"]).unwrap();
    let path = topo.scratch.join("ndp.yaml");
    std::fs::write(&path, static_config()).unwrap();
    let node = topo.node.clone();
    let pid = topo
        .spawn(
            &node,
            kube6_testnet::ndp_bench(),
            &["serve", path.to_str().unwrap()],
            None,
        )
        .unwrap();
    // The proxy runs (metrics answer) without its uplink, and does not exit.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut page = String::new();
    while Instant::now() < deadline {
        if let Ok(m) = topo.metrics(&node, PORT) {
            page = m;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(page.contains("kube6_ndp_uplink_up 0"), "{page}");
    std::thread::sleep(Duration::from_millis(300));
    topo.make_uplink().unwrap();
    topo.wait_proxy_up(&node, PORT).unwrap();
    let frame = ns_frame(&topo, router(), pod());
    assert!(ask_all(&topo, vec![(frame, pod())])[0].is_some());
    assert!(topo.signal(pid, libc::SIGTERM));
}
