//! Every translation key used in the code exists in English and Chinese, and the two
//! locale files have the same keys.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

fn keys(file: &str) -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/locales").join(file)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('_') && !l.starts_with('#'))
        .filter_map(|l| l.split_once(": ").map(|(k, _)| k.trim().to_owned()))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn both_languages_have_every_key() {
    let en = keys("en.yml");
    let zh = keys("zh-CN.yml");
    assert!(en.len() > 100);
    assert_eq!(
        en.difference(&zh).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "missing in zh-CN"
    );
    assert_eq!(
        zh.difference(&en).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "missing in en"
    );
    let mut files = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
    let mut used = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (index, _) in text.match_indices("t!(\"") {
            let before = text[..index].chars().next_back().unwrap_or(' ');
            if before.is_alphanumeric() || before == '_' {
                continue;
            }
            let rest = &text[index + 4..];
            let key = &rest[..rest.find('"').unwrap()];
            used += 1;
            assert!(en.contains(key), "{} uses the unknown key {key}", file.display());
        }
    }
    assert!(used > 100, "only {used} keys found in the code");
    for kind in pictor::ErrorKind::ALL {
        assert!(en.contains(&format!("error.{kind}")));
    }
    for provider in pictor::api::provider::Provider::ALL {
        assert!(
            en.contains(&format!("provider.{}", provider.name())),
            "{provider:?} has no name"
        );
    }
}
