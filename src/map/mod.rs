//! A picture of the IPv4 address space: every /16 a cell of a 256 × 256 grid laid out along a
//! Hilbert curve (after xkcd 195 and the IPv4 heat maps of CAIDA and ISI), so that nearby
//! addresses stay nearby on the page and a prefix is a compact patch. Cells are coloured by
//! the service that holds most of their addresses, by how much of them a chosen set of tags
//! holds, by what a week's change added or removed, or by the traffic flow logs saw; the
//! queried addresses are marked. Written as SVG or PNG.

use crate::Snapshot;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// The grid's side: 256 cells of /16s.
pub const SIDE: u32 = 256;
/// The curve's order: 2^8 = 256.
const ORDER: u32 = 8;

/// The cell (x, y) of the `d`-th /16 along the Hilbert curve of a 2^order square (the
/// classic iterative mapping: each step places the point in one of four quadrants, rotating
/// and flipping as the curve turns).
pub fn hilbert_xy(order: u32, d: u32) -> (u32, u32) {
    let (mut x, mut y) = (0u32, 0u32);
    let mut t = d;
    let mut s = 1u32;
    while s < (1 << order) {
        let rx = 1 & (t / 2);
        let ry = 1 & (t ^ rx);
        if ry == 0 {
            if rx == 1 {
                x = s - 1 - x;
                y = s - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        x += s * rx;
        y += s * ry;
        t /= 4;
        s *= 2;
    }
    (x, y)
}

/// The cell of an address: its /16 along the curve.
pub fn cell_of(ip: Ipv4Addr) -> (u32, u32) {
    hilbert_xy(ORDER, u32::from(ip) >> 16)
}

/// An RGB colour.
pub type Rgb = [u8; 3];

/// What a cell shows: its colour and what it means (for the picture's title text).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Fill.
    pub colour: Rgb,
    /// Why (`Storage: 65,536 addresses`).
    pub label: String,
}

/// A picture: one optional cell a /16 (index `a * 256 + b` for `a.b.0.0/16`), a legend, marked
/// addresses and a title.
#[derive(Debug, Clone)]
pub struct Picture {
    /// Title.
    pub title: String,
    /// Cells by /16 (65,536); `None`: nothing to show there.
    pub cells: Vec<Option<Cell>>,
    /// (colour, meaning), in order.
    pub legend: Vec<(Rgb, String)>,
    /// Addresses to mark, with a label each.
    pub marks: Vec<(Ipv4Addr, String)>,
}

/// Colours for services, distinct on white and for the common colour-blindness (Okabe–Ito
/// and Tol's bright and muted sets).
const PALETTE: [Rgb; 12] = [
    [0, 114, 178],
    [230, 159, 0],
    [0, 158, 115],
    [204, 121, 167],
    [86, 180, 233],
    [213, 94, 0],
    [240, 228, 66],
    [51, 34, 136],
    [136, 204, 238],
    [68, 170, 153],
    [153, 153, 51],
    [136, 34, 85],
];
/// Addresses of Azure no service tag but `AzureCloud` names.
const AZURE_ONLY: Rgb = [200, 200, 200];
/// Other services, past the palette.
const OTHER: Rgb = [120, 120, 120];

/// How many addresses of each /16 every IPv4 prefix of `nets` covers, added into `into`
/// (65,536 counters); overlapping prefixes count once when `nets` is aggregated first.
fn add_coverage(nets: &[ipnet::Ipv4Net], into: &mut [u32]) {
    for n in nets {
        let start = u32::from(n.network());
        if n.prefix_len() <= 16 {
            let first = start >> 16;
            let count = 1u32 << (16 - n.prefix_len());
            for c in first..first + count {
                into[c as usize] = 65_536;
            }
        } else {
            let c = (start >> 16) as usize;
            into[c] = (into[c] + (1u32 << (32 - n.prefix_len()))).min(65_536);
        }
    }
}

/// The prefixes of `tags`, merged (so overlaps count once).
fn merged(snap: &Snapshot, tags: &[usize]) -> Vec<ipnet::Ipv4Net> {
    let all: Vec<ipnet::Ipv4Net> = tags
        .iter()
        .flat_map(|&t| snap.tags()[t].v4().iter().copied())
        .collect();
    ipnet::Ipv4Net::aggregate(&all)
}

/// The IPv4 space coloured by service: each /16 takes the colour of the cloud-wide service tag
/// holding most of its addresses (`AzureCloud` alone is grey); the `top` largest services get
/// their own colours, the others one.
pub fn by_service(snap: &Snapshot, top: usize) -> Picture {
    // Cloud-wide tags but AzureCloud: one a service.
    let services: Vec<usize> = snap
        .tags()
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.is_regional() && t.name() != "AzureCloud" && !t.v4().is_empty())
        .map(|(i, _)| i)
        .collect();
    let mut per: Vec<(usize, Vec<u32>)> = services
        .iter()
        .map(|&i| {
            let mut c = vec![0u32; 65_536];
            add_coverage(&merged(snap, &[i]), &mut c);
            (i, c)
        })
        .collect();
    // Largest first (then by name): the palette goes to the biggest.
    per.sort_by_key(|(i, c)| {
        (
            std::cmp::Reverse(c.iter().map(|&x| u64::from(x)).sum::<u64>()),
            snap.tags()[*i].name().to_string(),
        )
    });
    let top = top.min(PALETTE.len());
    let mut azure = vec![0u32; 65_536];
    if let Some(i) = snap.tags().iter().position(|t| t.name() == "AzureCloud") {
        add_coverage(&merged(snap, &[i]), &mut azure);
    }
    let mut cells: Vec<Option<Cell>> = vec![None; 65_536];
    let mut best = vec![(0u32, usize::MAX); 65_536];
    for (rank, (_, c)) in per.iter().enumerate() {
        for (k, &n) in c.iter().enumerate() {
            if n > best[k].0 {
                best[k] = (n, rank);
            }
        }
    }
    for k in 0..65_536 {
        let (n, rank) = best[k];
        cells[k] = if n > 0 {
            let name = snap.tags()[per[rank].0].name();
            Some(Cell {
                colour: if rank < top { PALETTE[rank] } else { OTHER },
                label: format!("{name}: {n} addresses"),
            })
        } else if azure[k] > 0 {
            Some(Cell {
                colour: AZURE_ONLY,
                label: format!("AzureCloud only: {} addresses", azure[k]),
            })
        } else {
            None
        };
    }
    let mut legend: Vec<(Rgb, String)> = per
        .iter()
        .take(top)
        .enumerate()
        .map(|(r, (i, _))| (PALETTE[r], snap.tags()[*i].name().to_string()))
        .collect();
    legend.push((OTHER, "other services".into()));
    legend.push((AZURE_ONLY, "AzureCloud only".into()));
    Picture {
        title: format!(
            "IPv4 space by service, {} changeNumber {}: one cell a /16, along a Hilbert curve",
            snap.cloud(),
            snap.change_number()
        ),
        cells,
        legend,
        marks: Vec::new(),
    }
}

