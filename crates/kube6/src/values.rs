//! Command-line values named by kube6's enums (`--format`, `--to`, `--cni`, `--target`,
//! `--kubeadm-api`, `--upstream`): parsed by the enum's own `FromStr` (case-insensitive, with its
//! aliases and its error message), and listed from the enum's derived variant list, so that
//! `--help`, the man pages and shell completions show every accepted value.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, TypedValueParser};
use kube6_model::model::{Cni, Format};
use kube6_render::{KubeadmApi, Target};

/// A value parser for an enum whose variants have names.
#[derive(Clone)]
pub struct Named<T: 'static> {
    variants: &'static [T],
    name: fn(T) -> &'static str,
    parse: fn(&str) -> Result<T, String>,
    /// Variants offered for this flag (`--to` does not write every format it reads).
    offered: fn(T) -> bool,
}

impl<T: Copy + Send + Sync + 'static> TypedValueParser for Named<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        // A plain function parser, so clap words the error as for any other value.
        self.parse.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.variants
                .iter()
                .copied()
                .filter(|v| (self.offered)(*v))
                .map(|v| PossibleValue::new((self.name)(v))),
        ))
    }
}

fn every<T>(_: T) -> bool {
    true
}

/// `--format`: every input format.
pub fn format() -> Named<Format> {
    Named {
        variants: Format::ALL,
        name: Format::as_str,
        parse: str::parse,
        offered: every,
    }
}

/// `convert --to`: every format kube6 writes (a k3s command line is read, not written).
pub fn output_format() -> Named<Format> {
    fn parse(s: &str) -> Result<Format, String> {
        match s.parse::<Format>()? {
            Format::K3sArgs => {
                Err("k3s-args is read, not written; use --to k3s for a config.yaml".to_string())
            }
            f => Ok(f),
        }
    }
    Named {
        variants: Format::ALL,
        name: Format::as_str,
        parse,
        offered: |f| f != Format::K3sArgs,
    }
}

/// `--cni`.
pub fn cni() -> Named<Cni> {
    Named {
        variants: Cni::ALL,
        name: Cni::as_str,
        parse: str::parse,
        offered: every,
    }
}

/// `render --target`.
pub fn target() -> Named<Target> {
    Named {
        variants: Target::ALL,
        name: Target::as_str,
        parse: str::parse,
        offered: every,
    }
}

/// `--kubeadm-api`.
pub fn kubeadm_api() -> Named<KubeadmApi> {
    Named {
        variants: KubeadmApi::ALL,
        name: KubeadmApi::as_str,
        parse: str::parse,
        offered: every,
    }
}

/// `host --upstream`.
pub fn upstream() -> Named<kube6_host::expect::Upstream> {
    use kube6_host::expect::Upstream;
    Named {
        variants: Upstream::ALL,
        name: Upstream::as_str,
        parse: |s| s.parse::<Upstream>().map_err(|e| e.to_string()),
        offered: every,
    }
}
