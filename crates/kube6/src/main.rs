//! The `kube6` command: a thin layer over the library crates that parses the command line,
//! dispatches to one module per subcommand and turns results into output and exit codes.

mod commands;
mod exit;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Plan, check and render IPv6 single-stack and dual-stack Kubernetes networking.
#[derive(Debug, Parser)]
#[command(name = "kube6", version, about, long_about = None, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check configuration files and print diagnostics.
    Validate(commands::validate::Args),
    /// Print the address plan (and diagnostics); without FILE, the built-in k0s IPv6 example.
    Plan(commands::plan::Args),
    /// Write the configuration files a distribution, CNI and host need, from one valid plan.
    Render(commands::render::Args),
    /// Translate a configuration between input formats.
    Convert(commands::convert::Args),
    /// Check a running cluster (or a kubectl dump of it) against its plan.
    Verify(commands::verify::Args),
    /// List every rule kube6 checks.
    Rules(commands::rules::Args),
    /// Print the JSON Schema of kube6's ClusterNetwork.
    Schema(commands::schema::Args),
    /// Run the NDP proxy that answers neighbor solicitations for pod and service prefixes.
    NdpProxy(commands::ndp_proxy::Args),
    /// Check (and fix) this node's readiness for IPv6.
    #[command(subcommand)]
    Host(commands::host::HostCommand),
    /// Detect this node's IPs per family, with the reason for each choice.
    NodeIp(commands::node_ip::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate(args) => commands::validate::run(args),
        Command::Plan(args) => commands::plan::run(args),
        Command::Render(args) => commands::render::run(args),
        Command::Convert(args) => commands::convert::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Rules(args) => commands::rules::run(args),
        Command::Schema(args) => commands::schema::run(args),
        Command::NdpProxy(args) => commands::ndp_proxy::run(args),
        Command::Host(cmd) => commands::host::run(cmd),
        Command::NodeIp(args) => commands::node_ip::run(args),
    };
    match result {
        Ok(code) => code.into(),
        Err(failure) => failure.report(),
    }
}
