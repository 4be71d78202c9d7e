//! `kube6 ndp-proxy` (being built; see issue 5).

use crate::exit::{CommandResult, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> CommandResult {
    Err(Failure::usage(anyhow::anyhow!(
        "ndp-proxy is not available in this build"
    )))
}
