//! The command line: the same operations as the window, on the same library.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::api::client::{ApiClient, ClientConfig, ClientEvent};
use crate::api::provider::{Endpoint, Provider};
use crate::api::request::{DEFAULT_MODEL, GenerationParams, Size, default_size, spec_for};
use crate::api::secret::ApiKey;
use crate::api::task::TaskStatus;
use crate::connection::{Connection, Overrides, start_demo_server};
use crate::error::{Error, ErrorKind, Result};
use crate::generate::Generator;
use crate::library::{Durability, ImageRecord, Insertion, Library, LibraryPaths, Order, Query, write_atomically};
use crate::secrets::Secrets;
use crate::settings::{ExportFormat, Settings};

mod boards;
mod completions;
mod cost;
mod manpages;

pub use boards::BoardAction;

/// Pictor: create images with Qwen-Image / Wan models and keep every one.
#[derive(Debug, Parser)]
#[command(name = "pictor", version, about)]
pub struct Cli {
    /// Provider and base URL (also used by the window).
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Images to open in the window: imported (or found, when already in the library),
    /// the first shown in the viewer. A window already open for this library takes them.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// A subcommand; without one, the window opens.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where requests go, for this run only (never saved as a preference).
#[derive(Debug, Clone, Default, Args)]
pub struct ConnectionArgs {
    /// apple-router (default), dashscope, dashscope-intl, openai-compatible or demo.
    #[arg(long, global = true, env = "PICTOR_PROVIDER")]
    pub provider: Option<Provider>,
    /// Replaces scheme, host and port of the provider's URL (keeps its path).
    #[arg(long, global = true, env = "PICTOR_BASE_URL")]
    pub base_url: Option<String>,
    /// Allow a plain-http base URL to a non-local host (the key travels unencrypted).
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,
}

impl ConnectionArgs {
    /// The overrides these arguments make for this run.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            provider: self.provider,
            base_url: self.base_url.clone(),
            allow_insecure_http: self.allow_insecure_http,
        }
    }
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate images and store them in the library.
    Generate(GenerateArgs),
    /// List images in the library.
    List(ListArgs),
    /// Add PNG, JPEG or WebP files, or whole folders, to the library (with the prompts and
    /// seeds other tools wrote; an image already in the library is skipped).
    Import(ImportArgs),
    /// Write copies of images to a folder.
    Export(ExportArgs),
    /// Give images 1–5 stars (0 clears the rating).
    Rate(RateArgs),
    /// What was spent today, this month, per model and per board (at the price list's
    /// prices; the demo's simulated spend is shown only with --provider demo).
    Cost {
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Boards: named collections of images (an image can be on several).
    Board {
        /// list, add, remove, rename or delete.
        #[command(subcommand)]
        action: BoardAction,
    },
    /// Move images to the trash.
    Delete(IdsArgs),
    /// Bring images back from the trash.
    Restore(IdsArgs),
    /// Download images whose earlier download failed (links live 24 hours), and collect
    /// DashScope tasks left running by an earlier run (kept 24 hours).
    Retry,
    /// Check the library: repair what a crash left, rebuild missing thumbnails, report.
    Check(CheckArgs),
    /// List the models Pictor knows and what each takes.
    Models(ModelsArgs),
    /// Manage the API key in the OS keyring.
    Key {
        /// set, status or clear.
        #[command(subcommand)]
        action: KeyAction,
    },
    /// Print a shell's completion script (the Debian package installs bash's, zsh's and fish's).
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// Write the man pages (pictor.1 and one per subcommand) into a folder; for packaging.
    #[command(hide = true)]
    Manpages {
        /// The folder (made if missing).
        dir: PathBuf,
    },
}

