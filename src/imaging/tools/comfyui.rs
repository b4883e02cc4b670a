//! ComfyUI: the `prompt` text, the graph in ComfyUI's API format:
//! `{node_id: {"class_type": …, "inputs": {…}}}`, where an input that is
//! `[node_id, output_index]` links to another node's output.
//!
//! The prompt is found by walking back from a sampler's `positive` and `negative`
//! inputs (directly, or through a guider) across conditioning nodes to the text
//! encoders; seed, steps, CFG scale, sampler and scheduler are read from the sampler
//! or the nodes it links to (primitives, `RandomNoise`, `KSamplerSelect`,
//! `BasicScheduler`, `CFGGuider`…), the checkpoint by following `model` links back to
//! its loader. Every walk is bounded: a depth limit, a cycle check on the current path,
//! a visited set per walk and a budget of steps for the whole graph.

use std::cmp::Ordering;
use std::collections::{HashSet, VecDeque};

use serde_json::{Map, Value};

use super::sources::Texts;
use super::{ToolReading, json};
use crate::metadata::SourceTool;

/// Deepest chain of links followed from a sampler.
const MAX_DEPTH: usize = 64;

/// Most samplers read from one graph.
const MAX_SAMPLERS: usize = 16;

/// Most links followed while reading one graph.
const MAX_STEPS: usize = 20_000;

/// Most notes kept about one graph.
const MAX_NOTES: usize = 20;

/// Samplers known by name; any other class whose name contains "Sampler" counts when it
/// has `positive`, `negative` or `guider` inputs.
const SAMPLER_CLASSES: [&str; 4] = ["KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"];

/// The inputs of a text encoder that hold its prompt, by kind of encoder, each list in
/// the order its parts are joined (`CLIPTextEncode`, `CLIPTextEncodeSDXL`,
/// `CLIPTextEncodeFlux` and their kin).
const TEXT_INPUTS: [&[&str]; 3] = [&["text"], &["text_g", "text_l"], &["t5xxl", "clip_l"]];

/// Inputs of a node that may hold (or link to) a text value, in order of preference.
const STRING_INPUTS: [&str; 5] = ["text", "string", "value", "prompt", "text_g"];

/// Nodes a sampler links to that hold some of its settings, in the order they are asked.
const SETTING_LINKS: [&str; 4] = ["noise", "sampler", "sigmas", "guider"];

/// Inputs naming a checkpoint, in the loaders that start a `model` chain.
const MODEL_INPUTS: [&str; 2] = ["ckpt_name", "unet_name"];

/// The ComfyUI reading of `texts`: the `prompt` graph when there is one.
pub(super) fn read(texts: &Texts) -> Option<ToolReading> {
    texts.get("prompt").map(read_comfyui_graph)
}

/// Reads a ComfyUI `prompt` graph (API format JSON): the prompt, negative prompt and
/// seed of the sampler that feeds a `SaveImage` node (else of the sampler with the
/// lowest numeric id), the checkpoint, the latent size, steps, CFG scale, sampler and
/// scheduler; further samplers' prompts and seeds become details ("sampler 2 prompt").
///
/// The tool is always ComfyUI. Malformed input (not JSON, a cycle, a link to a missing
/// node, inputs of the wrong type) leaves the prompt empty where it could not be read
/// and says why in `notes`. Never panics, and its work is bounded whatever the input.
pub fn read_comfyui_graph(prompt_json: &str) -> ToolReading {
    let mut reading = ToolReading::of(SourceTool::ComfyUi);
    let nodes = match json::object(prompt_json, "The ComfyUI prompt") {
        Ok(nodes) => nodes,
        Err(note) => {
            reading.notes.push(note);
            return reading;
        }
    };
    let mut walk = Walk {
        nodes: &nodes,
        notes: Vec::new(),
        steps: 0,
    };
    let mut samplers = walk.samplers();
    if samplers.is_empty() {
        walk.note("The ComfyUI graph has no sampler node, so it names no prompt.".to_owned());
    }
    if samplers.len() > MAX_SAMPLERS {
        walk.note(format!(
            "The ComfyUI graph has {} samplers; only the first {MAX_SAMPLERS} were read.",
            samplers.len()
        ));
        samplers.truncate(MAX_SAMPLERS);
    }
    for (index, sampler) in samplers.iter().enumerate() {
        let read = walk.read_sampler(sampler);
        if index == 0 {
            read.fill(&mut reading);
        } else {
            read.describe_as(index + 1, &mut reading);
        }
    }
    if reading.model.is_empty() {
        reading.model = walk.any_checkpoint();
    }
    reading.notes = walk.finished_notes();
    reading
}

/// One node of the graph, borrowed from the parsed JSON.
#[derive(Clone, Copy, Debug)]
struct Node<'a> {
    id: &'a str,
    class: &'a str,
    inputs: &'a Map<String, Value>,
}

impl<'a> Node<'a> {
    /// The node stored under `id`, when it has a string `class_type` and an `inputs` object.
    fn parse(id: &'a str, value: &'a Value) -> Option<Self> {
        let object = value.as_object()?;
        Some(Self {
            id,
            class: object.get("class_type")?.as_str()?,
            inputs: object.get("inputs")?.as_object()?,
        })
    }

