//! The benchmark: kube6's proxy, Debian's ndppd (static rule) and the kernel's proxy_ndp
//! (proxy_delay=0) in the same namespace topology, one after the other, measured by the same
//! raw-socket load generator in the router namespace.

use std::io;
use std::net::Ipv6Addr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube6_testnet::ndp::{Prober, Topology, in_netns};

/// Targets live in 2001:db8:1:0:1::/96, on-link for the router (its /64), answered by the node.
const BENCH_PREFIX: &str = "2001:db8:1:0:1::/96";

fn target(i: u32) -> Ipv6Addr {
    Ipv6Addr::from(u128::from(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 1, 0, 0, 0)) + u128::from(i))
}

fn index_of(addr: Ipv6Addr) -> Option<usize> {
    let base = u128::from(target(0));
    let v = u128::from(addr).checked_sub(base)?;
    usize::try_from(v).ok()
}

struct Options {
    sequential: u32,
    burst: u32,
    kernel_burst: u32,
    skip_ndppd: bool,
    skip_kernel: bool,
    busy_poll_us: Option<u32>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        sequential: 1000,
        burst: 100_000,
        // The kernel keeps proxy entries and their solicited-node groups in lists: 101k entries
        // took 300 s to add and made every NS cost O(entries), so its burst is smaller.
        kernel_burst: 10_000,
        skip_ndppd: false,
        skip_kernel: false,
        busy_poll_us: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<u32, String> {
            it.next()
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("{name} needs a number"))
        };
        match a.as_str() {
            "--sequential" => o.sequential = num(a)?,
            "--burst" => o.burst = num(a)?,
            "--kernel-burst" => o.kernel_burst = num(a)?,
            "--skip-ndppd" => o.skip_ndppd = true,
            "--skip-kernel" => o.skip_kernel = true,
            "--busy-poll-us" => o.busy_poll_us = Some(num(a)?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(o)
}

#[derive(Debug, Default, Clone)]
struct Result1 {
    name: String,
    seq_answered: usize,
    seq_total: usize,
    seq_p50: Option<Duration>,
    seq_p99: Option<Duration>,
    burst_total: usize,
    burst_answered: usize,
    burst_p50: Option<Duration>,
    burst_p99: Option<Duration>,
    burst_send_rate: f64,
    rss_kib: Option<u64>,
    hwm_kib: Option<u64>,
}

fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied()
}

/// Sequential: one NS, wait for its NA, next target.
fn sequential(topo: &Topology, n: u32, offset: u32) -> io::Result<(usize, Vec<Duration>)> {
    in_netns(&topo.rtr, move || {
        let p = Prober::open("r0")?;
        let src: Ipv6Addr = kube6_testnet::ndp::ROUTER
            .parse()
            .map_err(io::Error::other)?;
        let mut lat = Vec::with_capacity(n as usize);
        for i in 0..n {
            let t = target(offset + i);
            let frame = p.ns(src, t);
            let start = Instant::now();
            if let Some(r) = p.ask(&frame, t, Duration::from_millis(200))? {
                lat.push(r.at.duration_since(start));
            }
        }
        let answered = lat.len();
        lat.sort_unstable();
        Ok((answered, lat))
    })?
}