/// Shades from light to dark for a share of a cell (0, 1].
fn shade(base: Rgb, share: f64) -> Rgb {
    let s = 0.5 + 0.5 * share.clamp(0.0, 1.0);
    base.map(|c| (255.0 - (255.0 - f64::from(c)) * s).round() as u8)
}

/// The IPv4 space coloured by how much of each /16 the tags hold together (darker: more, on a
/// log scale).
pub fn by_tags(snap: &Snapshot, tags: &[usize]) -> Picture {
    let mut c = vec![0u32; 65_536];
    add_coverage(&merged(snap, tags), &mut c);
    let names: Vec<&str> = tags.iter().map(|&t| snap.tags()[t].name()).collect();
    let base = PALETTE[0];
    Picture {
        title: format!(
            "IPv4 space of {}, {} changeNumber {}: one cell a /16, darker where the tags hold more of it",
            names.join(", "),
            snap.cloud(),
            snap.change_number()
        ),
        cells: c
            .iter()
            .map(|&n| {
                (n > 0).then(|| Cell {
                    // On a log scale: a /28 of a service is seen beside a whole /16.
                    colour: shade(base, f64::from(n).ln_1p() / 65_536f64.ln_1p()),
                    label: format!("{n} of 65536 addresses"),
                })
            })
            .collect(),
        legend: vec![
            (
                shade(base, 1f64.ln_1p() / 65_536f64.ln_1p()),
                "a few addresses".into(),
            ),
            (shade(base, 1.0), "the whole /16".into()),
        ],
        marks: Vec::new(),
    }
}

