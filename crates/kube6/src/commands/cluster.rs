//! How a command reaches a live cluster: one set of flags (`--kubeconfig`, `--context`), with
//! one help text, flattened into every command that talks to an API server (`verify`, `probe`,
//! `diff`, `ndp-proxy`'s watch). Choosing the kubeconfig, context or in-cluster service account
//! and building the client happen in one place, [`kube6_verify::live::client`]; these flags only
//! say which.

use std::path::PathBuf;

use anyhow::anyhow;
use kube6_verify::live;

use crate::exit::Failure;

/// The cluster to connect to, as kubectl chooses it. Flatten it into a command's `Args` with
/// `#[command(flatten)] pub cluster: ClusterArgs`, then call [`ClusterArgs::check`] and build
/// the client from [`ClusterArgs::options`].
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// The kubeconfig file (default: $KUBECONFIG, a list of files merged as kubectl merges
    /// them; then ~/.kube/config; then the in-cluster service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: the current context).
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// The most bytes taken of one answer of the API server (a list page, an object, a pod's
    /// log; e.g. 1Gi, 64Mi): a larger answer stops the command, rather than memory growing
    /// with whatever the server sends.
    #[arg(long, value_name = "SIZE", env = "KUBE6_MAX_RESPONSE_SIZE",
          default_value = "256Mi", value_parser = kube6_fs::size::parse)]
    pub max_response_size: u64,
}

impl ClusterArgs {
    /// A cluster was named on the command line (`--kubeconfig` or `--context`).
    pub fn given(&self) -> bool {
        self.kubeconfig.is_some() || self.context.is_some()
    }

    /// Refuses what the flags cannot mean: a kubeconfig read from standard input (kube-rs
    /// reads the files it names relative to the kubeconfig's directory, and standard input is
    /// kept for the dumps and plans).
    pub fn check(&self) -> Result<(), Failure> {
        if self
            .kubeconfig
            .as_deref()
            .is_some_and(kube6_fs::read::is_stdin)
        {
            return Err(Failure::usage(anyhow!(
                "--kubeconfig takes a file, not standard input"
            )));
        }
        Ok(())
    }

    /// Refuses a live cluster together with `--dump`: the command reads one or the other.
    /// `flags` names the flags that choose the live cluster in this command.
    pub fn check_not_with_dump(&self, dump: &[PathBuf], flags: &str) -> Result<(), Failure> {
        if !dump.is_empty() && self.given() {
            return Err(Failure::usage(anyhow!(
                "give either --dump FILE... or a live cluster ({flags}), not both"
            )));
        }
        Ok(())
    }

    /// What [`kube6_verify::live::client`] and [`kube6_verify::live::read`] take; `page_size`
    /// is the objects per list request (`--chunk-size` where a command has it).
    pub fn options(&self, page_size: u32) -> live::Options {
        live::Options {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            page_size,
            max_response_size: self.max_response_size,
        }
    }
}

/// How an error reaching the cluster exits: the configuration (kubeconfig, context, files it
/// names) is a usage error (2); an API server that cannot be reached or refuses is a failure
/// (1).
pub fn live_failure(error: live::LiveError) -> Failure {
    if error.is_configuration() {
        Failure::usage(error)
    } else {
        Failure::failed(error)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use clap::Parser;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Command {
        #[command(flatten)]
        cluster: ClusterArgs,
    }

    /// The help's default is the library's: one number, stated twice only as text and value.
    #[test]
    fn the_default_response_limit_is_the_library_default() {
        let args = Command::try_parse_from(["kube6"]).unwrap();
        assert_eq!(
            args.cluster.options(1).max_response_size,
            live::DEFAULT_MAX_RESPONSE_SIZE
        );
        assert_eq!(args.cluster.options(1).page_size, 1);
        let args =
            Command::try_parse_from(["kube6", "--max-response-size", "64Ki", "--context", "c"])
                .unwrap();
        assert_eq!(args.cluster.max_response_size, 64 << 10);
        assert!(args.cluster.given());
    }
}
