//! Options shared by the commands that read a cluster configuration, and the reading itself.

use std::path::Path;

use anyhow::{Context, anyhow};
use kube6_model::import::{ImportError, ImportOptions};
use kube6_model::model::{Cni, FeatureGate, Format};
use kube6_model::source::{Located, Origin};
use kube6_model::{Analysis, analyze};

use crate::exit::Failure;

/// The largest file kube6 reads; configuration files are a few kilobytes.
const MAX_FILE_BYTES: u64 = kube6_model::yaml::MAX_INPUT_BYTES as u64;

#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Input format, when detection from apiVersion/kind (or k3s keys) should not decide.
    #[arg(long, value_name = "FORMAT", value_parser = crate::values::format())]
    pub format: Option<Format>,
    /// Feature gates given on the distribution's command line, e.g. IPv6SingleStack=true
    /// (as for `k0s controller --feature-gates`).
    #[arg(long, value_name = "K=V,...", value_delimiter = ',', value_parser = parse_gate)]
    pub feature_gates: Vec<(String, bool)>,
    /// The CNI, for formats that do not name one (kubeadm) or to override the input.
    #[arg(long, value_name = "CNI", value_parser = crate::values::cni())]
    pub cni: Option<Cni>,
    /// A k3s command line to read instead of a file, as the install flags are usually given:
    /// --k3s-args "server --node-ip 2001:db8::1 --cluster-cidr fd00:42::/56".
    #[arg(long, value_name = "ARGS")]
    pub k3s_args: Option<String>,
}

fn parse_gate(s: &str) -> Result<(String, bool), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: write NAME=true or NAME=false"))?;
    let value = match value.trim().to_ascii_lowercase().as_str() {
        "true" => true,
        "false" => false,
        other => return Err(format!("{name}={other}: the value must be true or false")),
    };
    Ok((name.trim().to_string(), value))
}

impl InputArgs {
    pub fn import_options(&self) -> ImportOptions {
        ImportOptions {
            format: self.format,
            cni: self.cni,
            feature_gates: self
                .feature_gates
                .iter()
                .map(|(name, enabled)| FeatureGate {
                    name: Located::new(name.clone(), Origin::input("--feature-gates", None)),
                    enabled: Located::new(*enabled, Origin::input("--feature-gates", None)),
                })
                .collect(),
        }
    }
}

/// A file's name and content, as read.
pub struct Source {
    pub name: String,
    pub text: String,
}

/// Reads a file, refusing anything that is not a small text file.
pub fn read(path: &Path) -> Result<Source, Failure> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {name}"))
        .map_err(Failure::usage)?;
    if meta.is_dir() {
        return Err(Failure::usage(anyhow!(
            "{name} is a directory; give a configuration file"
        )));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(Failure::usage(anyhow!(
            "{name} is {} bytes; kube6 reads configuration files of at most {MAX_FILE_BYTES} bytes",
            meta.len()
        )));
    }
    let bytes = std::fs::read(path)
        .with_context(|| format!("cannot read {name}"))
        .map_err(Failure::usage)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Failure::usage(anyhow!(
            "{name}: not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok(Source { name, text })
}

/// `file:line:column: reason`, the one line shown for input kube6 cannot read.
pub fn import_failure(source: &Source, err: &ImportError) -> Failure {
    let place = match err.pos() {
        Some(pos) => format!("{}:{}:{}", source.name, pos.line, pos.column),
        None => source.name.clone(),
    };
    Failure::usage(anyhow::Error::new(err.clone()).context(place))
}

/// Analyzes the `--k3s-args` command line.
pub fn analyze_k3s_args(args: &InputArgs, line: &str) -> Result<(Source, Analysis), Failure> {
    let source = Source {
        name: "--k3s-args".to_string(),
        text: line.to_string(),
    };
    let mut options = args.import_options();
    options.format = Some(Format::K3sArgs);
    let analysis =
        analyze(&source.name, &source.text, &options).map_err(|e| import_failure(&source, &e))?;
    Ok((source, analysis))
}

/// Reads and analyzes one file.
pub fn analyze_file(path: &Path, args: &InputArgs) -> Result<(Source, Analysis), Failure> {
    let source = read(path)?;
    let analysis = analyze(&source.name, &source.text, &args.import_options())
        .map_err(|e| import_failure(&source, &e))?;
    Ok((source, analysis))
}