/// A week's change: /16s where addresses joined a tag (green), left one (red), or both
/// (orange); from the `added` and `removed` IPv4 prefixes of a diff.
pub fn by_change(title: &str, added: &[ipnet::Ipv4Net], removed: &[ipnet::Ipv4Net]) -> Picture {
    let mut a = vec![0u32; 65_536];
    let mut r = vec![0u32; 65_536];
    add_coverage(&ipnet::Ipv4Net::aggregate(&added.to_vec()), &mut a);
    add_coverage(&ipnet::Ipv4Net::aggregate(&removed.to_vec()), &mut r);
    const ADDED: Rgb = [0, 158, 115];
    const REMOVED: Rgb = [213, 94, 0];
    const BOTH: Rgb = [230, 159, 0];
    let cells = (0..65_536)
        .map(|k| match (a[k], r[k]) {
            (0, 0) => None,
            (n, 0) => Some(Cell {
                colour: ADDED,
                label: format!("{n} addresses added"),
            }),
            (0, n) => Some(Cell {
                colour: REMOVED,
                label: format!("{n} addresses removed"),
            }),
            (x, y) => Some(Cell {
                colour: BOTH,
                label: format!("{x} addresses added, {y} removed"),
            }),
        })
        .collect();
    Picture {
        title: title.to_string(),
        cells,
        legend: vec![
            (ADDED, "added".into()),
            (REMOVED, "removed".into()),
            (BOTH, "both".into()),
        ],
        marks: Vec::new(),
    }
}

/// Where traffic went: each /16 with flow tuples shaded by the bytes exchanged with its
/// addresses (log scale; a /16 seen only in tuples without byte counts is the lightest).
/// `traffic`: per remote address, (bytes, tuples).
pub fn by_traffic(title: &str, traffic: &BTreeMap<Ipv4Addr, (u64, u64)>) -> Picture {
    let mut per = vec![(0u64, 0u64); 65_536];
    for (ip, (b, t)) in traffic {
        let c = &mut per[(u32::from(*ip) >> 16) as usize];
        c.0 += b;
        c.1 += t;
    }
    let max = per.iter().map(|c| c.0).max().unwrap_or(0).max(1);
    let base = [204, 121, 167];
    let cells = per
        .iter()
        .map(|&(b, t)| {
            (t > 0).then(|| Cell {
                colour: shade(base, (b as f64).ln_1p() / (max as f64).ln_1p()),
                label: format!("{b} bytes in {t} flow tuples"),
            })
        })
        .collect();
    Picture {
        title: title.to_string(),
        cells,
        legend: vec![
            (shade(base, 0.0), "little traffic".into()),
            (shade(base, 1.0), format!("{max} bytes")),
        ],
        marks: Vec::new(),
    }
}

/// The pixel size of a cell.
const SCALE: u32 = 3;
/// The legend's band under the grid.
const LEGEND: u32 = 24;

/// A character's 8×8 bitmap (row by row, bit 0 the leftmost pixel); `?` for one outside
/// ASCII.
fn glyph(ch: char) -> [u8; 8] {
    let ascii = if ch.is_ascii() {
        ch as usize
    } else {
        '?' as usize
    };
    font8x8::legacy::BASIC_LEGACY[ascii]
}

fn hex(c: Rgb) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A red ring around (`cx`, `cy`), radius 8 to 10 pixels: a marked address, seen among
/// cells of any colour (its white inner edge sets it off from red cells).
fn ring(put: &mut impl FnMut(u32, u32, Rgb), cx: i64, cy: i64) {
    ring_of(put, cx, cy, Some(50..=63), 64..=110);
}

