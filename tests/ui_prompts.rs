//! The prompt library in the real window, driven by accessible labels with
//! egui_kittest: save a style from the compose panel, insert with Ctrl+P and the
//! keyboard, variables, stars, delete and undo, export and import through the dialogs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pictor::library::{Library, PromptKind, SavedPrompt};
use pictor::ui::app::PictorApp;
use pictor::ui::dialogs::ScriptedDialogs;
use support::window::{Studio, step_until, studio, wait_for_label, wait_for_label_containing, window};

const WINDOW: egui::Vec2 = egui::vec2(1280.0, 800.0);

fn saved(library: &Library, kind: PromptKind, name: &str, text: &str) -> i64 {
    library
        .save_prompt(&SavedPrompt {
            kind,
            name: name.into(),
            text: text.into(),
            ..SavedPrompt::default()
        })
        .unwrap()
}

/// Clicks into the field labelled `label` and types `text` (after what is there).
fn type_into(harness: &mut Harness<'_, PictorApp>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.step();
    harness.get_by_label(label).type_text(text);
    harness.step();
}

/// Replaces the text of the field labelled `label`.
fn replace_text(harness: &mut Harness<'_, PictorApp>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.step();
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    harness.step();
    harness.get_by_label(label).type_text(text);
    harness.step();
}

const EMPTY: &str = "Nothing saved yet. Write a prompt and use Save… beside it.";

/// A few frames, so a layout that just changed (rows read, a list shown) has settled
/// before a click aims at it.
fn settle(harness: &mut Harness<'_, PictorApp>) {
    for _ in 0..3 {
        harness.step();
    }
}

/// Ctrl+P, then waits for what is labelled `row` (the entries are read in the background).
fn open_picker(harness: &mut Harness<'_, PictorApp>, row: &str) {
    harness.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::P);
    wait_for_label(harness, row);
    settle(harness);
}

fn picker_open(harness: &Harness<'_, PictorApp>) -> bool {
    harness.query_by_label("Saved prompts").is_some()
}

fn top(harness: &Harness<'_, PictorApp>, label: &str) -> f32 {
    harness.get_by_label(label).rect().top()
}

#[test]
fn a_style_saved_from_the_compose_panel_is_appended_elsewhere_with_ctrl_p() {
    let studio = studio(0);
    saved(
        &studio.library,
        PromptKind::Prompt,
        "Aardvark",
        "an aardvark, photograph",
    );
    let mut harness = window(&studio, WINDOW);
    type_into(&mut harness, "Prompt", "a heron at dawn");
    type_into(&mut harness, "Negative prompt", "blurry, lowres");

    harness.get_by_label("Save…").click();
    wait_for_label(&mut harness, "Save to the prompt library");
    harness.get_by_label("Style (both)").click();
    harness.step();
    type_into(&mut harness, "Name", "Ink");
    type_into(&mut harness, "Tags", "ink, wash");
    replace_text(&mut harness, "Text appended to the prompt", "ink wash, soft light");
    harness.get_by_label("Save").click();
    wait_for_label(&mut harness, "Saved “Ink” (Style) to the prompt library");
    assert!(
        harness.query_by_label("Save to the prompt library").is_none(),
        "the window closed"
    );
    let ink = studio
        .library
        .prompts()
        .unwrap()
        .into_iter()
        .find(|p| p.name == "Ink")
        .unwrap();
    assert_eq!(ink.kind, PromptKind::Style);
    assert_eq!(ink.text, "ink wash, soft light");
    assert_eq!(ink.negative, "blurry, lowres");
    assert_eq!(ink.tags, ["ink", "wash"]);

    // Another prompt; the style goes after it.
    {
        let form = harness.state_mut().form_mut();
        form.params.prompt = "a fox in the snow".into();
        form.params.negative_prompt = String::new();
    }
    open_picker(&mut harness, "Aardvark");
    // The search field has the keyboard as soon as the picker opens.
    assert!(harness.get_by_label("Find").is_focused());
    harness.get_by_label("Find").type_text("ink");
    harness.step();
    assert_eq!(harness.get_by_label("Find").value().as_deref(), Some("ink"));
    assert!(harness.query_by_label("Aardvark").is_none(), "filtered out");
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "the style inserted", |app| {
        app.form_params().prompt != "a fox in the snow"
    });
    assert!(!picker_open(&harness));
    let params = harness.state().form_params();
    assert_eq!(params.prompt, "a fox in the snow, ink wash, soft light");
    assert_eq!(params.negative_prompt, "blurry, lowres");
    let library = Arc::clone(&studio.library);
    step_until(&mut harness, "marked used", move |_| {
        library
            .prompts()
            .unwrap()
            .iter()
            .any(|p| p.name == "Ink" && p.used_ms.is_some())
    });

    // Inserted again: nothing doubles. Then it heads the Recent section.
    open_picker(&mut harness, "Recent");
    assert!(top(&harness, "Recent") < top(&harness, "Ink"));
    assert!(top(&harness, "Ink") < top(&harness, "All"));
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "picker closed", |_| true);
    assert!(!picker_open(&harness));
    let params = harness.state().form_params();
    assert_eq!(params.prompt, "a fox in the snow, ink wash, soft light");
    assert_eq!(params.negative_prompt, "blurry, lowres");

    // Escape closes without inserting.
    open_picker(&mut harness, "Ink");
    harness.key_press(egui::Key::Escape);
    harness.step();
    harness.step();
    assert!(!picker_open(&harness));
}

