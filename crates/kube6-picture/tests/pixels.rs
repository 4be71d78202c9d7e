//! The map as a reader sees it: each SVG is rendered to pixels by resvg (linebender's SVG
//! renderer, with the system's fonts) and judged on the image, not on the markup: it is not
//! blank, every label a reader needs is laid out in glyphs inside the picture and inked on
//! the pixels, no two labels cover each other, the colours of the ranges the plan holds are
//! painted (and the overlap hatching only when ranges overlap), and a row drawn to scale gives
//! each range its share of the bar.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kube6_model::import::ImportOptions;
use kube6_model::plan::Plan;
use kube6_model::prefix::PrefixOptions;
use resvg::tiny_skia::{Pixmap, Transform};
use resvg::usvg;

fn plan(text: &str, prefix: &PrefixOptions) -> Plan {
    kube6_model::analyze_with_prefix("test.yaml", text, &ImportOptions::default(), prefix)
        .unwrap()
        .plan
}

fn kube6(spec: &str) -> String {
    format!("apiVersion: kube6.dev/v1alpha1\nkind: ClusterNetwork\nspec:\n{spec}")
}

/// A k3s cluster handed a /56 at home, with two listed nodes and one load-balancer pool.
const HOME: &str = "  distribution: k3s\n  prefix: {cidr: \"2001:db8:1234:5600::/56\", nodes: 20, loadBalancerPools: {count: 1}}\n  loadBalancer: {implementation: metallb}\n  nodes:\n  - {name: cp1, addresses: [\"2001:db8:1234:5600::10\"]}\n  - {name: w1, addresses: [\"2001:db8:1234:5600::11\"]}\n";

/// A text the renderer laid out: its string and where its glyphs are.
#[derive(Debug)]
struct Label {
    text: String,
    left: f32,
    top: f32,
    right: f32,
    bottom: f32,
}

struct Picture {
    pixmap: Pixmap,
    labels: Vec<Label>,
}

fn options() -> usvg::Options<'static> {
    let mut options = usvg::Options::default();
    options.fontdb_mut().load_system_fonts();
    assert!(
        !options.fontdb_mut().is_empty(),
        "no system fonts: install a font package (Debian: fonts-dejavu-core) so labels can be checked"
    );
    options
}

fn collect(group: &usvg::Group, out: &mut Vec<Label>) {
    for node in group.children() {
        match node {
            usvg::Node::Group(g) => collect(g, out),
            usvg::Node::Text(text) => {
                // The flattened glyph outlines: empty when no font had the glyphs.
                let glyphs = text.flattened().abs_bounding_box();
                let string: String = text.chunks().iter().map(|c| c.text()).collect();
                out.push(Label {
                    text: string,
                    left: glyphs.left(),
                    top: glyphs.top(),
                    right: glyphs.right(),
                    bottom: glyphs.bottom(),
                });
            }
            _ => {}
        }
    }
}

fn render(svg: &str) -> Picture {
    let tree = usvg::Tree::from_str(svg, &options()).expect("the SVG parses");
    let size = tree.size().to_int_size();
    let mut pixmap = Pixmap::new(size.width(), size.height()).expect("a non-empty picture");
    resvg::render(&tree, Transform::default(), &mut pixmap.as_mut());
    let mut labels = Vec::new();
    collect(tree.root(), &mut labels);
    Picture { pixmap, labels }
}

fn rgb(pixmap: &Pixmap, x: u32, y: u32) -> (u8, u8, u8) {
    let p = pixmap.pixel(x, y).expect("inside").demultiply();
    (p.red(), p.green(), p.blue())
}