/// `pictor generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The prompt; `{red|blue}` groups make a prompt matrix (every combination, as one
    /// group), `{{` and `}}` are literal braces.
    pub prompt: String,
    /// What to avoid.
    #[arg(long, default_value = "")]
    pub negative: String,
    /// Model name (any name is accepted).
    #[arg(long, default_value = DEFAULT_MODEL)]
    pub model: String,
    /// Size as W*H, WxH or W×H.
    #[arg(long)]
    pub size: Option<String>,
    /// Seed (0..=2147483647); with --count N the images use S, S+1, … (every prompt of a
    /// matrix the same seeds)
    #[arg(long)]
    pub seed: Option<u32>,
    /// How many images: one request asking for all of them where the model makes several
    /// per request (split only above its maximum), else one request each.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub count: u32,
    /// Do not let the service rewrite the prompt.
    #[arg(long)]
    pub no_prompt_extend: bool,
    /// Ask for the service's watermark.
    #[arg(long)]
    pub watermark: bool,
    /// Request timeout in seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
    /// Also copy every image into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A reference image to edit or draw from: a library id (or unique prefix) or an
    /// image file (imported into the library first). Repeat for image 1, image 2, …
    #[arg(long = "ref", value_name = "REF")]
    pub references: Vec<String>,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// `pictor list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Full-text search over the prompts.
    #[arg(long)]
    pub search: Option<String>,
    /// At most this many rows.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Only favourites.
    #[arg(long)]
    pub favorites: bool,
    /// The trash instead of the library.
    #[arg(long)]
    pub trash: bool,
    /// Only images with at least this many stars (1–5).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub min_rating: Option<u8>,
    /// Most stars first (then newest) instead of newest first.
    #[arg(long)]
    pub by_rating: bool,
    /// Only the images on this board.
    #[arg(long)]
    pub board: Option<String>,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// `pictor rate`.
#[derive(Debug, Args)]
pub struct RateArgs {
    /// Stars: 1–5, or 0 to clear the rating.
    #[arg(value_parser = clap::value_parser!(u8).range(0..=5))]
    pub stars: u8,
    /// Image ids (or unique prefixes).
    #[arg(required = true)]
    pub ids: Vec<String>,
}

/// `pictor import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or folders (searched recursively for PNG, JPEG and WebP files).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// `pictor models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// One JSON object per model.
    #[arg(long)]
    pub json: bool,
}

/// `pictor check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// One JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `pictor export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Image ids (or unique prefixes).
    #[arg(required_unless_present = "board")]
    pub ids: Vec<String>,
    /// Every live image on this board (with any ids given).
    #[arg(long)]
    pub board: Option<String>,
    /// Destination folder.
    #[arg(long)]
    pub to: PathBuf,
    /// png, jpeg or webp; each carries the parameters.
    #[arg(long, default_value = "png")]
    pub format: FormatArg,
    /// JPEG and WebP quality 1–100.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub quality: u8,
    /// One JSON object per line.
    #[arg(long)]
    pub json: bool,
}

/// Export formats on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    /// PNG with the parameters embedded (`iTXt`).
    Png,
    /// JPEG at `--quality`, the parameters in EXIF.
    Jpeg,
    /// Lossy WebP at `--quality`, the parameters in EXIF.
    Webp,
}

impl From<FormatArg> for ExportFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Png => Self::Png,
            FormatArg::Jpeg => Self::Jpeg,
            FormatArg::Webp => Self::WebP,
        }
    }
}

/// Image ids.
#[derive(Debug, Args)]
pub struct IdsArgs {
    /// Image ids (or unique prefixes).
    #[arg(required = true)]
    pub ids: Vec<String>,
}

/// `pictor key …`.
#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Read a key from standard input and store it in the OS keyring.
    Set,
    /// Say where the key comes from.
    Status,
    /// Remove the key from the OS keyring.
    Clear,
}

/// One image as printed by `--json`.
#[derive(Debug, Serialize)]
pub struct ImageJson {
    id: String,
    path: PathBuf,
    prompt: String,
    negative_prompt: String,
    revised_prompt: Option<String>,
    model: String,
    size: String,
    /// The seed (for an imported image, as its tool wrote it: up to 2⁶⁴ − 1).
    seed: Option<u64>,
    width: u32,
    height: u32,
    created: String,
    provider: String,
    favorite: bool,
    /// Stars given, 1–5; 0 = not rated.
    rating: u8,
    parents: Vec<String>,
    /// For an imported image: the tool whose metadata it carried (`null`: none), its
    /// original file name and modification time.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<SourceJson>,
}

/// Where an imported image came from, in JSON.
#[derive(Debug, Serialize)]
pub struct SourceJson {
    tool: Option<crate::metadata::SourceTool>,
    file_name: String,
    file_modified: Option<String>,
    details: Vec<(String, String)>,
    notes: Vec<String>,
}

