//! `kube6 render` (being built).

use crate::exit::{CommandResult, Failure};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> CommandResult {
    Err(Failure::usage(anyhow::anyhow!(
        "render is not available in this build"
    )))
}
