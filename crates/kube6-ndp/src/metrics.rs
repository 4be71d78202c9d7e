//! Counters of the proxy, kept and encoded by `prometheus-client` (the OpenMetrics text format,
//! which Prometheus scrapes), and served on a loopback HTTP port.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::packet::DropReason;

/// What the endpoint answers `GET /metrics` with.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PrefixLabels {
    prefix: String,
    mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PrefixReasonLabels {
    prefix: String,
    mode: String,
    reason: &'static str,
}

/// Counters of one configured prefix (handles to its series; cloning shares the counts).
#[derive(Debug)]
pub struct PrefixCounters {
    pub prefix: String,
    pub mode: String,
    pub ns_received: Counter,
    pub na_sent: Counter,
    drops: Family<PrefixReasonLabels, Counter>,
}

impl PrefixCounters {
    /// Counts a drop after this prefix matched; the series appears with its first drop.
    pub fn count_drop(&self, reason: DropReason) {
        self.drops
            .get_or_create(&PrefixReasonLabels {
                prefix: self.prefix.clone(),
                mode: self.mode.clone(),
                reason: reason.as_str(),
            })
            .inc();
    }
}

/// All counters of one proxy. The hot path holds plain counter handles; the registry encodes
/// the page.
#[derive(Debug)]
pub struct Metrics {
    /// Frames the packet filter passed (every NS, valid or not).
    pub ns_received: Counter,
    pub na_sent: Counter,
    pub probes_sent: Counter,
    pub reloads: Counter,
    pub netlink_resyncs: Counter,
    /// 1 while the uplink socket is open.
    pub uplink_up: Gauge,
    /// Watch mode: addresses answered now (inside a watch-mode prefix, announced from here).
    pub watched_addresses: Gauge,
    /// Watch mode: 1 once every watched resource has been listed and while it is followed; 0
    /// before, and while a watch is failing (the last answers are kept meanwhile).
    pub watch_synced: Gauge,
    /// Watch mode: failed API requests and broken watches (each is retried with back-off).
    pub watch_errors: Counter,
    /// Watch mode: objects not followed because a bound was reached.
    pub watch_overflows: Counter,
    /// One series per reason, all present from the start (index = `DropReason::index`).
    drops: Vec<Counter>,
    prefix_ns_received: Family<PrefixLabels, Counter>,
    prefix_na_sent: Family<PrefixLabels, Counter>,
    prefix_drops: Family<PrefixReasonLabels, Counter>,
    prefixes: Mutex<Vec<Arc<PrefixCounters>>>,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::with_prefix("kube6_ndp");
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let ns_received = counter(
            &mut registry,
            "ns_received",
            "Neighbor solicitations received on the uplink",
        );
        let na_sent = counter(
            &mut registry,
            "na_sent",
            "Neighbor advertisements sent on the uplink",
        );
        let drops_family = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "drops",
            "Solicitations not answered, by reason",
            drops_family.clone(),
        );
        let drops = DropReason::ALL
            .iter()
            .map(|r| {
                drops_family
                    .get_or_create(&ReasonLabels { reason: r.as_str() })
                    .clone()
            })
            .collect();
        let prefix_ns_received = Family::<PrefixLabels, Counter>::default();
        registry.register(
            "prefix_ns_received",
            "Valid solicitations per configured prefix",
            prefix_ns_received.clone(),
        );
        let prefix_na_sent = Family::<PrefixLabels, Counter>::default();
        registry.register(
            "prefix_na_sent",
            "Advertisements sent per configured prefix",
            prefix_na_sent.clone(),
        );
        let prefix_drops = Family::<PrefixReasonLabels, Counter>::default();
        registry.register(
            "prefix_drops",
            "Solicitations for a prefix not answered, by reason",
            prefix_drops.clone(),
        );
        let probes_sent = counter(
            &mut registry,
            "probes_sent",
            "Solicitations forwarded to a downstream interface (probe mode)",
        );
        let reloads = counter(&mut registry, "reloads", "Configuration reloads applied");
        let netlink_resyncs = counter(
            &mut registry,
            "netlink_resyncs",
            "Full netlink re-dumps after lost events",
        );
        let uplink_up = Gauge::default();
        registry.register(
            "uplink_up",
            "1 while the uplink socket is open",
            uplink_up.clone(),
        );
        let watched_addresses = Gauge::default();
        registry.register(
            "watched_addresses",
            "Addresses answered in watch mode (announced from this node)",
            watched_addresses.clone(),
        );
        let watch_synced = Gauge::default();
        registry.register(
            "watch_synced",
            "1 while every watched API resource is listed and followed",
            watch_synced.clone(),
        );
        let watch_errors = counter(
            &mut registry,
            "watch_errors",
            "Failed API requests or broken watches in watch mode (retried)",
        );
        let watch_overflows = counter(
            &mut registry,
            "watch_overflows",
            "Objects not followed in watch mode because a bound was reached",
        );
        Metrics {
            watched_addresses,
            watch_synced,
            watch_errors,
            watch_overflows,
            ns_received,
            na_sent,
            probes_sent,
            reloads,
            netlink_resyncs,
            uplink_up,
            drops,
            prefix_ns_received,
            prefix_na_sent,
            prefix_drops,
            prefixes: Mutex::new(Vec::new()),
            registry,
        }
    }
}

