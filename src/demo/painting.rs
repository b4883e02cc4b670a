//! The demo's pictures: a landscape painted from the prompt and the seed, so the same
//! prompt and seed always give the same picture and a new seed a new one. Words of the
//! prompt choose the scene (night, sunset, snow, sea, desert, forest, ink wash, a
//! lantern, a cat …, in English or Chinese); the seed places the hills, the sun and the
//! subject. A small "DEMO" mark in a corner says what it is.

use image::{Rgb, RgbImage};

/// A colour as three 0–1 floats.
type Colour = [f32; 3];

/// What the prompt asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Scene {
    night: bool,
    sunset: bool,
    snow: bool,
    sea: bool,
    desert: bool,
    forest: bool,
    ink: bool,
    lantern: bool,
    animal: bool,
    /// A colour the prompt names (red, blue, golden …), for the subject.
    accent: Option<Colour>,
}

fn has(prompt: &str, words: &[&str]) -> bool {
    words.iter().any(|word| prompt.contains(word))
}

impl Scene {
    fn of(prompt: &str) -> Self {
        let p = prompt.to_lowercase();
        let accent = [
            (&["red", "红"][..], [0.86, 0.16, 0.14]),
            (&["blue", "蓝"][..], [0.18, 0.38, 0.9]),
            (&["golden", "gold", "金"][..], [0.98, 0.74, 0.2]),
            (&["green", "绿"][..], [0.2, 0.7, 0.3]),
            (&["purple", "紫"][..], [0.6, 0.3, 0.8]),
            (&["white", "白"][..], [0.95, 0.95, 0.95]),
        ]
        .iter()
        .find(|(words, _)| has(&p, words))
        .map(|(_, colour)| *colour);
        Self {
            night: has(&p, &["night", "moon", "star", "夜", "月", "星"]),
            sunset: has(
                &p,
                &[
                    "sunset", "dusk", "dawn", "sunrise", "evening", "黄昏", "夕阳", "日落", "晚霞",
                ],
            ),
            snow: has(&p, &["snow", "winter", "ice", "雪", "冬", "冰"]),
            sea: has(
                &p,
                &[
                    "sea", "ocean", "lake", "river", "water", "beach", "海", "湖", "江", "河", "水",
                ],
            ),
            desert: has(&p, &["desert", "dune", "sand", "沙漠", "沙"]),
            forest: has(&p, &["forest", "tree", "wood", "pine", "森林", "树", "松"]),
            ink: has(&p, &["ink", "水墨", "山水", "sumi", "brush"]),
            lantern: has(&p, &["lantern", "lamp", "灯笼", "灯"]),
            animal: has(&p, &["cat", "fox", "dog", "bird", "deer", "猫", "狐", "狗", "鸟", "鹿"]),
            accent,
        }
    }

    /// Sky colour at the top and at the horizon.
    fn sky(&self, hue: f32) -> (Colour, Colour) {
        let (top, horizon) = if self.night {
            ([0.02, 0.03, 0.10], [0.10, 0.12, 0.28])
        } else if self.sunset {
            ([0.22, 0.20, 0.45], [0.98, 0.55, 0.30])
        } else if self.desert {
            ([0.35, 0.60, 0.90], [0.95, 0.85, 0.70])
        } else {
            ([0.25, 0.50, 0.88], [0.78, 0.88, 0.97])
        };
        if self.ink {
            return ([0.93, 0.91, 0.86], [0.97, 0.96, 0.92]);
        }
        (shift(top, hue), shift(horizon, hue))
    }

    /// Colour of the hills, far (0) to near (1).
    fn hill(&self, depth: f32, hue: f32) -> Colour {
        let near = if self.ink {
            [0.12, 0.12, 0.13]
        } else if self.snow {
            [0.88, 0.90, 0.95]
        } else if self.desert {
            [0.80, 0.58, 0.32]
        } else if self.forest {
            [0.10, 0.32, 0.16]
        } else if self.night {
            [0.04, 0.05, 0.10]
        } else {
            [0.22, 0.45, 0.25]
        };
        let (_, horizon) = self.sky(hue);
        mix(horizon, shift(near, hue * 0.5), 0.35 + 0.65 * depth)
    }
}

