//! Starting and stopping the server: open the store, bind, serve (HTTP or HTTPS), run jobs and
//! the control socket, tell systemd we are ready, and stop cleanly on shutdown.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

use crate::app::{AppInner, AppState};
use crate::clock::Clock;
use crate::config::Config;
use crate::domain::attachments::media::MediaStore;
use crate::domain::{auth::Throttle, passwords::Passwords, tokens, users};
use crate::http;
use crate::store::Store;

pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub shutdown: CancellationToken,
    pub setup_url: Option<String>,
    /// Open client connections.
    pub connections: Arc<crate::conn::Counts>,
    join: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Stop accepting, let requests finish (up to 5 s), stop jobs, close the database; returns
    /// when the database file is closed (so the same data dir can be opened again).
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.join.await;
        let store = self.state.store.clone();
        drop(self.state);
        for _ in 0..100 {
            if store.handles() <= 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Dropping the last handle joins the writer thread and closes the file.
        let _ = tokio::task::spawn_blocking(move || drop(store)).await;
    }
    pub async fn wait(self) {
        let _ = self.join.await;
    }
}

fn prometheus() -> Option<PrometheusHandle> {
    static H: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    H.get_or_init(|| {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::set_global_recorder(recorder).ok().map(|_| handle)
    })
    .clone()
}

/// Open everything and start serving. Errors name the problem in one line.
pub async fn start(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    crate::tls::install_crypto_provider();
    let config = Arc::new(config);
    let listen = config.listen_addr()?;
    let public_url = config.public_url()?;
    let db_path = config.db_path();
    let (c, cl) = (config.clone(), clock.clone());
    let store = tokio::task::spawn_blocking(move || {
        let opts = crate::store::OpenOptions {
            cache_mb: c.store.cache_size_mb,
            max_batch: c.store.max_batch,
            verify: c.store.verify_on_start,
            min_free_mb: c.store.min_free_mb,
        };
        Store::open_with(&db_path, &opts, cl)
    })
    .await?
    .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
    // No upload can be in progress yet: whatever is still marked as one was cut off.
    match crate::domain::attachments::reclaim_uploads(&store, None).await {
        Ok((0, _)) => {}
        Ok((n, chunks)) => tracing::info!(uploads = n, chunks, "reclaimed unfinished uploads"),
        Err(e) => tracing::warn!(error = %e, "could not reclaim unfinished uploads"),
    }
    let tls = crate::tls::load(&config, clock.now_ms()).await?;
    let listener = bind(listen, config.limits.max_connections)
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let public_url = if config.public_url.trim().is_empty() {
        let scheme = if tls.is_some() { "https" } else { "http" };
        // A wildcard listen address is no use in a link: name the box instead.
        let host = if addr.ip().is_unspecified() {
            crate::tls::hostname().unwrap_or_else(|| "localhost".into())
        } else {
            addr.ip().to_string()
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        format!("{scheme}://{host}:{}", addr.port())
    } else {
        public_url
    };

    // Setup (the first administrator) is offered until an administrator exists, whether made
    // there or on the command line.
    let no_admin = !store
        .read(users::admin_exists)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let setup_token = if no_admin {
        Some(tokens::random_token("", 24).map_err(|e| anyhow::anyhow!("{e}"))?)
    } else {
        None
    };
    let setup_url = setup_token
        .as_ref()
        .map(|t| format!("{public_url}/setup?token={t}"));
    if let Some(url) = &setup_url {
        tracing::warn!(%url, "no administrator yet: open this one-time setup link to create the first one");
    }
    if let Some(t) = &tls {
        tracing::info!(fingerprint = %t.fingerprint, "TLS certificate SHA-256 fingerprint");
    }
    let http_client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .pool_max_idle_per_host(4)
        .build()?;
    let media_secret = crate::domain::attachments::media_secret(&store)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let device_secret = store
        .install_secret(b"login_device_secret")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let shutdown = CancellationToken::new();
    let state = AppState::new(AppInner {
        store: store.clone(),
        config: config.clone(),
        clock: clock.clone(),
        passwords: Passwords::default(),
        throttle: Throttle::new(device_secret),
        setup_token: Mutex::new(setup_token),
        public_url: public_url.clone(),
        secure_cookies: tls.is_some() || public_url.starts_with("https://"),
        tls_fingerprint: tls.as_ref().map(|t| t.fingerprint.clone()),
        tls_ca: tls.as_ref().and_then(|t| t.ca.clone()),
        tls_config: tls.as_ref().map(|t| t.config.clone()),
        http: http_client,
        metrics: prometheus(),
        shutdown: shutdown.clone(),
        delivery: Default::default(),
        presence: Default::default(),
        pbx_link: Default::default(),
        live_calls: Default::default(),
        media_secret,
        pbx_tokens: Default::default(),
        channels: Default::default(),
    });
    spawn_metrics_upkeep(&state);
    let router = http::app(state.clone());

    start_workers(&state).await;
    crate::jobs::spawn_all(state.job_ctx()).map_err(|e| anyhow::anyhow!("{e}"))?;
    crate::control::spawn(state.clone());

    let rustls = tls.map(|t| {
        spawn_sighup_reload(
            t.config.clone(),
            t.cert_path.clone(),
            t.key_path.clone(),
            shutdown.clone(),
        );
        t.config
    });
    let settings = crate::conn::Settings::from_config(&config.limits);
    let (connections, join) =
        crate::conn::spawn(listener, rustls, router, settings, shutdown.clone());
    tracing::info!(%addr, %public_url, db = %store.path().display(), "switchboard ready");
    notify_ready(&state);
    Ok(Running {
        addr,
        state,
        shutdown,
        setup_url,
        connections,
        join,
    })
}

/// The outbound delivery worker and the inbound media fetcher, each with the slice of the
/// application it uses.
async fn start_workers(state: &AppState) {
    let media = MediaStore::new(
        &state.store,
        &state.public_url,
        &state.config,
        &state.media_secret,
    );
    crate::domain::delivery::start(
        state.store.clone(),
        state.clock.clone(),
        state.public_url.clone(),
        media.clone(),
        state.delivery.clone(),
        state.shutdown.clone(),
    )
    .await;
    crate::domain::delivery::media_fetch::start(
        state.store.clone(),
        state.clock.clone(),
        media,
        state.shutdown.clone(),
    );
    // Web Push: the VAPID `sub` claim is the box's https address, or a mailto for an
    // http-only box (push services want one of the two).
    let contact = if state.public_url.starts_with("https://") {
        state.public_url.clone()
    } else {
        let host = crate::tls::hostname().unwrap_or_else(|| "localhost".into());
        format!("mailto:switchboard@{host}")
    };
    let push = crate::domain::push::worker::Sender {
        store: state.store.clone(),
        clock: state.clock.clone(),
        http: state.http.clone(),
        contact,
        backoff: Duration::from_secs(1),
    };
    if let Err(e) = crate::domain::push::worker::start(push, state.shutdown.clone()).await {
        tracing::error!(error = %e, "web push worker not started");
    }
    crate::domain::pbx_link::start(
        crate::domain::pbx_link::Ctx {
            store: state.store.clone(),
            clock: state.clock.clone(),
            presence: state.presence.clone(),
            link: state.pbx_link.clone(),
            live_calls: state.live_calls.clone(),
            timeouts: Default::default(),
            kick: state.delivery.clone(),
        },
        state.shutdown.clone(),
    );
}

/// The listening socket, with room in the kernel's accept queue for a burst of connections
/// (std's 128 left a flood's surplus half-open: established for the client, never accepted).
fn bind(addr: SocketAddr, backlog: usize) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog.clamp(128, 4096) as u32)
}

