//! Options shared by the commands that read a cluster configuration, and the reading itself.

use std::path::Path;

use kube6_fs::{Limit, ReadError};
use kube6_model::import::{ImportError, ImportOptions};
use kube6_model::model::{Cni, FeatureGate, Format};
use kube6_model::prefix::PrefixOptions;
use kube6_model::source::{Located, Origin};
use kube6_model::{Analysis, analyze_with_prefix};

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
    /// CNI configuration files read with the cluster's (`kube6 validate cluster.yaml
    /// cilium-values.yaml`): each is appended to `text` as more YAML documents, and findings in
    /// it are reported against its own name and lines.
    pub parts: Vec<Part>,
}

/// A file appended to a source.
pub struct Part {
    pub name: String,
    /// The line of the combined text before the file's first line.
    pub offset: u32,
    pub text: String,
}

impl Source {
    /// A source made of one text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source {
            name: name.into(),
            text: text.into(),
            parts: Vec::new(),
        }
    }

    /// Appends a CNI configuration file as more documents of the same input.
    pub fn append(&mut self, part: Source) {
        if !self.text.ends_with('\n') && !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str("---\n");
        let offset = self.text.lines().count() as u32;
        self.text.push_str(&part.text);
        if !part.text.ends_with('\n') {
            self.text.push('\n');
        }
        self.parts.push(Part {
            name: part.name,
            offset,
            text: part.text,
        });
    }

    /// The file and line a line of the combined text stands on.
    fn place(&self, line: u32) -> (&str, u32, &str) {
        match self.parts.iter().rev().find(|p| line > p.offset) {
            Some(part) => (&part.name, line - part.offset, &part.text),
            None => (&self.name, line, &self.text),
        }
    }

    /// Moves findings that lie in an appended file to that file's name and lines.
    pub fn relocate(&self, diagnostics: &mut [kube6_model::diagnostic::Diagnostic]) {
        if self.parts.is_empty() {
            return;
        }
        for d in diagnostics {
            if let Some(line) = d.line {
                let (name, local, _) = self.place(line);
                if name != self.name {
                    d.file = Some(name.to_string());
                    d.line = Some(local);
                }
            }
        }
    }

    /// A finding for people, quoting the line of the file it is in.
    pub fn render(&self, d: &kube6_model::diagnostic::Diagnostic) -> String {
        match &d.file {
            Some(file) => {
                let text = self
                    .parts
                    .iter()
                    .find(|p| &p.name == file)
                    .map(|p| p.text.as_str());
                crate::output::render_diagnostic(d, file, text)
            }
            None => crate::output::render_diagnostic(d, &self.name, Some(&self.text)),
        }
    }
}

/// A configuration that could not be read or parsed (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("{}: {error}", place(.file, *.line, *.column))]
    Import {
        file: String,
        line: Option<u32>,
        column: Option<u32>,
        error: ImportError,
    },
    #[error("{message}")]
    Usage {
        /// The file the error is about, if it is about one.
        file: Option<String>,
        message: String,
    },
}

fn place(file: &str, line: Option<u32>, column: Option<u32>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
        (Some(l), None) => format!("{file}:{l}"),
        _ => file.to_string(),
    }
}

impl InputError {
    fn usage(message: impl Into<String>) -> InputError {
        InputError::Usage {
            file: None,
            message: message.into(),
        }
    }

