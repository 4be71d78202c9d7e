//! The components' own validation tests, ported row by row: each row names the upstream
//! repository, file, test and case it encodes, writes the case as input kube6 reads, and states
//! the verdict upstream gives and the one kube6 gives. Where kube6 deliberately differs, the row
//! says why; otherwise the two verdicts must agree (an accepted case may carry warnings, a refused
//! one must be refused by exactly the rules listed).
//!
//! One module per component. Rows encode behaviour, not upstream code: inputs are written in
//! kube6's input formats (kubeadm, k0s, k3s, KKP, Calico documents, kube6's own).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calico;
mod cilium;
mod k0s;
mod k3s;
mod kkp;
mod kube_apiserver;
mod kube_controller_manager;
mod kube_proxy;
mod kube_router;
mod kubeadm;
mod kubelet;
mod metallb;
mod rke2;

use kube6_model::diagnostic::Severity;
use kube6_model::import::ImportOptions;
use kube6_model::model::FeatureGate;
use kube6_model::source::{Located, Origin};

/// Where a row comes from: repository, file, test function and the case's name in it.
#[derive(Debug, Clone, Copy)]
pub struct Upstream {
    pub repo: &'static str,
    pub file: &'static str,
    pub test: &'static str,
    pub case: &'static str,
}

impl std::fmt::Display for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} {} / {:?}",
            self.repo, self.file, self.test, self.case
        )
    }
}

/// What upstream does with the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upstreams {
    Accepts,
    Refuses,
}

/// What kube6 says about the same input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kube6 {
    /// No error (warnings and notes allowed).
    Accepts,
    /// No error, and this warning (or note) among the diagnostics.
    Warns(&'static str),
    /// Errors, exactly these rules (the first is the one that encodes the upstream check).
    Refuses(&'static [&'static str]),
}

impl Kube6 {
    fn accepts(self) -> bool {
        !matches!(self, Kube6::Refuses(_))
    }
}

/// One ported case.
pub struct Row {
    pub upstream: Upstream,
    pub verdict: Upstreams,
    /// The case as a file kube6 reads.
    pub input: String,
    /// Feature gates given on the command line (`--feature-gates`).
    pub gates: &'static [(&'static str, bool)],
    pub kube6: Kube6,
    /// Why kube6's verdict deliberately differs from upstream's (None: they agree).
    pub differs: Option<&'static str>,
}

/// A row whose verdicts agree.
pub fn row(upstream: Upstream, verdict: Upstreams, input: String, kube6: Kube6) -> Row {
    Row {
        upstream,
        verdict,
        input,
        gates: &[],
        kube6,
        differs: None,
    }
}

impl Row {
    pub fn gates(mut self, gates: &'static [(&'static str, bool)]) -> Row {
        self.gates = gates;
        self
    }

    /// kube6 deliberately gives another verdict than upstream, for `why`.
    pub fn differs(mut self, why: &'static str) -> Row {
        self.differs = Some(why);
        self
    }
}

/// Imports and checks `text` as `kube6 validate` would.
pub fn analyze(text: &str, gates: &[(&str, bool)]) -> kube6_model::Analysis {
    let options = ImportOptions {
        feature_gates: gates
            .iter()
            .map(|(name, on)| FeatureGate {
                name: Located::new(name.to_string(), Origin::input("--feature-gates", None)),
                enabled: Located::new(*on, Origin::input("--feature-gates", None)),
            })
            .collect(),
        ..ImportOptions::default()
    };
    kube6_model::analyze("upstream.yaml", text, &options)
        .unwrap_or_else(|e| panic!("input does not import: {e}\n{text}"))
}

/// Checks every row; collects all failures so one run shows them all.
pub fn check(rows: Vec<Row>) {
    assert!(!rows.is_empty());
    let mut failures = Vec::new();
    for row in rows {
        let analysis = analyze(&row.input, row.gates);
        let diagnostics = analysis.diagnostics();
        let mut errors: Vec<&str> = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.id)
            .collect();
        errors.sort_unstable();
        errors.dedup();
        let ids: Vec<&str> = diagnostics.iter().map(|d| d.id).collect();
        let problem = match row.kube6 {
            Kube6::Accepts if !errors.is_empty() => {
                Some(format!("expected no error, got {errors:?}"))
            }
            Kube6::Warns(id) if !errors.is_empty() || !ids.contains(&id) => {
                Some(format!("expected only the warning {id}, got {ids:?}"))
            }
            Kube6::Refuses(expected) => {
                let mut expected = expected.to_vec();
                expected.sort_unstable();
                (expected != errors)
                    .then(|| format!("expected the errors {expected:?}, got {errors:?}"))
            }
            _ => None,
        };
        let agrees = (row.verdict == Upstreams::Accepts) == row.kube6.accepts();
        let consistency = match (row.differs, agrees) {
            (None, false) => Some(
                "kube6's verdict differs from upstream's, but the row gives no reason".to_string(),
            ),
            (Some(_), true) => {
                Some("the row says kube6 differs, but the verdicts agree".to_string())
            }
            _ => None,
        };
        for message in problem.into_iter().chain(consistency) {
            let messages: Vec<String> = diagnostics
                .iter()
                .map(|d| format!("  {} {}: {}", d.id, d.path, d.message))
                .collect();
            failures.push(format!(
                "{}\n  {message}\n{}\n--- input\n{}",
                row.upstream,
                messages.join("\n"),
                row.input
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
