//! The NDP proxy: listens for neighbor solicitations on an uplink and answers those whose target
//! lies in a configured prefix (static, routed or probed), per RFC 4861.
//!
//! Use it from code by building a [`Config`] and calling [`run`] with a [`Control`] handle:
//!
//! ```no_run
//! use std::sync::Arc;
//! use kube6_ndp::{Config, Control, Metrics, PrefixRule};
//!
//! let rule: PrefixRule = "2001:db8:1::a:0/112=static".parse().unwrap();
//! let config = Config::new("eth0", vec![rule]);
//! let control = Control::new().unwrap();
//! // From another thread: control.reload(new_config) or control.shutdown().
//! kube6_ndp::run(config, &control, Arc::new(Metrics::default())).unwrap();
//! ```

pub mod config;
pub mod daemon;
pub mod metrics;
pub mod netlink;
pub mod packet;
pub mod sys;

pub use config::{Config, ConfigError, Election, Mode, PrefixRule, RateLimit, WatchSettings};
pub use daemon::{Control, Error, handle_signals, run};
pub use metrics::Metrics;
