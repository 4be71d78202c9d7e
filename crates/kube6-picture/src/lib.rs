//! Pictures of a kube6 address plan (`kube6 plan -o svg`, `-o html`): per family, a map of the
//! address space. Each range that holds something gets a row: the delegated prefix with its node
//! link, pod, service and load-balancer ranges, the node link with the nodes' addresses, the pod
//! range with its node blocks (listed nodes labelled, free space shown), the service range with
//! the API server's and DNS addresses. Rows are to scale when every part stays visible, and on a
//! log scale otherwise (a /64 beside a /112); the legend says which.

mod html;
mod layout;
mod map;
mod svg;
mod xml;

use kube6_model::plan::Plan;

pub use xml::escape;

/// The plan's map as one SVG document; `title` names the input (a file name, user-controlled,
/// and escaped like every other text).
pub fn svg(plan: &Plan, title: &str) -> String {
    svg::svg(plan, title)
}

/// The plan as one self-contained HTML page: the map, its tables and diagnostics, and `text`,
/// the plan as `kube6 plan` prints it.
pub fn html(plan: &Plan, title: &str, text: &str) -> String {
    html::page(plan, title, &svg::svg(plan, title), text)
}