/// Paints the picture for `prompt` and `seed` at `width` × `height`.
pub fn paint(width: u32, height: u32, prompt: &str, seed: u64) -> RgbImage {
    let (w, h) = (width.max(1), height.max(1));
    let scene = Scene::of(prompt);
    let mut random = Random::new(seed ^ hash(prompt));
    // A small shift of every colour, so two seeds of one prompt differ in light too.
    let hue = random.range(-0.06, 0.06);
    let (sky_top, sky_horizon) = scene.sky(hue);
    let horizon = random.range(0.52, 0.66);
    let sun = (
        random.range(0.15, 0.85),
        random.range(0.12, horizon - 0.12),
        random.range(0.05, 0.09),
    );
    let layers: Vec<Ridge> = (0..3)
        .map(|layer| Ridge::new(&mut random, horizon + 0.08 * layer as f32, 0.18 - 0.05 * layer as f32))
        .collect();
    let subject_x = random.range(0.3, 0.7);
    let stars = random.next();
    let aspect = w as f32 / h as f32;

    RgbImage::from_fn(w, h, |px, py| {
        let (x, y) = (px as f32 / w as f32, py as f32 / h as f32);
        let mut colour = mix(sky_top, sky_horizon, (y / horizon).clamp(0.0, 1.0).powf(1.4));
        if scene.night && y < horizon && hash2(px / 2, py / 2, stars).is_multiple_of(997) {
            colour = [0.95, 0.95, 0.85];
        }
        // The sun (or moon) with a soft glow.
        let (dx, dy) = ((x - sun.0) * aspect, y - sun.1);
        let distance = (dx * dx + dy * dy).sqrt();
        let disc = if scene.night {
            [0.95, 0.93, 0.82]
        } else if scene.ink {
            [0.75, 0.2, 0.15]
        } else {
            [1.0, 0.92, 0.7]
        };
        if y < horizon + 0.05 {
            colour = mix(
                colour,
                disc,
                (1.0 - distance / (sun.2 * 3.5)).clamp(0.0, 1.0).powi(2) * 0.45,
            );
            if distance < sun.2 {
                colour = disc;
            }
        }
        // Hills, far to near; below the last one the ground (or the sea).
        for (depth, ridge) in layers.iter().enumerate() {
            if y > ridge.height_at(x) {
                let shade = (y - ridge.height_at(x)) * 0.6;
                colour = mix(scene.hill(depth as f32 / 2.0, hue), [0.0, 0.0, 0.0], shade.min(0.35));
            }
        }
        let shore = horizon + 0.2;
        if scene.sea && y > shore {
            // Water mirrors the sky, darker and rippled.
            let ripple = ((y * 120.0 + (x * 9.0).sin() * 3.0).sin() * 0.5 + 0.5) * 0.08;
            let mirrored = mix(sky_horizon, sky_top, ((y - shore) / (1.0 - shore)).clamp(0.0, 1.0));
            colour = mix(mirrored, [0.02, 0.08, 0.18], 0.35 + ripple);
        }
        // Ink wash: the landscape in greys; the sun stays a red seal, the subject its colour.
        if scene.ink {
            let grey = colour[0] * 0.3 + colour[1] * 0.59 + colour[2] * 0.11;
            colour = mix([grey; 3], colour, 0.15);
            if distance < sun.2 && y < layers[0].height_at(x) {
                colour = disc;
            }
        }
        // The subject: a glowing lantern or an animal's silhouette on the near ground.
        let ground = layers[2].height_at(subject_x);
        if scene.lantern {
            let (cx, cy) = (subject_x, ground - 0.16);
            let (lx, ly) = ((x - cx) * aspect / 0.05, (y - cy) / 0.08);
            let glow = (1.0 - ((lx * lx + ly * ly).sqrt() / 4.0)).clamp(0.0, 1.0);
            let body = scene.accent.unwrap_or([0.88, 0.18, 0.12]);
            colour = mix(colour, [1.0, 0.8, 0.45], glow * glow * 0.6);
            if lx * lx + ly * ly < 1.0 {
                colour = mix(body, [1.0, 0.85, 0.5], (1.0 - lx.abs()) * 0.5);
            }
            if (ly + 1.25).abs() < 0.12 && lx.abs() < 0.5 || (ly - 1.2).abs() < 0.12 && lx.abs() < 0.5 {
                colour = [0.15, 0.1, 0.05];
            }
        } else if scene.animal {
            let (ax, ay) = ((x - subject_x) * aspect, y - (ground - 0.05));
            let body = (ax / 0.09).powi(2) + (ay / 0.04).powi(2) < 1.0;
            let head = ((ax - 0.08) / 0.035).powi(2) + ((ay + 0.05) / 0.035).powi(2) < 1.0;
            let ear = (ax - 0.09).abs() < 0.012 && ay < -0.07 && ay > -0.1;
            if body || head || ear {
                colour = scene
                    .accent
                    .map_or([0.08, 0.06, 0.06], |accent| mix(accent, [0.0; 3], 0.4));
            }
        }
        if scene.snow && !scene.ink && y < horizon && hash2(px / 3, py / 3, stars ^ 7).is_multiple_of(211) {
            colour = [1.0, 1.0, 1.0];
        }
        // A film grain, as a camera or a diffusion model leaves: it also gives the demo's
        // files the size of real ones (smooth gradients would compress to almost nothing).
        let grain = (hash2(px, py, stars ^ 0x5EED) % 9) as f32 / 255.0 - 4.0 / 255.0;
        colour = colour.map(|c| c + grain);
        if demo_mark(px, py, w, h) {
            colour = mix(colour, [1.0, 1.0, 1.0], 0.8);
        }
        Rgb(colour.map(|c| (c.clamp(0.0, 1.0) * 255.0) as u8))
    })
}

