//! The `kube6` command: a thin layer over the library crates that parses the command line,
//! dispatches to one module per subcommand and turns results into output and exit codes.
//!
//! Everything the command writes goes through `output` (colour on a terminal only, NO_COLOR,
//! a closed pipe is not a panic); these lints, and `disallowed-methods` in this crate's
//! clippy.toml (`std::io::stdout` and friends), keep raw printing out of every other module.
#![deny(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::print_literal,
    clippy::explicit_write,
    clippy::disallowed_methods
)]

mod commands;
mod exit;
mod ndp_watch;
mod output;
mod values;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

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
    /// Send real traffic through a running cluster in every family (agents as DaemonSets), or
    /// from this host (`probe local`).
    Probe(commands::probe::Args),
    /// What a running cluster can change in its network (CURRENT to PROPOSED, or the live
    /// cluster to PROPOSED): every change classified, and the runbook for the distribution.
    Diff(commands::diff::Args),
    /// List every rule kube6 checks.
    Rules(commands::rules::Args),
    /// Print the JSON Schema of kube6's ClusterNetwork.
    Schema(commands::schema::Args),
    /// Print the shell completion script (as `kubectl completion SHELL`).
    #[command(alias = "completions")]
    Completion {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of kube6, or of one of its commands.
    Man {
        /// The command whose page to print, e.g. `plan` (default: kube6 itself).
        command: Option<String>,
    },
    /// Run the NDP proxy that answers neighbor solicitations for pod and service prefixes, and
    /// for the load-balancer addresses this node announces (watch mode).
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
        Command::Probe(args) => commands::probe::run(args),
        Command::Diff(args) => commands::diff::run(args),
        Command::Rules(args) => commands::rules::run(args),
        Command::Schema(args) => commands::schema::run(args),
        Command::Completion { shell } => {
            // Into a buffer first: clap_complete panics when it cannot write (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "kube6", &mut script);
            output::write_stdout(&String::from_utf8_lossy(&script)).map(|()| exit::Status::Ok)
        }
        Command::Man { command } => man_page(command.as_deref()),
        Command::NdpProxy(args) => commands::ndp_proxy::run(args),
        Command::Host(cmd) => commands::host::run(cmd),
        Command::NodeIp(args) => commands::node_ip::run(args),
    };
    match result {
        Ok(code) => code.into(),
        Err(failure) => failure.report(),
    }
}

/// The man page of `kube6`, or of `kube6 NAME` (as page `kube6-NAME`).
fn man_page(name: Option<&str>) -> exit::CommandResult {
    let root = Cli::command();
    let command = match name {
        None => root,
        Some(name) => {
            let Some(sub) = root.find_subcommand(name) else {
                return Err(exit::Failure::usage(anyhow::anyhow!(
                    "no command {name:?}; see `kube6 --help`"
                )));
            };
            sub.clone().name(format!("kube6-{name}"))
        }
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut page)
        .map_err(exit::Failure::failed)?;
    output::write_stdout(&String::from_utf8_lossy(&page))?;
    Ok(exit::Status::Ok)
}
