//! Today's models through the real binary: the catalogue (`pictor models`), free sizes,
//! several images from one request, and edit models refused without references.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{FakeApi, Reply, sample_png};

fn run(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    support::pictor_command(data_dir)
        .env("PICTOR_API_KEY", "sk-models-test-0000")
        .args(args)
        .output()
        .unwrap()
}

fn lines(output: &std::process::Output) -> Vec<Value> {
    support::complete_json_lines(&output.stdout)
}

#[test]
fn models_json_lists_every_model_with_its_rules() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["models", "--json"]);
    assert!(out.status.success());
    let models = lines(&out);
    let find = |name: &str| {
        models
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let pro = find("qwen-image-2.0-pro");
    assert_eq!(pro["n_max"], 6);
    assert_eq!(pro["references"], json!({"min": 0, "max": 3}));
    assert_eq!(pro["size_range"]["max_side"], 2048);
    assert!(pro["sizes"].as_array().unwrap().contains(&json!("2048*2048")));
    let plus = find("qwen-image-plus");
    assert_eq!(plus["n_max"], 1);
    assert_eq!(plus["size_range"], Value::Null);
    assert_eq!(plus["sizes"].as_array().unwrap().len(), 5);
    assert_eq!(find("qwen-image-edit-plus")["references"], json!({"min": 1, "max": 3}));
    assert_eq!(find("wan2.6-t2i")["n_max"], 4);
    assert_eq!(find("wan2.6-t2i")["n_always_sent"], true);
    for model in &models {
        for field in ["name", "n_max", "references", "sizes", "size_range"] {
            assert!(model.get(field).is_some(), "{field} missing in {model}");
        }
    }
    let text = run(dir.path(), &["models"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("wan2.6-t2i"));
}

/// `pictor generate PROMPT ARGS… --provider openai-compatible --base-url <fake>` on a
/// blocking thread (the fake answers on this runtime meanwhile).
async fn generate_through(fake: &FakeApi, dir: &std::path::Path, prompt: &str, args: &[&str]) -> std::process::Output {
    let mut all: Vec<String> = [
        "generate",
        prompt,
        "--provider",
        "openai-compatible",
        "--base-url",
        &fake.base_url(),
    ]
    .map(str::to_owned)
    .to_vec();
    all.extend(args.iter().map(|arg| (*arg).to_owned()));
    let dir = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        run(&dir, &all)
    })
    .await
    .unwrap()
}

