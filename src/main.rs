//! The `wirefeed` binary: settings, logs, then the chosen command.

use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use wirefeed::archive;
use wirefeed::config::{Cli, Command, LogFormat, SubscribersAction};
use wirefeed::import::{self, IngestError, Outcome};
use wirefeed::journal::Entry;
use wirefeed::rebuild;
use wirefeed::startup::{self, Application};
use wirefeed::store::Put;
use wirefeed::telemetry;

/// jemalloc, with the settings and reasons in `wirefeed::memory`.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The name jemalloc looks up for its settings (prefixed, as tikv-jemalloc-sys builds it).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: &u8 = &wirefeed::memory::MALLOC_CONF[0];

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return bad_settings(e),
    };
    quiet_panics();
    let serving = matches!(cli.command, None | Some(Command::Serve));
    telemetry::init_logs(cli.serve.log_format == LogFormat::Json, serving);
    let result = match cli.command.as_ref().unwrap_or(&Command::Serve) {
        Command::Serve => serve(&cli),
        Command::Import { paths, section } => bulk_import(&cli, paths, section.as_deref()),
        Command::Check { file } => return check(&cli, file),
        Command::Export { output } => export(&cli, output.as_deref()),
        Command::Restore { file } => restore(&cli, file),
        Command::Verify => verify(&cli),
        Command::Rebuild { dry_run } => rebuild(&cli, *dry_run),
        Command::Healthcheck => healthcheck(&cli),
        Command::Subscribers { action } => subscribers(&cli, action),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wirefeed: error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// `--help` and `--version` as clap prints them; a bad flag or setting as
/// one line naming it, exit 2.
fn bad_settings(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion)
        || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    // clap's message up to its first blank line (the error and, for an
    // enum, its possible values), without the hint to try --help.
    let text = e.to_string();
    let message: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
    let message = message.join(" ");
    eprintln!("wirefeed: error: {}", message.strip_prefix("error: ").unwrap_or(&message));
    ExitCode::from(2)
}

/// A panic is reported on one line: the store turns sled's panics on
/// damaged files into errors (printed as the command's own one-line
/// error), and a multi-line report with a backtrace hint would bury it.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        tracing::debug!(message = %message, "panic{at}");
        if !at.contains("vendor/sled") {
            eprintln!("wirefeed: panic{at}: {message}");
        }
    }));
}

/// An error and its causes on one line.
fn one_line(e: &anyhow::Error) -> String {
    e.chain().map(ToString::to_string).collect::<Vec<_>>().join(": ")
}