#[test]
fn a_saved_prompt_with_a_variable_asks_for_its_value() {
    let studio = studio(0);
    saved(
        &studio.library,
        PromptKind::Prompt,
        "Portrait",
        "a portrait of {subject}, ink wash",
    );
    let mut harness = window(&studio, WINDOW);
    harness.get_by_label("Library").click();
    wait_for_label(&mut harness, "Portrait");
    harness.get_by_label("Portrait").click();
    wait_for_label(&mut harness, "Fill in “Portrait”");
    assert_eq!(
        harness.state().form_params().prompt,
        "",
        "nothing inserted before the value"
    );
    // The first field has the keyboard.
    harness.get_by_label("subject").type_text("an old fisherman");
    harness.step();
    harness.get_by_label("Insert").click();
    step_until(&mut harness, "filled and inserted", |app| {
        !app.form_params().prompt.is_empty()
    });
    assert_eq!(
        harness.state().form_params().prompt,
        "a portrait of an old fisherman, ink wash"
    );
    assert!(harness.query_by_label("Fill in “Portrait”").is_none());
}

#[test]
fn a_star_moves_an_entry_to_starred_and_the_arrows_choose() {
    let studio = studio(0);
    saved(&studio.library, PromptKind::Prompt, "Alpha", "alpha text");
    saved(&studio.library, PromptKind::Negative, "Beta", "beta negative");
    let mut harness = window(&studio, WINDOW);
    open_picker(&mut harness, "Beta");
    assert!(harness.query_by_label("Starred").is_none());
    assert!(top(&harness, "Alpha") < top(&harness, "Beta"), "by name");

    harness.get_by_label("Star Beta").click();
    wait_for_label(&mut harness, "Starred");
    wait_for_label(&mut harness, "Unstar Beta");
    assert!(top(&harness, "Starred") < top(&harness, "Beta"));
    assert!(top(&harness, "Beta") < top(&harness, "All"));
    assert!(top(&harness, "All") < top(&harness, "Alpha"));
    assert!(studio.library.prompts().unwrap()[0].starred);

    // Down from Beta (first now) to Alpha, then Enter: a prompt replaces the prompt.
    harness.key_press(egui::Key::ArrowDown);
    harness.step();
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "Alpha inserted", |app| {
        app.form_params().prompt == "alpha text"
    });
    assert_eq!(harness.state().form_params().negative_prompt, "");
}

#[test]
fn a_delete_can_be_undone() {
    let studio = studio(0);
    saved(&studio.library, PromptKind::Prompt, "Alpha", "alpha text");
    let mut harness = window(&studio, WINDOW);
    open_picker(&mut harness, "Alpha");
    harness.get_by_label("Delete Alpha").click();
    wait_for_label(&mut harness, "Deleted “Alpha”");
    assert!(harness.query_by_label("Alpha").is_none());
    assert!(studio.library.prompts().unwrap().is_empty());
    harness.get_by_label("Undo").click();
    wait_for_label(&mut harness, "Alpha");
    assert_eq!(studio.library.prompts().unwrap()[0].text, "alpha text");
}

/// A library with a starred prompt, a style with tags and a used negative.
fn filled_studio() -> Studio {
    let studio = studio(0);
    let library = &studio.library;
    let fox = saved(library, PromptKind::Prompt, "Fox", "a {subject} fox");
    library.set_prompt_starred(fox, true).unwrap();
    library
        .save_prompt(&SavedPrompt {
            kind: PromptKind::Style,
            name: "Ink".into(),
            text: "ink wash".into(),
            negative: "blurry".into(),
            tags: vec!["ink".into(), "水墨".into()],
            ..SavedPrompt::default()
        })
        .unwrap();
    let lowres = saved(library, PromptKind::Negative, "Lowres", "lowres, jpeg artefacts");
    library.mark_prompt_used(lowres).unwrap();
    studio
}

