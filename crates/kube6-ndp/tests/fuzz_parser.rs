#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Stable-toolchain fuzzing of the packet and netlink parsers: random and mutated inputs (seeded
//! from valid NS, DAD NS and NA frames, with the checksum repaired half of the time so the checks
//! behind it are reached) for a bounded number of iterations and a bounded time.
//!
//! `NDP_FUZZ_ITERS` (default 300000) and `NDP_FUZZ_SECS` (default 5) raise the bounds, e.g.
//! `NDP_FUZZ_ITERS=100000000 NDP_FUZZ_SECS=600 cargo test -p kube6-ndp --release --test fuzz_parser`.
//! `NDP_FUZZ_SEED` picks the seed (printed on failure).

use std::net::Ipv6Addr;
use std::time::{Duration, Instant};

use kube6_ndp::netlink;
use kube6_ndp::packet::{self, ETH_HLEN, IPV6_HLEN, NaSpec, NsSpec};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn seeds() -> Vec<Vec<u8>> {
    let mac = [2, 0, 0, 0, 0, 1];
    let target: Ipv6Addr = "2001:db8:1::a:5".parse().unwrap();
    let ll: Ipv6Addr = "fe80::1".parse().unwrap();
    vec![
        packet::build_ns(NsSpec {
            eth_src: mac,
            src: ll,
            dst: None,
            target,
            source_lla: Some(mac),
        }),
        packet::build_ns(NsSpec {
            eth_src: mac,
            src: Ipv6Addr::UNSPECIFIED,
            dst: None,
            target,
            source_lla: None,
        }),
        packet::build_na(NaSpec {
            eth_dst: mac,
            eth_src: mac,
            src: target,
            dst: ll,
            target,
            router: true,
            solicited: true,
            override_flag: false,
            target_lla: Some(mac),
        }),
    ]
}

fn repair(frame: &mut [u8]) {
    let start = ETH_HLEN + IPV6_HLEN;
    if frame.len() < start + 4 {
        return;
    }
    let plen = usize::from(u16::from_be_bytes([
        frame[ETH_HLEN + 4],
        frame[ETH_HLEN + 5],
    ]));
    let end = (start + plen).min(frame.len());
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[ETH_HLEN + 8..ETH_HLEN + 24]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&frame[ETH_HLEN + 24..ETH_HLEN + 40]).unwrap());
    frame[start + 2] = 0;
    frame[start + 3] = 0;
    let sum = packet::checksum(&src, &dst, &frame[start..end]);
    frame[start + 2..start + 4].copy_from_slice(&sum.to_be_bytes());
}

fn mutate(rng: &mut Rng, frame: &mut Vec<u8>) {
    for _ in 0..=rng.below(4) {
        match rng.below(7) {
            0 if !frame.is_empty() => {
                let i = rng.below(frame.len());
                frame[i] ^= 1 << rng.below(8);
            }
            1 if !frame.is_empty() => {
                let i = rng.below(frame.len());
                frame[i] = rng.next() as u8;
            }
            2 => frame.truncate(rng.below(frame.len() + 1)),
            3 => {
                // Append an option with a random (possibly zero) length.
                let kind = rng.below(16) as u8;
                let len = rng.below(3) as u8;
                frame.extend_from_slice(&[kind, len]);
                for _ in 0..rng.below(16) {
                    frame.push(rng.next() as u8);
                }
                let plen = frame.len().saturating_sub(ETH_HLEN + IPV6_HLEN) as u16;
                if frame.len() > ETH_HLEN + 6 {
                    frame[ETH_HLEN + 4..ETH_HLEN + 6].copy_from_slice(&plen.to_be_bytes());
                }
            }
            4 if frame.len() > ETH_HLEN + IPV6_HLEN + 8 => {
                // Unspecified source or a random multicast/unicast target.
                let at = if rng.below(2) == 0 {
                    ETH_HLEN + 8
                } else {
                    ETH_HLEN + IPV6_HLEN + 8
                };
                let v = if rng.below(2) == 0 { 0u8 } else { 0xff };
                let end = (at + 16).min(frame.len());
                for b in &mut frame[at..end] {
                    *b = v;
                }
            }
            5 if frame.len() > ETH_HLEN + 6 => {
                let plen = rng.below(200) as u16;
                frame[ETH_HLEN + 4..ETH_HLEN + 6].copy_from_slice(&plen.to_be_bytes());
            }
            _ => {
                let n = rng.below(100);
                *frame = (0..n).map(|_| rng.next() as u8).collect();
            }
        }
    }
    if rng.below(2) == 0 {
        repair(frame);
    }
}

fn check_ns(frame: &[u8]) {
    if let Ok(ns) = packet::parse_ns_frame(frame) {
        // Every accepted NS satisfies RFC 4861 7.1.1.
        assert_eq!(frame[ETH_HLEN + 7], 255);
        assert!(!ns.target.is_multicast());
        if ns.is_dad() {
            assert!(packet::is_solicited_node(&ns.dst));
            assert!(ns.source_lla.is_none());
        }
        let plen = usize::from(u16::from_be_bytes([
            frame[ETH_HLEN + 4],
            frame[ETH_HLEN + 5],
        ]));
        let icmp = &frame[ETH_HLEN + IPV6_HLEN..ETH_HLEN + IPV6_HLEN + plen];
        assert!(icmp.len() >= 24);
        assert_eq!(packet::checksum(&ns.src, &ns.dst, icmp), 0);
        // The answer built for it parses back as a valid NA for the same target.
        let na = packet::build_proxy_na(
            &ns,
            packet::AnswerParams {
                mac: [2, 0, 0, 0, 0, 2],
                router: true,
            },
        );
        let back = packet::parse_na_frame(&na).unwrap();
        assert_eq!(back.target, ns.target);
        assert_eq!(back.solicited, !ns.is_dad());
    }
    let _ = packet::parse_na_frame(frame);
    let _ = netlink::parse(frame);
}

#[test]
fn parsers_survive_random_and_mutated_input() {
    let iters: u64 = std::env::var("NDP_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    let secs: u64 = std::env::var("NDP_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let seed: u64 = std::env::var("NDP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x6b75_6265_365f_6e64);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let seeds = seeds();
    let mut rng = Rng(seed | 1);
    let mut accepted = 0u64;
    let mut done = 0u64;
    while done < iters && Instant::now() < deadline {
        let mut frame = seeds[rng.below(seeds.len())].clone();
        mutate(&mut rng, &mut frame);
        let result = std::panic::catch_unwind(|| check_ns(&frame));
        if result.is_err() {
            panic!("seed {seed}, iteration {done}: input {frame:02x?}");
        }
        if packet::parse_ns_frame(&frame).is_ok() {
            accepted += 1;
        }
        done += 1;
    }
    eprintln!("fuzz: {done} inputs, {accepted} accepted as NS");
    assert!(done > 1000, "too few iterations ran");
    assert!(
        accepted > 0,
        "mutations never produced a valid NS: the fuzzer is too blunt"
    );
}
