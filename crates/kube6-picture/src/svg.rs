//! Drawing the rows as SVG: one panel per family, each row a captioned bar of segments with
//! labels on them (or called out below when they do not fit), light zoom bands from a segment
//! to the row that shows its inside, and a legend that says how to read the scales.

use std::fmt::Write as _;

use kube6_model::plan::Plan;

use crate::layout::{self, FamilyRows, Row, Scale, SegmentKind};
use crate::map::{self, Kind, MarkKind};
use crate::xml::{escape, shorten};

/// The picture's width, and the bars' left margin and width.
pub const WIDTH: f64 = 1000.0;
const MARGIN: f64 = 24.0;
const BAR: f64 = WIDTH - 2.0 * MARGIN;
const BAR_HEIGHT: f64 = 30.0;
/// Monospace text: DejaVu Sans Mono and its kin advance 0.602 em per character.
const FONT: &str = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace";
const CHAR_EM: f64 = 0.61;
const LABEL_SIZE: f64 = 11.0;
const CALLOUT_LEVEL: f64 = 15.0;
const MAX_CALLOUT_LEVELS: usize = 10;
/// The longest label drawn; the tooltip keeps the whole text.
const MAX_LABEL: usize = 60;

const BACKGROUND: &str = "#ffffff";
const INK: &str = "#1b1f23";
const MUTED: &str = "#57606a";

fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * CHAR_EM
}

/// Fill, stroke and text colour of a segment.
fn colours(kind: &SegmentKind) -> (&'static str, &'static str, &'static str) {
    match kind {
        SegmentKind::Range { overlap: true, .. } => ("url(#overlap)", "#c62828", INK),
        SegmentKind::Range { kind, .. } => region_colours(*kind),
        SegmentKind::Block { upcoming: false } => ("#1e66c8", "#0d47a1", "#ffffff"),
        SegmentKind::Block { upcoming: true } => ("#90caf9", "#1565c0", INK),
        SegmentKind::Free => ("url(#free)", "#b0bec5", MUTED),
        SegmentKind::Unusable => ("url(#unusable)", "#9e9e9e", MUTED),
        SegmentKind::Point(MarkKind::Node) => ("#2e7d32", "#1b5e20", INK),
        SegmentKind::Point(MarkKind::ApiServer) => ("#e65100", "#bf360c", INK),
        SegmentKind::Point(MarkKind::Dns) => ("#6d4c41", "#3e2723", INK),
        SegmentKind::More => ("#eceff1", "#90a4ae", MUTED),
    }
}

fn region_colours(kind: Kind) -> (&'static str, &'static str, &'static str) {
    match kind {
        Kind::Prefix => ("#eceff1", "#546e7a", INK),
        Kind::NodeSubnet => ("#c8e6c9", "#2e7d32", INK),
        Kind::Hosts => ("#a5d6a7", "#1b5e20", INK),
        Kind::Pods => ("#bbdefb", "#1565c0", INK),
        Kind::Services => ("#ffe0b2", "#ef6c00", INK),
        Kind::LbPool => ("#e1bee7", "#6a1b9a", INK),
    }
}

