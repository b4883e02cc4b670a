//! Ratings, 1–5 stars: set from the command line and the window (keys 1–5, 0 clears),
//! kept in the library, filtered and sorted by.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use serde_json::Value;

fn pictor(data_dir: &Path, args: &[&str]) -> std::process::Output {
    support::pictor_command(data_dir).args(args).output().unwrap()
}

fn ids(output: &std::process::Output) -> Vec<String> {
    support::complete_json_lines(&output.stdout)
        .iter()
        .map(|line| line["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_command_line_rates_filters_and_sorts_by_stars() {
    let dir = tempfile::tempdir().unwrap();
    let made = pictor(
        dir.path(),
        &support::demo_generate_args("三只猫", 3)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let all = ids(&pictor(dir.path(), &["list", "--json"]));
    assert_eq!(all.len(), 3);
    let (newest, middle, oldest) = (&all[0], &all[1], &all[2]);
    assert!(pictor(dir.path(), &["rate", "4", &oldest[..12]]).status.success());
    assert!(pictor(dir.path(), &["rate", "2", middle]).status.success());

    let rated = support::complete_json_lines(&pictor(dir.path(), &["list", "--json"]).stdout);
    let rating_of = |id: &str| rated.iter().find(|l| l["id"] == id).unwrap()["rating"].clone();
    assert_eq!(rating_of(oldest), Value::from(4));
    assert_eq!(rating_of(newest), Value::from(0), "not rated");

    assert_eq!(
        ids(&pictor(dir.path(), &["list", "--min-rating", "3", "--json"])),
        vec![oldest.clone()]
    );
    assert_eq!(
        ids(&pictor(dir.path(), &["list", "--by-rating", "--json"])),
        vec![oldest.clone(), middle.clone(), newest.clone()]
    );
    // 0 clears; 6 is refused before anything changes.
    assert!(pictor(dir.path(), &["rate", "0", oldest]).status.success());
    assert!(ids(&pictor(dir.path(), &["list", "--min-rating", "3", "--json"])).is_empty());
    let refused = pictor(dir.path(), &["rate", "6", middle]);
    assert!(!refused.status.success());
    assert_eq!(
        ids(&pictor(dir.path(), &["list", "--min-rating", "2", "--json"])),
        vec![middle.clone()]
    );
}