impl ImageJson {
    /// The JSON view of a library record.
    pub fn new(library: &Library, record: &ImageRecord) -> Self {
        let meta = &record.meta;
        Self {
            id: record.id.clone(),
            path: library.image_path(record),
            prompt: meta.prompt.clone(),
            negative_prompt: meta.negative_prompt.clone(),
            revised_prompt: meta.revised_prompt.clone(),
            model: meta.model.clone(),
            size: meta.size.clone(),
            seed: meta
                .source
                .as_ref()
                .and_then(|source| source.seed)
                .or(meta.seed.map(u64::from)),
            width: record.width,
            height: record.height,
            created: crate::metadata::rfc3339(meta.created_ms),
            provider: meta.provider.clone(),
            favorite: record.favorite,
            rating: record.rating,
            parents: meta.parents.clone(),
            source: meta.source.as_ref().map(|source| SourceJson {
                tool: source.tool,
                file_name: source.file_name.clone(),
                file_modified: source.modified_ms.map(crate::metadata::rfc3339),
                details: source.details.clone(),
                notes: source.notes.clone(),
            }),
        }
    }
}

/// Runs a subcommand; returns the process exit code. Errors are printed here, once.
pub fn run(connection: &ConnectionArgs, command: Command) -> i32 {
    let overrides = connection.overrides();
    let json = match &command {
        Command::Generate(args) => args.json,
        Command::List(args) => args.json,
        Command::Import(args) => args.json,
        Command::Export(args) => args.json,
        Command::Check(args) => args.json,
        Command::Models(args) => args.json,
        Command::Board { action } => action.json(),
        Command::Cost { json } => *json,
        Command::Delete(_)
        | Command::Restore(_)
        | Command::Rate(_)
        | Command::Retry
        | Command::Key { .. }
        | Command::Completions { .. }
        | Command::Manpages { .. } => false,
    };
    match dispatch(&overrides, command) {
        Ok(code) => code,
        Err(err) => {
            report_error(&err, json, None);
            1
        }
    }
}

fn dispatch(overrides: &Overrides, command: Command) -> Result<i32> {
    match command {
        Command::Generate(args) => generate(overrides, &args),
        Command::List(args) => list(&args),
        Command::Import(args) => import(&args),
        Command::Export(args) => export(&args),
        Command::Rate(args) => rate(&args),
        Command::Board { action } => boards::board(&action),
        Command::Cost { json } => cost::cost(overrides.provider.unwrap_or_default(), json),
        Command::Delete(args) => trash_or_restore(&args, true),
        Command::Restore(args) => trash_or_restore(&args, false),
        Command::Retry => retry(overrides),
        Command::Check(args) => check(&args),
        Command::Models(args) => models(&args),
        Command::Key { action } => key(overrides.provider.unwrap_or_default(), &action),
        Command::Completions { shell } => completions::print(shell),
        Command::Manpages { dir } => manpages::write_all(&dir),
    }
}

/// The key for `provider` from the environment or the keyring (`None` for the demo).
fn cli_key(provider: Provider) -> Result<Option<ApiKey>> {
    if !provider.needs_key() {
        return Ok(None);
    }
    let status = Secrets::from_environment().status(provider)?;
    status.key.map(Some).ok_or_else(|| {
        Error::new(
            ErrorKind::Auth,
            format!("no API key for {provider}; run `pictor key set --provider {provider}` or set PICTOR_API_KEY"),
        )
    })
}

/// Prints an error for people (stderr) or as a JSON line (stdout).
fn report_error(err: &Error, json: bool, file: Option<&Path>) {
    if json {
        let mut error = serde_json::json!({"kind": err.kind, "message": err.user_message("en"), "status": err.status});
        if let Some(file) = file {
            error["file"] = serde_json::json!(file);
        }
        println!("{}", serde_json::json!({ "error": error }));
    } else {
        eprintln!("error ({}): {}", err.kind, err.user_message("en"));
    }
}

fn open_library() -> Result<Arc<Library>> {
    Ok(Arc::new(crate::generate::open_library(LibraryPaths::from_env()?)?))
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|err| Error::config(format!("cannot start the async runtime: {err}")))
}

