//! Image files as other tools write them (text chunks the way PIL adds them: `tEXt`
//! when the text is Latin-1, else `iTXt`), for import tests through the real app.

use std::path::Path;

use serde_json::json;

/// What an imported file must arrive with.
pub struct Expected {
    pub file: &'static str,
    pub tool: &'static str,
    pub prompt: &'static str,
    pub negative: &'static str,
    pub seed: u64,
}

/// A `width` × `height` PNG whose pixels depend on `seed`, with these text chunks.
pub fn png_with_texts(width: u32, height: u32, seed: u32, entries: &[(&str, &str)]) -> Vec<u8> {
    let pixels: Vec<u8> = (0..width * height)
        .flat_map(|i| {
            let v = i.wrapping_mul(2_654_435_761).wrapping_add(seed.wrapping_mul(97));
            [(v >> 3) as u8, (v >> 11) as u8, (v >> 19) as u8]
        })
        .collect();
    let mut info = png::Info::with_size(width, height);
    info.color_type = png::ColorType::Rgb;
    info.bit_depth = png::BitDepth::Eight;
    for (keyword, text) in entries {
        if text.chars().all(|c| u32::from(c) <= 0xFF) {
            info.uncompressed_latin1_text
                .push(png::text_metadata::TEXtChunk::new(*keyword, *text));
        } else {
            info.utf8_text.push(png::text_metadata::ITXtChunk::new(*keyword, *text));
        }
    }
    let mut out = Vec::new();
    {
        let encoder = png::Encoder::with_info(&mut out, info).unwrap();
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&pixels).unwrap();
    }
    out
}

/// Writes one image from each of AUTOMATIC1111, ComfyUI, InvokeAI, Fooocus and NovelAI
/// into `dir` (some in subfolders) and returns what each must arrive with.
pub fn five_tools(dir: &Path) -> Vec<Expected> {
    std::fs::create_dir_all(dir.join("comfy/output")).unwrap();
    std::fs::create_dir_all(dir.join("invoke")).unwrap();
    let a1111 = "masterpiece, a lighthouse on a cliff at dusk\nNegative prompt: blurry, lowres\n\
                 Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 3735928559, Size: 48x32, \
                 Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Version: v1.9.4";
    let comfy = json!({
        "3": {"class_type": "KSampler", "inputs": {"seed": 1_125_899_906_842_624u64, "steps": 20, "cfg": 8,
              "sampler_name": "euler", "scheduler": "normal", "denoise": 1,
              "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 512, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a red fox in fresh snow", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["4", 1]}},
        "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
        "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}}
    });
    let invoke = json!({
        "generation_mode": "txt2img", "positive_prompt": "an isometric tea house, soft light",
        "negative_prompt": "people", "width": 48, "height": 32, "seed": 2_024_112_901u64,
        "rand_device": "cpu", "cfg_scale": 7.5, "steps": 30, "scheduler": "euler",
        "model": {"key": "9d6a", "hash": "random:b1", "name": "Juggernaut XL v9", "base": "sdxl", "type": "main"},
        "app_version": "4.2.9"
    });
    let fooocus = json!({
        "prompt": "a cosy reading nook, rain outside", "negative_prompt": "dark", "prompt_expansion": "",
        "styles": "['Fooocus V2', 'Fooocus Enhance']", "performance": "Speed", "resolution": "(896, 1152)",
        "guidance_scale": 4, "sharpness": 2, "base_model": "juggernautXL_v8Rundiffusion.safetensors",
        "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras", "seed": "8675309", "version": "Fooocus v2.5.5"
    });
    let novelai_comment = json!({
        "prompt": "1girl, cherry blossoms, spring", "steps": 28, "height": 32, "width": 48, "scale": 5,
        "uncond_scale": 0, "cfg_rescale": 0, "seed": 1_234_567_890u64, "n_samples": 1, "noise_schedule": "karras",
        "sampler": "k_euler_ancestral", "uc": "lowres, bad anatomy"
    });
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "00001-3735928559.png",
            png_with_texts(48, 32, 1, &[("parameters", a1111)]),
        ),
        (
            "comfy/output/ComfyUI_00001_.png",
            png_with_texts(
                48,
                32,
                2,
                &[("prompt", &comfy.to_string()), ("workflow", "{\"nodes\": []}")],
            ),
        ),
        (
            "invoke/7c1f0a4e.png",
            png_with_texts(48, 32, 3, &[("invokeai_metadata", &invoke.to_string())]),
        ),
        (
            "2024-11-30_18-02-11_1234.png",
            png_with_texts(
                48,
                32,
                4,
                &[("parameters", &fooocus.to_string()), ("fooocus_scheme", "fooocus")],
            ),
        ),
        (
            "novelai.png",
            png_with_texts(
                48,
                32,
                5,
                &[
                    ("Title", "NovelAI generated image"),
                    ("Description", "1girl, cherry blossoms, spring"),
                    ("Software", "NovelAI"),
                    ("Source", "NovelAI Diffusion V4 4F49EC75"),
                    ("Comment", &novelai_comment.to_string()),
                ],
            ),
        ),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    vec![
        Expected {
            file: "00001-3735928559.png",
            tool: "a1111",
            prompt: "masterpiece, a lighthouse on a cliff at dusk",
            negative: "blurry, lowres",
            seed: 3_735_928_559,
        },
        Expected {
            file: "ComfyUI_00001_.png",
            tool: "comfy_ui",
            prompt: "a red fox in fresh snow",
            negative: "text, watermark",
            seed: 1_125_899_906_842_624,
        },
        Expected {
            file: "7c1f0a4e.png",
            tool: "invoke_ai",
            prompt: "an isometric tea house, soft light",
            negative: "people",
            seed: 2_024_112_901,
        },
        Expected {
            file: "2024-11-30_18-02-11_1234.png",
            tool: "fooocus",
            prompt: "a cosy reading nook, rain outside",
            negative: "dark",
            seed: 8_675_309,
        },
        Expected {
            file: "novelai.png",
            tool: "novel_ai",
            prompt: "1girl, cherry blossoms, spring",
            negative: "lowres, bad anatomy",
            seed: 1_234_567_890,
        },
    ]
}
