//! What `render` and `convert` share before they write anything: refusing an invalid plan, reading the rendered configuration back through kube6's own rules,
//! and the renderers' notes.

use kube6_model::Analysis;
use kube6_model::import::ImportOptions;
use kube6_model::model::{FeatureGate, Format};
use kube6_model::source::{Located, Origin};
use kube6_render::{KubeadmApi, Rendered};

use super::input::Source;
use crate::exit::Status;
use crate::output;

/// For an invalid plan: prints its diagnostics to stderr and returns exit status 1.
pub fn refuse_invalid(source: &Source, analysis: &Analysis, what: &str) -> Option<Status> {
    if analysis.plan.valid {
        return None;
    }
    let mut text = String::new();
    for d in analysis.diagnostics() {
        text.push_str(&source.render(d));
    }
    text.push_str(&format!(
        "kube6: {} is not valid ({}); {what} writes nothing for an invalid plan\n",
        source.name,
        output::summary(analysis.diagnostics())
    ));
    output::write_stderr(&text);
    Some(Status::Invalid)
}

/// Reads the target's rendered document back and plans it: a plan that is not valid for the
/// target's own distribution (the input was checked for its distribution, which may differ)
/// is refused with the diagnostics, exit 1.
pub fn recheck(analysis: &Analysis, format: Format, api: KubeadmApi) -> Option<Status> {
    let converted = kube6_render::convert(&analysis.network, &analysis.plan, format, api).ok()?;
    let text: String = converted
        .files
        .iter()
        .map(|f| f.content.as_str())
        .collect::<Vec<_>>()
        .join("---\n");
    let mut options = ImportOptions {
        format: Some(format),
        ..ImportOptions::default()
    };
    // The rendered command lines carry these gates (k0s --feature-gates).
    options.feature_gates = analysis
        .network
        .feature_gates
        .iter()
        .filter(|g| g.name.value == "IPv6SingleStack")
        .cloned()
        .collect();
    if format == Format::K0s
        && analysis.plan.families == [kube6_net::Family::IPv6]
        && options.feature_gates.is_empty()
    {
        options.feature_gates.push(FeatureGate {
            name: Located::new(
                "IPv6SingleStack".to_string(),
                Origin::input("--feature-gates", None),
            ),
            enabled: Located::new(true, Origin::input("--feature-gates", None)),
        });
    }
    let name = format!("rendered {format} configuration");
    let checked = match kube6_model::analyze(&name, &text, &options) {
        Ok(a) => a,
        Err(e) => {
            output::error(&*anyhow::Error::new(e).context(format!(
                "internal error: the rendered {format} configuration does not read back"
            )));
            return Some(Status::Invalid);
        }
    };
    if checked.plan.valid {
        return None;
    }
    let source = Source::new(name, text);
    let mut out = String::new();
    for d in checked.diagnostics() {
        if d.severity == kube6_model::diagnostic::Severity::Error {
            out.push_str(&source.render(d));
        }
    }
    out.push_str(&format!(
        "kube6: the cluster is valid as given, but not for {format}: the errors above are what {format} would refuse; nothing was written\n"
    ));
    output::write_stderr(&out);
    Some(Status::Invalid)
}

/// Notes from the renderers, one line each on stderr.
pub fn print_notes(rendered: &Rendered) {
    for note in &rendered.notes {
        output::note(note);
    }
}