#[test]
fn an_export_imported_into_an_empty_library_round_trips() {
    let from = filled_studio();
    let exported = from.dir.path().join("mine.json");
    from.dialogs
        .save_answers
        .lock()
        .unwrap()
        .push_back(Some(exported.clone()));
    let mut harness = window(&from, WINDOW);
    open_picker(&mut harness, "Lowres");
    harness.get_by_label("Export prompts…").click();
    wait_for_label_containing(&mut harness, "Exported 3 saved prompts to");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&exported).unwrap()).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["prompts"].as_array().unwrap().len(), 3);

    let to = studio(0);
    to.dialogs
        .file_answers
        .lock()
        .unwrap()
        .push_back(Some(exported.clone()));
    let mut harness = window(&to, WINDOW);
    open_picker(&mut harness, EMPTY);
    harness.get_by_label("Import prompts…").click();
    wait_for_label(&mut harness, "Imported 3 saved prompts from mine.json");
    wait_for_label(&mut harness, "Lowres");
    let again = to.dir.path().join("again.json");
    to.library.export_prompts(&again).unwrap();
    let json_again: serde_json::Value = serde_json::from_slice(&std::fs::read(&again).unwrap()).unwrap();
    assert_eq!(json, json_again);
}

#[test]
fn a_malformed_import_reports_its_bad_entries_and_keeps_the_good_ones() {
    let studio = studio(0);
    let file = studio.dir.path().join("shared.json");
    std::fs::write(
        &file,
        r#"{"version": 1, "prompts": [
            {"kind": "prompt", "name": "Good", "text": "a fox"},
            {"kind": "poem", "name": "Verse", "text": "roses"},
            {"kind": "style", "name": "", "text": "nameless"},
            {"kind": "negative", "name": "Also good", "text": "blurry"}
        ]}"#,
    )
    .unwrap();
    let broken = studio.dir.path().join("broken.json");
    std::fs::write(&broken, "{\"version\": 1, \"prompts\": [").unwrap();
    {
        let mut answers = studio.dialogs.file_answers.lock().unwrap();
        answers.push_back(Some(file));
        answers.push_back(Some(broken));
    }
    let mut harness = window(&studio, WINDOW);
    open_picker(&mut harness, EMPTY);
    harness.get_by_label("Import prompts…").click();
    wait_for_label(
        &mut harness,
        "Imported 2 saved prompts from shared.json · 2 entries left out (listed above)",
    );
    wait_for_label_containing(&mut harness, "Entry 2: ");
    assert!(
        harness
            .get_by_label_contains("Entry 2: ")
            .value()
            .unwrap()
            .contains("poem")
    );
    wait_for_label_containing(&mut harness, "Entry 3: ");
    wait_for_label(&mut harness, "Also good");
    settle(&mut harness);
    let names: Vec<String> = studio.library.prompts().unwrap().into_iter().map(|p| p.name).collect();
    assert_eq!(names, ["Also good", "Good"]);

    // A file that is not JSON at all: nothing imported, and the picker says why.
    harness.get_by_label("Import prompts…").click();
    wait_for_label_containing(&mut harness, "not JSON");
    assert_eq!(studio.library.prompts().unwrap().len(), 2);
}

#[test]
fn without_a_file_dialog_the_export_goes_to_the_export_folder_and_says_so() {
    let mut studio = filled_studio();
    studio.dialogs = Arc::new(ScriptedDialogs {
        unavailable: true,
        ..ScriptedDialogs::default()
    });
    let folder = studio.dir.path().join("exports");
    let mut harness = window(&studio, WINDOW);
    harness.state_mut().settings_mut().export_dir = Some(folder.clone());
    open_picker(&mut harness, "Lowres");
    harness.get_by_label("Export prompts…").click();
    wait_for_label_containing(&mut harness, "No file dialog is available: exported 3 saved prompts to");
    assert!(folder.join("pictor-prompts.json").is_file());
    harness.get_by_label("Import prompts…").click();
    wait_for_label_containing(&mut harness, "no prompt file can be chosen");
}

#[test]
fn the_three_windows_draw_in_chinese_at_the_smallest_window_size() {
    let studio = filled_studio();
    let mut harness = window(&studio, egui::vec2(1024.0, 640.0));
    harness
        .state_mut()
        .set_language(pictor::settings::LanguageChoice::Chinese);
    harness.state_mut().form_mut().params.prompt = "一幅水墨山水".into();
    harness.step();
    harness.get_by_label("保存…").click();
    wait_for_label(&mut harness, "保存到提示词库");
    harness.get_by_label("风格（两者）").click();
    harness.step();
    type_into(&mut harness, "名称", "Ink");
    wait_for_label_containing(&mut harness, "已存在");
    harness.get_by_label("替换").click();
    wait_for_label_containing(&mut harness, "已替换提示词库中的");

    open_picker(&mut harness, "Fox");
    wait_for_label(&mut harness, "已加星标");
    wait_for_label(&mut harness, "最近使用");
    // Every row and the footer are on screen.
    let screen = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1024.0, 640.0));
    for label in ["Fox", "Lowres", "Ink", "导入提示词…", "导出提示词…"] {
        assert!(
            screen.contains_rect(harness.get_by_label(label).rect()),
            "{label} is cut off"
        );
    }
    harness.get_by_label("Fox").click();
    wait_for_label(&mut harness, "填写“Fox”");
    harness.get_by_label("subject").type_text("狐狸");
    harness.key_press(egui::Key::Enter);
    step_until(&mut harness, "inserted", |app| app.form_params().prompt == "a 狐狸 fox");
}
