//! `kube6 schema`: the JSON Schema of kube6's ClusterNetwork, for editors.

use crate::exit::{CommandResult, Status};
use crate::output;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> CommandResult {
    output::write_stdout(kube6_model::CLUSTER_NETWORK_SCHEMA)?;
    Ok(Status::Ok)
}