/// Histogram samples wait in the recorder until they are folded into its summaries, which
/// `render` does on a `/metrics` scrape; without a scraper they would pile up for as long as the
/// server runs (about 8 bytes per request and per commit). Fold them every 5 s instead.
fn spawn_metrics_upkeep(state: &AppState) {
    let Some(handle) = state.metrics.clone() else {
        return;
    };
    let stop = state.shutdown.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(5)) => handle.run_upkeep(),
            }
        }
    });
}

#[cfg(unix)]
fn spawn_sighup_reload(
    cfg: axum_server::tls_rustls::RustlsConfig,
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
    stop: CancellationToken,
) {
    tokio::spawn(async move {
        let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            return;
        };
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = hup.recv() => match cfg.reload_from_pem_file(&cert, &key).await {
                    Ok(()) => tracing::info!("TLS certificate reloaded"),
                    Err(e) => tracing::error!(error = %e, "TLS certificate reload failed; keeping the old one"),
                }
            }
        }
    });
}

/// sd_notify READY, then watchdog pings only while the store answers reads, with a STATUS line
/// when its health changes.
fn notify_ready(state: &AppState) {
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
    let mut usec = 0u64;
    if !sd_notify::watchdog_enabled(false, &mut usec) || usec == 0 {
        return;
    }
    let every = Duration::from_micros(usec / 2);
    let st = state.clone();
    tokio::spawn(async move {
        let mut last_status = String::from("ok");
        loop {
            tokio::select! {
                _ = st.shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            let healthy =
                tokio::time::timeout(every, st.store.read(crate::store::events::last_seq)).await;
            if matches!(healthy, Ok(Ok(_))) {
                // Reads answer: alive, even when degraded (a full disk, damage met by a read);
                // `systemctl status` shows which.
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                let status = st.store.health().state().text();
                if status != last_status {
                    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Status(&status)]);
                    last_status = status;
                }
            } else {
                tracing::error!("store did not answer; withholding the watchdog ping");
            }
        }
    });
}

/// SIGTERM and SIGINT, registered before the server starts. Until a handler is registered the
/// default action of SIGTERM is to end the process at once, so a stop that arrives while the
/// server is starting or just became ready would skip the clean shutdown and leave the database
/// to be repaired at the next start (2 s for a 600 MB database in the pages benchmark).
pub struct ShutdownSignals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
}

impl ShutdownSignals {
    /// Registers the handlers; call inside the runtime, before `start`.
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                term: signal(SignalKind::terminate()).ok(),
                int: signal(SignalKind::interrupt()).ok(),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Resolves at the first SIGTERM or SIGINT.
    pub async fn wait(mut self) {
        #[cfg(unix)]
        {
            async fn recv(s: Option<&mut tokio::signal::unix::Signal>) {
                match s {
                    Some(s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = recv(self.term.as_mut()) => {},
                _ = recv(self.int.as_mut()) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    }
}
