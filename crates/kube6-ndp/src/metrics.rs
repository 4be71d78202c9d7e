//! Counters of the proxy and their Prometheus text exposition on a loopback HTTP port.

use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::packet::DropReason;

const REASONS: usize = DropReason::ALL.len();

fn zeroes<const N: usize>() -> [AtomicU64; N] {
    std::array::from_fn(|_| AtomicU64::new(0))
}

/// Counters of one configured prefix.
#[derive(Debug)]
pub struct PrefixCounters {
    pub prefix: String,
    pub mode: String,
    pub ns_received: AtomicU64,
    pub na_sent: AtomicU64,
    pub drops: [AtomicU64; REASONS],
}

impl PrefixCounters {
    pub fn count_drop(&self, reason: DropReason) {
        self.drops[reason.index()].fetch_add(1, Ordering::Relaxed);
    }
}

/// All counters of one proxy.
#[derive(Debug)]
pub struct Metrics {
    /// Frames the packet filter passed (every NS, valid or not).
    pub ns_received: AtomicU64,
    pub na_sent: AtomicU64,
    pub drops: [AtomicU64; REASONS],
    pub probes_sent: AtomicU64,
    pub reloads: AtomicU64,
    pub uplink_up: AtomicU64,
    pub netlink_resyncs: AtomicU64,
    prefixes: Mutex<Vec<Arc<PrefixCounters>>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            ns_received: AtomicU64::new(0),
            na_sent: AtomicU64::new(0),
            drops: zeroes(),
            probes_sent: AtomicU64::new(0),
            reloads: AtomicU64::new(0),
            uplink_up: AtomicU64::new(0),
            netlink_resyncs: AtomicU64::new(0),
            prefixes: Mutex::new(Vec::new()),
        }
    }
}

impl Metrics {
    pub fn count_drop(&self, reason: DropReason) {
        self.drops[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Drops counted for `reason` so far.
    pub fn drops_for(&self, reason: DropReason) -> u64 {
        self.drops[reason.index()].load(Ordering::Relaxed)
    }

    /// The counters of `prefix`/`mode`, created on first use and kept across reloads.
    pub fn prefix(&self, prefix: &str, mode: &str) -> Arc<PrefixCounters> {
        let mut list = self
            .prefixes
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(c) = list.iter().find(|c| c.prefix == prefix && c.mode == mode) {
            return c.clone();
        }
        let c = Arc::new(PrefixCounters {
            prefix: prefix.to_string(),
            mode: mode.to_string(),
            ns_received: AtomicU64::new(0),
            na_sent: AtomicU64::new(0),
            drops: zeroes(),
        });
        list.push(c.clone());
        c
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP kube6_ndp_ns_received_total Neighbor solicitations received on the uplink.\n\
             # TYPE kube6_ndp_ns_received_total counter\n\
             kube6_ndp_ns_received_total {}",
            load(&self.ns_received)
        );
        let _ = writeln!(
            out,
            "# HELP kube6_ndp_na_sent_total Neighbor advertisements sent on the uplink.\n\
             # TYPE kube6_ndp_na_sent_total counter\n\
             kube6_ndp_na_sent_total {}",
            load(&self.na_sent)
        );
        let _ = writeln!(
            out,
            "# HELP kube6_ndp_drops_total Solicitations not answered, by reason.\n\
             # TYPE kube6_ndp_drops_total counter"
        );
        for &r in DropReason::ALL {
            let _ = writeln!(
                out,
                "kube6_ndp_drops_total{{reason=\"{}\"}} {}",
                r.as_str(),
                load(&self.drops[r.index()])
            );
        }
        let list = self
            .prefixes
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clone();
        let _ = writeln!(
            out,
            "# HELP kube6_ndp_prefix_ns_received_total Valid solicitations per configured prefix.\n\
             # TYPE kube6_ndp_prefix_ns_received_total counter"
        );
        for c in &list {
            let _ = writeln!(
                out,
                "kube6_ndp_prefix_ns_received_total{{prefix=\"{}\",mode=\"{}\"}} {}",
                c.prefix,
                c.mode,
                load(&c.ns_received)
            );
        }
        let _ = writeln!(
            out,
            "# HELP kube6_ndp_prefix_na_sent_total Advertisements sent per configured prefix.\n\
             # TYPE kube6_ndp_prefix_na_sent_total counter"
        );
        for c in &list {
            let _ = writeln!(
                out,
                "kube6_ndp_prefix_na_sent_total{{prefix=\"{}\",mode=\"{}\"}} {}",
                c.prefix,
                c.mode,
                load(&c.na_sent)
            );
        }
        let _ = writeln!(
            out,
            "# HELP kube6_ndp_prefix_drops_total Solicitations for a prefix not answered, by reason.\n\
             # TYPE kube6_ndp_prefix_drops_total counter"
        );
        for c in &list {
            for &r in DropReason::ALL {
                let v = load(&c.drops[r.index()]);
                if v > 0 {
                    let _ = writeln!(
                        out,
                        "kube6_ndp_prefix_drops_total{{prefix=\"{}\",mode=\"{}\",reason=\"{}\"}} {v}",
                        c.prefix,
                        c.mode,
                        r.as_str()
                    );
                }
            }
        }
        for (name, help, kind, value) in [
            (
                "kube6_ndp_probes_sent_total",
                "Solicitations forwarded to a downstream interface (probe mode).",
                "counter",
                &self.probes_sent,
            ),
            (
                "kube6_ndp_reloads_total",
                "Configuration reloads applied.",
                "counter",
                &self.reloads,
            ),
            (
                "kube6_ndp_netlink_resyncs_total",
                "Full netlink re-dumps after lost events.",
                "counter",
                &self.netlink_resyncs,
            ),
            (
                "kube6_ndp_uplink_up",
                "1 while the uplink socket is open.",
                "gauge",
                &self.uplink_up,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}",
                load(value)
            );
        }
        out
    }
}