fn hex(colour: &str) -> (u8, u8, u8) {
    let v = u32::from_str_radix(colour.trim_start_matches('#'), 16).unwrap();
    ((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

impl Picture {
    fn width(&self) -> u32 {
        self.pixmap.width()
    }

    fn height(&self) -> u32 {
        self.pixmap.height()
    }

    /// How many pixels have exactly this colour.
    fn count(&self, colour: &str) -> usize {
        let want = hex(colour);
        (0..self.height())
            .flat_map(|y| (0..self.width()).map(move |x| (x, y)))
            .filter(|&(x, y)| rgb(&self.pixmap, x, y) == want)
            .count()
    }

    /// The share of pixels that are not the white background.
    fn inked_share(&self) -> f64 {
        let total = u64::from(self.width()) * u64::from(self.height());
        let white = self.count("#ffffff") as u64;
        (total - white) as f64 / total as f64
    }

    /// The labels whose text contains `needle`.
    fn labels(&self, needle: &str) -> Vec<&Label> {
        self.labels
            .iter()
            .filter(|l| l.text.contains(needle))
            .collect()
    }

    /// Asserts a label with `needle` is laid out in glyphs, inside the picture, and inked: its
    /// box holds both dark pixels (the glyphs) and light ones (what they are written on).
    fn assert_label(&self, needle: &str) {
        let found = self.labels(needle);
        assert!(
            !found.is_empty(),
            "no label contains {needle:?}; labels: {:?}",
            self.labels.iter().map(|l| &l.text).collect::<Vec<_>>()
        );
        for label in found {
            assert!(
                label.right - label.left >= 3.0 && label.bottom - label.top >= 3.0,
                "{needle:?} has no glyphs (no font?): {label:?}"
            );
            assert!(
                label.left >= 0.0
                    && label.top >= 0.0
                    && label.right <= self.width() as f32
                    && label.bottom <= self.height() as f32,
                "{needle:?} is cut off by the picture's edge: {label:?}"
            );
            let (mut dark, mut light) = (0, 0);
            for y in label.top.floor() as u32..(label.bottom.ceil() as u32).min(self.height()) {
                for x in label.left.floor() as u32..(label.right.ceil() as u32).min(self.width()) {
                    let (r, g, b) = rgb(&self.pixmap, x, y);
                    let luma =
                        (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
                    if luma < 110 {
                        dark += 1;
                    } else if luma > 170 {
                        light += 1;
                    }
                }
            }
            assert!(
                dark > 4 && light > 4,
                "{needle:?} is not legible on the pixels ({dark} dark, {light} light): {label:?}"
            );
        }
    }

    /// Asserts no two labels cover each other (a pixel of slack for glyph overhang).
    fn assert_labels_apart(&self) {
        for (i, a) in self.labels.iter().enumerate() {
            for b in &self.labels[i + 1..] {
                let apart = a.right <= b.left + 1.0
                    || b.right <= a.left + 1.0
                    || a.bottom <= b.top + 1.0
                    || b.bottom <= a.top + 1.0;
                assert!(apart, "labels cover each other: {a:?} and {b:?}");
            }
        }
    }
}

#[test]
fn a_carved_56_is_painted_with_every_range_and_label() {
    let plan = plan(&kube6(HOME), &PrefixOptions::default());
    let picture = render(&kube6_picture::svg(&plan, "home.yaml"));

    assert!(
        picture.inked_share() > 0.05,
        "the picture is nearly blank ({:.3} inked)",
        picture.inked_share()
    );
    for needle in [
        "Address plan of home.yaml",
        "delegated prefix 2001:db8:1234:5600::/56",
        "node subnet 2001:db8:1234:5600::/64",
        "pods 2001:db8:1234:5601::/64",
        "services 2001:db8:1234:5602::/112",
        "load-balancer pool",
        "cp1",
        "w1",
        "API server",
        "cluster DNS",
        "free",
    ] {
        picture.assert_label(needle);
    }
    picture.assert_labels_apart();
    // The fills of the node link, the pods, the services and the pool, and the declared nodes'
    // blocks are on the pixels; nothing overlaps, so no overlap hatching.
    for (what, colour) in [
        ("node subnet", "#c8e6c9"),
        ("pods", "#bbdefb"),
        ("services", "#ffe0b2"),
        ("load-balancer pool", "#e1bee7"),
        ("declared nodes' blocks", "#1e66c8"),
    ] {
        assert!(picture.count(colour) > 200, "no {what} painted ({colour})");
    }
    assert_eq!(picture.count("#c62828"), 0, "overlap drawn where none is");
}

#[test]
fn a_single_64_shows_the_ranges_inside_the_node_link() {
    let plan = plan(
        &kube6(HOME),
        &PrefixOptions {
            cidr: Some("2001:db8:1234:5700::/64".into()),
            ..PrefixOptions::default()
        },
    );
    let picture = render(&kube6_picture::svg(&plan, "home.yaml"));
    for needle in [
        "delegated prefix 2001:db8:1234:5700::/64",
        "pods 2001:db8:1234:5700:1::/104",
        "services 2001:db8:1234:5700:2::/112",
        "cp1",
        "w1",
    ] {
        picture.assert_label(needle);
    }
    picture.assert_labels_apart();
}

#[test]
fn overlapping_ranges_are_hatched_and_labelled() {
    // A service range inside the pod range: components accept it (K6W100), the map shows it.
    let plan = plan(
        &kube6(
            "  distribution: kubeadm\n  pods: [\"fd00:10::/56\"]\n  services: [\"fd00:10::/112\"]\n",
        ),
        &PrefixOptions::default(),
    );
    let picture = render(&kube6_picture::svg(&plan, "overlap.yaml"));
    assert!(
        picture.count("#c62828") > 20,
        "the service range inside the pod range is not hatched"
    );
    picture.assert_label("fd00:10::/112");
    picture.assert_labels_apart();
}

#[test]
fn a_row_to_scale_gives_each_range_its_share() {
    // A /63 carved into the node link and the pods' /64 (the services are fixed outside it):
    // the prefix's row is to scale, each /64 half of the bar.
    let plan = plan(
        &kube6(
            "  distribution: kubeadm\n  prefix: {cidr: \"fd00:42::/63\"}\n  services: [\"fd00:99::/112\"]\n  upstream: {IPv6: {mode: routed}}\n",
        ),
        &PrefixOptions::default(),
    );
    let picture = render(&kube6_picture::svg(&plan, "halves.yaml"));
    picture.assert_label("to scale");
    picture.assert_label("node subnet fd00:42::/64");
    picture.assert_label("pods fd00:42:0:1::/64");
    // The pixel line through the prefix's bar that holds the most of both fills.
    let (link, pods) = (hex("#c8e6c9"), hex("#bbdefb"));
    let (link_px, pods_px) = (0..picture.height())
        .map(|y| {
            let line: Vec<_> = (0..picture.width())
                .map(|x| rgb(&picture.pixmap, x, y))
                .collect();
            let n = |c| line.iter().filter(|&&p| p == c).count();
            (n(link), n(pods))
        })
        .max_by_key(|&(a, b)| a.min(b))
        .unwrap();
    let bar = picture.width() as f64 - 2.0 * 24.0;
    for (what, px) in [("node link", link_px), ("pods", pods_px)] {
        let share = px as f64 / bar;
        assert!(
            (0.45..=0.5).contains(&share),
            "the {what} /64 takes {share:.3} of a /63's bar, not half"
        );
    }
    assert!(
        link_px.abs_diff(pods_px) <= 4,
        "two /64s drawn {link_px} and {pods_px} pixels wide"
    );
}