/// The SVG map of every family of `plan`; `title` names the input.
pub fn svg(plan: &Plan, title: &str) -> String {
    let families: Vec<FamilyRows> = map::build(plan)
        .iter()
        .map(|m| layout::rows(m, BAR))
        .collect();
    let mut body = String::new();
    let mut y = 0.0;

    // Heading.
    y += 30.0;
    text(
        &mut body,
        MARGIN,
        y,
        18.0,
        "bold",
        INK,
        &format!("Address plan of {}", shorten(title, 70)),
    );
    y += 20.0;
    let stack = match plan.families.as_slice() {
        [one] => format!("{one} single-stack"),
        [a, b] => format!("dual-stack, {a} primary ({a}, {b})"),
        _ => "no range".to_string(),
    };
    let summary = format!(
        "{} · {} · {stack} · {}",
        plan.distribution,
        plan.cni,
        if plan.valid {
            "valid"
        } else {
            "NOT VALID: see the diagnostics"
        }
    );
    text(
        &mut body,
        MARGIN,
        y,
        12.0,
        "normal",
        if plan.valid { MUTED } else { "#c62828" },
        &summary,
    );
    y += 14.0;

    let mut scales = Vec::new();
    let mut kinds: Vec<SegmentKind> = Vec::new();
    for family in &families {
        y += 26.0;
        text(
            &mut body,
            MARGIN,
            y,
            16.0,
            "bold",
            INK,
            family.family.as_str(),
        );
        y += 8.0;
        if family.rows.is_empty() && family.loose.is_empty() {
            y += 16.0;
            text(
                &mut body,
                MARGIN,
                y,
                12.0,
                "normal",
                MUTED,
                "no range of this family parsed",
            );
        }
        for (index, row) in family.rows.iter().enumerate() {
            y += 10.0;
            y += 16.0;
            let badges: Vec<(usize, usize)> = family
                .rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| match r.parent {
                    Some((p, segment)) if p == index => Some((segment, i + 1)),
                    _ => None,
                })
                .collect();
            // A band joins a segment to the next row when that row shows its inside.
            let band = family
                .rows
                .get(index + 1)
                .and_then(|next| next.parent)
                .filter(|(p, _)| *p == index)
                .map(|(_, segment)| segment);
            y = draw_row(&mut body, row, index + 1, &badges, band, y);
            if !scales.contains(&row.scale) {
                scales.push(row.scale);
            }
            for segment in &row.segments {
                if !kinds.contains(&segment.kind) {
                    kinds.push(segment.kind.clone());
                }
            }
        }
        if !family.loose.is_empty() {
            y += 22.0;
            let list: Vec<String> = family
                .loose
                .iter()
                .map(|m| format!("{} {}", m.label, m.addr))
                .collect();
            y = paragraph(
                &mut body,
                y,
                12.0,
                INK,
                &format!("addresses in no range of the plan: {}", list.join(", ")),
            );
        }
    }

    y += 16.0;
    y = legend(&mut body, y, &kinds, &scales);
    let height = (y + 16.0).ceil();

    let mut out = String::new();
    let _ = write!(
        out,
        r##"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="{FONT}" role="img" aria-labelledby="k6-title">
<title id="k6-title">{t}</title>
<defs>
<pattern id="free" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="8" height="8" fill="#ffffff"/><line x1="0" y1="0" x2="0" y2="8" stroke="#cfd8dc" stroke-width="2"/></pattern>
<pattern id="unusable" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="#f5f5f5"/><line x1="0" y1="0" x2="0" y2="5" stroke="#bdbdbd" stroke-width="2"/></pattern>
<pattern id="overlap" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#ffcdd2"/><path d="M0,0 L6,6 M6,0 L0,6" stroke="#c62828" stroke-width="1"/></pattern>
</defs>
<rect width="100%" height="100%" fill="{BACKGROUND}"/>
"##,
        w = WIDTH,
        t = escape(&format!("kube6 address plan of {title}")),
    );
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// `content` cut into lines of at most `max` characters, at spaces where possible.
fn wrap(content: &str, max: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in content.split(' ') {
        let fits = line.chars().count() + 1 + word.chars().count() <= max;
        if !line.is_empty() && !fits {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
        while line.chars().count() > max {
            let head: String = line.chars().take(max).collect();
            let tail: String = line.chars().skip(max).collect();
            lines.push(head);
            line = tail;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Lines of text at `size`, wrapped to the bar's width; returns the y of the last line.
fn paragraph(out: &mut String, y: f64, size: f64, fill: &str, content: &str) -> f64 {
    let max = (BAR / (size * CHAR_EM)).floor() as usize;
    let mut y = y;
    for (i, line) in wrap(content, max.max(10)).iter().enumerate() {
        if i > 0 {
            y += size + 4.0;
        }
        text(out, MARGIN, y, size, "normal", fill, line);
    }
    y
}

fn text(out: &mut String, x: f64, y: f64, size: f64, weight: &str, fill: &str, content: &str) {
    let _ = writeln!(
        out,
        r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" font-weight="{weight}" fill="{fill}">{}</text>"#,
        escape(content)
    );
}

/// Draws row `number` with its caption at `y`, on the segments of `badges` the numbers of the
/// rows that show their inside, and a band from segment `band` down to the next row; returns
/// the y below everything drawn.
fn draw_row(
    out: &mut String,
    row: &Row,
    number: usize,
    badges: &[(usize, usize)],
    band: Option<usize>,
    y: f64,
) -> f64 {
    let scale = match row.scale {
        Scale::Linear => "to scale",
        Scale::Log => "log scale, not to scale",
    };
    text(
        out,
        MARGIN,
        y,
        12.0,
        "bold",
        if row.overlap { "#c62828" } else { INK },
        &shorten(&format!("{number}. {}", row.title), 90),
    );
    let scale_x = MARGIN + BAR - text_width(scale, 10.0);
    text(out, scale_x, y, 10.0, "normal", MUTED, scale);
    let sub_y = y + 13.0;
    let sub_y = paragraph(out, sub_y, 10.0, MUTED, &row.subtitle);
    let top = sub_y + 6.0;
    let bottom = top + BAR_HEIGHT;
    let mut spans = Vec::new();
    let mut callouts: Vec<(f64, String, usize)> = Vec::new();
    for (i, segment) in row.segments.iter().enumerate() {
        let x = MARGIN + segment.x;
        let w = segment.w.max(0.5);
        spans.push((x, x + w));
        let (fill, stroke, ink) = colours(&segment.kind);
        let _ = write!(out, r#"<g><title>{}</title>"#, escape(&segment.detail));
        match segment.kind {
            SegmentKind::Point(_) => {
                // One address: a bold tick the full height of the bar, on a light cell.
                let _ = write!(
                    out,
                    r##"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{BAR_HEIGHT}" fill="#fafafa" stroke="#cfd8dc" stroke-width="0.5"/><rect x="{:.1}" y="{:.1}" width="3" height="{:.1}" fill="{fill}"/>"##,
                    x + w / 2.0 - 1.5,
                    top + 2.0,
                    BAR_HEIGHT - 4.0
                );
            }
            _ => {
                let _ = write!(
                    out,
                    r#"<rect x="{x:.1}" y="{top:.1}" width="{w:.1}" height="{BAR_HEIGHT}" fill="{fill}" stroke="{stroke}" stroke-width="1"/>"#
                );
            }
        }
        out.push_str("</g>\n");
        let label = shorten(&segment.label, MAX_LABEL);
        let short = shorten(&segment.short, MAX_LABEL);
        let inside = matches!(segment.kind, SegmentKind::Point(_))
            .then_some(None)
            .unwrap_or_else(|| {
                if text_width(&label, LABEL_SIZE) + 8.0 <= w {
                    Some(label.clone())
                } else if text_width(&short, LABEL_SIZE) + 8.0 <= w && short != label {
                    // The short form inside, the whole label below (free space needs no more).
                    if !matches!(segment.kind, SegmentKind::Free | SegmentKind::Unusable) {
                        callouts.push((x + w / 2.0, label.clone(), i));
                    }
                    Some(short.clone())
                } else {
                    None
                }
            });
        match inside {
            Some(content) => {
                let tw = text_width(&content, LABEL_SIZE);
                let (bg, pad) = match segment.kind {
                    SegmentKind::Free
                    | SegmentKind::Unusable
                    | SegmentKind::Range { overlap: true, .. } => ("#ffffff", 2.0),
                    _ => ("none", 0.0),
                };
                let tx = x + (w - tw) / 2.0;
                let ty = top + BAR_HEIGHT / 2.0 + LABEL_SIZE * 0.35;
                if bg != "none" {
                    let _ = writeln!(
                        out,
                        r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{bg}" fill-opacity="0.85"/>"#,
                        tx - pad,
                        ty - LABEL_SIZE,
                        tw + 2.0 * pad,
                        LABEL_SIZE + 3.0
                    );
                }
                text(out, tx, ty, LABEL_SIZE, "normal", ink, &content);
            }
            None => {
                let quiet = matches!(segment.kind, SegmentKind::Free | SegmentKind::Unusable);
                if !quiet && !callouts.iter().any(|(_, _, j)| *j == i) {
                    callouts.push((x + w / 2.0, label, i));
                }
            }
        }
        if let Some((_, shown_in)) = badges.iter().find(|(segment, _)| *segment == i) {
            let badge = format!("{shown_in}");
            let bw = text_width(&badge, 9.0) + 6.0;
            let bx = (x + w - bw - 2.0).max(x);
            let _ = writeln!(
                out,
                r##"<rect x="{bx:.1}" y="{:.1}" width="{bw:.1}" height="11" rx="3" fill="#37474f"/>"##,
                top + 1.5
            );
            text(out, bx + 3.0, top + 10.5, 9.0, "bold", "#ffffff", &badge);
        }
    }
    // Labels that do not fit go below the bar, each on the first level where it has room,
    // with a leader line to its segment.
    let mut levels: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut placed: Vec<(f64, f64, String, usize)> = Vec::new();
    let mut overflow: Vec<String> = Vec::new();
    for (center, label, _) in &callouts {
        let tw = text_width(label, LABEL_SIZE);
        let x = (center - tw / 2.0).clamp(MARGIN, MARGIN + BAR - tw);
        let span = (x - 6.0, x + tw + 6.0);
        let level = (0..MAX_CALLOUT_LEVELS).find(|l| {
            levels
                .get(*l)
                .is_none_or(|spans| spans.iter().all(|(a, b)| span.1 <= *a || span.0 >= *b))
        });
        match level {
            Some(level) => {
                while levels.len() <= level {
                    levels.push(Vec::new());
                }
                levels[level].push(span);
                placed.push((*center, x, label.clone(), level));
            }
            None => overflow.push(label.clone()),
        }
    }
    let mut below = bottom + 6.0 + levels.len() as f64 * CALLOUT_LEVEL;
    if let Some((x0, x1)) = band.and_then(|b| spans.get(b)) {
        let end = below + 10.0;
        let _ = writeln!(
            out,
            r##"<polygon points="{x0:.1},{bottom:.1} {x1:.1},{bottom:.1} {:.1},{end:.1} {MARGIN:.1},{end:.1}" fill="#90a4ae" fill-opacity="0.16" stroke="#90a4ae" stroke-opacity="0.5" stroke-width="0.6"/>"##,
            MARGIN + BAR
        );
    }
    for (center, x, label, level) in &placed {
        let ly = bottom + 14.0 + *level as f64 * CALLOUT_LEVEL;
        let _ = writeln!(
            out,
            r##"<line x1="{center:.1}" y1="{bottom:.1}" x2="{center:.1}" y2="{:.1}" stroke="#78909c" stroke-width="0.7"/>"##,
            ly - LABEL_SIZE + 1.0
        );
        text(out, *x, ly, LABEL_SIZE, "normal", INK, label);
    }
    if !overflow.is_empty() {
        below = paragraph(
            out,
            below + 12.0,
            10.0,
            MUTED,
            &format!("also: {}", overflow.join(", ")),
        );
    }
    below
}

/// The legend: what each colour is, and how to read the scales.
fn legend(out: &mut String, mut y: f64, kinds: &[SegmentKind], scales: &[Scale]) -> f64 {
    text(out, MARGIN, y, 13.0, "bold", INK, "Legend");
    y += 8.0;
    let mut entries: Vec<(SegmentKind, &str)> = Vec::new();
    let mut add = |kind: SegmentKind, name: &'static str| {
        if !entries.iter().any(|(k, _)| *k == kind) {
            entries.push((kind, name));
        }
    };
    for kind in kinds {
        let name = match kind {
            SegmentKind::Range { overlap: true, .. } => {
                "overlap: a range inside one it must not share"
            }
            SegmentKind::Range { kind, .. } => kind.name(),
            SegmentKind::Block { upcoming: false } => "node block of a listed node",
            SegmentKind::Block { upcoming: true } => "first node blocks handed out",
            SegmentKind::Free => "free",
            SegmentKind::Unusable => "never used (beyond the ClusterIP bitmap)",
            SegmentKind::Point(MarkKind::Node) => "node address",
            SegmentKind::Point(MarkKind::ApiServer) => "API server service address",
            SegmentKind::Point(MarkKind::Dns) => "cluster DNS address",
            SegmentKind::More => "more, summed up",
        };
        add(kind.clone(), name);
    }
    let mut x = MARGIN;
    y += 16.0;
    for (kind, name) in &entries {
        let w = 20.0 + 6.0 + text_width(name, 11.0) + 18.0;
        if x + w > MARGIN + BAR {
            x = MARGIN;
            y += 20.0;
        }
        let (fill, stroke, _) = colours(kind);
        let _ = writeln!(
            out,
            r#"<rect x="{x:.1}" y="{:.1}" width="20" height="12" fill="{fill}" stroke="{stroke}" stroke-width="1"/>"#,
            y - 10.0
        );
        text(out, x + 26.0, y, 11.0, "normal", INK, name);
        x += w;
    }
    let mut notes = Vec::new();
    if scales.contains(&Scale::Linear) {
        notes.push("\"to scale\": widths are proportional to the number of addresses.");
    }
    if scales.contains(&Scale::Log) {
        notes.push(
            "\"log scale\": widths grow with the number of address bits, not addresses (a /64 is drawn about 4 times as wide as a /112, while it holds 2^48 times as many); single addresses are ticks.",
        );
    }
    notes.push(
        "Rows are numbered; the number on a segment is the row that shows what it holds (a band joins them when that row follows). Hover for full addresses.",
    );
    for note in notes {
        y = paragraph(out, y + 18.0, 11.0, MUTED, note);
    }
    y
}