fn generate(overrides: &Overrides, args: &GenerateArgs) -> Result<i32> {
    // The command line reads no window preferences: defaults plus this run's overrides.
    let settings = Settings {
        timeout_secs: args.timeout.max(1),
        ..Settings::default()
    };
    let connection = Connection::effective(&settings, overrides);
    let provider = connection.provider;
    let mut params = GenerationParams {
        model: args.model.clone(),
        prompt: args.prompt.clone(),
        negative_prompt: args.negative.clone(),
        seed: args.seed,
        prompt_extend: !args.no_prompt_extend,
        watermark: args.watermark,
        ..GenerationParams::default()
    };
    params.size = match &args.size {
        Some(text) => Size::parse(text)?,
        None => default_size(&args.model),
    };
    // Without --size, an edit takes its size from the references (as the service does).
    params.size_from_reference = args.size.is_none();
    // A model the catalogue does not know gets the service's default size, not ours.
    params.leave_size_to_service = args.size.is_none() && spec_for(&args.model).is_none();
    // Checked before any reference file is imported: a refused request changes nothing.
    let mut unresolved = params.clone();
    unresolved.references = vec![String::new(); args.references.len()];
    crate::run_plan::RunPlan::new(&unresolved, args.count, args.seed, None)?;
    let library = open_library()?;
    params.references = args
        .references
        .iter()
        .map(|reference| resolve_reference(&library, reference))
        .collect::<Result<_>>()?;
    let plan = crate::run_plan::RunPlan::new(&params, args.count, args.seed, None)?;
    let runtime = runtime()?;
    let demo_url = match connection.needs_demo_server() {
        true => Some(start_demo_server(runtime.handle())?),
        false => None,
    };
    let client = connection.client(demo_url.as_deref())?;
    let generator = Generator::new(client, cli_key(provider)?, Arc::clone(&library))?;
    if let Some(out) = &args.out {
        std::fs::create_dir_all(out).map_err(|err| Error::storage(format!("cannot create {}", out.display()), err))?;
    }
    let cancel = CancellationToken::new();
    let quiet = args.json;
    let on_event = move |event: ClientEvent| match event {
        ClientEvent::RetryScheduled { delay, attempt, max } if !quiet => {
            eprintln!("rate limited; retry {attempt} of {max} in {} s", delay.as_secs());
        }
        // Said even with --json (on standard error): the user must know what was sent.
        ClientEvent::ReferenceAdjusted { position, what } => eprintln!("reference image {position}: {what}"),
        ClientEvent::SomeImagesFailed { failed } => {
            eprintln!("{failed} image(s) of this request failed at the service (the others are stored)");
        }
        ClientEvent::TaskCreated { task_id } if !quiet => {
            eprintln!("task {task_id} created at the service; waiting for its images");
        }
        ClientEvent::TaskWaiting { status } if !quiet => eprintln!("task {}", task_status_text(status)),
        ClientEvent::RetryScheduled { .. } | ClientEvent::TaskCreated { .. } | ClientEvent::TaskWaiting { .. } => {}
    };
    let mut failures = 0;
    if plan.prompts > 1 && !args.json {
        eprintln!(
            "a prompt matrix: {} prompts, {} images, as one group",
            plan.prompts, plan.images
        );
    }
    for request in &plan.requests {
        match runtime.block_on(generator.generate(request, &cancel, &on_event)) {
            Ok(records) => {
                for record in records {
                    print_generated(&library, &record, args)?;
                }
            }
            Err(err) => {
                failures += 1;
                report_error(&err, args.json, None);
            }
        }
    }
    Ok(i32::from(failures > 0))
}

/// The library id a `--ref` names: an image file is imported into the library first (so
/// lineage never points outside it); anything else is an id or unique id prefix.
fn resolve_reference(library: &Library, reference: &str) -> Result<String> {
    let path = Path::new(reference);
    if path.is_file() {
        return Ok(match crate::import::import_file(library, path)? {
            Insertion::Stored(record) => {
                eprintln!("imported {} as {} to use it as a reference", path.display(), record.id);
                record.id
            }
            Insertion::AlreadyThere(existing) => {
                eprintln!("{} is already in the library as {}", path.display(), existing.id);
                existing.id
            }
        });
    }
    library.resolve_id(reference)
}

