//! Crash safety with the real binary: several `pictor generate` processes write into one
//! library at once and are killed with SIGKILL at random moments, again and again. Then
//! the library is opened (which runs recovery) and must be whole: every row has a complete
//! file, no temp or orphan file is left, every completely written file is catalogued with
//! the parameters embedded in it, and every image a process reported is there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use pictor::imaging::{DecodeLimits, decode};
use pictor::library::{Library, LibraryPaths, Query};

/// Processes writing at the same time.
const WRITERS: usize = 3;
/// SIGKILLs in total.
const KILLS: usize = 30;
/// Images each process is asked for (more than it can make before it is killed).
const COUNT: u32 = 40;

/// xorshift64*, seeded from the clock; the seed is printed so a failure can be replayed
/// with `PICTOR_CRASH_SEED`.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("PICTOR_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        println!("PICTOR_CRASH_SEED={seed}");
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Writer {
    child: Child,
    prompt: String,
}

fn spawn(dir: &Path, prompt: String) -> Writer {
    let child = support::pictor_command(dir)
        .args(support::demo_generate_args(&prompt, COUNT))
        // A little drawing time per image keeps the library at hundreds, not thousands,
        // of images however fast the machine is, so the final check stays quick.
        .env("PICTOR_DEMO_LATENCY_MS", "40")
        // Recovery reports what it repaired at info level.
        .env("PICTOR_LOG", "pictor=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Writer { child, prompt }
}

/// Collects what a finished (or killed) writer printed: `(id, prompt)` of each image it
/// reported as stored, and its stderr.
fn collect(mut writer: Writer, reported: &mut HashMap<String, String>) -> String {
    writer.child.wait().unwrap();
    let mut stdout = Vec::new();
    writer.child.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    let mut stderr = String::new();
    writer.child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    for line in support::complete_json_lines(&stdout) {
        if let Some(id) = line["id"].as_str() {
            assert_eq!(line["prompt"], writer.prompt.as_str());
            reported.insert(id.to_owned(), writer.prompt.clone());
        }
    }
    stderr
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn is_temp(path: &Path) -> bool {
    let name = name(path);
    name.starts_with('.') && name.ends_with(".tmp")
}

#[test]
fn sigkilled_writers_never_lose_or_corrupt_an_image() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut rng = Rng::new();
    let mut reported: HashMap<String, String> = HashMap::new();
    let mut spawned = 0;
    let mut next_prompt = || {
        spawned += 1;
        format!("crash writer {spawned} 山水")
    };
    let mut verified = HashSet::new();
    let mut writers: Vec<Writer> = (0..WRITERS).map(|_| spawn(dir.path(), next_prompt())).collect();
    let mut kills = 0;
    let mut finished_on_their_own = 0;
    let mut stderr_lines = Vec::new();
    while kills < KILLS {
        std::thread::sleep(Duration::from_millis(30 + rng.below(700)));
        let index = rng.below(WRITERS as u64) as usize;
        let fresh = spawn(dir.path(), next_prompt());
        let mut victim = std::mem::replace(&mut writers[index], fresh);
        if victim.child.try_wait().unwrap().is_none() {
            victim.child.kill().unwrap(); // SIGKILL
            kills += 1;
        } else {
            finished_on_their_own += 1;
        }
        stderr_lines.push(collect(victim, &mut reported));
        if kills % 10 == 0 && kills > 0 {
            // Open (and recover) while the others keep writing: must never see an insert in
            // progress as debris, and every row must have its whole file.
            let library = pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap();
            check_rows(&library, &mut verified);
        }
    }
    for mut writer in writers {
        if writer.child.try_wait().unwrap().is_none() {
            writer.child.kill().unwrap();
            kills += 1;
        }
        stderr_lines.push(collect(writer, &mut reported));
    }

    // What is on disk before recovery: complete image files and temp debris.
    let before = support::files_below(&dir.path().join("images"));
    let temp_before = before.iter().filter(|p| is_temp(p)).count();
    let complete: HashSet<String> = before
        .iter()
        .filter(|p| !is_temp(p))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();

    let library = pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap();
    let report = *library.recovery_report();
    let rows = check_rows(&library, &mut verified);
    let ids: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();

    // Every complete file is catalogued, with the prompt embedded in it.
    for id in &complete {
        assert!(ids.contains(id.as_str()), "complete file {id} has no row");
    }
    for record in &rows {
        assert!(
            record.meta.prompt.starts_with("crash writer "),
            "row {} lost its parameters: {:?}",
            record.id,
            record.meta.prompt
        );
    }
    // Every image a process reported as stored is there, with its own prompt.
    for (id, prompt) in &reported {
        let record = library
            .get(id)
            .unwrap()
            .unwrap_or_else(|| panic!("reported image {id} is missing"));
        assert_eq!(&record.meta.prompt, prompt);
    }
    // No temp file and no orphan is left anywhere.
    for path in support::files_below(dir.path()) {
        assert!(!is_temp(&path), "temp file left: {}", path.display());
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.starts_with(dir.path().join("images")) || path.starts_with(dir.path().join("thumbs")) {
            assert!(ids.contains(stem.as_str()), "orphan file: {}", path.display());
        }
    }
    let all_stderr = stderr_lines.concat();
    let repaired_by_writers = |field: &str| -> usize {
        all_stderr
            .match_indices(&format!("{field}: "))
            .map(|(at, found)| {
                let digits: String = all_stderr[at + found.len()..]
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse::<usize>().unwrap()
            })
            .sum()
    };
    let temp_by_writers = repaired_by_writers("temp_files_removed");
    let orphans_by_writers = repaired_by_writers("orphans_restored");
    assert!(!all_stderr.contains("panicked"), "a writer panicked: {all_stderr}");
    assert!(
        rows.len() > KILLS / 2,
        "too little was written to prove anything: {} rows",
        rows.len()
    );

    println!(
        "crash safety: {kills} SIGKILLs survived ({finished_on_their_own} writers finished first), \
         {} processes, {} rows, {} reported by the writers, {} complete files before recovery, \
         {temp_before} temp files before the final recovery, final recovery: {report:?}; \
         recoveries run by the restarted writers removed {temp_by_writers} temp files and \
         restored {orphans_by_writers} orphans; {:.1} s",
        spawned,
        rows.len(),
        reported.len(),
        complete.len(),
        started.elapsed().as_secs_f32()
    );
}

/// Every row's file exists and decodes completely; returns the rows. A stored file never
/// changes, so files already decoded by an earlier check (`verified`) are only checked
/// for presence.
fn check_rows(library: &Library, verified: &mut HashSet<String>) -> Vec<pictor::library::ImageRecord> {
    let rows = library.query(&Query::default()).unwrap();
    // Writers may still be adding rows: the count taken after the listing is at least as large.
    assert!(rows.len() <= library.count(&Query::default()).unwrap());
    for record in &rows {
        assert!(!record.missing, "row {} has no file", record.id);
        assert!(library.image_path(record).is_file(), "row {} has no file", record.id);
        if !verified.insert(record.id.clone()) {
            continue;
        }
        let bytes = std::fs::read(library.image_path(record)).unwrap();
        let image = decode(&bytes, &DecodeLimits::default())
            .unwrap_or_else(|err| panic!("row {}: the file does not decode: {err:?}", record.id));
        assert_eq!((image.width(), image.height()), (record.width, record.height));
    }
    rows
}
