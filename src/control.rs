//! The control socket: while the server runs it holds the database's lock, so CLI commands
//! (`backup`, `check`, `user …`, `token create`, `jobs run`) are sent to it over a Unix socket
//! in the data dir (mode 0600: only the service user and root). When no server runs, the CLI
//! opens the database itself and calls the same `execute`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::app::AppState;
use crate::domain::auth;
use crate::domain::passwords::Passwords;
use crate::domain::users::{self, NewUser, Role, User, UserPatch, UserView};
use crate::error::{Error, Result};
use crate::jobs::{self, JobCtx};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    Backup {
        path: PathBuf,
    },
    Check,
    UserAdd {
        username: String,
        password: String,
        role: Role,
        display_name: String,
        email: String,
        extension: String,
    },
    UserPasswd {
        username: String,
        password: String,
    },
    UserDisable {
        username: String,
    },
    UserList,
    TokenCreate {
        username: String,
        name: String,
        #[serde(default)]
        expires_in_days: Option<u32>,
    },
    /// The API tokens of one user, or of everyone.
    TokenList {
        username: Option<String>,
    },
    TokenRevoke {
        id: u64,
    },
    JobRun {
        name: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    pub message: String,
}

pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("control.sock")
}

pub async fn execute(ctx: &JobCtx, passwords: &Passwords, req: Request) -> Result<String> {
    let store = &ctx.store;
    match req {
        Request::Backup { path } => {
            let s = store.clone();
            let p = path.clone();
            let rows = tokio::task::spawn_blocking(move || s.backup_to(&p))
                .await
                .map_err(Error::internal)??;
            Ok(format!(
                "backup written to {} ({rows} records)",
                path.display()
            ))
        }
        Request::Check => {
            let s = store.clone();
            let r = tokio::task::spawn_blocking(move || s.check())
                .await
                .map_err(Error::internal)??;
            report_text(&r)
        }
        Request::UserAdd {
            username,
            password,
            role,
            display_name,
            email,
            extension,
        } => {
            let u = users::create(
                store,
                passwords,
                None,
                NewUser {
                    username,
                    password,
                    display_name,
                    email,
                    extension,
                    role,
                    language: None,
                },
                false,
            )
            .await?;
            Ok(format!(
                "created user {} (id {}, {:?})",
                u.username, u.id, u.role
            ))
        }
        Request::UserPasswd { username, password } => {
            let u = find(ctx, &username).await?;
            let revoked =
                users::set_password(store, passwords, None, u.id, &password, false).await?;
            Ok(format!(
                "password of {username} changed; their sessions ended and {revoked} API tokens were revoked"
            ))
        }
        Request::UserDisable { username } => {
            let u = find(ctx, &username).await?;
            users::update(
                store,
                crate::ids::UserId(0),
                u.id,
                UserPatch {
                    disabled: Some(true),
                    ..Default::default()
                },
                true,
            )
            .await?;
            Ok(format!("{username} disabled; their sessions ended"))
        }
        Request::UserList => {
            let mut all: Vec<UserView> = store
                .read(users::list)
                .await?
                .iter()
                .map(UserView::from)
                .collect();
            all.sort_by_key(|u| u.id);
            let mut out = String::from("id\tusername\trole\tdisabled\tdisplay name\n");
            for u in all {
                out.push_str(&format!(
                    "{}\t{}\t{:?}\t{}\t{}\n",
                    u.id, u.username, u.role, u.disabled, u.display_name
                ));
            }
            Ok(out)
        }
        Request::TokenCreate {
            username,
            name,
            expires_in_days,
        } => {
            let u = find(ctx, &username).await?;
            let (token, _) =
                auth::create_api_token(store, u.id, &name, expires_in_days, None).await?;
            Ok(token)
        }
        Request::TokenList { username } => {
            let mut who: Vec<User> = match username {
                Some(n) => vec![find(ctx, &n).await?],
                None => store.read(users::list).await?,
            };
            who.sort_by_key(|u| u.id);
            let now = ctx.clock.now_ms();
            let mut out = String::from("id\tuser\tname\tcreated\tlast used\texpires\n");
            for u in who {
                for t in auth::list_api_tokens(store, u.id).await? {
                    let expires = match t.expires {
                        Some(e) if e <= now => format!("{} (expired)", utc(e)),
                        Some(e) => utc(e),
                        None => "never".into(),
                    };
                    out.push_str(&format!(
                        "{}\t{}\t{}\t{}\t{}\t{}\n",
                        t.id,
                        u.username,
                        t.name,
                        utc(t.created),
                        t.last_used.map_or_else(|| "never".into(), utc),
                        expires
                    ));
                }
            }
            Ok(out)
        }
        Request::TokenRevoke { id } => {
            let owner = store
                .read(users::list)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect::<Vec<_>>();
            for uid in owner {
                if auth::list_api_tokens(store, uid)
                    .await?
                    .iter()
                    .any(|t| t.id == id)
                {
                    let t = auth::revoke_api_token(store, None, uid, id).await?;
                    return Ok(format!("token {id} ({}) revoked", t.name));
                }
            }
            Err(Error::NotFound("token"))
        }
        Request::JobRun { name } => jobs::run_now(ctx.clone(), &name).await,
    }
}

