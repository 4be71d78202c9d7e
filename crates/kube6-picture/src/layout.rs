//! From regions to rows: each region that holds something gets a row, a bar of its whole range
//! cut into segments (the ranges inside it, node blocks, single addresses, and the free space
//! between them). A row is drawn to scale when every segment stays visible that way; otherwise
//! on a log scale, where a segment's width grows with the number of its address bits.

use crate::map::{FamilyMap, Kind, Mark, MarkKind, Region, addr_value, start};

/// The most items (ranges, blocks, addresses) one row shows before it sums up the rest.
pub const MAX_ITEMS: usize = 32;
/// The narrowest a segment is drawn on a log-scale row.
const MIN_WIDTH: f64 = 10.0;
/// The narrowest a segment may be on a row drawn to scale.
const MIN_LINEAR_WIDTH: f64 = 6.0;

/// What a segment shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentKind {
    /// A range inside the row's range.
    Range { kind: Kind, overlap: bool },
    /// A node block handed out (or the first ones that would be).
    Block { upcoming: bool },
    /// Space nothing uses.
    Free,
    /// Addresses that are never used (beyond the ClusterIP bitmap).
    Unusable,
    /// One address.
    Point(MarkKind),
    /// Items this row does not show one by one.
    More,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub kind: SegmentKind,
    /// Offset from the row's first address, and number of addresses (saturating).
    pub offset: u128,
    pub len: u128,
    /// Left edge and width as fractions of the bar.
    pub x: f64,
    pub w: f64,
    /// The label on or under the segment.
    pub label: String,
    /// A shorter label for a narrow segment.
    pub short: String,
    /// Everything about it, for the tooltip.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Linear,
    Log,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: Kind,
    pub title: String,
    pub subtitle: String,
    pub scale: Scale,
    pub segments: Vec<Segment>,
    /// The row and segment this row zooms into.
    pub parent: Option<(usize, usize)>,
    pub overlap: bool,
}

/// The rows of one family, in drawing order.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyRows {
    pub family: kube6_net::Family,
    pub rows: Vec<Row>,
    /// Addresses outside every range of the plan.
    pub loose: Vec<Mark>,
}

pub fn rows(map: &FamilyMap, width: f64) -> FamilyRows {
    let mut rows = Vec::new();
    for root in &map.roots {
        region_rows(root, None, width, &mut rows);
    }
    FamilyRows {
        family: map.family,
        rows,
        loose: map.loose.clone(),
    }
}