/// A ring of `red` squared radii, with `white` ones inside it when given, around (`cx`, `cy`).
fn ring_of(
    put: &mut impl FnMut(u32, u32, Rgb),
    cx: i64,
    cy: i64,
    white: Option<std::ops::RangeInclusive<i64>>,
    red: std::ops::RangeInclusive<i64>,
) {
    for dy in -11i64..=11 {
        for dx in -11i64..=11 {
            let d2 = dx * dx + dy * dy;
            let colour = if red.contains(&d2) {
                [207, 34, 46]
            } else if white.as_ref().is_some_and(|w| w.contains(&d2)) {
                [255, 255, 255]
            } else {
                continue;
            };
            let (x, y) = (cx + dx, cy + dy);
            if x >= 0 && y >= 0 {
                put(x as u32, y as u32, colour);
            }
        }
    }
}

impl Picture {
    /// The legend as drawn: its colours, then a ring for the marked addresses when there are
    /// any (`None`: the ring).
    fn legend_entries(&self) -> Vec<(Option<Rgb>, String)> {
        let mut out: Vec<(Option<Rgb>, String)> = self
            .legend
            .iter()
            .map(|(c, t)| (Some(*c), t.clone()))
            .collect();
        if !self.marks.is_empty() {
            out.push((None, "marked address".into()));
        }
        out
    }

    /// Every filled cell: its /16 (`a.b`), its place on the grid and what it shows.
    fn filled(&self) -> impl Iterator<Item = (u32, u32, u32, &Cell)> {
        self.cells.iter().enumerate().filter_map(|(k, c)| {
            c.as_ref().map(|c| {
                let (x, y) = hilbert_xy(ORDER, k as u32);
                (k as u32, x, y, c)
            })
        })
    }

    /// The picture as SVG: a cell a `<rect>` (with its /16 and meaning as a tooltip), the
    /// marks as circles, the legend under the grid.
    pub fn svg(&self) -> String {
        let size = SIDE * SCALE;
        let height = size + LEGEND * (1 + self.legend_entries().len().div_ceil(4) as u32) + 8;
        let mut out = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size}\" height=\"{height}\" viewBox=\"0 0 {size} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n<title>{}</title>\n<rect width=\"{size}\" height=\"{size}\" fill=\"#ffffff\" stroke=\"#d0d7de\"/>\n",
            escape(&self.title)
        );
        for (k, x, y, c) in self.filled() {
            out.push_str(&format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{SCALE}\" height=\"{SCALE}\" fill=\"{}\"><title>{}.{}.0.0/16 {}</title></rect>\n",
                x * SCALE,
                y * SCALE,
                hex(c.colour),
                k >> 8,
                k & 255,
                escape(&c.label)
            ));
        }
        for (ip, label) in &self.marks {
            let (x, y) = cell_of(*ip);
            out.push_str(&format!(
                "<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"none\" stroke=\"#cf222e\" stroke-width=\"2\"><title>{}</title></circle>\n",
                x * SCALE + SCALE / 2,
                y * SCALE + SCALE / 2,
                escape(label)
            ));
        }
        for (i, (c, text)) in self.legend_entries().into_iter().enumerate() {
            let col = (i % 4) as u32;
            let row = (i / 4) as u32;
            let (lx, ly) = (4 + col * (size / 4), size + 8 + row * LEGEND);
            let swatch = match c {
                Some(c) => format!(
                    "<rect x=\"{lx}\" y=\"{ly}\" width=\"12\" height=\"12\" fill=\"{}\"/>",
                    hex(c)
                ),
                None => format!(
                    "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"none\" stroke=\"#cf222e\" stroke-width=\"2\"/>",
                    lx + 6,
                    ly + 6
                ),
            };
            out.push_str(&format!(
                "{swatch}<text x=\"{}\" y=\"{}\">{}</text>\n",
                lx + 16,
                ly + 11,
                escape(&text)
            ));
        }
        // The title under the legend (the last band), where a picture's reader sees it: the
        // tags or the diff it draws.
        let rows = self.legend_entries().len().div_ceil(4) as u32;
        out.push_str(&format!(
            "<text x=\"4\" y=\"{}\" fill=\"#57606a\">{}</text>\n",
            size + 8 + rows * LEGEND + 11,
            escape(&self.title)
        ));
        out.push_str("</svg>\n");
        out
    }
}