    /// Whether the node samples: a known sampler, or a "…Sampler…" class with
    /// conditioning or guider inputs (`KSamplerSelect` only names a sampler).
    fn is_sampler(&self) -> bool {
        SAMPLER_CLASSES.contains(&self.class)
            || (self.class.contains("Sampler")
                && ["positive", "negative", "guider"]
                    .iter()
                    .any(|input| self.inputs.contains_key(*input)))
    }

    /// The first of `names` among the inputs.
    fn input(&self, names: &[&str]) -> Option<&'a Value> {
        names.iter().find_map(|name| self.inputs.get(*name))
    }
}

/// The node id and output index of a link input, `[node_id, output_index]` (the id
/// written as a string, or by some exporters as a number).
fn link(value: &Value) -> Option<(String, u64)> {
    let [node, output] = value.as_array()?.as_slice() else {
        return None;
    };
    let node = match node {
        Value::String(id) => id.clone(),
        Value::Number(id) => id.as_u64()?.to_string(),
        _ => return None,
    };
    Some((node, output.as_u64()?))
}

/// Node ids in order: numeric ids by value first, then the others by text.
fn id_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

/// Which conditioning a walk follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Positive,
    Negative,
}

impl Side {
    /// The input of that side on nodes that carry both (`ControlNetApplyAdvanced`…).
    fn input(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Negative => "negative",
        }
    }
}

/// What one sampler's inputs say.
#[derive(Debug, Default)]
struct SamplerRead {
    prompt: String,
    negative_prompt: String,
    seed: Option<u64>,
    model: String,
    size: String,
    details: Vec<(String, String)>,
}

impl SamplerRead {
    /// Makes this sampler the image's: its fields fill `reading`.
    fn fill(self, reading: &mut ToolReading) {
        reading.prompt = self.prompt;
        reading.negative_prompt = self.negative_prompt;
        reading.seed = self.seed;
        reading.model = self.model;
        reading.size = self.size;
        reading.details.extend(self.details);
    }

    /// Adds this sampler's prompts and seed to `reading`'s details as sampler `number`.
    fn describe_as(self, number: usize, reading: &mut ToolReading) {
        reading.detail(&format!("sampler {number} prompt"), self.prompt);
        reading.detail(&format!("sampler {number} negative prompt"), self.negative_prompt);
        if let Some(seed) = self.seed {
            reading.detail(&format!("sampler {number} seed"), seed.to_string());
        }
    }
}

/// An input's value with the id of the node it belongs to.
type Input<'a> = (&'a str, &'a Value);

/// One reading of a graph: the nodes, the notes so far and the steps spent.
struct Walk<'a> {
    nodes: &'a Map<String, Value>,
    notes: Vec<String>,
    steps: usize,
}