    /// The file the error is about, if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            InputError::Read(e) => Some(e.name()),
            InputError::Import { file, .. } => Some(file),
            InputError::Usage { file, .. } => file.as_deref(),
        }
    }

    /// Line and column, when the error is at a place in the file.
    pub fn position(&self) -> Option<kube6_model::source::Position> {
        match self {
            InputError::Import {
                line: Some(line),
                column,
                ..
            } => Some(kube6_model::source::Position {
                line: *line,
                column: column.unwrap_or(1),
            }),
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
/// [`CONFIG_LIMIT`], as text (UTF-8, a byte-order mark dropped, or UTF-16 with one).
pub fn read(path: &Path) -> Result<Source, InputError> {
    let text = kube6_fs::read::text(path, &CONFIG_LIMIT)?;
    Ok(Source::new(text.name, text.text))
}

/// `file:line:column: reason`, the one line shown for input kube6 cannot read; a place in an
/// appended CNI file is given in that file's own name and lines.
pub fn import_failure(source: &Source, err: &ImportError) -> InputError {
    let (file, line) = match err.pos() {
        Some(pos) => {
            let (name, line, _) = source.place(pos.line);
            (name.to_string(), Some(line))
        }
        None => (source.name.clone(), None),
    };
    InputError::Import {
        file,
        line,
        column: err.pos().map(|p| p.column),
        error: err.clone(),
    }
}

/// Analyzes the `--k3s-args` command line.
pub fn analyze_k3s_args(args: &InputArgs, line: &str) -> Result<(Source, Analysis), InputError> {
    analyze_k3s_args_with(args, line, &PrefixOptions::default())
}

/// Analyzes the `--k3s-args` command line, carving `prefix` (`kube6 plan --prefix`).
pub fn analyze_k3s_args_with(
    args: &InputArgs,
    line: &str,
    prefix: &PrefixOptions,
) -> Result<(Source, Analysis), InputError> {
    let source = Source::new("--k3s-args", line);
    let mut options = args.import_options();
    options.format = Some(Format::K3sArgs);
    let analysis = analyze_with_prefix(&source.name, &source.text, &options, prefix)
        .map_err(|e| import_failure(&source, &e))?;
    Ok((source, analysis))
}

/// Reads and analyzes one file (`-`: standard input).
pub fn analyze_file(path: &Path, args: &InputArgs) -> Result<(Source, Analysis), InputError> {
    analyze_with(path, &[], args)
}

/// Whether a file holds only CNI configuration (Cilium values, a net-conf.json, a CNI's
/// ConfigMap or DaemonSet, ...), which accompanies a cluster configuration.
pub fn is_cni_only(source: &Source) -> bool {
    kube6_model::import::holds_only_cni_documents(&source.text).unwrap_or(false)
}

/// Reads the cluster configuration at `path` with the CNI configuration files that accompany
/// it, and analyzes them as one input: the CNI files' settings are judged by the same rules.
pub fn analyze_with(
    path: &Path,
    cni_files: &[std::path::PathBuf],
    args: &InputArgs,
) -> Result<(Source, Analysis), InputError> {
    analyze_with_options(path, cni_files, args, &PrefixOptions::default())
}

/// `analyze_with`, carving `prefix` (`kube6 plan --prefix`).
/// Refuses `-` (standard input) for more than one of `paths`: it can be read once. `hint` says
/// where to give it instead.
pub fn stdin_at_most_once<'a>(
    paths: impl IntoIterator<Item = &'a Path>,
    hint: &str,
) -> Result<(), InputError> {
    let readers = paths
        .into_iter()
        .filter(|p| kube6_fs::read::is_stdin(p))
        .count();
    if readers > 1 {
        return Err(InputError::usage(format!(
            "standard input (-) can be read once: {hint}"
        )));
    }
    Ok(())
}

pub fn analyze_with_options(
    path: &Path,
    cni_files: &[std::path::PathBuf],
    args: &InputArgs,
    prefix: &PrefixOptions,
) -> Result<(Source, Analysis), InputError> {
    stdin_at_most_once(
        std::iter::once(path).chain(cni_files.iter().map(|p| p.as_path())),
        "give it for one file only",
    )?;
    let mut source = read(path)?;
    for file in cni_files {
        let part = read(file)?;
        if !is_cni_only(&part) {
            return Err(InputError::Usage {
                message: format!(
                    "{} is not CNI configuration (Cilium values, a net-conf.json, a CNI network \
                     configuration, or a CNI's ConfigMap, DaemonSet or HelmChartConfig); kube6 reads \
                     one cluster per group of files",
                    part.name
                ),
                file: Some(part.name),
            });
        }
        source.append(part);
    }
    let mut analysis =
        analyze_with_prefix(&source.name, &source.text, &args.import_options(), prefix)
            .map_err(|e| import_failure(&source, &e))?;
    source.relocate(&mut analysis.plan.diagnostics);
    Ok((source, analysis))
}

/// Reads FILE or `--k3s-args`, whichever was given.
pub fn read_input(
    file: Option<&Path>,
    input: &InputArgs,
) -> Result<(Source, Analysis), InputError> {
    match (file, &input.k3s_args) {
        (Some(_), Some(_)) => Err(InputError::usage(
            "give either FILE or --k3s-args, not both",
        )),
        (None, Some(line)) => analyze_k3s_args(input, line),
        (Some(path), None) => analyze_file(path, input),
        (None, None) => Err(InputError::usage(
            "give the configuration FILE (- for standard input) or --k3s-args",
        )),
    }
}

/// Adds what `target` would refuse (its distribution's rules on this cluster, as render checks
/// before writing its files) to the analysis, unless the input is for that distribution already;
/// findings the input's own rules made are not repeated.
pub fn add_target_rules(
    source: &Source,
    analysis: &mut Analysis,
    target: Option<kube6_render::Target>,
    cni: Option<Cni>,
) {
    let Some(target) = target else {
        return;
    };
    if target.distribution() == analysis.network.distribution.value {
        return;
    }
    let mut found = kube6_render::target_diagnostics(&analysis.network, target, cni);
    source.relocate(&mut found);
    let plan = &mut analysis.plan;
    for d in found {
        if !plan.diagnostics.contains(&d) {
            plan.diagnostics.push(d);
        }
    }
    kube6_model::diagnostic::sort(&mut plan.diagnostics);
    plan.valid = !plan
        .diagnostics
        .iter()
        .any(|d| d.severity == kube6_model::diagnostic::Severity::Error);
}
