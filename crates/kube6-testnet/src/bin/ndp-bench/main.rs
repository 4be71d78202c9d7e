//! `ndp-bench`: the NDP proxy benchmark, and a minimal front end to the proxy library used by the
//! benchmark and the namespace tests (kube6-ndp's tests get it from `kube6_testnet::ndp_bench`).
//!
//! - `ndp-bench` (as root): builds a router/node/pod topology in network namespaces and measures
//!   kube6's proxy, Debian's ndppd and the kernel's proxy_ndp in one run (see docs/benchmarks.md).
//! - `ndp-bench serve CONFIG.yaml [-v]`: runs the proxy with a YAML configuration; SIGHUP
//!   re-reads the file, SIGTERM stops.

use std::process::ExitCode;
use std::sync::Arc;

mod bench;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("-h" | "--help") => {
            println!(
                "usage: ndp-bench [--sequential N] [--burst N] [--kernel-burst N] [--busy-poll-us N] [--skip-ndppd] [--skip-kernel]\n       ndp-bench serve CONFIG.yaml [-v]"
            );
            ExitCode::SUCCESS
        }
        _ => bench::main(&args),
    }
}

fn read_config(path: &str) -> Result<kube6_ndp::Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    kube6_ndp::Config::from_yaml(&text).map_err(|e| format!("{path}: {e}"))
}

fn serve(args: &[String]) -> ExitCode {
    let Some(path) = args.first().cloned() else {
        eprintln!("usage: ndp-bench serve CONFIG.yaml [-v]");
        return ExitCode::from(2);
    };
    let verbose = args.iter().any(|a| a == "-v");
    let _ = tracing_subscriber::fmt()
        .with_max_level(if verbose {
            tracing_subscriber::filter::LevelFilter::DEBUG
        } else {
            tracing_subscriber::filter::LevelFilter::INFO
        })
        .with_ansi(false)
        .with_writer(std::io::stderr)
        // A closed stderr must not take the daemon down (the default reports through eprintln!,
        // which panics then).
        .log_internal_errors(false)
        .try_init();
    let config = match read_config(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ndp-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let control = match kube6_ndp::Control::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ndp-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let reload_path = path.clone();
    if let Err(e) =
        kube6_ndp::handle_signals(control.clone(), move || match read_config(&reload_path) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("ndp-bench: reload: {e}");
                None
            }
        })
    {
        eprintln!("ndp-bench: {e}");
        return ExitCode::FAILURE;
    }
    match kube6_ndp::run(config, &control, Arc::new(kube6_ndp::Metrics::default())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ndp-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