impl Metrics {
    pub fn count_drop(&self, reason: DropReason) {
        if let Some(c) = self.drops.get(reason.index()) {
            c.inc();
        }
    }

    /// Drops counted for `reason` so far.
    pub fn drops_for(&self, reason: DropReason) -> u64 {
        self.drops.get(reason.index()).map_or(0, Counter::get)
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
        let labels = PrefixLabels {
            prefix: prefix.to_string(),
            mode: mode.to_string(),
        };
        let c = Arc::new(PrefixCounters {
            prefix: prefix.to_string(),
            mode: mode.to_string(),
            ns_received: self.prefix_ns_received.get_or_create(&labels).clone(),
            na_sent: self.prefix_na_sent.get_or_create(&labels).clone(),
            drops: self.prefix_drops.clone(),
        });
        list.push(c.clone());
        c
    }

    /// The exposition of every counter (OpenMetrics text, ending with `# EOF`).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
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
        "HTTP/1.1 {status}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        if path == "/healthz" || status != "200 OK" {
            "text/plain; charset=utf-8"
        } else {
            CONTENT_TYPE
        },
        body.len()
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn renders_counters_with_their_names() {
        let m = Metrics::default();
        m.ns_received.inc_by(3);
        m.count_drop(DropReason::HopLimit);
        let p = m.prefix("2001:db8::/64", "static");
        p.na_sent.inc_by(2);
        p.count_drop(DropReason::RateLimited);
        assert!(Arc::ptr_eq(&p, &m.prefix("2001:db8::/64", "static")));
        m.uplink_up.set(1);
        let text = m.render();
        let lines: Vec<&str> = text.lines().collect();
        for line in [
            "kube6_ndp_ns_received_total 3",
            "kube6_ndp_na_sent_total 0",
            "kube6_ndp_drops_total{reason=\"hop_limit\"} 1",
            "kube6_ndp_drops_total{reason=\"checksum\"} 0",
            "kube6_ndp_prefix_ns_received_total{prefix=\"2001:db8::/64\",mode=\"static\"} 0",
            "kube6_ndp_prefix_na_sent_total{prefix=\"2001:db8::/64\",mode=\"static\"} 2",
            "kube6_ndp_prefix_drops_total{prefix=\"2001:db8::/64\",mode=\"static\",reason=\"rate_limited\"} 1",
            "kube6_ndp_probes_sent_total 0",
            "kube6_ndp_reloads_total 0",
            "kube6_ndp_netlink_resyncs_total 0",
            "kube6_ndp_uplink_up 1",
            "# HELP kube6_ndp_ns_received Neighbor solicitations received on the uplink.",
            "# TYPE kube6_ndp_ns_received counter",
            "# EOF",
        ] {
            assert!(lines.contains(&line), "{line:?} missing from:\n{text}");
        }
        // Every reason has a series from the start; prefix drops only once they happen.
        for reason in DropReason::ALL {
            let line = format!("kube6_ndp_drops_total{{reason=\"{}\"}}", reason.as_str());
            assert!(text.contains(&line), "{line}");
        }
        assert_eq!(text.matches("kube6_ndp_prefix_drops_total{").count(), 1);
        assert_eq!(m.drops_for(DropReason::HopLimit), 1);
    }

    #[test]
    fn serves_http() {
        let m = Arc::new(Metrics::default());
        let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), m).unwrap();
        let get = |path: &str| {
            let mut s = TcpStream::connect(server.addr()).unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .unwrap();
            let mut body = String::new();
            s.read_to_string(&mut body).unwrap();
            body
        };
        let page = get("/metrics");
        assert!(page.starts_with("HTTP/1.1 200 OK"));
        assert!(page.contains(&format!("Content-Type: {CONTENT_TYPE}\r\n")));
        assert!(page.contains("kube6_ndp_na_sent_total 0"));
        assert!(get("/healthz").ends_with("\r\n\r\nok\n"));
        assert!(get("/nope").starts_with("HTTP/1.1 404"));
        drop(server);
    }
}