/// A Unix-ms time as `YYYY-MM-DD HH:MM UTC` for the command line.
fn utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

pub fn report_text(r: &crate::store::CheckReport) -> Result<String> {
    let mut out = format!(
        "{}: {}\n",
        r.path,
        if r.ok { "OK" } else { "PROBLEMS FOUND" }
    );
    for p in &r.problems {
        out.push_str(&format!("  damaged: {p}\n"));
    }
    out.push_str(&format!(
        "schema version {}, {} records, {} bytes of live data in a {} byte file\n",
        r.schema_version, r.records, r.live_bytes, r.file_bytes
    ));
    for (t, n) in &r.tables {
        out.push_str(&format!("  {t}: {n}\n"));
    }
    if r.undecodable > 0 {
        out.push_str(&format!("{} undecodable records\n", r.undecodable));
    }
    if !r.ok {
        out.push_str(
            "To recover: stop the server, then `switchboard restore --latest` (the newest sound \
             backup in <data_dir>/backups/; the damaged file is kept beside it). See \
             docs/operations.md, \"Recovering a damaged database\".\n",
        );
        return Err(Error::Conflict(out));
    }
    Ok(out)
}

async fn find(ctx: &JobCtx, username: &str) -> Result<users::User> {
    let name = username.to_string();
    ctx.store
        .read(move |rtx| users::get_by_name(rtx, &name))
        .await?
        .ok_or(Error::NotFound("user"))
}

pub fn spawn(state: AppState) {
    let path = socket_path(&state.config.data_dir);
    let _ = std::fs::remove_file(&path);
    let listener = match tokio::net::UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "control socket unavailable; CLI commands need the server stopped");
            return;
        }
    };
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                _ = state.shutdown.cancelled() => break,
                c = listener.accept() => c,
            };
            let Ok((stream, _)) = conn else { continue };
            let st = state.clone();
            tokio::spawn(async move {
                let (r, mut w) = stream.into_split();
                let mut line = String::new();
                let mut reader = BufReader::new(r.take_limit());
                if reader.read_line(&mut line).await.is_err() {
                    return;
                }
                let resp = match serde_json::from_str::<Request>(&line) {
                    Ok(req) => match execute(&st.job_ctx(), &st.passwords, req).await {
                        Ok(message) => Response { ok: true, message },
                        Err(e) => Response {
                            ok: false,
                            message: e.public_message(),
                        },
                    },
                    Err(e) => Response {
                        ok: false,
                        message: format!("bad request: {e}"),
                    },
                };
                let mut out = serde_json::to_string(&resp).unwrap_or_default();
                out.push('\n');
                let _ = w.write_all(out.as_bytes()).await;
            });
        }
        let _ = std::fs::remove_file(&path);
    });
}

trait TakeLimit: Sized {
    fn take_limit(self) -> tokio::io::Take<Self>;
}
impl<T: tokio::io::AsyncRead> TakeLimit for T {
    fn take_limit(self) -> tokio::io::Take<Self> {
        use tokio::io::AsyncReadExt;
        self.take(64 * 1024)
    }
}

/// Send a request to a running server.
pub async fn send(data_dir: &Path, req: &Request) -> Result<Response> {
    let path = socket_path(data_dir);
    let stream = tokio::net::UnixStream::connect(&path).await.map_err(|e| {
        Error::Unavailable(format!(
            "the database is in use but the control socket {} does not answer: {e}",
            path.display()
        ))
    })?;
    let (r, mut w) = stream.into_split();
    let mut line = serde_json::to_string(req).map_err(Error::internal)?;
    line.push('\n');
    w.write_all(line.as_bytes())
        .await
        .map_err(Error::internal)?;
    let mut reader = BufReader::new(r);
    let mut out = String::new();
    reader.read_line(&mut out).await.map_err(Error::internal)?;
    serde_json::from_str(&out).map_err(|e| Error::Internal(format!("bad answer from server: {e}")))
}