/// A hill line: a sum of sines with random phases around a base height.
struct Ridge {
    base: f32,
    amplitude: f32,
    waves: [(f32, f32); 4],
}

impl Ridge {
    fn new(random: &mut Random, base: f32, amplitude: f32) -> Self {
        let mut waves = [(0.0, 0.0); 4];
        for (index, wave) in waves.iter_mut().enumerate() {
            *wave = (
                random.range(1.0, 3.0) * (index as f32 + 1.0) * 2.0,
                random.range(0.0, std::f32::consts::TAU),
            );
        }
        Self { base, amplitude, waves }
    }

    /// The top of the hill at `x` (0–1), as a fraction of the height.
    fn height_at(&self, x: f32) -> f32 {
        let wave: f32 = self
            .waves
            .iter()
            .enumerate()
            .map(|(index, (frequency, phase))| (x * frequency + phase).sin() / (index as f32 + 1.0))
            .sum();
        self.base - self.amplitude * (0.5 + 0.3 * wave)
    }
}

/// A small deterministic generator (SplitMix64).
struct Random(u64);

impl Random {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn range(&mut self, low: f32, high: f32) -> f32 {
        let unit = (self.next() >> 40) as f32 / (1u64 << 24) as f32;
        low + (high - low) * unit
    }
}

fn hash(text: &str) -> u64 {
    text.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
    })
}

fn hash2(x: u32, y: u32, salt: u64) -> u64 {
    let mut random = Random::new(salt ^ (u64::from(x) << 32) ^ u64::from(y));
    random.next()
}

fn mix(a: Colour, b: Colour, t: f32) -> Colour {
    let t = t.clamp(0.0, 1.0);
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Shifts a colour slightly towards warm (`amount` > 0) or cool.
fn shift(colour: Colour, amount: f32) -> Colour {
    [colour[0] + amount, colour[1], colour[2] - amount]
}

/// Whether pixel (x, y) belongs to the "DEMO" mark in the lower right corner.
fn demo_mark(x: u32, y: u32, width: u32, height: u32) -> bool {
    let cell = (height / 160).max(2);
    let (mark_width, mark_height) = (cell * 23, cell * 7);
    let (left, top) = (
        width.saturating_sub(mark_width + cell * 4),
        height.saturating_sub(mark_height + cell * 4),
    );
    if x < left || y < top || x >= left + mark_width || y >= top + mark_height {
        return false;
    }
    super::demo_text_pixel(x - left, y - top + cell, mark_width, cell * 9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_prompt_and_seed_paint_the_same_picture_and_another_seed_another() {
        let a = paint(96, 64, "a red lantern at night", 1);
        assert_eq!(a, paint(96, 64, "a red lantern at night", 1));
        assert_ne!(a, paint(96, 64, "a red lantern at night", 2));
        assert_ne!(a, paint(96, 64, "a red lantern at sunset", 1));
    }

    #[test]
    fn words_choose_the_scene() {
        let brightness = |image: &RgbImage| {
            image
                .pixels()
                .map(|p| p.0.iter().map(|c| u32::from(*c)).sum::<u32>())
                .sum::<u32>()
                / image.len() as u32
        };
        let night = paint(96, 64, "mountains at night", 3);
        let day = paint(96, 64, "mountains", 3);
        assert!(brightness(&night) * 2 < brightness(&day), "night is darker");
        let ink = paint(96, 64, "水墨山水", 3);
        let greyish = ink.pixels().filter(|p| {
            let [r, g, b] = p.0.map(i32::from);
            (r - g).abs() < 24 && (g - b).abs() < 24
        });
        assert!(
            greyish.count() * 10 > ink.pixels().count() * 9,
            "ink wash is nearly grey"
        );
        assert!(Scene::of("一只红色的灯笼").lantern && Scene::of("一只红色的灯笼").accent.is_some());
    }

    #[test]
    fn odd_sizes_paint_without_panicking() {
        for (w, h) in [(1, 1), (0, 0), (5000, 1), (3, 900)] {
            let image = paint(w, h, "", 0);
            assert_eq!(image.dimensions(), (w.max(1), h.max(1)));
        }
    }
}
