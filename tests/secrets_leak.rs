//! A known key and signed links go through the real binary with debug logging, against
//! the loopback fake: afterwards the key is in no file below HOME (data, config, cache),
//! in no log line, no PNG, no error; no image request carried it; no log shows a link's
//! signature. Plain http to a non-local host is refused unless explicitly allowed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Output;

use serde_json::json;
use support::{FakeApi, Reply, Seen, openai_success, sample_png};

const KEY: &str = "sk-leakcheck-5e1f0c7d9a2b4e6f";
/// The tail of the signed links the fake hands out (see `FakeApi::image_link`).
const SIGNATURE: &str = "Signature=abc";

/// A fresh HOME with XDG folders inside, so every file the binary writes lands below it.
struct Home(tempfile::TempDir);

impl Home {
    fn new() -> Self {
        Self(tempfile::tempdir().unwrap())
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    /// Runs `pictor ARGS` with the known key, debug logs, and the OS folders below HOME.
    async fn pictor(&self, args: &[&str]) -> Output {
        self.pictor_through_proxy(args, None).await
    }

    /// Like [`Self::pictor`], with `HTTP_PROXY` set to `proxy` when given.
    async fn pictor_through_proxy(&self, args: &[&str], proxy: Option<String>) -> Output {
        let home = self.path().to_path_buf();
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        tokio::task::spawn_blocking(move || {
            let mut command = support::pictor_command(&home.join("unused"));
            command
                .env_remove("PICTOR_DATA_DIR")
                .env("HOME", &home)
                .env("XDG_DATA_HOME", home.join("data"))
                .env("XDG_CONFIG_HOME", home.join("config"))
                .env("XDG_CACHE_HOME", home.join("cache"))
                .env("PICTOR_API_KEY", KEY)
                .env("PICTOR_LOG", "trace")
                .env_remove("HTTP_PROXY")
                .env_remove("http_proxy")
                .env_remove("ALL_PROXY")
                .env_remove("all_proxy")
                .env_remove("NO_PROXY")
                .env_remove("no_proxy");
            if let Some(proxy) = &proxy {
                command.env("HTTP_PROXY", proxy);
            }
            command.args(&args).output().unwrap()
        })
        .await
        .unwrap()
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The output shows neither the key nor a signature; returns stdout + stderr as text.
fn check_output(output: &Output) -> String {
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!text.contains(KEY), "the key is in the output:\n{text}");
    assert!(!text.contains(&KEY[3..]), "most of the key is in the output:\n{text}");
    assert!(
        !text.contains(SIGNATURE),
        "a link's signature is in the output:\n{text}"
    );
    assert!(!text.contains("panicked"), "{text}");
    text
}

/// No file below HOME holds the key; returns how many files were checked and how many were PNGs.
fn check_files(home: &Path) -> (usize, usize) {
    let files = support::files_below(home);
    let mut pngs = 0;
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        assert!(!contains(&bytes, KEY), "the key is in {}", path.display());
        assert!(!contains(&bytes, SIGNATURE), "a signature is in {}", path.display());
        pngs += usize::from(bytes.starts_with(b"\x89PNG"));
    }
    (files.len(), pngs)
}

fn check_image_requests(fake: &FakeApi) {
    let images: Vec<Seen> = fake
        .seen()
        .into_iter()
        .filter(|s| s.path.starts_with("/img/"))
        .collect();
    assert!(!images.is_empty(), "no image was downloaded");
    for seen in images {
        assert_eq!(seen.header("authorization"), None, "an image request carried a key");
        assert!(!format!("{:?}", seen.headers).contains(KEY));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_key_and_signed_links_leave_no_trace() {
    let fake = FakeApi::start(|seen, fake| {
        let prompt = seen.json()["input"]["messages"][0]["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        match prompt.as_str() {
            // A good answer whose link redirects to another signed link.
            "redirected" => {
                let target = fake.png_link("target", sample_png(40, 40, 2));
                Reply::Json(200, openai_success(&fake.image_link("hop", Reply::Redirect(target))))
            }
            // A link that is gone.
            "gone" => Reply::Json(
                200,
                openai_success(&fake.image_link(
                    "gone",
                    Reply::Raw {
                        status: 404,
                        content_type: "application/xml".into(),
                        body: b"<Error><Code>NoSuchKey</Code></Error>".to_vec(),
                        headers: vec![],
                    },
                )),
            ),
            // A router that echoes the key it rejects.
            "echo" => {
                let key = seen
                    .header("authorization")
                    .unwrap_or_default()
                    .trim_start_matches("Bearer ")
                    .to_owned();
                Reply::error(
                    401,
                    &format!("Invalid token: {key} (request id: 42)"),
                    json!("invalid_api_key"),
                )
            }
            // A success that echoes the key in the rewritten prompt and the request id.
            "echo-success" => {
                let key = seen
                    .header("authorization")
                    .unwrap_or_default()
                    .trim_start_matches("Bearer ")
                    .to_owned();
                let mut answer = openai_success(&fake.png_link("echoed", sample_png(32, 32, 4)));
                answer["data"][0]["revised_prompt"] = json!(format!("a lake, for key {key}"));
                answer["metadata"]["request_id"] = json!(format!("req-{key}"));
                Reply::Json(200, answer)
            }
            _ => Reply::Json(200, openai_success(&fake.png_link("ok", sample_png(48, 32, 1)))),
        }
    })
    .await;
    let home = Home::new();
    let base = fake.base_url();
    let common = ["--provider", "apple-router", "--base-url", base.as_str(), "--json"];
    let mut outputs = Vec::new();
    for prompt in ["一幅山水画", "redirected", "gone", "echo", "echo-success"] {
        let mut args = vec!["generate", prompt];
        args.extend(common);
        let output = home.pictor(&args).await;
        let text = check_output(&output);
        let success = !matches!(prompt, "gone" | "echo");
        assert_eq!(output.status.success(), success, "{prompt}: {text}");
        outputs.push(text);
    }
    let list = home.pictor(&["list", "--json"]).await;
    let listed = check_output(&list);
    let listed_lines = support::complete_json_lines(&list.stdout);
    assert_eq!(listed_lines.len(), 3, "{listed}");
    // The echoed success was stored with the key masked, not dropped.
    let echoed = listed_lines
        .iter()
        .find(|line| line["prompt"] == "echo-success")
        .unwrap_or_else(|| panic!("the echoed success was not stored: {listed}"));
    assert_eq!(
        echoed["revised_prompt"],
        format!("a lake, for key …{}", &KEY[KEY.len() - 4..])
    );
    // The failures say what happened without the secret.
    assert!(outputs[2].contains("\"kind\":\"download\""), "{}", outputs[2]);
    assert!(outputs[3].contains("\"kind\":\"auth\""), "{}", outputs[3]);
    // Debug logging was really on (so the scan means something).
    assert!(
        outputs[0].contains("DEBUG") || outputs[0].contains("TRACE"),
        "{}",
        outputs[0]
    );

    assert!(
        fake.seen().iter().any(|s| s.path.starts_with("/img/target")),
        "the redirected link was not followed"
    );
    let (files, pngs) = check_files(home.path());
    assert!(pngs >= 3, "the stored PNGs were not found below HOME ({files} files)");
    check_image_requests(&fake);
    // The API did get the key (so its absence elsewhere is not an accident).
    assert!(
        fake.api_requests()
            .iter()
            .all(|s| s.header("authorization") == Some(&format!("Bearer {KEY}")))
    );
    println!("secrets: {files} files ({pngs} PNGs) and 6 runs' debug logs scanned; no key, no signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_non_local_host_is_refused_unless_allowed() {
    let home = Home::new();
    // A non-local host reached through a proxy on loopback: even a broken guard sends
    // nothing to any address outside 127.0.0.0/8, and the name never resolves (.invalid).
    let fake =
        FakeApi::start(|_, fake| Reply::Json(200, openai_success(&fake.png_link("far", sample_png(16, 16, 3))))).await;
    let proxy = Some(fake.base_url());
    let args = [
        "generate",
        "x",
        "--provider",
        "apple-router",
        "--base-url",
        "http://pictor-remote.invalid",
        "--json",
    ];
    let refused = home.pictor_through_proxy(&args, proxy.clone()).await;
    let text = check_output(&refused);
    assert!(!refused.status.success());
    assert!(text.contains("\"kind\":\"config\""), "{text}");
    assert!(
        fake.seen().is_empty(),
        "the key was sent over plain http to a non-local host"
    );

    let mut allowed_args = args.to_vec();
    allowed_args.push("--allow-insecure-http");
    let allowed = home.pictor_through_proxy(&allowed_args, proxy).await;
    let text = check_output(&allowed);
    assert!(allowed.status.success(), "{text}");
    let requests = fake.api_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("host"),
        Some("pictor-remote.invalid"),
        "it went to the named host"
    );
    check_image_requests(&fake);
}
