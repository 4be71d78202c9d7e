//! Options shared by the commands that read a cluster configuration, and the reading itself.

use std::path::Path;

use kube6_fs::{Limit, ReadError};
use kube6_model::import::{ImportError, ImportOptions};
use kube6_model::model::{Cni, FeatureGate, Format};
use kube6_model::source::{Located, Origin};
use kube6_model::{Analysis, analyze};

use crate::exit::Failure;

/// How much of a configuration file kube6 reads: the YAML reader's own limit.
pub const CONFIG_LIMIT: Limit = Limit {
    bytes: kube6_model::yaml::MAX_INPUT_BYTES as u64,
    what: "a configuration file",
    raise: None,
};

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

/// A configuration that could not be read or parsed (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{}: {error}", place(.file, .error))]
    Import { file: String, error: ImportError },
    #[error("{0}")]
    Usage(String),
}

fn place(file: &str, err: &ImportError) -> String {
    match err.pos() {
        Some(pos) => format!("{file}:{}:{}", pos.line, pos.column),
        None => file.to_string(),
    }
}

impl InputError {
    /// The file the error is about, if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            InputError::Read(e) => Some(e.name()),
            InputError::Import { file, .. } => Some(file),
            InputError::Usage(_) => None,
        }
    }

    /// Line and column, when the error is at a place in the file.
    pub fn position(&self) -> Option<kube6_model::source::Position> {
        match self {
            InputError::Import { error, .. } => error.pos(),
            _ => None,
        }
    }

    /// The whole error on one line, causes included (for JSON reports).
    pub fn one_line(&self) -> String {
        crate::exit::Chain(self).to_string()
    }
}

impl From<InputError> for Failure {
    fn from(err: InputError) -> Failure {
        Failure::usage(err)
    }
}

/// Reads a configuration file (`-`: standard input): a regular file of at most
/// [`CONFIG_LIMIT`], as text.
pub fn read(path: &Path) -> Result<Source, InputError> {
    let text = kube6_fs::read::text(path, &CONFIG_LIMIT)?;
    Ok(Source {
        name: text.name,
        text: text.text,
    })
}

/// `file:line:column: reason`, the one line shown for input kube6 cannot read.
pub fn import_failure(source: &Source, err: &ImportError) -> InputError {
    InputError::Import {
        file: source.name.clone(),
        error: err.clone(),
    }
}

/// Analyzes the `--k3s-args` command line.
pub fn analyze_k3s_args(args: &InputArgs, line: &str) -> Result<(Source, Analysis), InputError> {
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

/// Reads and analyzes one file (`-`: standard input).
pub fn analyze_file(path: &Path, args: &InputArgs) -> Result<(Source, Analysis), InputError> {
    let source = read(path)?;
    let analysis = analyze(&source.name, &source.text, &args.import_options())
        .map_err(|e| import_failure(&source, &e))?;
    Ok((source, analysis))
}

/// Reads FILE or `--k3s-args`, whichever was given.
pub fn read_input(
    file: Option<&Path>,
    input: &InputArgs,
) -> Result<(Source, Analysis), InputError> {
    match (file, &input.k3s_args) {
        (Some(_), Some(_)) => Err(InputError::Usage(
            "give either FILE or --k3s-args, not both".to_string(),
        )),
        (None, Some(line)) => analyze_k3s_args(input, line),
        (Some(path), None) => analyze_file(path, input),
        (None, None) => Err(InputError::Usage(
            "give the configuration FILE (- for standard input) or --k3s-args".to_string(),
        )),
    }
}