/// A fake that refuses what the real service refuses, and otherwise answers as many
/// images as the body's `n` asks for.
async fn fake_answering_n() -> FakeApi {
    FakeApi::start(|seen, fake| {
        if let Some(refusal) = support::contract::violation(&seen.json()) {
            return refusal;
        }
        let n = seen.json()["parameters"]["n"].as_u64().unwrap_or(1);
        let data: Vec<Value> = (0..n)
            .map(|i| {
                let link = fake.png_link(&format!("img{}-{i}", fake.seen().len()), sample_png(32, 48, i as u32));
                json!({"url": link, "b64_json": "", "revised_prompt": ""})
            })
            .collect();
        Reply::Json(
            200,
            json!({"created": 1, "data": data,
            "metadata": {"usage": {"image_count": n}, "request_id": "r"}}),
        )
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_images_at_a_free_size_come_from_one_request() {
    let fake = fake_answering_n().await;
    let dir = tempfile::tempdir().unwrap();
    let out = generate_through(
        &fake,
        dir.path(),
        "雪山下的小镜湖",
        &[
            "--model",
            "qwen-image-2.0-pro",
            "--size",
            "1024*1536",
            "--count",
            "3",
            "--seed",
            "5",
            "--json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(lines(&out).len(), 3, "every image of the answer is stored");
    let requests = fake.api_requests();
    assert_eq!(requests.len(), 1, "one request for three images");
    assert_eq!(requests[0].json()["parameters"]["n"], 3);
    assert_eq!(requests[0].json()["parameters"]["size"], "1024*1536");
    assert_eq!(requests[0].json()["parameters"]["seed"], 5);
    let mut seeds: Vec<u64> = lines(&out).iter().map(|l| l["seed"].as_u64().unwrap()).collect();
    seeds.sort_unstable();
    assert_eq!(seeds, vec![5, 6, 7], "image k of a request with seed S has S + k");

    // Seven at most six per request: two requests, six and one.
    let out = generate_through(
        &fake,
        dir.path(),
        "x",
        &[
            "--model",
            "qwen-image-2.0",
            "--size",
            "2048*2048",
            "--count",
            "7",
            "--seed",
            "10",
            "--json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(lines(&out).len(), 7);
    let ns: Vec<Value> = fake.api_requests()[1..]
        .iter()
        .map(|r| r.json()["parameters"]["n"].clone())
        .collect();
    assert_eq!(ns, vec![json!(6), json!(1)]);
    let starts: Vec<Value> = fake.api_requests()[1..]
        .iter()
        .map(|r| r.json()["parameters"]["seed"].clone())
        .collect();
    assert_eq!(
        starts,
        vec![json!(10), json!(16)],
        "the second request starts after the first's six"
    );
}

#[test]
fn the_fake_refuses_what_the_service_refuses() {
    use support::contract::violation;
    let body = |model: &str, content: Value, parameters: Value| json!({"model": model, "input": {"messages": [{"role": "user", "content": content}]}, "parameters": parameters});
    let text = json!([{"text": "x"}]);
    assert!(
        violation(&body(
            "qwen-image-plus",
            text.clone(),
            json!({"size": "1328*1328", "n": 1})
        ))
        .is_none()
    );
    assert!(
        violation(&body(
            "qwen-image-plus",
            text.clone(),
            json!({"size": "2048*2048", "n": 1})
        ))
        .is_some()
    );
    assert!(violation(&body("qwen-image-plus", text.clone(), json!({"n": 2}))).is_some());
    assert!(
        violation(&body(
            "qwen-image-2.0-pro",
            text.clone(),
            json!({"size": "1024*1536", "n": 6})
        ))
        .is_none()
    );
    assert!(violation(&body("qwen-image-2.0-pro", text.clone(), json!({"n": 7}))).is_some());
    assert!(
        violation(&body("qwen-image-edit-plus", text.clone(), json!({}))).is_some(),
        "no reference"
    );
    let four = json!([{"image": "a"}, {"image": "b"}, {"image": "c"}, {"image": "d"}, {"text": "x"}]);
    assert!(
        violation(&body("qwen-image-edit-plus", four, json!({}))).is_some(),
        "too many references"
    );
    let two_texts = json!([{"text": "x"}, {"text": "y"}]);
    assert!(violation(&body("qwen-image-plus", two_texts, json!({}))).is_some());
    assert!(violation(&body("wan2.6-t2i", text.clone(), json!({"size": "1024*1024", "n": 1}))).is_some());
    assert!(violation(&body("wan2.6-t2i", text.clone(), json!({"size": "1280*1280", "n": 4}))).is_none());
    assert!(
        violation(&body("wan2.6-t2i", text, json!({"size": "1280*1280"}))).is_some(),
        "Wan without n"
    );
    let old = |size: &str| json!({"model": "wan2.5-t2i-preview", "input": {"prompt": "x"}, "parameters": {"size": size, "n": 1}});
    assert!(
        violation(&old("1024*1024")).is_some(),
        "Wan 2.5 needs about 1280² pixels"
    );
    assert!(violation(&old("1280*1280")).is_none());
}

#[test]
fn todays_sizes_are_accepted_and_wrong_ones_refused_before_sending() {
    let dir = tempfile::tempdir().unwrap();
    let demo = |args: &[&str]| {
        let mut all = vec!["generate", "a lighthouse", "--provider", "demo", "--json"];
        all.extend_from_slice(args);
        run(dir.path(), &all)
    };
    let wan = demo(&["--model", "wan2.6-t2i", "--size", "1280*1280"]);
    assert!(wan.status.success(), "{}", String::from_utf8_lossy(&wan.stdout));
    assert_eq!(lines(&wan)[0]["width"], 1280);
    let too_small = demo(&["--model", "wan2.6-t2i", "--size", "1024*1024"]);
    assert!(!too_small.status.success());
    assert_eq!(lines(&too_small)[0]["error"]["kind"], "invalid_request");
    let edit = demo(&["--model", "qwen-image-edit-plus"]);
    assert!(!edit.status.success());
    let message = lines(&edit)[0]["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        message.contains("qwen-image-edit-plus") && message.contains("1–3"),
        "{message}"
    );
    let unknown = demo(&["--model", "my-own-model", "--size", "640*480"]);
    assert!(
        unknown.status.success(),
        "an unknown model passes through: {}",
        String::from_utf8_lossy(&unknown.stdout)
    );
}

#[test]
fn an_edit_with_a_file_and_a_library_id_records_both_as_parents_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let original = run(
        dir.path(),
        &[
            "generate",
            "a red lantern",
            "--provider",
            "demo",
            "--model",
            "qwen-image-plus",
            "--json",
        ],
    );
    assert!(
        original.status.success(),
        "{}",
        String::from_utf8_lossy(&original.stderr)
    );
    let original_id = lines(&original)[0]["id"].as_str().unwrap().to_owned();
    let file = dir.path().join("photo.png");
    std::fs::write(&file, sample_png(600, 400, 5)).unwrap();
    let edited = run(
        dir.path(),
        &[
            "generate",
            "把背景换成雪山",
            "--provider",
            "demo",
            "--model",
            "qwen-image-edit-plus",
            "--ref",
            &original_id[..10],
            "--ref",
            file.to_str().unwrap(),
            "--json",
        ],
    );
    let stderr = String::from_utf8_lossy(&edited.stderr);
    assert!(edited.status.success(), "{stderr}");
    assert!(stderr.contains("imported"), "the file is imported first: {stderr}");
    let line = &lines(&edited)[0];
    let parents = line["parents"].as_array().unwrap();
    assert_eq!(parents.len(), 2);
    assert_eq!(
        parents[0],
        original_id.as_str(),
        "image 1 is the library image, by its full id"
    );
    let imported = parents[1].as_str().unwrap();
    // The edit takes its size from the references (no --size): the last one's, 600×400.
    assert_eq!(
        (line["width"].as_u64(), line["height"].as_u64()),
        (Some(600), Some(400))
    );
    assert_eq!(line["size"], "");
    // The listing carries the lineage too, and a plain image has none.
    let listed = lines(&run(dir.path(), &["list", "--json"]));
    let of = |id: &str| listed.iter().find(|l| l["id"] == id).unwrap().clone();
    assert_eq!(of(line["id"].as_str().unwrap())["parents"], line["parents"]);
    assert_eq!(of(&original_id)["parents"], json!([]));
    assert_eq!(of(imported)["prompt"], "photo");
    let library = pictor::library::Library::open(pictor::library::LibraryPaths::in_dir(dir.path())).unwrap();
    assert_eq!(
        library.children(&original_id).unwrap(),
        vec![line["id"].as_str().unwrap().to_owned()]
    );
}

#[test]
fn references_outside_the_models_range_are_refused_before_anything_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("one.png");
    std::fs::write(&file, sample_png(400, 400, 1)).unwrap();
    let f = file.to_str().unwrap();
    let too_many = run(
        dir.path(),
        &[
            "generate",
            "x",
            "--provider",
            "demo",
            "--model",
            "qwen-image-edit",
            "--ref",
            f,
            "--ref",
            f,
            "--json",
        ],
    );
    assert!(!too_many.status.success());
    let message = lines(&too_many)[0]["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.contains("qwen-image-edit needs 1 reference"), "{message}");
    let none_taken = run(
        dir.path(),
        &[
            "generate",
            "x",
            "--provider",
            "demo",
            "--model",
            "qwen-image-plus",
            "--ref",
            f,
            "--json",
        ],
    );
    assert!(!none_taken.status.success());
    let listed = lines(&run(dir.path(), &["list", "--json"]));
    assert!(
        listed.is_empty(),
        "a refused request imported its reference: {listed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_go_first_as_data_uris_and_a_large_one_is_scaled_and_said() {
    let fake = fake_answering_n().await;
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("wide.png");
    std::fs::write(&big, sample_png(4000, 1000, 7)).unwrap();
    let big_arg = big.to_str().unwrap().to_owned();
    let out = generate_through(
        &fake,
        dir.path(),
        "put image 1 in a frame",
        &["--model", "qwen-image-edit-plus", "--ref", &big_arg, "--json"],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("reference image 1: scaled from 4000×1000 to 3072×768"),
        "{stderr}"
    );
    let body = fake.api_requests()[0].json();
    let content = body["input"]["messages"][0]["content"].as_array().unwrap().clone();
    assert_eq!(content.len(), 2);
    assert!(
        content[0]["image"]
            .as_str()
            .unwrap()
            .starts_with("data:image/jpeg;base64,")
    );
    assert_eq!(content[1]["text"], "put image 1 in a frame");
    assert!(
        body["parameters"].get("size").is_none(),
        "the size comes from the reference"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_success_stores_what_arrived_and_says_how_many_failed() {
    // A router build that folds three images into one data item and reports one failed.
    let fake = FakeApi::start(|_, fake| {
        let links: Vec<String> = (0..3)
            .map(|i| fake.png_link(&format!("p{i}-{}", fake.seen().len()), sample_png(40, 40, i)))
            .collect();
        let content: Vec<Value> = links.iter().map(|l| json!({"image": l})).collect();
        Reply::Json(
            200,
            json!({
            "data": [{"url": links[2]}],
            "metadata": {"usage": {"image_count": 3},
                         "output": {"choices": [{"message": {"content": content}}],
                                    "task_metric": {"TOTAL": 4, "SUCCEEDED": 3, "FAILED": 1}}}}),
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = generate_through(
        &fake,
        dir.path(),
        "four lanterns",
        &["--model", "qwen-image-2.0-pro", "--count", "4", "--json"],
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(lines(&out).len(), 3, "every image that arrived is stored");
    assert!(stderr.contains("1 image(s) of this request failed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_the_catalogue_does_not_know_gets_the_services_default_size_unless_one_is_given() {
    let fake = fake_answering_n().await;
    let dir = tempfile::tempdir().unwrap();
    let out = generate_through(&fake, dir.path(), "x", &["--model", "qwen-image-9.0-future", "--json"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sent = fake.api_requests()[0].json();
    assert_eq!(sent["model"], "qwen-image-9.0-future");
    assert!(sent["parameters"].get("size").is_none(), "no size of ours: {sent}");
    assert_eq!(lines(&out)[0]["size"], "", "none was asked for");

    let out = generate_through(
        &fake,
        dir.path(),
        "x",
        &["--model", "qwen-image-9.0-future", "--size", "1000*600", "--json"],
    )
    .await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(fake.api_requests()[1].json()["parameters"]["size"], "1000*600");
}
