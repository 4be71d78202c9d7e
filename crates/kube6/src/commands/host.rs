//! `kube6 host check|fix` (being built; see issue 4).

use crate::exit::{CommandResult, Failure};

#[derive(Debug, clap::Subcommand)]
pub enum HostCommand {
    /// Check this node.
    Check,
}

pub fn run(_cmd: HostCommand) -> CommandResult {
    Err(Failure::usage(anyhow::anyhow!(
        "host is not available in this build"
    )))
}
