//! Crash safety with the real binary: several processes write into one library at once
//! and are killed with SIGKILL at random moments, again and again. The workload mixes
//! `pictor generate` (the demo), `pictor import` of good files and of one that is corrupt
//! after a valid header, and `pictor check` rebuilding thumbnails that were deleted. Then
//! the library is opened (which runs recovery) and must be whole: every row has a complete
//! file that decodes, no temp or orphan file is left, every completely written file is
//! catalogued with the parameters embedded in it, every image a process reported is there,
//! and the corrupt image never has a row.
//!
//! The test proves it hit the windows it is about: over all the recoveries, temp files were
//! removed and orphans restored (it keeps killing, up to a bound, until both happened).

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
/// SIGKILLs at least.
const KILLS: usize = 30;
/// SIGKILLs at most, while a window has not been hit yet.
const MAX_KILLS: usize = 400;
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

/// What a process does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Work {
    /// `pictor generate` with the demo.
    Generate,
    /// `pictor import` of good files and the corrupt one.
    Import,
    /// `pictor check`, after some thumbnails were deleted.
    Check,
}

struct Writer {
    child: Child,
    prompt: String,
    work: Work,
}

/// The prompt embedded in every good file the import writers import.
const IMPORT_PROMPT: &str = "crash writer import 山水";
/// The prompt embedded in the file that is corrupt after a valid header.
const CORRUPT_PROMPT: &str = "crash corrupt";

/// Files for the import writers: `good-N.png` (1024 × 1024, parameters embedded) and
/// `corrupt.png` (a valid header and metadata, its pixel data cut in half).
fn import_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let embed = |bytes: &[u8], prompt: &str| {
        let meta = pictor::metadata::ImageMeta {
            prompt: prompt.to_owned(),
            model: "import".to_owned(),
            created_ms: 1_760_000_000_000,
            ..Default::default()
        };
        pictor::imaging::embed_metadata(bytes, &meta).unwrap()
    };
    std::fs::create_dir_all(dir).unwrap();
    let mut files = Vec::new();
    for n in 0..3 {
        let path = dir.join(format!("good-{n}.png"));
        std::fs::write(&path, embed(&support::sample_png(1024, 1024, n + 20), IMPORT_PROMPT)).unwrap();
        files.push(path);
    }
    let whole = embed(&support::sample_png(1024, 1024, 99), CORRUPT_PROMPT);
    let idat = whole.windows(4).position(|w| w == b"IDAT").unwrap();
    let cut = idat + (whole.len() - idat) / 2;
    let corrupt = dir.join("corrupt.png");
    std::fs::write(&corrupt, &whole[..cut]).unwrap();
    files.insert(1, corrupt);
    // Twice over: an import runs long enough to be killed in the middle.
    files.extend(files.clone());
    files
}

fn spawn(dir: &Path, prompt: String, work: Work, imports: &[std::path::PathBuf]) -> Writer {
    let mut command = support::pictor_command(dir);
    match work {
        Work::Generate => command.args(support::demo_generate_args(&prompt, COUNT)),
        Work::Import => command.arg("import").arg("--json").args(imports),
        Work::Check => command.args(["check", "--json"]),
    };
    let child = command
        // A little drawing time per image keeps the library at hundreds, not thousands,
        // of images however fast the machine is, so the final check stays quick.
        .env("PICTOR_DEMO_LATENCY_MS", "40")
        // Recovery reports what it repaired at info level.
        .env("PICTOR_LOG", "pictor=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let prompt = if work == Work::Import {
        IMPORT_PROMPT.to_owned()
    } else {
        prompt
    };
    Writer { child, prompt, work }
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
            assert_eq!(line["prompt"], writer.prompt.as_str(), "{:?}", writer.work);
            reported.insert(id.to_owned(), writer.prompt.clone());
        }
    }
    stderr
}

