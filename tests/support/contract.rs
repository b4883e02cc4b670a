//! What the real service refuses, per `../shared/docs/api-contract.md` §2, written here
//! independently of Pictor's catalogue (a fake that read the catalogue would agree with
//! any mistake in it). `violation` answers the 400 the service would send, or `None`.

use serde_json::{Value, json};

use super::Reply;

/// The rules of one family, as the contract's table gives them.
struct Rules {
    references: (usize, usize),
    n_max: u64,
    /// `None`: any size within `sides`/`pixels`; `Some`: only these.
    presets: Option<&'static [&'static str]>,
    sides: (u64, u64),
    pixels: (u64, u64),
    size_accepted: bool,
    prompt_body: bool,
}

fn rules(model: &str) -> Option<Rules> {
    let free = |references, n_max, sides, pixels| Rules {
        references,
        n_max,
        presets: None,
        sides,
        pixels,
        size_accepted: true,
        prompt_body: false,
    };
    let base = model.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
    Some(match model {
        m if m.starts_with("qwen-image-2.0") => free((0, 3), 6, (512, 2048), (512 * 512, 2048 * 2048)),
        m if m.starts_with("qwen-image-edit-plus") || m.starts_with("qwen-image-edit-max") => {
            free((1, 3), 6, (512, 2048), (512 * 512, 2048 * 2048))
        }
        m if m.starts_with("qwen-image-edit") => Rules {
            size_accepted: false,
            ..free((1, 1), 1, (0, 0), (0, 0))
        },
        m if ["qwen-image-max", "qwen-image-plus", "qwen-image"].contains(&base) || m == "qwen-image" => Rules {
            presets: Some(&["1664*928", "1472*1104", "1328*1328", "1104*1472", "928*1664"]),
            ..free((0, 0), 1, (0, u64::MAX), (0, u64::MAX))
        },
        m if m.starts_with("wan2.6-image") => free((1, 4), 4, (256, 4096), (1_600_000, 1440 * 1440)),
        m if m.starts_with("wan2.6-t2i") || m.starts_with("wan2.7-t2i") => {
            free((0, 0), 4, (256, 4096), (1_600_000, 1440 * 1440))
        }
        m if m.starts_with("wan2.5-t2i") => Rules {
            prompt_body: true,
            ..free((0, 0), 4, (512, 1440), (1_500_000, 1440 * 1440))
        },
        m if (m.starts_with("wan2.") || m.starts_with("wanx")) && m.contains("-t2i") => Rules {
            prompt_body: true,
            ..free((0, 0), 4, (512, 1440), (0, u64::MAX))
        },
        _ => return None,
    })
}

fn refuse(message: &str) -> Option<Reply> {
    Some(Reply::Json(
        400,
        json!({"error": {"message": message, "type": "invalid_request_error", "code": "InvalidParameter"}}),
    ))
}

/// The service's 400 for a body that breaks the contract, or `None` when it is fine.
pub fn violation(body: &Value) -> Option<Reply> {
    let model = body["model"].as_str().unwrap_or_default().to_ascii_lowercase();
    let Some(rules) = rules(&model) else {
        return None; // A model the contract does not describe: the fake does not judge it.
    };
    if rules.prompt_body {
        if body["input"]["prompt"].as_str().unwrap_or_default().is_empty() {
            return refuse("input.prompt is required");
        }
    } else {
        let content = body["input"]["messages"][0]["content"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let texts = content.iter().filter(|item| item.get("text").is_some()).count();
        if texts != 1 {
            return refuse("exactly one text item is required");
        }
        let images = content.iter().filter(|item| item.get("image").is_some()).count();
        if content.last().and_then(|item| item.get("text")).is_none() {
            return refuse("the images must come before the text");
        }
        if images < rules.references.0 || images > rules.references.1 {
            return refuse(&format!(
                "this model takes {}-{} images, got {images}",
                rules.references.0, rules.references.1
            ));
        }
    }
    // Wan's default n is 4 (billed): a body without n would be charged for four.
    if model.starts_with("wan") && body["parameters"].get("n").is_none() {
        return refuse("n is required (the default makes four billed images)");
    }
    let n = body["parameters"]["n"].as_u64().unwrap_or(1);
    if n == 0 || n > rules.n_max {
        return refuse(&format!("num_images_per_prompt must be 1 to {}", rules.n_max));
    }
    if let Some(size) = body["parameters"]["size"].as_str() {
        if !rules.size_accepted {
            return refuse("this model does not accept size");
        }
        let (w, h) = size.split_once('*').unwrap_or(("0", "0"));
        let (w, h): (u64, u64) = (w.parse().unwrap_or(0), h.parse().unwrap_or(0));
        let fits = match rules.presets {
            Some(presets) => presets.contains(&size),
            None => {
                (rules.sides.0..=rules.sides.1).contains(&w)
                    && (rules.sides.0..=rules.sides.1).contains(&h)
                    && (rules.pixels.0..=rules.pixels.1).contains(&(w * h))
                    && w * 4 >= h
                    && h * 4 >= w
            }
        };
        if !fits {
            return refuse("The size does not match the allowed size");
        }
    }
    None
}
