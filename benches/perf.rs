//! Criterion benchmarks for the performance budgets, each against its reference in the
//! same run: ingest against the plain way with the same outputs (one thread, the `image`
//! crate's resize; see `support::plain_ingest`), a UI frame
//! at 10,000 images against one at 100, opening and searching a 10,000-image library.
//!
//! `cargo bench --bench perf`. The budgets themselves are checked by
//! `cargo run --release --example perf_report`.

mod support;

use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use pictor::library::{LibraryPaths, Query};
use support::{Rng, Stock, or_exit};

fn ingest(c: &mut Criterion) {
    let png = support::png_bytes(&support::photo_like(1328, 1328, 42));
    let dir = or_exit(tempfile::tempdir(), "make a temp dir");
    let library = or_exit(
        pictor::generate::open_library(LibraryPaths::in_dir(dir.path())),
        "open the library",
    );
    let meta = support::sample_meta(0, &mut Rng::new(1));
    let mut group = c.benchmark_group("ingest_1328x1328_png");
    group.sample_size(20).measurement_time(Duration::from_secs(8));
    group.bench_function("pictor_ingest_and_insert", |b| {
        b.iter(|| or_exit(pictor::generate::store_blocking(&library, &png, &meta), "ingest"));
    });
    let plain_dir = or_exit(tempfile::tempdir(), "make a temp dir");
    let plain_library = or_exit(
        pictor::generate::open_library(LibraryPaths::in_dir(plain_dir.path())),
        "open the plain library",
    );
    group.bench_function("plain_same_outputs_one_thread", |b| {
        b.iter(|| support::plain_ingest(&plain_library, &png, &meta));
    });
    group.finish();
}

fn library(c: &mut Criterion) {
    let stock = Stock::new(8);
    let dir = or_exit(tempfile::tempdir(), "make a temp dir");
    let big = support::populated_library(dir.path(), 10_000, &stock);
    let mut group = c.benchmark_group("library_10000");
    group.sample_size(20);
    group.bench_function("open", |b| {
        b.iter_batched(
            || (),
            |()| or_exit(pictor::generate::open_library(LibraryPaths::in_dir(dir.path())), "open"),
            BatchSize::PerIteration,
        );
    });
    let search = |text: &str| Query {
        search: text.to_owned(),
        ..Query::default()
    };
    group.bench_function("search_lighthouse", |b| {
        let query = search("lighthouse");
        b.iter(|| or_exit(big.query(&query), "search"));
    });
    group.bench_function("search_two_chars_like", |b| {
        let query = search("山水");
        b.iter(|| or_exit(big.query(&query), "search"));
    });
    group.finish();
}

fn frames(c: &mut Criterion) {
    let stock = Stock::new(8);
    let dir = or_exit(tempfile::tempdir(), "make a temp dir");
    let runtime = support::runtime();
    let mut group = c.benchmark_group("ui_frame_gallery_1400x900");
    for count in [100, 10_000] {
        let library = support::populated_library(&dir.path().join(count.to_string()), count, &stock);
        let mut harness = support::app_harness(&runtime, Arc::clone(&library));
        harness.hover_at(support::gallery_point());
        support::settle_gallery(&mut harness, count);
        group.bench_function(format!("{count}_images"), |b| {
            b.iter_custom(|iterations| (0..iterations).map(|_| support::full_frame(&mut harness)).sum());
        });
    }
    group.finish();
}

criterion_group!(benches, ingest, library, frames);
criterion_main!(benches);