/// The sum of every `field: N` in what the processes' recoveries logged.
fn repaired(logs: &str, field: &str) -> usize {
    logs.match_indices(&format!("{field}: "))
        .map(|(at, found)| {
            let digits: String = logs[at + found.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse::<usize>().unwrap()
        })
        .sum()
}

/// Deletes every third thumbnail, so a `pictor check` has some to rebuild.
fn delete_some_thumbnails(dir: &Path, rng: &mut Rng) {
    for path in support::files_below(&dir.join("thumbs")) {
        if !is_temp(&path) && rng.below(3) == 0 {
            let _ = std::fs::remove_file(path);
        }
    }
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
    let import_dir = tempfile::tempdir().unwrap();
    let imports = import_files(import_dir.path());
    let started = Instant::now();
    let mut rng = Rng::new();
    let mut reported: HashMap<String, String> = HashMap::new();
    let mut spawned = 0;
    let mut next = |rng: &mut Rng| {
        spawned += 1;
        let work = match rng.below(10) {
            0..=5 => Work::Generate,
            6..=7 => Work::Import,
            _ => Work::Check,
        };
        if work == Work::Check {
            delete_some_thumbnails(dir.path(), rng);
        }
        spawn(dir.path(), format!("crash writer {spawned} 山水"), work, &imports)
    };
    let mut verified = HashSet::new();
    let mut writers: Vec<Writer> = (0..WRITERS).map(|_| next(&mut rng)).collect();
    let mut kills = 0;
    let mut kills_by_work: HashMap<&'static str, usize> = HashMap::new();
    let mut finished_on_their_own = 0;
    let mut logs = String::new();
    // What the recoveries this test runs itself repaired (they log nowhere).
    let mut own_temp = 0;
    let mut own_orphans = 0;
    let windows_hit = |logs: &str, own_temp: usize, own_orphans: usize| {
        repaired(logs, "temp_files_removed") + own_temp > 0 && repaired(logs, "orphans_restored") + own_orphans > 0
    };
    while kills < KILLS || (kills < MAX_KILLS && !windows_hit(&logs, own_temp, own_orphans)) {
        std::thread::sleep(Duration::from_millis(30 + rng.below(700)));
        let index = rng.below(WRITERS as u64) as usize;
        let fresh = next(&mut rng);
        let mut victim = std::mem::replace(&mut writers[index], fresh);
        if victim.child.try_wait().unwrap().is_none() {
            victim.child.kill().unwrap(); // SIGKILL
            kills += 1;
            *kills_by_work.entry(work_name(victim.work)).or_default() += 1;
        } else {
            finished_on_their_own += 1;
        }
        logs.push_str(&collect(victim, &mut reported));
        if kills % 10 == 0 && kills > 0 {
            // Open (and recover) while the others keep writing: must never see an insert in
            // progress as debris, and every row must have its whole file.
            let library = pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap();
            own_temp += library.recovery_report().unwrap().temp_files_removed;
            own_orphans += library.recovery_report().unwrap().orphans_restored;
            check_rows(&library, &mut verified);
        }
    }
    for mut writer in writers {
        if writer.child.try_wait().unwrap().is_none() {
            writer.child.kill().unwrap();
            kills += 1;
        }
        logs.push_str(&collect(writer, &mut reported));
    }

    // What is on disk before recovery: complete image files and temp debris.
    let before = support::files_below(&dir.path().join("images"));
    let temp_before = before.iter().filter(|p| is_temp(p)).count()
        + support::files_below(&dir.path().join("thumbs"))
            .iter()
            .filter(|p| is_temp(p))
            .count();

    let library = pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap();
    let report = library.recovery_report().unwrap();
    own_temp += report.temp_files_removed;
    own_orphans += report.orphans_restored;
    let rows = check_rows(&library, &mut verified);
    let ids: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();

    // Every complete image file is catalogued, with the prompt embedded in it.
    for path in support::files_below(&dir.path().join("images")) {
        let id = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(ids.contains(id.as_str()), "complete file {} has no row", path.display());
    }
    for record in &rows {
        assert!(
            record.meta.prompt.starts_with("crash writer "),
            "row {} lost its parameters (or is the corrupt image): {:?}",
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
    // Only the corrupt image is ever moved aside as unreadable: never a good one.
    for path in support::files_below(&dir.path().join("unreadable")) {
        let bytes = std::fs::read(&path).unwrap();
        let prompt = pictor::imaging::read_metadata(&bytes)
            .map(|m| m.prompt)
            .unwrap_or_default();
        assert_eq!(
            prompt,
            CORRUPT_PROMPT,
            "a readable image was moved aside: {}",
            path.display()
        );
    }
    assert!(!logs.contains("panicked"), "a writer panicked: {logs}");
    let temp_removed = repaired(&logs, "temp_files_removed") + own_temp;
    let orphans_restored = repaired(&logs, "orphans_restored") + own_orphans;
    let unreadable_moved = repaired(&logs, "unreadable_moved") + report.unreadable_moved;
    let imported = reported.values().filter(|p| p.as_str() == IMPORT_PROMPT).count();
    assert!(
        rows.len() > KILLS / 2,
        "too little was written to prove anything: {} rows",
        rows.len()
    );
    assert!(
        imported > 0,
        "no import finished: the corrupt image was never next to good ones"
    );
    drop(library);

    // The thumbnail rebuild path once more, to its end: every row gets its thumbnail back.
    delete_some_thumbnails(dir.path(), &mut rng);
    let check = support::pictor_command(dir.path())
        .args(["check", "--json"])
        .output()
        .unwrap();
    let summary = support::complete_json_lines(&check.stdout);
    let rebuilt_at_end = summary
        .last()
        .and_then(|line| line["thumbnails_rebuilt"].as_u64())
        .unwrap_or(0);
    assert!(rebuilt_at_end > 0, "the final check rebuilt no thumbnail: {summary:?}");
    let library = pictor::generate::open_library(LibraryPaths::in_dir(dir.path())).unwrap();
    for record in library.query(&Query::default()).unwrap() {
        assert!(
            library.thumbnail_path(&record.id).is_file(),
            "{} has no thumbnail",
            record.id
        );
    }
    println!(
        "crash safety: {kills} SIGKILLs survived ({kills_by_work:?}; {finished_on_their_own} processes \
         finished first), {spawned} processes, {} rows ({imported} imported), {} reported by the \
         processes, {temp_before} temp files before the final recovery, final recovery: {report:?}; \
         over all recoveries {temp_removed} temp files removed, {orphans_restored} orphans restored, \
         {unreadable_moved} unreadable orphans moved aside; the final check rebuilt {rebuilt_at_end} thumbnails; {:.1} s",
        rows.len(),
        reported.len(),
        started.elapsed().as_secs_f32()
    );
    assert!(
        temp_removed > 0,
        "no recovery removed a temp file in {kills} kills: the test never hit the write window"
    );
    assert!(
        orphans_restored > 0,
        "no recovery restored an orphan in {kills} kills: the test never hit the window between file and row"
    );
}

fn work_name(work: Work) -> &'static str {
    match work {
        Work::Generate => "generate",
        Work::Import => "import",
        Work::Check => "check",
    }
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
