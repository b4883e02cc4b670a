//! The studio on the command line: boards and the cost meter.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

fn pictor(data_dir: &Path, args: &[&str]) -> std::process::Output {
    support::pictor_command(data_dir).args(args).output().unwrap()
}

fn ids(output: &std::process::Output) -> Vec<String> {
    support::complete_json_lines(&output.stdout)
        .iter()
        .map(|line| line["id"].as_str().unwrap().to_owned())
        .collect()
}

fn ok(output: &std::process::Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn the_command_line_keeps_boards_and_lists_exports_and_filters_by_them() {
    let dir = tempfile::tempdir().unwrap();
    let args = support::demo_generate_args("灯笼", 3);
    ok(&pictor(
        dir.path(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let all = ids(&pictor(dir.path(), &["list", "--json"]));
    let (newest, middle, oldest) = (&all[0], &all[1], &all[2]);

    ok(&pictor(dir.path(), &["board", "add", "Keepers", &newest[..12], oldest]));
    ok(&pictor(dir.path(), &["board", "add", "keepers", oldest, middle]));
    ok(&pictor(dir.path(), &["board", "add", "Client", middle]));
    let boards = support::complete_json_lines(&pictor(dir.path(), &["board", "list", "--json"]).stdout);
    assert_eq!(
        boards,
        vec![
            serde_json::json!({"name": "Client", "images": 1}),
            serde_json::json!({"name": "Keepers", "images": 3}),
        ]
    );

    ok(&pictor(dir.path(), &["rate", "5", oldest]));
    assert_eq!(
        ids(&pictor(
            dir.path(),
            &["list", "--board", "Keepers", "--min-rating", "4", "--json"]
        )),
        vec![oldest.clone()]
    );
    assert_eq!(
        ids(&pictor(dir.path(), &["list", "--board", "client", "--json"])),
        vec![middle.clone()]
    );

    let out = dir.path().join("out");
    let exported = support::complete_json_lines(
        &pictor(
            dir.path(),
            &["export", "--board", "Keepers", "--to", out.to_str().unwrap(), "--json"],
        )
        .stdout,
    );
    assert_eq!(exported.len(), 3);
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 3);

    ok(&pictor(dir.path(), &["board", "remove", "Keepers", newest]));
    assert_eq!(
        ids(&pictor(dir.path(), &["list", "--board", "Keepers", "--json"])).len(),
        2
    );

    let unknown = pictor(dir.path(), &["list", "--board", "Nope"]);
    assert!(!unknown.status.success());
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        message.contains("no board called “Nope”") && message.contains("Client, Keepers"),
        "{message}"
    );

    ok(&pictor(dir.path(), &["board", "delete", "Keepers"]));
    assert_eq!(
        ids(&pictor(dir.path(), &["list", "--json"])).len(),
        3,
        "the images stay"
    );
    assert!(!pictor(dir.path(), &["list", "--board", "Keepers"]).status.success());
}