fn print_generated(library: &Library, record: &ImageRecord, args: &GenerateArgs) -> Result<()> {
    let source = library.image_path(record);
    if let Some(out) = &args.out {
        let target = out.join(source.file_name().unwrap_or_default());
        let bytes =
            std::fs::read(&source).map_err(|err| Error::storage(format!("cannot read {}", source.display()), err))?;
        write_atomically(&target, &bytes, Durability::Durable)?;
    }
    if args.json {
        print_json(&ImageJson::new(library, record));
    } else {
        println!("{}  {}", record.id, source.display());
    }
    Ok(())
}

fn print_json(value: &impl Serialize) {
    if let Ok(line) = serde_json::to_string(value) {
        let mut out = std::io::stdout().lock();
        // A closed stdout (e.g. `| head`) is not worth a second error.
        let _ = writeln!(out, "{line}");
    }
}

fn list(args: &ListArgs) -> Result<i32> {
    let library = open_library()?;
    let query = Query {
        search: args.search.clone().unwrap_or_default(),
        favorites_only: args.favorites,
        trash: args.trash,
        limit: args.limit,
        min_rating: args.min_rating,
        order: if args.by_rating { Order::Rating } else { Order::Newest },
        board: args
            .board
            .as_deref()
            .map(|name| boards::existing_board(&library, name))
            .transpose()?
            .map(|board| board.id),
        ..Query::default()
    };
    for record in library.query(&query)? {
        if args.json {
            print_json(&ImageJson::new(&library, &record));
        } else {
            let seed = record.meta.seed.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
            let star = if record.favorite { "★" } else { " " };
            println!(
                "{} {star} {} {:>10} {}",
                record.id,
                record.meta.model,
                seed,
                one_line(&record.meta.prompt, 60)
            );
        }
    }
    Ok(0)
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    }
}

fn import(args: &ImportArgs) -> Result<i32> {
    let library = open_library()?;
    let (files, unreadable) = crate::import::files_to_import(&args.files);
    let mut failed = unreadable.len();
    for (path, err) in &unreadable {
        report_error(err, args.json, Some(path));
    }
    let (mut stored, mut skipped) = (0, 0);
    for file in &files {
        match crate::import::import_file(&library, file) {
            Ok(Insertion::Stored(record)) => {
                stored += 1;
                if args.json {
                    print_json(&ImageJson::new(&library, &record));
                } else {
                    println!("{}  {}", record.id, file.display());
                }
            }
            Ok(Insertion::AlreadyThere(existing)) => {
                skipped += 1;
                if args.json {
                    print_json(&serde_json::json!({"skipped": {"file": file, "existing": existing.id}}));
                } else {
                    println!("{}: already in the library as {}", file.display(), existing.id);
                }
            }
            Err(err) => {
                failed += 1;
                report_error(&err, args.json, Some(file));
            }
        }
    }
    if !args.json {
        eprintln!("{stored} imported, {skipped} already in the library, {failed} failed");
    }
    Ok(i32::from(failed > 0))
}

fn rate(args: &RateArgs) -> Result<i32> {
    let library = open_library()?;
    let ids = resolve_all(&library, &args.ids)?;
    let count = library.set_rating(&ids, args.stars)?;
    println!(
        "{count} rated {}",
        if args.stars == 0 {
            "(cleared)".to_owned()
        } else {
            "★".repeat(usize::from(args.stars))
        }
    );
    Ok(0)
}

fn resolve_all(library: &Library, ids: &[String]) -> Result<Vec<String>> {
    ids.iter().map(|id| library.resolve_id(id)).collect()
}

fn export(args: &ExportArgs) -> Result<i32> {
    let library = open_library()?;
    let mut ids = resolve_all(&library, &args.ids)?;
    if let Some(name) = &args.board {
        let board = boards::existing_board(&library, name)?;
        let query = Query {
            board: Some(board.id),
            ..Query::default()
        };
        ids.extend(library.query(&query)?.into_iter().map(|record| record.id));
    }
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    let mut records = Vec::new();
    for id in ids {
        records.push(
            library
                .get(&id)?
                .ok_or_else(|| Error::invalid(format!("no image {id}")))?,
        );
    }
    let template = Settings::default().file_name_template;
    let results = crate::transfer::export_many(
        &library,
        &records,
        &args.to,
        args.format.into(),
        args.quality,
        &template,
        &|_, _| {},
    )?;
    let mut failures = 0;
    for (record, result) in records.iter().zip(results) {
        match result {
            Ok(path) if args.json => print_json(&serde_json::json!({"id": record.id, "path": path})),
            Ok(path) => println!("{}  {}", record.id, path.display()),
            Err(err) => {
                failures += 1;
                report_error(&err, args.json, None);
            }
        }
    }
    Ok(i32::from(failures > 0))
}