/// `2^n` as a readable count.
pub fn count(n: u128) -> String {
    if n.is_power_of_two() && n > (1 << 32) {
        return format!("2^{}", n.trailing_zeros());
    }
    if n > (1 << 40) {
        return format!("≈2^{}", 127 - n.leading_zeros());
    }
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn size_of(net: &ipnet::IpNet) -> u128 {
    kube6_net::range_size(net).saturating_u128()
}

/// The part of an address that follows the row's range, `::a` style for IPv6.
fn short_addr(addr: &std::net::IpAddr) -> String {
    match addr {
        std::net::IpAddr::V6(v6) => {
            let text = v6.to_string();
            match text.rfind("::") {
                Some(i) if i > 0 => text[i..].to_string(),
                _ => text,
            }
        }
        std::net::IpAddr::V4(v4) => v4.to_string(),
    }
}

fn has_row(region: &Region) -> bool {
    !region.children.is_empty() || !region.marks.is_empty() || region.blocks.is_some()
}

/// An item of a row before widths are known.
struct Item {
    kind: SegmentKind,
    offset: u128,
    len: u128,
    label: String,
    short: String,
    detail: String,
    /// Index into the region's children, for a range that gets a row of its own.
    child: Option<usize>,
}

fn region_rows(region: &Region, parent: Option<(usize, usize)>, width: f64, rows: &mut Vec<Row>) {
    let base = start(&region.net);
    let total = size_of(&region.net);
    let mut items: Vec<Item> = Vec::new();
    for (i, child) in region.children.iter().enumerate() {
        items.push(Item {
            kind: SegmentKind::Range {
                kind: child.kind,
                overlap: child.overlaps.is_some(),
            },
            offset: start(&child.net) - base,
            len: size_of(&child.net),
            label: format!("{} {}", child.kind.name(), child.net),
            short: child.kind.name().to_string(),
            detail: describe(child),
            child: Some(i),
        });
    }
    if let Some(blocks) = &region.blocks {
        for (net, name) in &blocks.assigned {
            items.push(Item {
                kind: SegmentKind::Block {
                    upcoming: blocks.upcoming,
                },
                offset: start(net).saturating_sub(base),
                len: size_of(net),
                label: name.clone(),
                short: name.clone(),
                detail: format!("{name}: {net}"),
                child: None,
            });
        }
    }
    for mark in &region.marks {
        items.push(Item {
            kind: SegmentKind::Point(mark.kind),
            offset: addr_value(&mark.addr).saturating_sub(base),
            len: 1,
            label: format!("{} {}", mark.label, short_addr(&mark.addr)),
            short: mark.label.clone(),
            detail: format!("{}: {}", mark.label, mark.addr),
            child: None,
        });
    }
    items.sort_by_key(|i| (i.offset, std::cmp::Reverse(i.len)));
    // Keep items that do not overlap an earlier one (a block inside an overlapping service
    // range is already shown by the range).
    let mut kept: Vec<Item> = Vec::new();
    for item in items {
        let clear = kept
            .last()
            .is_none_or(|last| last.offset.saturating_add(last.len) <= item.offset);
        if clear {
            kept.push(item);
        }
    }
    if kept.len() > MAX_ITEMS {
        let rest = kept.split_off(MAX_ITEMS - 1);
        let first = &rest[0];
        let shown_nodes = rest
            .iter()
            .filter(|i| matches!(i.kind, SegmentKind::Block { .. } | SegmentKind::Point(_)))
            .count();
        kept.push(Item {
            kind: SegmentKind::More,
            offset: first.offset,
            len: total - first.offset,
            label: format!("{} more, not shown one by one", rest.len()),
            short: format!("+{}", rest.len()),
            detail: format!(
                "{} more items ({shown_nodes} node blocks or addresses) from offset {}",
                rest.len(),
                first.offset
            ),
            child: None,
        });
    }

    // Free space between the items; a service range's addresses beyond the bitmap are unusable.
    // The unit free space is counted in: node blocks in a pod range, links (/64) in a prefix,
    // /80 slots in a node link.
    let unit_len = match (&region.blocks, region.kind) {
        (Some(b), _) => Some(b.mask),
        (None, Kind::Prefix) if region.net.max_prefix_len() == 128 => {
            let link = kube6_model::facts::ipv6::LINK_PREFIX_LEN;
            Some(if region.net.prefix_len() < link {
                link
            } else {
                region.net.prefix_len().saturating_add(16).min(128)
            })
        }
        (None, Kind::NodeSubnet) if region.net.max_prefix_len() == 128 => {
            Some(region.net.prefix_len().saturating_add(16).min(128))
        }
        _ => None,
    };
    let block_size = unit_len.map(|len| {
        let bits = u32::from(region.net.max_prefix_len().saturating_sub(len));
        if bits >= 128 {
            u128::MAX
        } else {
            1u128 << bits
        }
    });
    let unit_name = |n: u128| match (&region.blocks, unit_len) {
        (Some(_), _) => format!(
            "{} free node block{}",
            count(n),
            if n == 1 { "" } else { "s" }
        ),
        (None, Some(len)) => format!("{} free /{len}{}", count(n), if n == 1 { "" } else { "s" }),
        (None, None) => String::new(),
    };
    let mut segments_items: Vec<Item> = Vec::new();
    let mut cursor: u128 = 0;
    let gap = |from: u128, to: u128, out: &mut Vec<Item>| {
        if to <= from {
            return;
        }
        let mut pieces = vec![(from, to, SegmentKind::Free)];
        if let Some(usable) = region.usable
            && usable > from
            && usable < to
        {
            pieces = vec![
                (from, usable, SegmentKind::Free),
                (usable, to, SegmentKind::Unusable),
            ];
        } else if let Some(usable) = region.usable
            && usable <= from
        {
            pieces = vec![(from, to, SegmentKind::Unusable)];
        }
        for (a, b, kind) in pieces {
            let len = b - a;
            let (label, short) = match (&kind, block_size) {
                (SegmentKind::Unusable, _) => (
                    format!(
                        "{} addresses beyond the ClusterIP allocator's 65,536: never used",
                        count(len)
                    ),
                    "unused".to_string(),
                ),
                (_, Some(block)) if block > 0 && len.is_multiple_of(block) && len >= block => {
                    (unit_name(len / block), "free".to_string())
                }
                (_, Some(block)) if block > 0 && len >= block => (
                    format!("about {}", unit_name(len / block)),
                    "free".to_string(),
                ),
                _ => (
                    format!(
                        "free: {} address{}",
                        count(len),
                        if len == 1 { "" } else { "es" }
                    ),
                    "free".to_string(),
                ),
            };
            out.push(Item {
                kind,
                offset: a,
                len,
                detail: label.clone(),
                label,
                short,
                child: None,
            });
        }
    };
    for item in kept {
        gap(cursor, item.offset, &mut segments_items);
        cursor = item.offset.saturating_add(item.len);
        segments_items.push(item);
    }
    gap(cursor, total, &mut segments_items);
    if segments_items.is_empty() {
        segments_items.push(Item {
            kind: SegmentKind::Range {
                kind: region.kind,
                overlap: region.overlaps.is_some(),
            },
            offset: 0,
            len: total,
            label: format!("{} {}", region.kind.name(), region.net),
            short: region.kind.name().to_string(),
            detail: describe(region),
            child: None,
        });
    }

    let (scale, widths) = widths(&segments_items, width);
    let mut x = 0.0;
    let mut children_at: Vec<(usize, usize)> = Vec::new();
    let segments: Vec<Segment> = segments_items
        .iter()
        .zip(&widths)
        .enumerate()
        .map(|(index, (item, w))| {
            if let Some(child) = item.child {
                children_at.push((child, index));
            }
            let segment = Segment {
                kind: item.kind.clone(),
                offset: item.offset,
                len: item.len,
                x,
                w: *w,
                label: item.label.clone(),
                short: item.short.clone(),
                detail: item.detail.clone(),
            };
            x += w;
            segment
        })
        .collect();

    let this = rows.len();
    rows.push(Row {
        kind: region.kind,
        title: format!("{} {}", region.kind.name(), region.net),
        subtitle: subtitle(region),
        scale,
        segments,
        parent,
        overlap: region.overlaps.is_some(),
    });
    for (child, segment) in children_at {
        let child = &region.children[child];
        if has_row(child) {
            region_rows(child, Some((this, segment)), width, rows);
        }
    }
}

/// Segment widths in pixels for a bar `width` wide: to scale when every segment keeps at
/// least `MIN_LINEAR_WIDTH`, else on a log scale (width grows with log2 of the addresses).
fn widths(items: &[Item], width: f64) -> (Scale, Vec<f64>) {
    let total: f64 = items.iter().map(|i| i.len as f64).sum();
    let linear: Vec<f64> = items.iter().map(|i| i.len as f64 / total * width).collect();
    if linear.iter().all(|w| *w >= MIN_LINEAR_WIDTH) {
        return (Scale::Linear, linear);
    }
    let weights: Vec<f64> = items
        .iter()
        .map(|i| (i.len.max(1) as f64).log2() + 1.0)
        .collect();
    let sum: f64 = weights.iter().sum();
    let spare = (width - MIN_WIDTH * items.len() as f64).max(0.0);
    let widths = weights
        .iter()
        .map(|w| MIN_WIDTH.min(width / items.len() as f64) + spare * w / sum)
        .collect();
    (Scale::Log, widths)
}

/// "carved · 65,536 node blocks of /120 · 3 nodes".
fn subtitle(region: &Region) -> String {
    let mut parts = vec![region.note.clone()];
    parts.push(format!("{} addresses", count(size_of(&region.net))));
    if let Some(blocks) = &region.blocks {
        let bits = blocks.mask.saturating_sub(region.net.prefix_len());
        parts.push(format!(
            "{} node blocks of /{}",
            count(if bits >= 127 {
                u128::MAX
            } else {
                1u128 << bits
            }),
            blocks.mask
        ));
        if !blocks.upcoming {
            parts.push(format!(
                "{} handed to the nodes listed",
                blocks.assigned.len()
            ));
        } else if !blocks.assigned.is_empty() {
            parts.push("the first blocks kube-controller-manager hands out".to_string());
        }
    }
    if let Some(usable) = region.usable {
        parts.push(format!(
            "the ClusterIP allocator uses the first {}",
            count(usable)
        ));
    }
    if let Some((kind, net)) = region.overlaps {
        parts.push(format!("OVERLAPS the {} range {net}", kind.name()));
    }
    parts.join(" · ")
}

fn describe(region: &Region) -> String {
    let mut text = format!(
        "{} {} ({}, {} addresses)",
        region.kind.name(),
        region.net,
        region.note,
        count(size_of(&region.net))
    );
    if let Some((kind, net)) = region.overlaps {
        text.push_str(&format!("; overlaps the {} range {net}", kind.name()));
    }
    text
}
