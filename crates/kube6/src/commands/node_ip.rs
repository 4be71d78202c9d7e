//! `kube6 node-ip` (being built; see issue 4).

use crate::exit::{CommandResult, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> CommandResult {
    Err(Failure::usage(anyhow::anyhow!(
        "node-ip is not available in this build"
    )))
}