/// Burst: all NS as fast as possible from one thread, NAs collected by another.
fn burst(topo: &Topology, n: u32, offset: u32) -> io::Result<(usize, Vec<Duration>, f64)> {
    in_netns(&topo.rtr, move || {
        let p = Prober::open("r0")?;
        let src: Ipv6Addr = kube6_testnet::ndp::ROUTER
            .parse()
            .map_err(io::Error::other)?;
        let frames: Vec<Vec<u8>> = (0..n).map(|i| p.ns(src, target(offset + i))).collect();
        let sent_at = Mutex::new(vec![None::<Instant>; n as usize]);
        let mut recv_at: Vec<Option<Instant>> = vec![None; n as usize];
        let mut send_secs = 0.0;
        std::thread::scope(|s| -> io::Result<()> {
            let sender = s.spawn(|| -> io::Result<f64> {
                std::thread::sleep(Duration::from_millis(50));
                let start = Instant::now();
                let mut times = Vec::with_capacity(frames.len());
                for f in &frames {
                    times.push(Instant::now());
                    p.send(f)?;
                }
                let secs = start.elapsed().as_secs_f64();
                let mut guard = sent_at.lock().unwrap_or_else(|e| e.into_inner());
                for (slot, t) in guard.iter_mut().zip(times) {
                    *slot = Some(t);
                }
                Ok(secs)
            });
            let mut buf = vec![0u8; 2048];
            let mut got = 0usize;
            let mut last = Instant::now();
            let hard_stop = Instant::now() + Duration::from_secs(60);
            loop {
                match p.recv_one(&mut buf)? {
                    Some(r) => {
                        last = r.at;
                        if let Some(i) =
                            index_of(r.na.target).and_then(|i| i.checked_sub(offset as usize))
                            && i < recv_at.len()
                            && recv_at[i].is_none()
                        {
                            recv_at[i] = Some(r.at);
                            got += 1;
                        }
                    }
                    None => {
                        let quiet = last.elapsed() > Duration::from_millis(1500);
                        if (sender.is_finished() && quiet)
                            || got == n as usize
                            || Instant::now() > hard_stop
                        {
                            break;
                        }
                        p.wait(Duration::from_millis(5))?;
                    }
                }
            }
            send_secs = sender
                .join()
                .map_err(|_| io::Error::other("sender panicked"))??;
            Ok(())
        })?;
        let sent = sent_at.into_inner().unwrap_or_else(|e| e.into_inner());
        let mut lat: Vec<Duration> = sent
            .iter()
            .zip(&recv_at)
            .filter_map(|(s, r)| Some(r.as_ref()?.saturating_duration_since(*s.as_ref()?)))
            .collect();
        lat.sort_unstable();
        let rate = f64::from(n) / send_secs.max(1e-9);
        Ok((lat.len(), lat, rate))
    })?
}

fn rss(pid: u32) -> (Option<u64>, Option<u64>) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn measure(
    topo: &Topology,
    name: &str,
    opts: &Options,
    burst_n: u32,
    pid: Option<u32>,
) -> io::Result<Result1> {
    let mut r = measure_sequential(topo, name, opts)?;
    measure_burst(topo, &mut r, burst_n, pid)?;
    Ok(r)
}

fn measure_sequential(topo: &Topology, name: &str, opts: &Options) -> io::Result<Result1> {
    eprintln!("  {name}: {} sequential targets", opts.sequential);
    // Warm-up (page faults, caches), not measured.
    let _ = sequential(topo, 20, 900_000)?;
    let (seq_answered, seq) = sequential(topo, opts.sequential, 0)?;
    eprintln!(
        "  {name}: seq {seq_answered} answered, p50 {} p99 {}",
        fmt_us(percentile(&seq, 0.5)),
        fmt_us(percentile(&seq, 0.99)),
    );
    Ok(Result1 {
        name: name.to_string(),
        seq_answered,
        seq_total: opts.sequential as usize,
        seq_p50: percentile(&seq, 0.5),
        seq_p99: percentile(&seq, 0.99),
        ..Result1::default()
    })
}

fn measure_burst(
    topo: &Topology,
    r: &mut Result1,
    burst_n: u32,
    pid: Option<u32>,
) -> io::Result<()> {
    eprintln!("  {}: burst of {burst_n} targets", r.name);
    let (burst_answered, bl, rate) = burst(topo, burst_n, 1_000_000)?;
    let (rss_kib, hwm_kib) = pid.map_or((None, None), rss);
    if let Some(pid) = pid {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // After the ")" : state is field 0, utime 11, stime 12 (clock ticks, 100/s).
        eprintln!(
            "  {}: CPU so far user {:.2} s, system {:.2} s",
            r.name,
            ticks(11) as f64 / 100.0,
            ticks(12) as f64 / 100.0
        );
    }
    eprintln!(
        "  {}: burst {burst_answered}/{burst_n}, p50 {} p99 {}",
        r.name,
        fmt_us(percentile(&bl, 0.5)),
        fmt_us(percentile(&bl, 0.99))
    );
    r.burst_total = burst_n as usize;
    r.burst_answered = burst_answered;
    r.burst_p50 = percentile(&bl, 0.5);
    r.burst_p99 = percentile(&bl, 0.99);
    r.burst_send_rate = rate;
    r.rss_kib = rss_kib;
    r.hwm_kib = hwm_kib;
    Ok(())
}

