//! `kube6 verify` (being built).

use crate::exit::{CommandResult, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> CommandResult {
    Err(Failure::usage(anyhow::anyhow!(
        "verify is not available in this build"
    )))
}