impl<'a> Walk<'a> {
    fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// The notes without repeats, at most [`MAX_NOTES`] of them.
    fn finished_notes(&mut self) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut notes: Vec<String> = std::mem::take(&mut self.notes)
            .into_iter()
            .filter(|note| seen.insert(note.clone()))
            .collect();
        if notes.len() > MAX_NOTES {
            let more = notes.len() - MAX_NOTES;
            notes.truncate(MAX_NOTES);
            notes.push(format!("{more} further problems in the ComfyUI graph are not listed."));
        }
        notes
    }

    /// Spends one step of the budget; false (with a note, once) when it is spent.
    fn spend(&mut self) -> bool {
        self.steps += 1;
        if self.steps == MAX_STEPS + 1 {
            self.note(format!(
                "The ComfyUI graph is too large to follow completely (more than {MAX_STEPS} links)."
            ));
        }
        self.steps <= MAX_STEPS
    }

    /// Every well-formed node, in id order.
    fn all_nodes(&self) -> Vec<Node<'a>> {
        let mut nodes: Vec<Node<'a>> = self
            .nodes
            .iter()
            .filter_map(|(id, value)| Node::parse(id, value))
            .collect();
        nodes.sort_by(|a, b| id_order(a.id, b.id));
        nodes
    }

    /// Follows the link `value` from the end of `path`: the node it reaches and the
    /// output index. `None` when `value` is not a link, and `None` with a note for a
    /// cycle, a chain deeper than [`MAX_DEPTH`], a spent budget, or a missing or
    /// malformed node.
    fn step(&mut self, path: &[&'a str], value: &Value) -> Option<(Node<'a>, u64)> {
        let (id, output) = link(value)?;
        let from = path.last().copied().unwrap_or("?");
        if path.contains(&id.as_str()) {
            self.note(format!(
                "The ComfyUI graph has a cycle at node {id}; the links were not followed around it."
            ));
            return None;
        }
        if path.len() >= MAX_DEPTH {
            self.note(format!(
                "The ComfyUI graph links more than {MAX_DEPTH} nodes deep at node {from}; the rest was not followed."
            ));
            return None;
        }
        if !self.spend() {
            return None;
        }
        let Some((key, value)) = self.nodes.get_key_value(&id) else {
            self.note(format!(
                "Node {from} of the ComfyUI graph links to node {id}, which is missing."
            ));
            return None;
        };
        let node = Node::parse(key, value);
        if node.is_none() {
            self.note(format!(
                "Node {id} of the ComfyUI graph is malformed (it needs a class_type text and an inputs object)."
            ));
        }
        Some((node?, output))
    }

    /// The samplers, the one feeding a `SaveImage` first, then by node id.
    fn samplers(&mut self) -> Vec<&'a str> {
        let mut samplers: Vec<&'a str> = self
            .all_nodes()
            .iter()
            .filter(|node| node.is_sampler())
            .map(|node| node.id)
            .collect();
        if let Some(output) = self.sampler_feeding_output()
            && let Some(position) = samplers.iter().position(|id| *id == output)
        {
            let id = samplers.remove(position);
            samplers.insert(0, id);
        }
        samplers
    }

    /// The first sampler found walking back (breadth first) from the `SaveImage`-like
    /// node with the lowest id that leads to one.
    fn sampler_feeding_output(&mut self) -> Option<&'a str> {
        let saves: Vec<Node<'a>> = self
            .all_nodes()
            .into_iter()
            .filter(|node| node.class.contains("SaveImage"))
            .collect();
        for save in saves {
            let mut queue = VecDeque::from([save]);
            let mut seen = HashSet::from([save.id]);
            while let Some(node) = queue.pop_front() {
                for value in node.inputs.values() {
                    let Some((id, _)) = link(value) else {
                        continue;
                    };
                    if !self.spend() {
                        return None;
                    }
                    let Some(next) = self
                        .nodes
                        .get_key_value(&id)
                        .and_then(|(key, value)| Node::parse(key, value))
                    else {
                        continue;
                    };
                    if next.is_sampler() {
                        return Some(next.id);
                    }
                    if seen.insert(next.id) {
                        queue.push_back(next);
                    }
                }
            }
        }
        None
    }

    /// Everything the sampler with id `id` says.
    fn read_sampler(&mut self, id: &'a str) -> SamplerRead {
        let mut read = SamplerRead::default();
        let Some(sampler) = self
            .nodes
            .get_key_value(id)
            .and_then(|(key, value)| Node::parse(key, value))
        else {
            return read;
        };
        let (positive, negative) = self.conditioning(sampler);
        match positive {
            Some((from, value)) => read.prompt = self.side_text(from, value, Side::Positive),
            None => self.note(format!(
                "Sampler node {id} of the ComfyUI graph has no positive conditioning."
            )),
        }
        if read.prompt.is_empty() {
            self.note(format!(
                "No prompt text was found for sampler node {id} of the ComfyUI graph."
            ));
        }
        if let Some((from, value)) = negative {
            read.negative_prompt = self.side_text(from, value, Side::Negative);
        }
        if let Some(value) = self.setting(sampler, &["seed", "noise_seed"]) {
            match json::seed(value, &format!("The seed of sampler node {id}")) {
                Ok(seed) => read.seed = Some(seed),
                Err(note) => self.note(note),
            }
        }
        for (label, names) in [
            ("Steps", &["steps"][..]),
            ("CFG scale", &["cfg"][..]),
            ("Sampler", &["sampler_name"][..]),
            ("Scheduler", &["scheduler"][..]),
            ("Denoise", &["denoise"][..]),
        ] {
            if let Some(value) = self.setting(sampler, names) {
                let shown = json::shown(value);
                if !shown.is_empty() {
                    read.details.push((label.to_owned(), shown));
                }
            }
        }
        self.read_model(sampler, &mut read);
        read.size = self.latent_size(sampler);
        read
    }

    /// The positive and negative conditioning inputs of `sampler` (with the id of the
    /// node holding them): its own, or its guider's (`CFGGuider`, `BasicGuider`'s
    /// `conditioning`, `DualCFGGuider`'s `cond1`).
    fn conditioning(&mut self, sampler: Node<'a>) -> (Option<Input<'a>>, Option<Input<'a>>) {
        let holder = if sampler.inputs.contains_key("positive") || sampler.inputs.contains_key("negative") {
            sampler
        } else {
            let Some(guider) = sampler.inputs.get("guider") else {
                return (None, None);
            };
            match self.step(&[sampler.id], guider) {
                Some((guider, _)) => guider,
                None => return (None, None),
            }
        };
        let positive = holder.input(&["positive", "conditioning", "cond1"]);
        let negative = holder.input(&["negative"]);
        (
            positive.map(|value| (holder.id, value)),
            negative.map(|value| (holder.id, value)),
        )
    }

    /// The prompt text reached from the conditioning input `value` of node `from`: the
    /// texts of every encoder it leads to, in input order, without repeats, one a line.
    fn side_text(&mut self, from: &'a str, value: &Value, side: Side) -> String {
        let mut texts = Vec::new();
        let mut path = vec![from];
        let mut seen = HashSet::new();
        self.collect_texts(value, side, &mut path, &mut seen, &mut texts);
        let mut unique = HashSet::new();
        texts.retain(|text| !text.is_empty() && unique.insert(text.clone()));
        texts.join("\n")
    }

    /// Walks back from the link `value` to the text encoders, pushing their texts.
    fn collect_texts(
        &mut self,
        value: &Value,
        side: Side,
        path: &mut Vec<&'a str>,
        seen: &mut HashSet<&'a str>,
        texts: &mut Vec<String>,
    ) {
        let Some((node, output)) = self.step(path, value) else {
            if link(value).is_none() {
                let from = path.last().copied().unwrap_or("?");
                self.note(format!(
                    "A conditioning input of node {from} of the ComfyUI graph is not a link: {}.",
                    json::shown(value)
                ));
            }
            return;
        };
        // A node reached twice (two branches meeting) is read once; a sampler's
        // conditioning belongs to that sampler; zeroed conditioning has no text.
        if !seen.insert(node.id) || node.is_sampler() || node.class == "ConditioningZeroOut" {
            return;
        }
        if let Some(text) = self.encoder_text(node, path) {
            texts.push(text);
            return;
        }
        let next = conditioning_inputs(node, output, side);
        path.push(node.id);
        for input in next {
            self.collect_texts(input, side, path, seen, texts);
        }
        path.pop();
    }

    /// The prompt of a text encoder (a node with a `text`, `text_g`/`text_l` or
    /// `t5xxl`/`clip_l` input), its parts one a line; `None` for any other node.
    fn encoder_text(&mut self, node: Node<'a>, path: &mut Vec<&'a str>) -> Option<String> {
        let names = TEXT_INPUTS
            .iter()
            .find(|names| names.iter().any(|name| node.inputs.contains_key(*name)))?;
        let mut parts: Vec<String> = Vec::new();
        path.push(node.id);
        for name in *names {
            let Some(value) = node.inputs.get(*name) else {
                continue;
            };
            match self.string(value, path) {
                Some(text) if !parts.contains(&text) => parts.push(text),
                Some(_) => {}
                None => self.note(format!(
                    "The {name} input of node {} of the ComfyUI graph is not text: {}.",
                    node.id,
                    json::shown(value)
                )),
            }
        }
        path.pop();
        parts.retain(|part| !part.trim().is_empty());
        Some(parts.join("\n"))
    }

    /// A text input: the string itself, or the text of the node it links to
    /// (a primitive, a string literal…), followed as far as the links go.
    fn string(&mut self, value: &Value, path: &mut Vec<&'a str>) -> Option<String> {
        if let Value::String(text) = value {
            return Some(text.clone());
        }
        let (node, _) = self.step(path, value)?;
        let next = node.input(&STRING_INPUTS).or_else(|| only_input(node))?;
        path.push(node.id);
        let text = self.string(next, path);
        path.pop();
        text
    }

    /// A setting of `sampler` (the first input of `names`): its own input, or the input
    /// of a node it links to for settings ([`SETTING_LINKS`]); a link is followed to
    /// the value (a primitive or seed node).
    fn setting(&mut self, sampler: Node<'a>, names: &[&str]) -> Option<&'a Value> {
        let mut path = vec![sampler.id];
        if let Some(value) = sampler.input(names) {
            return self.scalar(value, names, &mut path);
        }
        for link_name in SETTING_LINKS {
            let Some(value) = sampler.inputs.get(link_name) else {
                continue;
            };
            let Some((node, _)) = self.step(&path, value) else {
                continue;
            };
            if let Some(value) = node.input(names) {
                path.push(node.id);
                return self.scalar(value, names, &mut path);
            }
        }
        None
    }

    /// A value input: itself when it is not a link, else the value its node holds under
    /// one of `names`, `value`, or its only input.
    fn scalar(&mut self, value: &'a Value, names: &[&str], path: &mut Vec<&'a str>) -> Option<&'a Value> {
        if link(value).is_none() {
            return Some(value);
        }
        let (node, _) = self.step(path, value)?;
        let next = node
            .input(names)
            .or_else(|| node.inputs.get("value"))
            .or_else(|| only_input(node))?;
        path.push(node.id);
        let found = self.scalar(next, names, path);
        path.pop();
        found
    }

    /// The checkpoint and LoRAs on the `model` chain of `sampler` (its own `model`
    /// input, else its guider's or scheduler's).
    fn read_model(&mut self, sampler: Node<'a>, read: &mut SamplerRead) {
        let mut path = vec![sampler.id];
        let mut value = sampler.inputs.get("model");
        if value.is_none() {
            for holder in ["guider", "sigmas"] {
                if let Some(start) = sampler.inputs.get(holder)
                    && let Some((node, _)) = self.step(&path, start)
                    && let Some(model) = node.inputs.get("model")
                {
                    path.push(node.id);
                    value = Some(model);
                    break;
                }
            }
        }
        while let Some(link_value) = value {
            let Some((node, _)) = self.step(&path, link_value) else {
                return;
            };
            path.push(node.id);
            if let Some(lora) = node.inputs.get("lora_name").and_then(Value::as_str) {
                read.details.push(("LoRA".to_owned(), lora.to_owned()));
            }
            if let Some(name) = node.input(&MODEL_INPUTS) {
                read.model = self.string(name, &mut path).unwrap_or_default();
                return;
            }
            value = node.inputs.get("model");
        }
    }

    /// The first checkpoint named anywhere in the graph, by node id (for graphs whose
    /// sampler does not lead to its loader).
    fn any_checkpoint(&self) -> String {
        self.all_nodes()
            .iter()
            .find_map(|node| node.input(&MODEL_INPUTS).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned()
    }

    /// `W*H` of the latent the sampler starts from (`EmptyLatentImage` and kin, or a
    /// `LatentUpscale`), following `latent_image`/`samples` links back.
    fn latent_size(&mut self, sampler: Node<'a>) -> String {
        let mut path = vec![sampler.id];
        let mut value = sampler.inputs.get("latent_image");
        while let Some(link_value) = value {
            let Some((node, _)) = self.step(&path, link_value) else {
                return String::new();
            };
            if node.is_sampler() {
                return String::new();
            }
            path.push(node.id);
            let width = node.inputs.get("width");
            let height = node.inputs.get("height");
            if let (Some(width), Some(height)) = (width, height) {
                let width = self.scalar(width, &["width"], &mut path);
                let height = self.scalar(height, &["height"], &mut path);
                return json::size(width, height);
            }
            value = node.input(&["samples", "latent_image", "latent"]);
        }
        String::new()
    }
}

