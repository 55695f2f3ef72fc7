//! The one server fixture: boots the real server in-process on 127.0.0.1:0 with a temp data dir
//! and a movable clock, completes the setup flow (administrator `admin`), and hands out logged-in
//! clients.
//!
//! ```ignore
//! let t = TestServer::start().await;                       // the usual
//! let t = TestServer::builder().long_logins().start().await; // options, builder-style
//! ```

use std::sync::Arc;
use switchboard::ids::UserId;

use serde_json::{Value, json};
use switchboard::clock::TestClock;
use switchboard::config::Config;
use switchboard::server::{self, Running};
use tempfile::TempDir;

use super::client::{Client, client_builder};

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestServer {
    pub running: Option<Running>,
    pub dir: TempDir,
    pub clock: TestClock,
    pub config: Config,
    /// The administrator created by the setup flow, logged in.
    pub admin: Client,
    pub admin_id: u64,
}

/// The config every test server starts from: loopback port 0, `data_dir`, quiet logs.
pub fn test_config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        log: switchboard::config::LogConfig {
            level: "warn".into(),
            format: switchboard::config::LogFormat::Text,
        },
        ..Default::default()
    }
}

type Edit = Box<dyn FnOnce(&mut Config)>;

/// Options for [`TestServer`]. By default the scheduled jobs are off except the outbound
/// retry worker (tests run a job with `jobs::run_now` when they mean to).
#[must_use]
pub struct TestServerBuilder {
    edits: Vec<Edit>,
    all_jobs_off: bool,
}

impl TestServerBuilder {
    /// Logins that survive the tests' jumps of the clock over days (the 24-hour reply window).
    pub fn long_logins(self) -> Self {
        self.config(|c| {
            c.auth.session_idle_minutes = 14 * 24 * 60;
            c.auth.session_max_hours = 30 * 24;
        })
    }

    /// No scheduled job at all, not even the outbound retry worker.
    pub fn without_jobs(mut self) -> Self {
        self.all_jobs_off = true;
        self
    }

    /// Any other change to the config (applied after the defaults of the test config).
    pub fn config(mut self, edit: impl FnOnce(&mut Config) + 'static) -> Self {
        self.edits.push(Box::new(edit));
        self
    }

    pub async fn start(self) -> TestServer {
        switchboard::tls::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        let jobs = &mut config.jobs;
        let mut off = vec![
            &mut jobs.attachment_cleanup,
            &mut jobs.session_closure,
            &mut jobs.history_retention,
            &mut jobs.login_session_sweep,
            &mut jobs.backup,
        ];
        if self.all_jobs_off {
            off.push(&mut jobs.outbound_retry);
        }
        for j in off {
            j.clear();
        }
        for edit in self.edits {
            edit(&mut config);
        }
        TestServer::boot(dir, config).await
    }
}

impl TestServer {
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder {
            edits: Vec::new(),
            all_jobs_off: false,
        }
    }

    pub async fn start() -> Self {
        Self::builder().start().await
    }

    /// The same with one config edit: `TestServer::start_with(|c| c.x = y)`.
    pub async fn start_with(edit: impl FnOnce(&mut Config) + 'static) -> Self {
        Self::builder().config(edit).start().await
    }

    async fn boot(dir: TempDir, config: Config) -> Self {
        let clock = TestClock::new();
        let running = server::start(config.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
        let base = format!("http://{}", running.addr);
        let setup = running
            .setup_url
            .clone()
            .expect("fresh server has a setup link");
        let token = setup.split("token=").nth(1).unwrap().to_string();
        let http = client_builder().build().unwrap();
        let resp = http
            .post(format!("{base}/setup"))
            .form(&[
                ("token", token.as_str()),
                ("username", ADMIN),
                ("display_name", "Ada Admin"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 303, "setup should redirect");
        let admin = Client::login(&base, ADMIN, PASSWORD).await;
        let me = admin.get("/api/v1/me").await.json();
        let admin_id = me["id"].as_u64().unwrap();
        TestServer {
            running: Some(running),
            dir,
            clock,
            config,
            admin,
            admin_id,
        }
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }
    pub fn state(&self) -> &switchboard::AppState {
        &self.running().state
    }
    pub fn base(&self) -> String {
        format!("http://{}", self.running().addr)
    }

    /// Stop and start again on the same data dir (a new port; clients must log in again).
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        // The old server's last connections let go of the database shortly after it stopped.
        let mut tries = 0;
        let running = loop {
            match server::start(self.config.clone(), Arc::new(self.clock.clone())).await {
                Ok(r) => break r,
                Err(e) if tries < 100 && e.to_string().contains("in use") => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("restart: {e}"),
            }
        };
        self.running = Some(running);
        self.relogin().await;
    }

    /// Log the admin in again (after a restart, or after moving the clock past the login
    /// session's lifetime).
    pub async fn relogin(&mut self) {
        self.admin = Client::login(&self.base(), ADMIN, PASSWORD).await;
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// Create a user through the admin API and return a logged-in client for them.
    pub async fn user(&self, username: &str, role: &str) -> (u64, Client) {
        let r = self
            .admin
            .post("/api/v1/users", json!({"username": username, "password": PASSWORD, "role": role, "display_name": username}))
            .await;
        assert_eq!(r.status, 201, "create user: {}", r.text());
        let id = r.json()["id"].as_u64().unwrap();
        (id, Client::login(&self.base(), username, PASSWORD).await)
    }

    /// An API token (`swb_…`) for a user, for tests that play a script.
    pub async fn api_token(&self, user_id: u64) -> String {
        switchboard::domain::auth::create_api_token(
            &self.state().store,
            UserId(user_id),
            "test",
            None,
            None,
        )
        .await
        .unwrap()
        .0
    }

    /// Create a channel directly in the domain (input is a `ChannelInput` as JSON). For a
    /// channel made the way an admin makes it, with a provider fake behind it, see
    /// [`super::setup`].
    pub async fn channel(&self, input: Value) -> u64 {
        self.channel_with(serde_json::from_value(input).unwrap())
            .await
    }

    /// [`TestServer::channel`] from a typed `ChannelInput`.
    pub async fn channel_with(&self, input: switchboard::domain::channels::ChannelInput) -> u64 {
        let admin = self.admin_id;
        self.state()
            .store
            .write(move |ctx| switchboard::domain::channels::create_in(ctx, UserId(admin), &input))
            .await
            .unwrap()
            .id
            .get()
    }

    /// How many rows a table holds (read from the store directly).
    pub async fn count(&self, table: switchboard::store::tables::Def) -> u64 {
        self.state()
            .store
            .read(move |rtx| {
                use redb::ReadableTableMetadata;
                Ok(rtx.open_table(table)?.len()?)
            })
            .await
            .unwrap()
    }
}
