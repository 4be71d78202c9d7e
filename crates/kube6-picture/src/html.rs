//! The plan as one self-contained HTML page: the SVG map inline, the ranges, the prefix's
//! carving with its reasons, the renumbering, the nodes and the diagnostics as tables, and the
//! text plan. No script, no external asset: a Content-Security-Policy forbids loading any.

use std::fmt::Write as _;

use kube6_model::diagnostic::Severity;
use kube6_model::plan::Plan;

use crate::xml::escape;

const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif; margin: 0; color: #1b1f23; background: #f6f8fa; }
header { background: #24292f; color: #ffffff; padding: 16px 24px; }
header h1 { margin: 0 0 4px 0; font-size: 20px; }
header p { margin: 0; color: #d0d7de; }
main { padding: 16px 24px; max-width: 1100px; }
section { background: #ffffff; border: 1px solid #d0d7de; border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; overflow-x: auto; }
h2 { font-size: 16px; margin: 4px 0 10px 0; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { background: #f6f8fa; }
code, pre, .mono { font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: 12px; }
pre { white-space: pre-wrap; }
.valid { color: #1a7f37; font-weight: bold; }
.invalid { color: #cf222e; font-weight: bold; }
.error { color: #cf222e; font-weight: bold; }
.warning { color: #9a6700; font-weight: bold; }
.info { color: #0969da; font-weight: bold; }
.changed { font-weight: bold; }
svg { max-width: 100%; height: auto; }
";

fn cell(out: &mut String, content: &str, class: &str) {
    if class.is_empty() {
        let _ = write!(out, "<td>{}</td>", escape(content));
    } else {
        let _ = write!(out, "<td class=\"{class}\">{}</td>", escape(content));
    }
}

fn table(out: &mut String, headers: &[&str], rows: &[Vec<(String, &str)>]) {
    out.push_str("<table><thead><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for (content, class) in row {
            cell(out, content, class);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// The HTML page for `plan`; `svg` is its map, `text` the plan as `kube6 plan` prints it.
pub fn page(plan: &Plan, title: &str, svg: &str, text: &str) -> String {
    let mut out = String::new();
    let status = if plan.valid { "valid" } else { "invalid" };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>kube6 plan: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header><h1>Address plan of {}</h1><p>{} · {} · <span class=\"{status}\">{status}</span></p></header>\n<main>\n",
        escape(title),
        escape(title),
        escape(plan.distribution.as_str()),
        escape(plan.cni.as_str()),
    );

    out.push_str("<section><h2>Map</h2>\n");
    // The SVG inline, without its XML declaration.
    let svg = svg.split_once("?>").map_or(svg, |(_, rest)| rest);
    out.push_str(svg.trim());
    out.push_str("\n</section>\n");

    if !plan.diagnostics.is_empty() {
        out.push_str("<section><h2>Diagnostics</h2>\n");
        let rows: Vec<Vec<(String, &str)>> = plan
            .diagnostics
            .iter()
            .map(|d| {
                let class = match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                };
                let place = match d.line {
                    Some(line) => format!("{} (line {line})", d.path),
                    None => d.path.clone(),
                };
                vec![
                    (format!("{} {}", d.severity, d.id), class),
                    (d.message.clone(), ""),
                    (place, "mono"),
                    (d.hint.clone(), ""),
                ]
            })
            .collect();
        table(&mut out, &["finding", "what", "where", "fix"], &rows);
        out.push_str("</section>\n");
    }

    out.push_str("<section><h2>Ranges</h2>\n");
    let mut rows: Vec<Vec<(String, &str)>> = Vec::new();
    for pods in &plan.pods {
        rows.push(vec![
            ("pods".to_string(), ""),
            (pods.family.to_string(), ""),
            (pods.cidr.to_string(), "mono"),
            (
                format!(
                    "node blocks /{}, {} nodes, {} addresses each",
                    pods.node_mask_size
                        .map_or("-".to_string(), |m| m.to_string()),
                    pods.max_nodes.map_or("-".to_string(), |n| n.human()),
                    pods.addresses_per_node
                        .map_or("-".to_string(), |n| n.human())
                ),
                "",
            ),
        ]);
    }
    for services in &plan.services {
        rows.push(vec![
            ("services".to_string(), ""),
            (services.family.to_string(), ""),
            (services.cidr.to_string(), "mono"),
            (
                format!(
                    "API server {}, DNS {}",
                    services
                        .api_server_ip
                        .map_or("-".to_string(), |i| i.to_string()),
                    services.dns_ip.map_or("-".to_string(), |i| i.to_string())
                ),
                "mono",
            ),
        ]);
    }
    table(&mut out, &["range", "family", "CIDR", ""], &rows);
    out.push_str("</section>\n");

    if let Some(prefix) = &plan.prefix {
        let _ = writeln!(
            out,
            "<section><h2>Prefix {} ({})</h2>",
            escape(&prefix.cidr.to_string()),
            escape(&prefix.source)
        );
        let rows: Vec<Vec<(String, &str)>> = prefix
            .ranges
            .iter()
            .map(|r| {
                vec![
                    (r.cidr.to_string(), "mono"),
                    (r.role.as_str().to_string(), ""),
                    (if r.fixed { "kept" } else { "carved" }.to_string(), ""),
                    (r.why.clone(), ""),
                ]
            })
            .collect();
        table(&mut out, &["range", "role", "", "why"], &rows);
        if !prefix.notes.is_empty() {
            out.push_str("<ul>\n");
            for note in &prefix.notes {
                let _ = writeln!(out, "<li>{}</li>", escape(note));
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</section>\n");
    }

    if let Some(renumbering) = &plan.renumbering {
        let _ = writeln!(
            out,
            "<section><h2>Renumbering {} → {}</h2>",
            escape(&renumbering.from.to_string()),
            escape(&renumbering.to.to_string())
        );
        let rows: Vec<Vec<(String, &str)>> = renumbering
            .changes
            .iter()
            .map(|c| {
                let of = c
                    .node
                    .clone()
                    .or_else(|| c.family.map(|f| f.to_string()))
                    .unwrap_or_default();
                let class = if c.changed { "changed" } else { "" };
                vec![
                    (c.what.clone(), ""),
                    (of, ""),
                    (c.before.clone().unwrap_or_else(|| "-".to_string()), "mono"),
                    (c.after.clone().unwrap_or_else(|| "-".to_string()), class),
                ]
            })
            .collect();
        table(&mut out, &["what", "of", "before", "after"], &rows);
        out.push_str("</section>\n");
    }

    if !plan.nodes.is_empty() {
        out.push_str("<section><h2>Nodes</h2>\n");
        let rows: Vec<Vec<(String, &str)>> = plan
            .nodes
            .iter()
            .map(|n| {
                let join = |v: Vec<String>| v.join(", ");
                vec![
                    (
                        n.name
                            .clone()
                            .unwrap_or_else(|| "(the host name)".to_string()),
                        "",
                    ),
                    (
                        join(n.addresses.iter().map(|a| a.to_string()).collect()),
                        "mono",
                    ),
                    (
                        join(n.pod_cidrs.iter().map(|a| a.to_string()).collect()),
                        "mono",
                    ),
                ]
            })
            .collect();
        table(&mut out, &["node", "addresses", "pod CIDRs"], &rows);
        out.push_str("</section>\n");
    }

    out.push_str("<section><details><summary>The plan as text</summary>\n<pre>");
    out.push_str(&escape(text));
    out.push_str("</pre></details></section>\n</main>\n</body>\n</html>\n");
    out
}
