//! Ten thousand rows: counts of filters and searches stay right at gallery scale.

use super::{Library, LibraryPaths, Query};
use crate::metadata::ImageMeta;

const ROWS: usize = 10_000;
const DAY_MS: i64 = 86_400_000;
const START_MS: i64 = 1_700_000_000_000;

/// Row `i`: every 10th mentions 山水, every 7th is wan, one per day.
fn meta(i: usize) -> ImageMeta {
    let index = i64::try_from(i).unwrap();
    let prompt = if i.is_multiple_of(10) {
        format!("一幅传统的中国山水画 number {i}")
    } else {
        format!("A cat on a sofa, picture {i}")
    };
    ImageMeta {
        prompt,
        model: if i.is_multiple_of(7) {
            "wan2.2-t2i-flash"
        } else {
            "qwen-image-plus"
        }
        .into(),
        created_ms: START_MS + index * (DAY_MS / 100),
        ..ImageMeta::default()
    }
}

#[test]
fn counts_are_right_with_ten_thousand_rows() {
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(LibraryPaths::in_dir(dir.path())).unwrap();
    let metas: Vec<ImageMeta> = (0..ROWS).map(meta).collect();
    let ids = library.insert_rows_for_test(&metas).unwrap();
    assert_eq!(ids.len(), ROWS);

    let all = Query::default();
    assert_eq!(library.count(&all).unwrap(), ROWS);
    let page = library
        .query(&Query {
            limit: Some(100),
            ..all.clone()
        })
        .unwrap();
    assert_eq!(page.len(), 100);
    assert_eq!(page.first().unwrap().meta.created_ms, metas.last().unwrap().created_ms);
    assert!(page.windows(2).all(|w| w[0].meta.created_ms >= w[1].meta.created_ms));

    let search = |text: &str| Query {
        search: text.into(),
        ..Query::default()
    };
    assert_eq!(library.count(&search("山水")).unwrap(), ROWS / 10);
    assert_eq!(library.count(&search("中国山水画")).unwrap(), ROWS / 10);
    assert_eq!(library.count(&search("sofa")).unwrap(), ROWS - ROWS / 10);
    assert_eq!(library.count(&search("picture 9999")).unwrap(), 1);

    let wan = Query {
        model: Some("wan2.2-t2i-flash".into()),
        ..Query::default()
    };
    assert_eq!(library.count(&wan).unwrap(), ROWS.div_ceil(7));
    let wan_landscapes = Query {
        search: "山水".into(),
        ..wan
    };
    // Multiples of 70 below 10 000.
    assert_eq!(library.count(&wan_landscapes).unwrap(), ROWS.div_ceil(70));

    let first_day = Query {
        until_ms: Some(START_MS + DAY_MS),
        ..Query::default()
    };
    assert_eq!(library.count(&first_day).unwrap(), 100);

    let trashed: Vec<String> = ids.iter().take(500).cloned().collect();
    assert_eq!(library.trash(&trashed).unwrap(), 500);
    assert_eq!(library.count(&all).unwrap(), ROWS - 500);
    assert_eq!(
        library
            .count(&Query {
                trash: true,
                ..Query::default()
            })
            .unwrap(),
        500
    );
    assert_eq!(library.models().unwrap(), vec!["qwen-image-plus", "wan2.2-t2i-flash"]);
}