/// `pictor retry`: downloads whose earlier download failed (no key needed), then the
/// asynchronous tasks created at this run's service and not yet collected (with its key).
fn retry(overrides: &Overrides) -> Result<i32> {
    let library = open_library()?;
    let runtime = runtime()?;
    let connection = Connection::effective(&Settings::default(), overrides);
    // Pending downloads need no endpoint; a provider without a base URL still gets them.
    let client = match connection.client(None) {
        Ok(client) => client,
        Err(_) => ApiClient::new(
            Endpoint::new(Provider::AppleRouter, None, false)?,
            ClientConfig::default(),
        )?,
    };
    let downloads = Generator::downloads_only(client.clone(), Arc::clone(&library));
    let cancel = CancellationToken::new();
    let (mut stored, mut failed) = runtime.block_on(downloads.retry_pending(&cancel))?;
    let (tasks, elsewhere): (Vec<_>, Vec<_>) = library
        .pending_tasks()?
        .into_iter()
        .partition(|task| downloads.owns_task(task));
    if !tasks.is_empty() {
        let generator = Generator::new(client, cli_key(connection.provider)?, Arc::clone(&library))?;
        let on_event = |event: ClientEvent| {
            if let ClientEvent::SomeImagesFailed { failed } = event {
                eprintln!("{failed} image(s) of a task failed at the service (the others are stored)");
            }
        };
        for task in &tasks {
            eprintln!("resuming task {} ({})", task.task_id, task.provider);
            match runtime.block_on(generator.resume_task(task, &cancel, &on_event)) {
                Ok(records) => stored.extend(records),
                Err(err) => failed.push(err),
            }
        }
    }
    for record in &stored {
        println!("{}  {}", record.id, library.image_path(record).display());
    }
    for err in &failed {
        report_error(err, false, None);
    }
    for task in &elsewhere {
        eprintln!(
            "task {} waits at {} ({}); run `pictor retry --provider {}` to collect it",
            task.task_id, task.origin, task.provider, task.provider
        );
    }
    println!("{} saved, {} still failing", stored.len(), failed.len());
    Ok(i32::from(!failed.is_empty()))
}

/// "queued at the service" / "running at the service".
fn task_status_text(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Pending => "queued at the service",
        TaskStatus::Running => "running at the service",
    }
}

/// Prints the catalogue: one line (or JSON object) per model name it lists.
fn models(args: &ModelsArgs) -> Result<i32> {
    use crate::api::catalogue::{Catalogue, SizeRule};
    for spec in &Catalogue::get().families {
        for name in spec.named_models() {
            if args.json {
                let (sizes, size_range) = match &spec.size {
                    SizeRule::Presets { presets, .. } => (
                        presets.iter().map(|(_, s)| s.0.wire()).collect::<Vec<_>>(),
                        serde_json::Value::Null,
                    ),
                    SizeRule::Range {
                        min_side,
                        max_side,
                        min_pixels,
                        max_pixels,
                        min_aspect,
                        max_aspect,
                        presets,
                        ..
                    } => (
                        presets.iter().map(|(_, s)| s.0.wire()).collect(),
                        serde_json::json!({"min_side": min_side, "max_side": max_side, "min_pixels": min_pixels,
                                           "max_pixels": max_pixels, "min_aspect": min_aspect, "max_aspect": max_aspect}),
                    ),
                    SizeRule::None => (Vec::new(), serde_json::Value::Null),
                };
                print_json(&serde_json::json!({
                    "name": name,
                    "family": spec.family,
                    "group": spec.group,
                    "body": spec.body,
                    "n_max": spec.n.max,
                    "n_always_sent": spec.n.always_send,
                    "references": spec.references,
                    "sizes": sizes,
                    "size_range": size_range,
                    "default_size": spec.default_size().map(Size::wire),
                    "prompt_limit": spec.prompt_limit,
                    "negative_limit": spec.negative_limit,
                    "takes": spec.takes,
                    "dashscope_task": spec.dashscope_task,
                    "summary": spec.summary.en,
                }));
            } else {
                println!("{name:<24} {}", spec.summary.en);
            }
        }
    }
    if !args.json {
        println!("Any other model name is sent as typed, with no local size or image-count rule.");
    }
    Ok(0)
}