fn kube6_command(dir: &Path) -> (String, Vec<String>) {
    let config = dir.join("kube6-ndp.yaml");
    let exe = std::env::current_exe().unwrap_or_default();
    let kube6 = exe.with_file_name("kube6");
    if kube6.exists() {
        (
            kube6.display().to_string(),
            vec![
                "ndp-proxy".into(),
                "--config".into(),
                config.display().to_string(),
            ],
        )
    } else {
        (
            exe.display().to_string(),
            vec!["serve".into(), config.display().to_string()],
        )
    }
}

fn fmt_us(d: Option<Duration>) -> String {
    d.map_or_else(
        || "-".into(),
        |d| format!("{:.0} µs", d.as_secs_f64() * 1e6),
    )
}

fn ratio(a: Option<Duration>, b: Option<Duration>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if !b.is_zero() => format!("{:.2}", a.as_secs_f64() / b.as_secs_f64()),
        _ => "-".into(),
    }
}

pub fn main(args: &[String]) -> ExitCode {
    let opts = match parse_options(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("ndp-bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = kube6_testnet::ndp::check_environment() {
        eprintln!("ndp-bench: {e}");
        return ExitCode::FAILURE;
    }
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ndp-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(opts: &Options) -> io::Result<()> {
    let mut topo = Topology::create("bench")?;
    let dir = topo.scratch.clone();
    let node = topo.node.clone();
    let mut results = Vec::new();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();

    // 1. kube6, as configured by default and with busy polling.
    let mut kube6_runs = vec![("kube6 ndp-proxy".to_string(), String::new())];
    if let Some(us) = opts.busy_poll_us {
        kube6_runs.push((
            format!("kube6 ndp-proxy, busy-poll {us} µs"),
            format!("busy-poll-us: {us}\n"),
        ));
    }
    for (label, extra) in &kube6_runs {
        std::fs::write(
            dir.join("kube6-ndp.yaml"),
            format!(
                "uplink: n0\nprefixes:\n  - {BENCH_PREFIX}\nmetrics: 127.0.0.1:9465\nrate-limit:\n  per-second: 0\n{extra}"
            ),
        )?;
        let (program, args) = kube6_command(&dir);
        eprintln!("{label}: {program} {}", args.join(" "));
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let pid = topo.spawn(&node, &program, &argv, Some(dir.join("kube6.log")))?;
        topo.wait_proxy_up(&node, 9465)?;
        results.push(measure(&topo, label, opts, opts.burst, Some(pid))?);
        let _ = topo.signal(pid, libc::SIGTERM);
    }

    // 2. ndppd 0.2.5 (Debian), static rule.
    if !opts.skip_ndppd {
        let conf = dir.join("ndppd.conf");
        std::fs::write(
            &conf,
            format!(
                "route-ttl 30000\nproxy n0 {{\n   router yes\n   timeout 500\n   ttl 30000\n   rule {BENCH_PREFIX} {{\n      static\n   }}\n}}\n"
            ),
        )?;
        let conf_s = conf.display().to_string();
        let pid_file = dir.join("ndppd.pid").display().to_string();
        let pid = topo.spawn(
            &node,
            "/usr/sbin/ndppd",
            &["-c", &conf_s, "-p", &pid_file],
            Some(dir.join("ndppd.log")),
        )?;
        wait_answering(&topo)?;
        results.push(measure(
            &topo,
            "ndppd 0.2.5 (static)",
            opts,
            opts.burst,
            Some(pid),
        )?);
        let _ = topo.signal(pid, libc::SIGTERM);
    }

    // 3. kernel proxy_ndp, proxy_delay=0, one entry per target. The sequential test runs with
    // only its own 1020 entries, the burst after the burst's entries were added.
    if !opts.skip_kernel {
        topo.sysctl(&node, "net.ipv6.conf.n0.proxy_ndp", "1")?;
        topo.sysctl(&node, "net.ipv6.neigh.n0.proxy_delay", "0")?;
        add_proxy_entries(&topo, &dir, (0..opts.sequential).chain(900_000..900_020))?;
        let mut r = measure_sequential(&topo, "kernel proxy_ndp (delay 0)", opts)?;
        add_proxy_entries(&topo, &dir, 1_000_000..1_000_000 + opts.kernel_burst)?;
        measure_burst(&topo, &mut r, opts.kernel_burst, None)?;
        results.push(r);
    }

    print_report(&results, opts, cpus, kernel.trim());
    Ok(())
}

/// Adds kernel proxy entries (`ip -batch`) for the given target numbers.
fn add_proxy_entries(
    topo: &Topology,
    dir: &Path,
    ids: impl Iterator<Item = u32>,
) -> io::Result<()> {
    let setup = Instant::now();
    let batch = dir.join("kernel-proxy.batch");
    let mut text = String::new();
    let mut n = 0;
    for i in ids {
        text.push_str(&format!("neigh add proxy {} dev n0 router\n", target(i)));
        n += 1;
    }
    std::fs::write(&batch, text)?;
    topo.ip(&topo.node, &["-batch", &batch.display().to_string()])?;
    eprintln!(
        "kernel: {n} proxy entries added in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Waits until a responder answers one NS.
fn wait_answering(topo: &Topology) -> io::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let (n, _) = sequential(topo, 1, 950_000)?;
        if n == 1 {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(io::Error::other("responder did not answer within 10 s"))
}

fn print_report(results: &[Result1], opts: &Options, cpus: usize, kernel: &str) {
    println!(
        "NDP proxy benchmark: {} sequential targets, burst of {} distinct targets ({} for the kernel), {cpus} CPUs, kernel {kernel}\n",
        opts.sequential, opts.burst, opts.kernel_burst
    );
    println!(
        "| responder | sequential answered | seq p50 | seq p99 | burst answered | burst p50 | burst p99 | burst send rate | RSS (peak) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for r in results {
        println!(
            "| {} | {}/{} | {} | {} | {}/{} ({:.1} %) | {} | {} | {:.0} NS/s | {} |",
            r.name,
            r.seq_answered,
            r.seq_total,
            fmt_us(r.seq_p50),
            fmt_us(r.seq_p99),
            r.burst_answered,
            r.burst_total,
            100.0 * r.burst_answered as f64 / r.burst_total.max(1) as f64,
            fmt_us(r.burst_p50),
            fmt_us(r.burst_p99),
            r.burst_send_rate,
            match (r.rss_kib, r.hwm_kib) {
                (Some(a), Some(b)) => format!(
                    "{:.1} MiB ({:.1} MiB)",
                    a as f64 / 1024.0,
                    b as f64 / 1024.0
                ),
                _ => "in kernel".into(),
            }
        );
    }
    if let (Some(k), Some(n)) = (
        results.iter().find(|r| r.name.starts_with("kube6")),
        results.iter().find(|r| r.name.starts_with("ndppd")),
    ) {
        for k in results.iter().filter(|r| r.name.starts_with("kube6")) {
            println!(
                "\n{} / ndppd: seq p50 {}, seq p99 {}, burst p99 {}",
                k.name,
                ratio(k.seq_p50, n.seq_p50),
                ratio(k.seq_p99, n.seq_p99),
                ratio(k.burst_p99, n.burst_p99),
            );
        }
        println!(
            "kube6 / ndppd: seq p50 {}, seq p99 {}, burst p99 {}, burst answered {:.3} vs {:.3}",
            ratio(k.seq_p50, n.seq_p50),
            ratio(k.seq_p99, n.seq_p99),
            ratio(k.burst_p99, n.burst_p99),
            k.burst_answered as f64 / k.burst_total.max(1) as f64,
            n.burst_answered as f64 / n.burst_total.max(1) as f64,
        );
    }
}
