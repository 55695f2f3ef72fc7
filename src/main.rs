//! The `switchboard` command: parse arguments, load the config, call into the library.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use switchboard::clock::SystemClock;
use switchboard::config::Config;
use switchboard::control::{self, Request};
use switchboard::domain::users::Role;

/// The packaged binary is static musl, whose malloc is slow under many threads and fragments;
/// mimalloc gives the same code glibc-or-better speed and memory on every target.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Customer-messaging inbox for the box beside the PBX",
    long_about = "Switchboard serves an agent inbox for SMS, WhatsApp, Messenger and website live chat, plus internal \
team chat, from one process and one redb database file.\n\nWith no command it serves. Configuration comes from \
--config, else /etc/switchboard/switchboard.toml if present, else embedded defaults (http://127.0.0.1:8080, data in \
./switchboard-data); SWITCHBOARD_<KEY> environment variables override single keys (nested keys joined by __, e.g. \
SWITCHBOARD_STORE__CACHE_SIZE_MB=16).\n\nCommands that touch the database work whether or not the server runs: \
with the server running they go through its control socket in the data directory."
)]
struct Cli {
    /// Config file (TOML).
    #[arg(long, global = true, env = "SWITCHBOARD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server (the default).
    Serve,
    /// Manage users.
    User {
        #[command(subcommand)]
        cmd: UserCmd,
    },
    /// API tokens for scripts.
    Token {
        #[command(subcommand)]
        cmd: TokenCmd,
    },
    /// Validate or print the effective configuration.
    Config {
        #[command(subcommand)]
        cmd: ConfigCmd,
    },
    /// Write a consistent copy of the database to FILE (works while the server runs).
    Backup { file: PathBuf },
    /// Replace the database with a backup (stop the server first). The old file is kept beside it.
    /// `--latest`: the newest backup in <data_dir>/backups/ that passes `check`.
    Restore {
        file: Option<PathBuf>,
        #[arg(long, conflicts_with = "file")]
        latest: bool,
    },
    /// Check the database: integrity, schema version, every record readable, file size vs live data.
    Check,
    /// Give free space in the database file back to the file system (stop the server first).
    Compact,
    /// Background jobs.
    Jobs {
        #[command(subcommand)]
        cmd: JobsCmd,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create a user. The password is read from stdin unless --password is given.
    Add {
        username: String,
        #[arg(long, value_parser = ["admin", "agent"], default_value = "agent")]
        role: String,
        #[arg(long, default_value = "")]
        display_name: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        extension: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Set a new password (read from stdin unless --password is given); ends the user's sessions.
    Passwd {
        username: String,
        #[arg(long)]
        password: Option<String>,
    },
    /// Disable a user; their sessions end at once.
    Disable { username: String },
    /// List users.
    List,
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API token (printed once) for `Authorization: Bearer`.
    Create {
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Refuse the token after this many days (default: valid until revoked).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
    /// List API tokens (name, created, last used, expiry) of one user or of everyone.
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke an API token by its id (see `token list`); it is refused from now on.
    Revoke { id: u64 },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Validate the configuration and exit.
    Check,
    /// Print the effective configuration as TOML.
    Dump,
}

#[derive(Subcommand)]
enum JobsCmd {
    /// Run one job now (attachment-cleanup, session-closure, history-retention, outbound-retry, login-session-sweep, backup).
    Run { name: String },
    /// List the jobs and their schedules.
    List,
}

fn read_password(given: Option<String>) -> Result<String, String> {
    if let Some(p) = given {
        return Ok(p);
    }
    eprintln!("password (one line on stdin):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&cfg.log.level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log.format == switchboard::config::LogFormat::Json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// A panic is caught where it can be (one request, one read, one write batch, one table of
/// `check`) and reported there; the hook only records one line (the log when serving, stderr
/// for a command) instead of the default multi-line dump, which made a damaged page look like a
/// crash in front of `check`'s report.
fn quiet_panics(serving: bool) {
    std::panic::set_hook(Box::new(move |info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let msg = switchboard::store::health::panic_text(info.payload());
        if serving {
            tracing::error!(%at, panic = %msg, "panic (the request, read or write it happened in fails)");
        } else {
            eprintln!("switchboard: panic at {at}: {msg}");
        }
    }));
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    switchboard::tls::install_crypto_provider();
    let cfg = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("switchboard: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .max_blocking_threads(16)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("switchboard: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let cmd = cli.cmd.unwrap_or(Cmd::Serve);
    if matches!(cmd, Cmd::Serve) {
        init_logging(&cfg);
    }
    quiet_panics(matches!(cmd, Cmd::Serve));
    match rt.block_on(run(cmd, cfg)) {
        Ok(out) => {
            if !out.is_empty() {
                println!("{}", out.trim_end());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("switchboard: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cmd: Cmd, cfg: Config) -> Result<String, String> {
    match cmd {
        Cmd::Serve => serve(cfg).await,
        Cmd::Config {
            cmd: ConfigCmd::Check,
        } => Ok(format!(
            "configuration OK (data in {})",
            cfg.data_dir.display()
        )),
        Cmd::Config {
            cmd: ConfigCmd::Dump,
        } => toml::to_string_pretty(&cfg).map_err(|e| e.to_string()),
        Cmd::User { cmd } => {
            let req = match cmd {
                UserCmd::Add {
                    username,
                    role,
                    display_name,
                    email,
                    extension,
                    password,
                } => Request::UserAdd {
                    username,
                    password: read_password(password)?,
                    role: if role == "admin" {
                        Role::Admin
                    } else {
                        Role::Agent
                    },
                    display_name,
                    email,
                    extension,
                },
                UserCmd::Passwd { username, password } => Request::UserPasswd {
                    username,
                    password: read_password(password)?,
                },
                UserCmd::Disable { username } => Request::UserDisable { username },
                UserCmd::List => Request::UserList,
            };
            dispatch(&cfg, req).await
        }
        Cmd::Token { cmd } => {
            let req = match cmd {
                TokenCmd::Create {
                    user,
                    name,
                    expires_in_days,
                } => Request::TokenCreate {
                    username: user,
                    name,
                    expires_in_days,
                },
                TokenCmd::List { user } => Request::TokenList { username: user },
                TokenCmd::Revoke { id } => Request::TokenRevoke { id },
            };
            dispatch(&cfg, req).await
        }
        Cmd::Backup { file } => {
            let file = std::path::absolute(&file).map_err(|e| e.to_string())?;
            dispatch(&cfg, Request::Backup { path: file }).await
        }
        Cmd::Check => {
            let path = cfg.db_path();
            match switchboard::store::check_offline(&path) {
                Ok(r) => control::report_text(&r).map_err(|e| e.public_message()),
                Err(e) if switchboard::store::is_locked(&e) => dispatch(&cfg, Request::Check).await,
                Err(e) => Err(e.public_message()),
            }
        }
        Cmd::Compact => {
            let (before, after) = switchboard::store::compact_offline(&cfg.db_path())
                .map_err(|e| e.public_message())?;
            Ok(format!(
                "compacted {}: {before} -> {after} bytes",
                cfg.db_path().display()
            ))
        }
        Cmd::Restore { file, latest } => {
            let file = match (file, latest) {
                (Some(f), _) => f,
                (None, true) => latest_backup(&cfg)?,
                (None, false) => return Err(backups_hint(&cfg)),
            };
            restore(&cfg, &file)
        }
        Cmd::Jobs {
            cmd: JobsCmd::Run { name },
        } => dispatch(&cfg, Request::JobRun { name }).await,
        Cmd::Jobs { cmd: JobsCmd::List } => Ok(switchboard::jobs::JOBS
            .iter()
            .map(|j| {
                format!(
                    "{}\t{}",
                    j.name,
                    match (j.schedule)(&cfg) {
                        "" => "(disabled)",
                        s => s,
                    }
                )
            })
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

async fn serve(cfg: Config) -> Result<String, String> {
    // Before starting: a stop from the first moment on is a clean shutdown.
    let signals = switchboard::server::ShutdownSignals::install();
    let running = switchboard::server::start(cfg, Arc::new(SystemClock))
        .await
        .map_err(|e| e.to_string())?;
    if let Some(url) = &running.setup_url {
        eprintln!("\n  First start: create the administrator at\n  {url}\n");
    }
    signals.wait().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(String::new())
}

/// Through the running server's control socket, else directly on the database file.
async fn dispatch(cfg: &Config, req: Request) -> Result<String, String> {
    if control::socket_path(&cfg.data_dir).exists()
        && let Ok(resp) = control::send(&cfg.data_dir, &req).await
    {
        return if resp.ok {
            Ok(resp.message)
        } else {
            Err(resp.message)
        };
    }
    let path = cfg.db_path();
    let clock = Arc::new(SystemClock);
    let opts = switchboard::store::OpenOptions {
        cache_mb: cfg.store.cache_size_mb.min(16),
        max_batch: cfg.store.max_batch,
        verify: false,
        min_free_mb: cfg.store.min_free_mb,
    };
    let store = tokio::task::spawn_blocking(move || {
        switchboard::store::Store::open_with(&path, &opts, clock)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.public_message())?;
    let media_secret = switchboard::domain::attachments::media_secret(&store)
        .await
        .map_err(|e| e.public_message())?;
    let ctx = switchboard::jobs::JobCtx {
        media_secret,
        store,
        config: Arc::new(cfg.clone()),
        clock: Arc::new(SystemClock),
        http: reqwest::Client::new(),
        public_url: cfg.public_url().map_err(|e| e.to_string())?,
        shutdown: tokio_util::sync::CancellationToken::new(),
        tls: None,
    };
    let passwords = switchboard::domain::passwords::Passwords::default();
    control::execute(&ctx, &passwords, req)
        .await
        .map_err(|e| e.public_message())
}

/// The newest backup that passes `check`; says which ones it passed over and why.
fn latest_backup(cfg: &Config) -> Result<PathBuf, String> {
    let dir = switchboard::jobs::backup::dir(&cfg.data_dir);
    for (path, _) in switchboard::jobs::backup::list(&dir) {
        match switchboard::store::check_offline(&path) {
            Ok(r) if r.ok => return Ok(path),
            Ok(r) => eprintln!(
                "skipping {}: {}",
                path.display(),
                r.problems.first().cloned().unwrap_or_default()
            ),
            Err(e) => eprintln!("skipping {}: {}", path.display(), e.public_message()),
        }
    }
    Err(format!("no sound backup in {}", dir.display()))
}

fn backups_hint(cfg: &Config) -> String {
    let dir = switchboard::jobs::backup::dir(&cfg.data_dir);
    let mut out = format!(
        "name a backup FILE, or use --latest; backups in {}, newest first:",
        dir.display()
    );
    for (path, _) in switchboard::jobs::backup::list(&dir) {
        out.push_str(&format!("\n  {}", path.display()));
    }
    out
}

fn restore(cfg: &Config, file: &std::path::Path) -> Result<String, String> {
    let report = switchboard::store::check_offline(file)
        .map_err(|e| format!("{}: {}", file.display(), e.public_message()))?;
    if !report.ok {
        return Err(format!(
            "{} is not a sound backup:\n{}",
            file.display(),
            control::report_text(&report)
                .err()
                .map(|e| e.public_message())
                .unwrap_or_default()
        ));
    }
    let db = cfg.db_path();
    if db.exists() {
        // Refuses while the server holds the lock.
        if let Err(e) = switchboard::store::check_offline(&db)
            && switchboard::store::is_locked(&e)
        {
            return Err("the server is running; stop it first (systemctl stop switchboard)".into());
        }
        let kept = db.with_extension(format!("redb.before-restore-{}", std::process::id()));
        std::fs::rename(&db, &kept)
            .map_err(|e| format!("cannot move {} aside: {e}", db.display()))?;
        std::fs::copy(file, &db).map_err(|e| format!("cannot copy {}: {e}", file.display()))?;
        return Ok(format!(
            "restored {} into {} (previous database kept as {})",
            file.display(),
            db.display(),
            kept.display()
        ));
    }
    std::fs::create_dir_all(&cfg.data_dir).map_err(|e| e.to_string())?;
    std::fs::copy(file, &db).map_err(|e| format!("cannot copy {}: {e}", file.display()))?;
    Ok(format!("restored {} into {}", file.display(), db.display()))
}