/// Opens the library (which runs recovery), then rebuilds every thumbnail that is
/// missing or does not decode.
fn check(args: &CheckArgs) -> Result<i32> {
    let library = open_library()?;
    let report = library.recovery_report()?;
    let mut rebuilt = 0;
    let mut failed = 0;
    for trash in [false, true] {
        let query = Query {
            trash,
            ..Query::default()
        };
        for record in library.query(&query)? {
            // A thumbnail that reads and decodes is kept; a missing, empty or truncated one
            // (a power cut can leave those) is rebuilt.
            let sound = std::fs::read(library.thumbnail_path(&record.id))
                .ok()
                .is_some_and(|bytes| crate::imaging::decode_thumbnail(&bytes).is_ok());
            if record.missing || sound {
                continue;
            }
            match crate::generate::load_thumbnail(&library, &record) {
                Ok(_) => rebuilt += 1,
                Err(err) => {
                    failed += 1;
                    report_error(&err, args.json, Some(&library.image_path(&record)));
                }
            }
        }
    }
    if args.json {
        print_json(&serde_json::json!({
            "temp_files_removed": report.temp_files_removed,
            "orphans_restored": report.orphans_restored,
            "unreadable_moved": report.unreadable_moved,
            "missing_files": report.missing_files,
            "thumbnails_rebuilt": rebuilt,
            "thumbnails_failed": failed,
        }));
    } else {
        println!(
            "temp files removed: {}\norphans restored: {}\nunreadable files moved to unreadable/: {}\n\
             images whose file is missing: {}\nthumbnails rebuilt: {rebuilt}\nthumbnails that failed: {failed}",
            report.temp_files_removed, report.orphans_restored, report.unreadable_moved, report.missing_files
        );
    }
    Ok(i32::from(failed > 0 || report.missing_files > 0))
}

fn trash_or_restore(args: &IdsArgs, to_trash: bool) -> Result<i32> {
    let library = open_library()?;
    let ids = resolve_all(&library, &args.ids)?;
    let changed = if to_trash {
        library.trash(&ids)?
    } else {
        library.restore(&ids)?
    };
    let verb = if to_trash { "moved to the trash" } else { "restored" };
    println!("{changed} image(s) {verb}");
    Ok(0)
}

fn key(provider: Provider, action: &KeyAction) -> Result<i32> {
    let secrets = Secrets::from_environment();
    match action {
        KeyAction::Set => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .map_err(|err| Error::config(format!("cannot read the key from standard input: {err}")))?;
            let key = ApiKey::new(input).ok_or_else(|| Error::config("no key on standard input"))?;
            secrets.save(provider, &key, true)?;
            println!("saved the key {} for {provider} in the OS keyring", key.masked());
        }
        KeyAction::Status => {
            let status = secrets.status(provider)?;
            match status.key {
                Some(key) => println!("{provider}: key {} from {}", key.masked(), status.source.as_str()),
                None => println!("{provider}: no key"),
            }
        }
        KeyAction::Clear => {
            secrets.forget(provider)?;
            println!("removed the key for {provider} from the OS keyring");
        }
    }
    Ok(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn files_open_the_window_and_subcommands_still_win_after_global_options() {
        let files = Cli::try_parse_from(["pictor", "a.png", "photos/b.jpg"]).unwrap();
        assert!(files.command.is_none());
        assert_eq!(files.files, [PathBuf::from("a.png"), PathBuf::from("photos/b.jpg")]);

        let cost = Cli::try_parse_from(["pictor", "--provider", "demo", "cost", "--json"]).unwrap();
        assert!(matches!(cost.command, Some(Command::Cost { .. })), "{cost:?}");
        assert!(cost.files.is_empty());

        let window = Cli::try_parse_from(["pictor", "--provider", "demo"]).unwrap();
        assert!(window.command.is_none() && window.files.is_empty());
    }
}
