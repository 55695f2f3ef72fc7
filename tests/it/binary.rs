//! The real `switchboard` binary as a child process on a data directory: CLI commands and a
//! served instance whose log is kept in a file (for tests that read the log or need the
//! process's own panic strategy and exit).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct Bin {
    pub port: u16,
    cfg: PathBuf,
    logs: PathBuf,
    env: Vec<(String, String)>,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Bin {
    /// For the data directory `data`; `env` adds `SWITCHBOARD_*` settings.
    pub fn new(data: &Path, env: &[(&str, &str)]) -> Bin {
        let port = free_port();
        let cfg = data.with_extension("toml");
        std::fs::write(&cfg, "").unwrap();
        let mut all = vec![
            (
                "SWITCHBOARD_DATA_DIR".to_string(),
                data.display().to_string(),
            ),
            ("SWITCHBOARD_LISTEN".into(), format!("127.0.0.1:{port}")),
            (
                "SWITCHBOARD_PUBLIC_URL".into(),
                format!("http://127.0.0.1:{port}"),
            ),
            ("SWITCHBOARD_LOG__LEVEL".into(), "info".into()),
        ];
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Bin {
            port,
            cfg,
            logs: data.parent().unwrap().to_path_buf(),
            env: all,
        }
    }

    /// Keep config and logs in `dir` (e.g. off a deliberately full file system).
    pub fn logs_in(mut self, dir: &Path) -> Bin {
        self.cfg = dir.join("switchboard.toml");
        std::fs::write(&self.cfg, "").unwrap();
        self.logs = dir.to_path_buf();
        self
    }

    fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_switchboard"));
        c.arg("--config").arg(&self.cfg).envs(self.env.clone());
        c
    }

    /// Runs a CLI command to its end.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Adds administrator `name` on the command line and returns an API token for it.
    pub fn admin_token(&self, name: &str, password: &str) -> String {
        let out = self.run(&[
            "user",
            "add",
            name,
            "--role",
            "admin",
            "--password",
            password,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = self.run(&["token", "create", "--user", name]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `serve`; Ok once `/healthz` answers, Err(log) if the process exits first (10 s at most).
    pub async fn serve(&self) -> Result<Served, String> {
        let log = self.logs.join(format!("server-{}.log", free_port()));
        let file = std::fs::File::create(&log).unwrap();
        let child = self
            .command()
            .arg("serve")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        let mut s = Served {
            child,
            log,
            base: self.base(),
        };
        let http = crate::support::client_builder().build().unwrap();
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if !s.alive() {
                return Err(s.log());
            }
            if let Ok(r) = http.get(format!("{}/healthz", s.base)).send().await
                && r.status().as_u16() != 0
            {
                return Ok(s);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("not up after 10 s:\n{}", s.log()))
    }
}

pub struct Served {
    child: Child,
    log: PathBuf,
    pub base: String,
}

impl Served {
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    /// SIGTERM and wait for a clean exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.alive() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