/// The HTTP server thread of the metrics endpoint.
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// Binds `addr` and serves `GET /metrics` from a background thread.
    pub fn start(addr: SocketAddr, metrics: Arc<Metrics>) -> io::Result<MetricsServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::Builder::new()
            .name("metrics".into())
            .spawn(move || {
                for conn in listener.incoming() {
                    if stop2.load(Ordering::Relaxed) {
                        break;
                    }
                    if let Ok(stream) = conn {
                        let _ = serve_one(stream, &metrics);
                    }
                }
            })?;
        Ok(MetricsServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept() so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(mut stream: TcpStream, metrics: &Metrics) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = [0u8; 2048];
    let mut len = 0;
    while len < buf.len() {
        let n = stream.read(&mut buf[len..])?;
        if n == 0 {
            break;
        }
        len += n;
        if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") || buf[..len].ends_with(b"\n\n") {
            break;
        }
    }
    let request = String::from_utf8_lossy(&buf[..len]);
    let path = request.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = if request.starts_with("GET ") && (path == "/metrics" || path == "/") {
        ("200 OK", metrics.render())
    } else if request.starts_with("GET ") && path == "/healthz" {
        ("200 OK", "ok\n".to_string())
    } else {
        ("404 Not Found", "not found\n".to_string())
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters() {
        let m = Metrics::default();
        m.ns_received.fetch_add(3, Ordering::Relaxed);
        m.count_drop(DropReason::HopLimit);
        let p = m.prefix("2001:db8::/64", "static");
        p.na_sent.fetch_add(2, Ordering::Relaxed);
        p.count_drop(DropReason::RateLimited);
        assert!(Arc::ptr_eq(&p, &m.prefix("2001:db8::/64", "static")));
        let text = m.render();
        assert!(text.contains("kube6_ndp_ns_received_total 3"));
        assert!(text.contains("kube6_ndp_drops_total{reason=\"hop_limit\"} 1"));
        assert!(text.contains(
            "kube6_ndp_prefix_na_sent_total{prefix=\"2001:db8::/64\",mode=\"static\"} 2"
        ));
        assert!(text.contains("reason=\"rate_limited\"} 1"));
    }

    #[test]
    fn serves_http() {
        let m = Arc::new(Metrics::default());
        let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), m).unwrap();
        let mut s = TcpStream::connect(server.addr()).unwrap();
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut body = String::new();
        s.read_to_string(&mut body).unwrap();
        assert!(body.starts_with("HTTP/1.1 200 OK"));
        assert!(body.contains("kube6_ndp_na_sent_total 0"));
        drop(server);
    }
}