fn serve(cli: &Cli) -> anyhow::Result<ExitCode> {
    actix_web::rt::System::new().block_on(async {
        let app = Application::build(&cli.store, &cli.parse, &cli.serve)?;
        for addr in app.addrs() {
            tracing::info!(data_dir = %cli.store.data_dir.display(), "listening on http://{addr}");
        }
        app.run_until_stopped().await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn check(cli: &Cli, file: &Path) -> ExitCode {
    let run = || -> Result<import::Checked, (String, String)> {
        let bytes =
            std::fs::read(file).map_err(|e| ("unreadable".to_owned(), format!("reading {}: {e}", file.display())))?;
        let settings = cli.parse.import_settings().map_err(|e| ("settings".to_owned(), one_line(&e)))?;
        import::check(&bytes, &import::Asked::TEXT, &settings, import::now()).map_err(|e| match e {
            IngestError::Parse(p) => (p.kind().to_owned(), p.to_string()),
            other => ("rejected".to_owned(), other.to_string()),
        })
    };
    match run() {
        Ok(checked) => {
            // A closed pipe (`| head`) is not worth a panic.
            let _ =
                writeln!(std::io::stdout().lock(), "{}", serde_json::to_string_pretty(&checked).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err((kind, detail)) => {
            let _ = writeln!(std::io::stdout().lock(), "{}", serde_json::json!({"error": kind, "detail": detail}));
            eprintln!("wirefeed: {}: {detail}", file.display());
            ExitCode::from(2)
        }
    }
}

/// Story files under the given paths, recursively, in a stable order.
fn story_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    while let Some(path) = stack.pop() {
        let meta = std::fs::metadata(&path).with_context(|| format!("reading {}", path.display()))?;
        if meta.is_dir() {
            let mut children = std::fs::read_dir(&path)
                .with_context(|| format!("listing {}", path.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
                .collect::<Vec<_>>();
            children.sort();
            stack.extend(children.into_iter().rev());
        } else {
            out.push(path);
        }
    }
    Ok(out)
}

fn bulk_import(cli: &Cli, paths: &[PathBuf], section: Option<&str>) -> anyhow::Result<ExitCode> {
    let files = story_files(paths)?;
    let app = startup::offline(&cli.store, &cli.parse, &cli.serve)?;
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} stories  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut created, mut updated, mut unchanged, mut stale, mut held, mut killed) =
        (0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
    let mut rejected = Vec::new();
    for path in &files {
        bar.inc(1);
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                rejected.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        match app.ingest(&bytes, &import::Asked { section, ..import::Asked::TEXT }) {
            Ok(done) => match done.outcome {
                Outcome::Stored(Put::Created(_)) => created += 1,
                Outcome::Stored(Put::Updated { .. }) => updated += 1,
                Outcome::Stored(Put::Unchanged(_)) => unchanged += 1,
                Outcome::Stored(Put::Stale(_)) => stale += 1,
                Outcome::Stored(Put::Held(_)) => held += 1,
                Outcome::Killed(_) => killed += 1,
            },
            Err(IngestError::Store(e)) => return Err(e.into()),
            Err(e) => rejected.push(format!("{}: {e}", path.display())),
        }
    }
    bar.finish_and_clear();
    app.close().context("flushing the store and the archive")?;
    let mut err = std::io::stderr().lock();
    for line in &rejected {
        writeln!(err, "rejected {line}")?;
    }
    let _ = writeln!(
        std::io::stdout().lock(),
        "{} files: {created} new, {updated} updated, {unchanged} unchanged, {stale} stale, {held} embargoed, {killed} kills, {} rejected",
        files.len(),
        rejected.len()
    );
    Ok(if rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn export(cli: &Cli, output: Option<&Path>) -> anyhow::Result<ExitCode> {
    let store = startup::open_store(&cli.store, &cli.parse)?;
    let mut skipped = 0u64;
    let mut skip = |what: String| {
        skipped += 1;
        eprintln!("skipped {what}");
    };
    let n = match output {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
            store.export(std::io::BufWriter::new(file), &mut skip)?
        }
        None => store.export(std::io::BufWriter::new(std::io::stdout().lock()), &mut skip)?,
    };
    if skipped > 0 {
        eprintln!("exported {n} articles; skipped {skipped} unreadable (the store is damaged: see `wirefeed verify`)");
        return Ok(ExitCode::FAILURE);
    }
    // Damage the articles cannot show (a log cut short loses its last stories whole).
    let damaged = store.health().damaged;
    if !damaged.is_empty() {
        for problem in &damaged {
            eprintln!("damaged: {problem}");
        }
        eprintln!("exported {n} articles; the store is damaged, so stories may be missing");
        return Ok(ExitCode::FAILURE);
    }
    eprintln!("exported {n} articles");
    Ok(ExitCode::SUCCESS)
}

/// Reads every article and index entry, and every archive record; exit 1
/// when anything is damaged.
fn verify(cli: &Cli) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    // The archive first: it is what a damaged store is made again from.
    let journal = startup::open_journal(&cli.store)?;
    let (mut records, mut archive_problems) = (0u64, 0u64);
    archive::read::<anyhow::Error>(&journal.dir(), 1, |found| {
        let problem = match found {
            archive::Found::Record(record) => match Entry::decode(&record) {
                Ok(Entry::Unknown { kind }) => {
                    Some(format!("archive record {}: kind {kind} is unknown to this build", record.seq))
                }
                Ok(_) => None,
                Err(e) => Some(e.to_string()),
            },
            archive::Found::Damaged(damage) => Some(damage.to_string()),
        };
        records += 1;
        if let Some(problem) = problem {
            archive_problems += 1;
            let _ = writeln!(out, "damaged: {problem}");
        }
        Ok(())
    })?;
    let archive_summary = format!("{records} archive records read, {archive_problems} damaged");
    let store = match startup::open_store(&cli.store, &cli.parse) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("wirefeed: {archive_summary}");
            return Err(e.context("the store cannot be opened (`wirefeed rebuild` makes it again from the archive)"));
        }
    };
    let verified = store.verify(&mut |problem| {
        let _ = writeln!(out, "damaged: {problem}");
    })?;
    let last = journal.last_seq();
    match store.applied()? {
        Some(applied) if applied < last => eprintln!(
            "note: the store is behind its archive (records {} to {last} are not in it): the next start replays them",
            applied + 1
        ),
        None if last > 0 => eprintln!(
            "note: the store has no archive position beside {last} archive records: the next start rebuilds it"
        ),
        _ => {}
    }
    let summary = format!(
        "{} articles read whole, {} entries checked, {} problems; {archive_summary}",
        verified.articles, verified.entries, verified.problems
    );
    if verified.problems > 0 {
        eprintln!("wirefeed: the store is damaged: {summary}; `wirefeed rebuild` makes it again from the archive, `wirefeed export` saves every readable article");
        Ok(ExitCode::FAILURE)
    } else if archive_problems > 0 {
        eprintln!("wirefeed: the archive is damaged: {summary}; the store is whole: back it up with `wirefeed export`");
        Ok(ExitCode::FAILURE)
    } else {
        eprintln!("ok: {summary}");
        Ok(ExitCode::SUCCESS)
    }
}

/// Loads an export into an empty data directory, each article kept in the
/// archive so that a rebuild brings it back too.
fn restore(cli: &Cli, file: &Path) -> anyhow::Result<ExitCode> {
    use std::io::BufRead;
    let input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let app = startup::offline(&cli.store, &cli.parse, &cli.serve)?;
    if !app.store().is_empty() || app.journal().last_seq() > 0 {
        anyhow::bail!(wirefeed::store::StoreError::NotEmpty);
    }
    let mut n = 0u64;
    for (i, line) in BufReader::new(input).lines().enumerate() {
        let line = line.with_context(|| format!("reading {}", file.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        // Subscribers (hashes of their keys) follow the articles.
        if line.starts_with(wirefeed::store::subscribers::EXPORT_PREFIX) {
            app.store().restore_subscriber(&line, i + 1).with_context(|| format!("restoring {}", file.display()))?;
            continue;
        }
        let article: wirefeed::domain::Article = serde_json::from_str(&line)
            .map_err(|e| wirefeed::store::StoreError::BadBackup { line: i + 1, detail: e.to_string() })
            .with_context(|| format!("restoring {}", file.display()))?;
        app.restore(&article).with_context(|| format!("restoring {}", file.display()))?;
        n += 1;
    }
    app.close()?;
    eprintln!("restored {n} articles");
    Ok(ExitCode::SUCCESS)
}

/// Makes the store again from the archive (the old one set aside), or with
/// `--dry-run` beside it, reporting what would change.
fn rebuild(cli: &Cli, dry_run: bool) -> anyhow::Result<ExitCode> {
    let data_dir = &cli.store.data_dir;
    let journal = startup::open_journal(&cli.store)?;
    let last = journal.last_seq();
    if last == 0 {
        anyhow::bail!("the archive in {} holds no record: there is nothing to rebuild from", journal.dir().display());
    }
    // Opened first: a running server holds it, and must not have its files moved.
    let live = startup::open_store(&cli.store, &cli.parse);
    let bar = ProgressBar::new(last);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} records  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if dry_run {
        let live = live.context("the live store, to compare with")?;
        let beside = data_dir.join(format!("rebuild-dry-run-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&beside);
        let args = wirefeed::config::StoreArgs { data_dir: beside.clone(), ..cli.store.clone() };
        let store = startup::open_store(&args, &cli.parse)?;
        let app = startup::offline_with(store, journal, &cli.parse, &cli.serve)?;
        let result = rebuild::replay(&app, 1, &mut |seq| bar.set_position(seq))
            .and_then(|summary| Ok((summary, rebuild::compare(&live, app.store())?)));
        bar.finish_and_clear();
        let _ = app.store().close();
        drop(app);
        let _ = std::fs::remove_dir_all(&beside);
        let (summary, changes) = result?;
        let mut out = std::io::stdout().lock();
        for line in summary.damaged.iter().chain(&summary.notes).chain(&changes.ids) {
            writeln!(out, "{line}")?;
        }
        writeln!(
            out,
            "rebuild (dry run): {} records replayed, {} damaged; {} transmissions refused by today's parser, {} with another outcome; {} articles would change ({} headline, {} paragraphs, {} times; {} new, {} gone) of {} compared",
            summary.records,
            summary.damaged.len(),
            summary.refused,
            summary.differ,
            changes.changed,
            changes.headline,
            changes.paragraphs,
            changes.times,
            changes.new,
            changes.gone,
            changes.compared
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    match live {
        Ok(store) => store.close()?,
        Err(e) if e.downcast_ref::<wirefeed::store::StoreError>().is_some_and(rebuild::is_damage) => {
            eprintln!("the store cannot be opened ({e:#}): it is set aside")
        }
        Err(e) => return Err(e),
    }
    let moved = rebuild::set_aside(data_dir)?;
    let store = startup::open_store(&cli.store, &cli.parse)?;
    let app = startup::offline_with(store, journal, &cli.parse, &cli.serve)?;
    let summary = rebuild::replay(&app, 1, &mut |seq| bar.set_position(seq))?;
    bar.finish_and_clear();
    let stories = rebuild::stories(app.store());
    app.close()?;
    for line in summary.damaged.iter().chain(&summary.notes) {
        eprintln!("{line}");
    }
    if let Some(moved) = moved {
        eprintln!("the old store is in {moved}");
    }
    eprintln!(
        "rebuilt: {} records replayed, {} damaged records skipped, {} refused by today's parser; {stories} stories",
        summary.records,
        summary.damaged.len(),
        summary.refused
    );
    Ok(if summary.damaged.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `GET /healthz` on the bound port (loopback when bound to every address).
fn healthcheck(cli: &Cli) -> anyhow::Result<ExitCode> {
    use std::io::Read;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
    use std::time::Duration;

    let bind = cli.serve.bind;
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let addr = SocketAddr::new(ip, bind.port());
    let timeout = Duration::from_secs(3);
    let mut conn = TcpStream::connect_timeout(&addr, timeout).with_context(|| format!("connecting to {addr}"))?;
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    conn.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut answer = Vec::new();
    conn.take(4096).read_to_end(&mut answer).with_context(|| format!("reading the answer of {addr}"))?;
    let status_line = String::from_utf8_lossy(&answer).lines().next().unwrap_or("").to_owned();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("wirefeed: unhealthy: {addr}/healthz answered {status_line:?}");
        Ok(ExitCode::FAILURE)
    }
}

/// `wirefeed subscribers …`: the subscriber API of the server on
/// `WIREFEED_BIND`, with the import token (configured, or the one kept in
/// the data directory). Prints the server's JSON answer; exit 1 when it is
/// an error.
fn subscribers(cli: &Cli, action: &SubscribersAction) -> anyhow::Result<ExitCode> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    let token = match &cli.serve.import_token {
        Some(token) => token.clone(),
        None => {
            let path = cli.store.data_dir.join("import-token");
            std::fs::read_to_string(&path)
                .with_context(|| format!("no WIREFEED_IMPORT_TOKEN set, and reading {}", path.display()))?
                .trim()
                .to_owned()
        }
    };
    let bind = cli.serve.bind;
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let root = format!("http://{}/subscribers", std::net::SocketAddr::new(ip, bind.port()));
    let (method, url, body) = match action {
        SubscribersAction::Add { name, sections } => {
            ("POST", root, Some(serde_json::json!({"name": name, "sections": sections})))
        }
        SubscribersAction::List => ("GET", root, None),
        SubscribersAction::Update { name, sections } => {
            ("PUT", format!("{root}/{name}"), Some(serde_json::json!({"sections": sections})))
        }
        SubscribersAction::Revoke { name } => ("DELETE", format!("{root}/{name}"), None),
        SubscribersAction::Rotate { name, grace } => {
            ("POST", format!("{root}/{name}/rotate"), Some(serde_json::json!({"grace": grace})))
        }
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(30)))
        .http_status_as_error(false)
        .build()
        .into();
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(&url)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map(|b| b.to_string().into_bytes()).unwrap_or_default())
        .context("making the request")?;
    let mut res = agent.run(request).with_context(|| format!("{method} {url}"))?;
    let status = res.status();
    let text = res.body_mut().read_to_string().unwrap_or_default();
    let shown = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(json) => serde_json::to_string_pretty(&json).unwrap_or(text),
        Err(_) if status.as_u16() == 204 => format!("{{\"revoked\": {}}}", serde_json::json!(url.rsplit('/').next())),
        Err(_) => text,
    };
    let _ = writeln!(std::io::stdout().lock(), "{shown}");
    if status.is_success() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("wirefeed: {method} {url} answered {status}");
        Ok(ExitCode::FAILURE)
    }
}