impl Picture {
    /// The picture as PNG: the grid at 3 pixels a cell, the marks as red squares, the legend
    /// under it (four a row as the SVG lays it out, or three or two when a name is longer
    /// than a quarter of the width; a swatch and its name in an 8×8 bitmap font, cut with `~`
    /// only past half the width).
    pub fn png(&self) -> Vec<u8> {
        let size = SIDE * SCALE;
        let entries = self.legend_entries();
        // Four names a row when they fit their column (8 pixels a character after a 24-pixel
        // swatch), else three or two: a name is cut only past half the width.
        let longest = entries
            .iter()
            .map(|(_, t)| t.chars().count())
            .max()
            .unwrap_or(0) as u32;
        let cols = [4u32, 3, 2]
            .into_iter()
            .find(|c| (size / c).saturating_sub(24) / 8 >= longest)
            .unwrap_or(2);
        let entries_len = entries.len();
        let height = size + LEGEND * (1 + entries_len.div_ceil(cols as usize) as u32) + 8;
        let mut px = vec![255u8; (size * height * 3) as usize];
        let mut put = |x: u32, y: u32, c: Rgb| {
            if x < size && y < height {
                let i = ((y * size + x) * 3) as usize;
                px[i..i + 3].copy_from_slice(&c);
            }
        };
        for (_, x, y, c) in self.filled() {
            for dy in 0..SCALE {
                for dx in 0..SCALE {
                    put(x * SCALE + dx, y * SCALE + dy, c.colour);
                }
            }
        }
        for (ip, _) in &self.marks {
            let (x, y) = cell_of(*ip);
            ring(&mut put, (x * SCALE + 1) as i64, (y * SCALE + 1) as i64);
        }
        for (i, (c, text)) in entries.into_iter().enumerate() {
            let col = i as u32 % cols;
            let row = i as u32 / cols;
            let (lx, ly) = (4 + col * (size / cols), size + 8 + row * LEGEND);
            match c {
                Some(c) => {
                    for y in ly..ly + 12 {
                        for x in lx..lx + 12 {
                            put(x, y, c);
                        }
                    }
                }
                None => ring_of(
                    &mut put,
                    i64::from(lx + 6),
                    i64::from(ly + 6),
                    None,
                    20..=40,
                ),
            }
            // Characters that fit the column after the swatch (8 pixels each).
            let room = ((size / cols).saturating_sub(24) / 8) as usize;
            let chars: Vec<char> = text.chars().collect();
            let shown: Vec<char> = if chars.len() > room {
                chars[..room.saturating_sub(1)]
                    .iter()
                    .copied()
                    .chain(['~'])
                    .collect()
            } else {
                chars
            };
            for (j, ch) in shown.into_iter().enumerate() {
                let glyph = glyph(ch);
                let gx = lx + 16 + j as u32 * 8;
                for (gy, bits) in glyph.iter().enumerate() {
                    for b in 0..8u32 {
                        if bits >> b & 1 == 1 {
                            put(gx + b, ly + 2 + gy as u32, [36, 41, 47]);
                        }
                    }
                }
            }
        }
        // The title in the last band, as the SVG writes it (cut with `~` to the width).
        let rows = entries_len.div_ceil(cols as usize) as u32;
        let room = ((size - 8) / 8) as usize;
        let chars: Vec<char> = self.title.chars().collect();
        let shown: Vec<char> = if chars.len() > room {
            chars[..room - 1].iter().copied().chain(['~']).collect()
        } else {
            chars
        };
        for (j, ch) in shown.into_iter().enumerate() {
            let glyph = glyph(ch);
            let gx = 4 + j as u32 * 8;
            for (gy, bits) in glyph.iter().enumerate() {
                for b in 0..8u32 {
                    if bits >> b & 1 == 1 {
                        put(
                            gx + b,
                            size + 8 + rows * LEGEND + 2 + gy as u32,
                            [87, 96, 106],
                        );
                    }
                }
            }
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, size, height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().expect("PNG header into memory");
            w.write_image_data(&px).expect("PNG data into memory");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The naive twin: the curve walked cell by cell from the definition (each quadrant the
    /// curve of the order below, turned), kept to check the iterative mapping.
    fn naive(order: u32) -> Vec<(u32, u32)> {
        if order == 0 {
            return vec![(0, 0)];
        }
        let sub = naive(order - 1);
        let h = 1 << (order - 1);
        let mut out = Vec::with_capacity(sub.len() * 4);
        // Lower left: transposed; upper left; upper right; lower right: anti-transposed.
        out.extend(sub.iter().map(|&(x, y)| (y, x)));
        out.extend(sub.iter().map(|&(x, y)| (x, y + h)));
        out.extend(sub.iter().map(|&(x, y)| (x + h, y + h)));
        out.extend(sub.iter().map(|&(x, y)| (2 * h - 1 - y, h - 1 - x)));
        out
    }

    /// A legend name longer than a quarter of the width is drawn whole (two or three names a
    /// row), its last letter in its place: none is cut to `~` that fits half the width.
    #[test]
    fn long_legend_names_are_drawn_whole() {
        let name = "MicrosoftContainerRegistry.WestEurope";
        let p = Picture {
            title: "t".into(),
            cells: vec![None; 65_536],
            legend: vec![([0, 114, 178], name.into()), ([230, 159, 0], "x".into())],
            marks: Vec::new(),
        };
        let png = p.png();
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let size = SIDE * SCALE;
        let last = name.chars().count() as u32 - 1;
        let drawn = |ch: char| -> bool {
            let glyph = glyph(ch);
            (0..8u32).all(|gy| {
                (0..8u32).all(|b| {
                    let (x, y) = (4 + 16 + last * 8 + b, size + 8 + 2 + gy);
                    let i = ((y * info.width + x) * 3) as usize;
                    (buf[i..i + 3] == [36, 41, 47]) == (glyph[gy as usize] >> b & 1 == 1)
                })
            })
        };
        assert!(drawn('e'), "the name's last letter");
        assert!(!drawn('~'));
    }

    #[test]
    fn the_curve_is_the_recursive_definition_and_visits_every_cell_once() {
        for order in 1..=8 {
            let want = naive(order);
            let got: Vec<(u32, u32)> = (0..1u32 << (2 * order))
                .map(|d| hilbert_xy(order, d))
                .collect();
            assert_eq!(got, want, "order {order}");
            let mut seen = std::collections::HashSet::new();
            for (i, &(x, y)) in got.iter().enumerate() {
                assert!(seen.insert((x, y)));
                if i > 0 {
                    let (px, py) = got[i - 1];
                    // Neighbours: consecutive /16s touch.
                    assert_eq!(px.abs_diff(x) + py.abs_diff(y), 1, "order {order} step {i}");
                }
            }
        }
    }

    proptest! {
        /// A prefix of /16 or shorter is a whole square or two of the grid: its cells are
        /// exactly the ones the coverage fills.
        #[test]
        fn coverage_counts_each_address_once(a in any::<u32>(), len in 8u8..=30, b in any::<u32>(), len2 in 8u8..=30) {
            let n1 = ipnet::Ipv4Net::new(Ipv4Addr::from(a), len).unwrap().trunc();
            let n2 = ipnet::Ipv4Net::new(Ipv4Addr::from(b), len2).unwrap().trunc();
            let mut c = vec![0u32; 65_536];
            add_coverage(&ipnet::Ipv4Net::aggregate(&vec![n1, n2]), &mut c);
            // Naive: count the addresses of each /16 the union holds.
            for k in [u32::from(n1.network()) >> 16, u32::from(n2.network()) >> 16, u32::from(n1.broadcast()) >> 16] {
                let lo = u64::from(k) << 16;
                let hi = lo + 65_536;
                let inside = |n: &ipnet::Ipv4Net| {
                    let s = u64::from(u32::from(n.network()));
                    let e = u64::from(u32::from(n.broadcast())) + 1;
                    (s.max(lo), e.min(hi))
                };
                let (s1, e1) = inside(&n1);
                let (s2, e2) = inside(&n2);
                let len1 = e1.saturating_sub(s1);
                let len2 = e2.saturating_sub(s2);
                let overlap = e1.min(e2).saturating_sub(s1.max(s2));
                prop_assert_eq!(u64::from(c[k as usize]), len1 + len2 - overlap);
            }
        }
    }
}
