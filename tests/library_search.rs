//! Full-text search: Chinese short and long terms, English prefixes, AND, hostile input.
#![allow(clippy::unwrap_used)]

mod library_support;

use library_support::*;
use pictor::library::{Library, Query};
use pictor::metadata::ImageMeta;

/// A library with a few prompts; returns it with the ids in insertion order.
fn sample_library() -> (tempfile::TempDir, Library, Vec<String>) {
    let (dir, library) = open_library();
    let prompts = [
        "一幅传统的中国山水画",
        "Snowy Mountains above a quiet lake",
        "A mountain road through the desert",
        "100% pure_white \"quoted\" cat's toy * star NEAR(dog)",
        "城市夜景，霓虹灯",
    ];
    let ids = prompts
        .iter()
        .zip(0..)
        .map(|(prompt, offset)| insert_prompt(&library, prompt, offset).id)
        .collect();
    (dir, library, ids)
}

/// The indexes (into `ids`) of the live images matching `search`, in insertion order.
fn found(library: &Library, ids: &[String], search: &str) -> Vec<usize> {
    let query = Query {
        search: search.into(),
        ..Query::default()
    };
    let records = library.query(&query).unwrap();
    assert_eq!(
        library.count(&query).unwrap(),
        records.len(),
        "count agrees for {search:?}"
    );
    let mut indexes: Vec<usize> = records
        .iter()
        .map(|r| ids.iter().position(|id| *id == r.id).unwrap())
        .collect();
    indexes.sort_unstable();
    indexes
}

#[test]
fn chinese_two_character_word_is_found() {
    let (_dir, library, ids) = sample_library();
    assert_eq!(found(&library, &ids, "山水"), vec![0]);
    assert_eq!(found(&library, &ids, "夜景"), vec![4]);
    assert_eq!(found(&library, &ids, "山"), vec![0]);
}

#[test]
fn chinese_longer_terms_are_found() {
    let (_dir, library, ids) = sample_library();
    assert_eq!(found(&library, &ids, "中国山水画"), vec![0]);
    assert_eq!(found(&library, &ids, "传统的"), vec![0]);
    assert!(found(&library, &ids, "山水城市").is_empty());
}

#[test]
fn english_prefixes_and_case_are_ignored() {
    let (_dir, library, ids) = sample_library();
    assert_eq!(found(&library, &ids, "moun"), vec![1, 2]);
    assert_eq!(found(&library, &ids, "MOUNTAINS"), vec![1]);
    assert_eq!(found(&library, &ids, "snowy"), vec![1]);
    assert_eq!(found(&library, &ids, "La"), vec![1]);
}

#[test]
fn several_words_must_all_match() {
    let (_dir, library, ids) = sample_library();
    assert_eq!(found(&library, &ids, "mountain lake"), vec![1]);
    assert_eq!(found(&library, &ids, "mountain   desert"), vec![2]);
    assert_eq!(found(&library, &ids, "山水 传统"), vec![0]);
    assert_eq!(found(&library, &ids, "moun 山水").len(), 0);
    assert_eq!(
        found(&library, &ids, "a mountain"),
        vec![1, 2],
        "short and long terms mix"
    );
}

#[test]
fn hostile_input_is_searched_literally() {
    let (_dir, library, ids) = sample_library();
    assert_eq!(found(&library, &ids, "\""), vec![3]);
    assert_eq!(found(&library, &ids, "\"quoted\""), vec![3]);
    assert_eq!(found(&library, &ids, "*"), vec![3]);
    assert_eq!(found(&library, &ids, "%"), vec![3]);
    assert_eq!(found(&library, &ids, "0%"), vec![3]);
    assert_eq!(found(&library, &ids, "e_"), vec![3], "_ is not a wildcard");
    assert_eq!(found(&library, &ids, "'"), vec![3]);
    assert_eq!(found(&library, &ids, "cat's"), vec![3]);
    assert_eq!(found(&library, &ids, "NEAR("), vec![3]);
    assert_eq!(found(&library, &ids, "NEAR(dog)"), vec![3]);
    for nonsense in [
        "AND",
        "OR NOT",
        "a\"b",
        "^moun",
        "prompt:cat",
        "(((",
        "\\",
        "''",
        "*moun*",
        "-x",
    ] {
        assert!(found(&library, &ids, nonsense).is_empty(), "{nonsense:?}");
    }
    // SQLite would end a pattern at a NUL; it separates terms like a space instead.
    assert_eq!(found(&library, &ids, "\u{0}").len(), ids.len());
    assert_eq!(found(&library, &ids, "moun\u{0}lake"), vec![1]);
}

#[test]
fn negative_and_revised_prompts_are_searched() {
    let (_dir, library) = open_library();
    let with_negative = ImageMeta {
        negative_prompt: "blurry, 低质量".into(),
        ..meta("portrait", "qwen-image-plus", MAY_2024_MS)
    };
    let with_revised = ImageMeta {
        revised_prompt: Some("A detailed lighthouse at dusk".into()),
        ..meta("灯塔", "qwen-image-plus", MAY_2024_MS + 1)
    };
    let negative = insert_meta(&library, &with_negative).id;
    let revised = insert_meta(&library, &with_revised).id;
    let ids = vec![negative, revised];
    assert_eq!(found(&library, &ids, "blurry"), vec![0]);
    assert_eq!(found(&library, &ids, "质量"), vec![0]);
    assert_eq!(found(&library, &ids, "lighthouse"), vec![1]);
    assert_eq!(found(&library, &ids, "灯塔 dusk"), vec![1]);
}

#[test]
fn search_combines_with_trash_and_favorites() {
    let (_dir, library, ids) = sample_library();
    library.trash(std::slice::from_ref(&ids[1])).unwrap();
    library.set_favorite(std::slice::from_ref(&ids[2]), true).unwrap();
    assert_eq!(found(&library, &ids, "moun"), vec![2]);

    let in_trash = Query {
        search: "moun".into(),
        trash: true,
        ..Query::default()
    };
    let trashed: Vec<String> = library.query(&in_trash).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(trashed, vec![ids[1].clone()]);

    let favorites = Query {
        search: "road".into(),
        favorites_only: true,
        ..Query::default()
    };
    assert_eq!(library.count(&favorites).unwrap(), 1);
    let favorites = Query {
        search: "山水".into(),
        favorites_only: true,
        ..Query::default()
    };
    assert_eq!(library.count(&favorites).unwrap(), 0);
}

#[test]
fn emptied_trash_leaves_the_search_index() {
    let (_dir, library, ids) = sample_library();
    library.trash(std::slice::from_ref(&ids[0])).unwrap();
    library.empty_trash().unwrap();
    assert!(found(&library, &ids, "中国山水画").is_empty());
    assert_eq!(
        library
            .count(&Query {
                search: "中国山水画".into(),
                trash: true,
                ..Query::default()
            })
            .unwrap(),
        0
    );
    // The index still works for what remains.
    assert_eq!(found(&library, &ids, "夜景"), vec![4]);
}