/// The inputs to follow back from a node between a sampler and its text encoders: on a
/// node carrying both sides (`ControlNetApplyAdvanced`, `InpaintModelConditioning`…)
/// the one its output stands for (0 positive, 1 negative, else `side`); otherwise its
/// conditioning inputs (`conditioning`, `conditioning_1`, `conditioning_to`…), or, when
/// it has none, every link input.
fn conditioning_inputs(node: Node<'_>, output: u64, side: Side) -> Vec<&Value> {
    if node.inputs.contains_key("positive") && node.inputs.contains_key("negative") {
        let side = match output {
            0 => Side::Positive,
            1 => Side::Negative,
            _ => side,
        };
        return node.inputs.get(side.input()).into_iter().collect();
    }
    let links = || node.inputs.iter().filter(|(_, value)| link(value).is_some());
    let conditioning: Vec<&Value> = links()
        .filter(|(name, _)| name.contains("cond") || *name == "positive" || *name == "negative")
        .map(|(_, value)| value)
        .collect();
    if conditioning.is_empty() {
        links().map(|(_, value)| value).collect()
    } else {
        conditioning
    }
}

/// The only input of a node, when it has exactly one.
fn only_input(node: Node<'_>) -> Option<&Value> {
    let mut values = node.inputs.values();
    match (values.next(), values.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::read_tool_metadata;
    use super::super::test_files::{exif_ascii, png_with_texts, webp_with_exif};
    use super::*;

    /// The default text-to-image graph ComfyUI writes (node ids and shapes as saved),
    /// with a ConditioningCombine between the sampler and two positive encoders.
    fn combined_graph(seed: &str) -> String {
        format!(
            r#"{{
  "3": {{"inputs": {{"seed": {seed}, "steps": 20, "cfg": 8, "sampler_name": "euler", "scheduler": "normal",
         "denoise": 1, "model": ["10", 0], "positive": ["11", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "class_type": "KSampler", "_meta": {{"title": "KSampler"}}}},
  "4": {{"inputs": {{"ckpt_name": "v1-5-pruned-emaonly.safetensors"}}, "class_type": "CheckpointLoaderSimple"}},
  "5": {{"inputs": {{"width": 512, "height": 768, "batch_size": 1}}, "class_type": "EmptyLatentImage"}},
  "6": {{"inputs": {{"text": "beautiful scenery nature glass bottle landscape", "clip": ["10", 1]}},
        "class_type": "CLIPTextEncode"}},
  "7": {{"inputs": {{"text": "text, watermark", "clip": ["10", 1]}}, "class_type": "CLIPTextEncode"}},
  "8": {{"inputs": {{"samples": ["3", 0], "vae": ["4", 2]}}, "class_type": "VAEDecode"}},
  "9": {{"inputs": {{"filename_prefix": "ComfyUI", "images": ["8", 0]}}, "class_type": "SaveImage"}},
  "10": {{"inputs": {{"lora_name": "detail.safetensors", "strength_model": 1, "strength_clip": 1,
         "model": ["4", 0], "clip": ["4", 1]}}, "class_type": "LoraLoader"}},
  "11": {{"inputs": {{"conditioning_1": ["6", 0], "conditioning_2": ["12", 0]}}, "class_type": "ConditioningCombine"}},
  "12": {{"inputs": {{"text": "purple galaxy bottle", "clip": ["10", 1]}}, "class_type": "CLIPTextEncode"}}
}}"#
        )
    }

    fn detail<'a>(reading: &'a ToolReading, label: &str) -> Option<&'a str> {
        reading
            .details
            .iter()
            .find(|(key, _)| key == label)
            .map(|(_, value)| value.as_str())
    }

    #[test]
    fn a_comfyui_png_with_a_conditioning_combine_reads_everything() {
        let graph = combined_graph("1125899906842624");
        let png = png_with_texts(&[("prompt", &graph), ("workflow", "{\"nodes\": []}")]);
        let reading = read_tool_metadata(&png);
        assert_eq!(reading.tool, Some(SourceTool::ComfyUi));
        assert_eq!(
            reading.prompt,
            "beautiful scenery nature glass bottle landscape\npurple galaxy bottle"
        );
        assert_eq!(reading.negative_prompt, "text, watermark");
        assert_eq!(reading.seed, Some(1_125_899_906_842_624));
        assert_eq!(reading.model, "v1-5-pruned-emaonly.safetensors");
        assert_eq!(reading.size, "512*768");
        assert_eq!(detail(&reading, "Steps"), Some("20"));
        assert_eq!(detail(&reading, "CFG scale"), Some("8"));
        assert_eq!(detail(&reading, "Sampler"), Some("euler"));
        assert_eq!(detail(&reading, "Scheduler"), Some("normal"));
        assert_eq!(detail(&reading, "LoRA"), Some("detail.safetensors"));
        assert!(reading.notes.is_empty(), "{:?}", reading.notes);
    }

    #[test]
    fn a_seed_of_u64_max_survives_and_one_beyond_is_a_note() {
        let reading = read_comfyui_graph(&combined_graph(&u64::MAX.to_string()));
        assert_eq!(reading.seed, Some(u64::MAX));
        let beyond = read_comfyui_graph(&combined_graph("18446744073709551616"));
        assert_eq!(beyond.seed, None);
        assert!(!beyond.prompt.is_empty());
        assert!(beyond.notes[0].contains("seed of sampler node 3"), "{:?}", beyond.notes);
    }

    #[test]
    fn comfyui_webp_keeps_the_graph_in_the_exif_model_tag() {
        let graph = combined_graph("42");
        let webp = webp_with_exif(&[
            exif_ascii(exif::Tag::Model, &format!("prompt:{graph}")),
            exif_ascii(exif::Tag::Make, "workflow:{}"),
        ]);
        let reading = read_tool_metadata(&webp);
        assert_eq!((reading.tool, reading.seed), (Some(SourceTool::ComfyUi), Some(42)));
        assert_eq!(reading.negative_prompt, "text, watermark");
    }

    /// A hires-fix graph: sampler 3 makes the image, sampler 10 (fed by it) refines it
    /// and feeds SaveImage; a third sampler (node 20) only feeds a preview.
    const TWO_PASSES: &str = r#"{
  "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "cfg": 7, "sampler_name": "euler",
        "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
        "latent_image": ["5", 0]}},
  "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
  "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
  "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "first pass", "clip": ["4", 1]}},
  "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
  "8": {"class_type": "LatentUpscale", "inputs": {"samples": ["3", 0], "upscale_method": "nearest-exact",
        "width": 1536, "height": 1536, "crop": "disabled"}},
  "10": {"class_type": "KSamplerAdvanced", "inputs": {"noise_seed": 2, "steps": 30, "cfg": 5,
         "sampler_name": "dpmpp_2m", "scheduler": "karras", "add_noise": "enable", "start_at_step": 10,
         "end_at_step": 30, "return_with_leftover_noise": "disable", "model": ["4", 0], "positive": ["11", 0],
         "negative": ["7", 0], "latent_image": ["8", 0]}},
  "11": {"class_type": "CLIPTextEncode", "inputs": {"text": "second pass", "clip": ["4", 1]}},
  "12": {"class_type": "VAEDecode", "inputs": {"samples": ["10", 0], "vae": ["4", 2]}},
  "13": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["12", 0]}},
  "20": {"class_type": "KSampler", "inputs": {"seed": 3, "model": ["4", 0], "positive": ["6", 0],
         "negative": ["7", 0], "latent_image": ["5", 0]}}
}"#;

    #[test]
    fn with_several_samplers_the_one_feeding_save_image_is_the_image() {
        let reading = read_comfyui_graph(TWO_PASSES);
        assert_eq!(reading.prompt, "second pass");
        assert_eq!(reading.negative_prompt, "blurry");
        assert_eq!(reading.seed, Some(2));
        assert_eq!(reading.size, "1536*1536");
        assert_eq!(detail(&reading, "Sampler"), Some("dpmpp_2m"));
        assert_eq!(detail(&reading, "sampler 2 prompt"), Some("first pass"));
        assert_eq!(detail(&reading, "sampler 2 negative prompt"), Some("blurry"));
        assert_eq!(detail(&reading, "sampler 2 seed"), Some("1"));
        assert_eq!(detail(&reading, "sampler 3 seed"), Some("3"));
        assert!(reading.notes.is_empty(), "{:?}", reading.notes);
    }

    #[test]
    fn without_save_image_the_lowest_numeric_id_is_the_image() {
        let mut graph: Map<String, Value> = serde_json::from_str(TWO_PASSES).unwrap();
        graph.remove("13");
        // "3" < "10" < "20" as numbers (as text, "10" would come first).
        let reading = read_comfyui_graph(&Value::Object(graph).to_string());
        assert_eq!((reading.prompt.as_str(), reading.seed), ("first pass", Some(1)));
        assert_eq!(detail(&reading, "sampler 2 prompt"), Some("second pass"));
    }

    /// A Flux graph as ComfyUI saves it: SamplerCustomAdvanced with RandomNoise,
    /// BasicGuider, KSamplerSelect and BasicScheduler; FluxGuidance between the guider
    /// and CLIPTextEncodeFlux; the seed in a primitive node; UNETLoader.
    const FLUX: &str = r#"{
  "6": {"class_type": "CLIPTextEncodeFlux", "inputs": {"clip_l": "a cat", "t5xxl": "a photo of a cat on a sofa",
        "guidance": 3.5, "clip": ["11", 0]}},
  "8": {"class_type": "VAEDecode", "inputs": {"samples": ["13", 0], "vae": ["10", 0]}},
  "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "flux", "images": ["8", 0]}},
  "12": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors", "weight_dtype": "default"}},
  "13": {"class_type": "SamplerCustomAdvanced", "inputs": {"noise": ["25", 0], "guider": ["22", 0],
         "sampler": ["16", 0], "sigmas": ["17", 0], "latent_image": ["27", 0]}},
  "16": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
  "17": {"class_type": "BasicScheduler", "inputs": {"scheduler": "simple", "steps": 20, "denoise": 1,
         "model": ["12", 0]}},
  "22": {"class_type": "BasicGuider", "inputs": {"model": ["12", 0], "conditioning": ["26", 0]}},
  "25": {"class_type": "RandomNoise", "inputs": {"noise_seed": ["30", 0]}},
  "26": {"class_type": "FluxGuidance", "inputs": {"guidance": 3.5, "conditioning": ["6", 0]}},
  "27": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 576, "batch_size": 1}},
  "30": {"class_type": "PrimitiveInt", "inputs": {"value": 18446744073709551615}}
}"#;

    #[test]
    fn a_flux_graph_with_a_guider_and_a_seed_primitive_reads() {
        let reading = read_comfyui_graph(FLUX);
        assert_eq!(reading.prompt, "a photo of a cat on a sofa\na cat");
        assert_eq!(reading.negative_prompt, "");
        assert_eq!(reading.seed, Some(u64::MAX));
        assert_eq!(reading.model, "flux1-dev.safetensors");
        assert_eq!(reading.size, "1024*576");
        assert_eq!(detail(&reading, "Sampler"), Some("euler"));
        assert_eq!(detail(&reading, "Scheduler"), Some("simple"));
        assert_eq!(detail(&reading, "Steps"), Some("20"));
        assert!(reading.notes.is_empty(), "{:?}", reading.notes);
    }

    #[test]
    fn sdxl_encoders_and_controlnets_with_both_sides_read_each_side() {
        let graph = r#"{
  "1": {"class_type": "KSampler", "inputs": {"seed": 7, "positive": ["5", 0], "negative": ["5", 1]}},
  "2": {"class_type": "CLIPTextEncodeSDXL", "inputs": {"text_g": "a red fox", "text_l": "a red fox", "width": 1024}},
  "3": {"class_type": "CLIPTextEncodeSDXL", "inputs": {"text_g": "ugly", "text_l": "deformed"}},
  "4": {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "canny.safetensors"}},
  "5": {"class_type": "ControlNetApplyAdvanced", "inputs": {"positive": ["2", 0], "negative": ["3", 0],
        "control_net": ["4", 0], "image": ["6", 0], "strength": 1}},
  "6": {"class_type": "LoadImage", "inputs": {"image": "edges.png"}}
}"#;
        let reading = read_comfyui_graph(graph);
        assert_eq!(reading.prompt, "a red fox");
        assert_eq!(reading.negative_prompt, "ugly\ndeformed");
        assert!(reading.notes.is_empty(), "{:?}", reading.notes);
    }

    #[test]
    fn truncated_json_is_a_note_and_no_prompt() {
        let graph = combined_graph("1");
        for cut in [0, 1, graph.len() / 3, graph.len() - 2] {
            let reading = read_comfyui_graph(&graph[..cut]);
            assert_eq!(reading.tool, Some(SourceTool::ComfyUi));
            assert!(reading.prompt.is_empty());
            assert_eq!(reading.notes.len(), 1, "{:?}", reading.notes);
            assert!(reading.notes[0].contains("not valid JSON"), "{:?}", reading.notes);
        }
    }

    #[test]
    fn a_cycle_is_a_note_not_a_hang() {
        let graph = r#"{
  "3": {"class_type": "KSampler", "inputs": {"seed": 1, "positive": ["7", 0], "negative": ["8", 0]}},
  "7": {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["9", 0], "conditioning_2": ["9", 0]}},
  "9": {"class_type": "ConditioningConcat", "inputs": {"conditioning_to": ["7", 0], "conditioning_from": ["9", 0]}},
  "8": {"class_type": "CLIPTextEncode", "inputs": {"text": "bad"}}
}"#;
        let reading = read_comfyui_graph(graph);
        assert!(reading.prompt.is_empty());
        assert_eq!(reading.negative_prompt, "bad");
        assert_eq!(reading.seed, Some(1));
        assert!(
            reading.notes.iter().any(|note| note.contains("cycle at node 7")),
            "{:?}",
            reading.notes
        );
        assert!(reading.notes.iter().any(|note| note.contains("cycle at node 9")));
        // A text primitive linking to itself.
        let text_loop = r#"{"1": {"class_type": "KSampler", "inputs": {"positive": ["2", 0]}},
            "2": {"class_type": "CLIPTextEncode", "inputs": {"text": ["4", 0]}},
            "4": {"class_type": "StringPrimitive", "inputs": {"value": ["4", 0]}}}"#;
        let reading = read_comfyui_graph(text_loop);
        assert!(reading.prompt.is_empty());
        assert!(
            reading.notes.iter().any(|note| note.contains("cycle at node 4")),
            "{:?}",
            reading.notes
        );
    }

    #[test]
    fn a_missing_node_and_wrong_types_are_notes() {
        let missing = r#"{"3": {"class_type": "KSampler", "inputs": {"seed": 1, "positive": ["99", 0]}}}"#;
        let reading = read_comfyui_graph(missing);
        assert!(reading.prompt.is_empty());
        assert_eq!(
            reading.notes[0],
            "Node 3 of the ComfyUI graph links to node 99, which is missing."
        );
        let wrong_types = r#"{"3": {"class_type": "KSampler", "inputs": {"seed": "lots", "positive": ["4", 0],
            "negative": "not a link"}},
            "4": {"class_type": "CLIPTextEncode", "inputs": {"text": 12}},
            "5": "not a node", "6": {"class_type": 5, "inputs": []}}"#;
        let reading = read_comfyui_graph(wrong_types);
        assert!(reading.prompt.is_empty());
        assert_eq!(reading.seed, None);
        let notes = reading.notes.join(" | ");
        assert!(notes.contains("text input of node 4"), "{notes}");
        assert!(notes.contains("seed of sampler node 3"), "{notes}");
        assert!(notes.contains("not a link"), "{notes}");
        for not_a_graph in ["[]", "{}", "{\"1\": 5}", "null", "\"text\""] {
            let reading = read_comfyui_graph(not_a_graph);
            assert!(reading.prompt.is_empty());
            assert_eq!(reading.notes.len(), 1, "{not_a_graph}: {:?}", reading.notes);
        }
    }

    #[test]
    fn a_long_chain_stops_at_the_depth_limit() {
        let mut graph = Map::new();
        graph.insert(
            "0".to_owned(),
            serde_json::json!({"class_type": "KSampler", "inputs": {"positive": ["1", 0]}}),
        );
        for id in 1..500 {
            graph.insert(
                id.to_string(),
                serde_json::json!({"class_type": "ConditioningSetArea", "inputs": {"conditioning": [(id + 1).to_string(), 0]}}),
            );
        }
        graph.insert(
            "500".to_owned(),
            serde_json::json!({"class_type": "CLIPTextEncode", "inputs": {"text": "far away"}}),
        );
        let reading = read_comfyui_graph(&Value::Object(graph).to_string());
        assert!(reading.prompt.is_empty());
        assert!(
            reading
                .notes
                .iter()
                .any(|note| note.contains("more than 64 nodes deep")),
            "{:?}",
            reading.notes
        );
    }

    #[test]
    fn a_wide_diamond_graph_is_bounded_work() {
        // Each layer links twice to the next: 2^40 paths, 81 nodes.
        let mut graph = Map::new();
        graph.insert(
            "0".to_owned(),
            serde_json::json!({"class_type": "KSampler", "inputs": {"positive": ["1", 0]}}),
        );
        for layer in 0..40 {
            for half in 0..2 {
                let id = 1 + layer * 2 + half;
                let next = (1 + (layer + 1) * 2).to_string();
                let other = (2 + (layer + 1) * 2).to_string();
                graph.insert(
                    id.to_string(),
                    serde_json::json!({"class_type": "ConditioningCombine",
                        "inputs": {"conditioning_1": [next, 0], "conditioning_2": [other, 0]}}),
                );
            }
        }
        for id in [81, 82] {
            graph.insert(
                id.to_string(),
                serde_json::json!({"class_type": "CLIPTextEncode", "inputs": {"text": format!("text {id}")}}),
            );
        }
        let started = std::time::Instant::now();
        let reading = read_comfyui_graph(&Value::Object(graph).to_string());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert_eq!(reading.prompt, "text 81\ntext 82");
        assert!(reading.notes.is_empty(), "{:?}", reading.notes);
    }

    #[test]
    fn random_byte_soup_never_panics() {
        let graph = combined_graph("5");
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..2000 {
            let mut bytes = graph.clone().into_bytes();
            for _ in 0..1 + next() % 6 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = b"[]{}\",:0123456789\"3\"7"[(next() % 21) as usize];
            }
            let _ = read_comfyui_graph(&String::from_utf8_lossy(&bytes));
        }
    }
}
