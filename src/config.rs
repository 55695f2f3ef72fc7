//! Configuration: embedded defaults, then the TOML file, then `SWITCHBOARD_*` environment
//! overrides (nested keys joined with `__`). Unknown keys are an error that names the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where an installed box keeps its configuration.
pub const SYSTEM_CONFIG: &str = "/etc/switchboard/switchboard.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Socket address to listen on.
    pub listen: String,
    /// How providers and browsers reach the box (scheme://host[:port]); empty = derived from `listen`.
    pub public_url: String,
    /// Directory holding `switchboard.redb`, the TLS material and backups.
    pub data_dir: PathBuf,
    pub tls: Tls,
    pub log: LogConfig,
    pub store: StoreConfig,
    pub auth: AuthConfig,
    pub retention: RetentionConfig,
    pub jobs: JobsConfig,
    pub limits: LimitsConfig,
    pub metrics: MetricsConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Who may read `/metrics`: `"local"` (this machine, or an administrator), `"admin"`
    /// (administrators: login or API token) or `"open"` (anyone who reaches the port).
    pub access: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            access: "local".into(),
        }
    }
}

/// How `tls` is written in the config file: `"off"`, `"self-signed"` or `{ cert, key }`; read
/// into [`Tls`], which refuses any other word with a message that lists the three.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
enum TlsSetting {
    Mode(String),
    Files { cert: PathBuf, key: PathBuf },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub level: String,
    pub format: LogFormat,
}

/// How log lines are written: `text` for people reading the journal, `json` for collectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    pub cache_size_mb: u64,
    /// Most writes folded into one durable transaction.
    pub max_batch: usize,
    /// Verify every page's checksum when the server starts (refuse a damaged file).
    pub verify_on_start: bool,
    /// Refuse writes (503) while the data directory has less free space than this, in MiB.
    pub min_free_mb: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    pub session_idle_minutes: u64,
    pub session_max_hours: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    pub attachments_hours: u64,
    pub history_days: u64,
    pub events_days: u64,
    /// Automatic backups kept in `<data_dir>/backups/` (the oldest beyond are deleted).
    pub backups: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    pub attachment_cleanup: String,
    pub session_closure: String,
    pub history_retention: String,
    pub outbound_retry: String,
    pub login_session_sweep: String,
    /// Consistent copy of the database into `<data_dir>/backups/`.
    pub backup: String,
    /// `tls = "self-signed"`: a new server certificate from the local CA within 30 days of
    /// the current one's end, loaded without a restart.
    pub tls_renewal: String,
    /// Automatic "all agents busy" replies that are due, snoozed conversations whose time has
    /// come, missed response targets (docs/automation.md).
    pub automation: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Cap for JSON and form bodies (file uploads have their own per-channel limits).
    pub max_body_kb: usize,
    /// Longest text message an agent may send.
    pub max_message_chars: usize,
    /// Open connections at once, all clients together; more are closed at once.
    pub max_connections: usize,
    /// Open connections at once from one client address.
    pub max_connections_per_address: usize,
    /// Seconds a client has for the TLS handshake and for a request's line and headers (also
    /// how long an idle HTTP/1 keep-alive connection stays open).
    pub header_timeout_secs: u64,
    /// Seconds a request body may take, plus one second per KiB received: a body must keep up
    /// at least 1 KiB/s on average after this grace (long uploads that keep moving are fine).
    pub body_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            data_dir: PathBuf::from("./switchboard-data"),
            tls: Tls::Off,
            log: LogConfig::default(),
            store: StoreConfig::default(),
            auth: AuthConfig::default(),
            retention: RetentionConfig::default(),
            jobs: JobsConfig::default(),
            limits: LimitsConfig::default(),
            metrics: MetricsConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}
impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            cache_size_mb: 8,
            max_batch: 1024,
            verify_on_start: true,
            min_free_mb: 64,
        }
    }
}
impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_idle_minutes: 480,
            session_max_hours: 168,
        }
    }
}
impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            attachments_hours: 72,
            history_days: 365,
            events_days: 7,
            backups: 7,
        }
    }
}
impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            attachment_cleanup: "0 */15 * * * *".into(),
            session_closure: "0 * * * * *".into(),
            history_retention: "0 30 3 * * *".into(),
            outbound_retry: "*/5 * * * * *".into(),
            login_session_sweep: "0 */10 * * * *".into(),
            backup: "0 15 2 * * *".into(),
            tls_renewal: "0 45 3 * * *".into(),
            automation: "*/10 * * * * *".into(),
        }
    }
}
impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_kb: 1024,
            max_message_chars: 4096,
            max_connections: 1024,
            max_connections_per_address: 128,
            header_timeout_secs: 10,
            body_timeout_secs: 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("config: {0}")]
    Invalid(String),
}

/// The TLS mode: plain HTTP, a certificate from the local CA (`tls.rs`), or the admin's own files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TlsSetting", into = "TlsSetting")]
pub enum Tls {
    Off,
    SelfSigned,
    Files { cert: PathBuf, key: PathBuf },
}

impl TryFrom<TlsSetting> for Tls {
    type Error = String;
    fn try_from(raw: TlsSetting) -> Result<Self, String> {
        match raw {
            TlsSetting::Mode(m) if m == "off" => Ok(Tls::Off),
            TlsSetting::Mode(m) if m == "self-signed" => Ok(Tls::SelfSigned),
            TlsSetting::Mode(m) => Err(format!(
                "tls must be \"off\", \"self-signed\" or {{ cert = \"...\", key = \"...\" }}, not {m:?}"
            )),
            TlsSetting::Files { cert, key } => Ok(Tls::Files { cert, key }),
        }
    }
}

impl From<Tls> for TlsSetting {
    fn from(t: Tls) -> Self {
        match t {
            Tls::Off => TlsSetting::Mode("off".into()),
            Tls::SelfSigned => TlsSetting::Mode("self-signed".into()),
            Tls::Files { cert, key } => TlsSetting::Files { cert, key },
        }
    }
}

impl Config {
    /// Load the configuration: `explicit` path, else the system file if it exists, else defaults;
    /// then apply `SWITCHBOARD_*` variables from `env`, then validate.
    pub fn load(
        explicit: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => {
                let sys = PathBuf::from(SYSTEM_CONFIG);
                sys.exists().then_some(sys)
            }
        };
        let (mut value, origin) = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?;
                let v: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    path: p.clone(),
                    message: e.message().to_string(),
                })?;
                (v, p.clone())
            }
            None => (toml::Table::new(), PathBuf::from("<defaults>")),
        };
        for (var, raw) in env {
            let Some(rest) = var.strip_prefix("SWITCHBOARD_") else {
                continue;
            };
            if rest.is_empty() || rest == "CONFIG" {
                continue;
            }
            let keys: Vec<String> = rest.split("__").map(|k| k.to_ascii_lowercase()).collect();
            set_path(&mut value, &keys, parse_env_value(&raw)).map_err(|message| {
                ConfigError::Env {
                    var: var.clone(),
                    message,
                }
            })?;
        }
        let cfg: Config =
            Config::deserialize(toml::Value::Table(value)).map_err(|e| ConfigError::Parse {
                path: origin,
                message: e.message().to_string(),
            })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        self.tls_mode()?;
        self.public_url()?;
        if self.store.cache_size_mb == 0 || self.store.cache_size_mb > 4096 {
            return Err(ConfigError::Invalid(
                "store.cache_size_mb must be between 1 and 4096".into(),
            ));
        }
        if !matches!(self.metrics.access.as_str(), "local" | "admin" | "open") {
            return Err(ConfigError::Invalid(format!(
                "metrics.access must be \"local\", \"admin\" or \"open\", not {:?}",
                self.metrics.access
            )));
        }
        if self.store.max_batch == 0 {
            return Err(ConfigError::Invalid(
                "store.max_batch must be at least 1".into(),
            ));
        }
        if self.auth.session_idle_minutes == 0 || self.auth.session_max_hours == 0 {
            return Err(ConfigError::Invalid(
                "auth session lifetimes must be positive".into(),
            ));
        }
        if self.retention.attachments_hours == 0
            || self.retention.history_days == 0
            || self.retention.backups == 0
        {
            return Err(ConfigError::Invalid(
                "retention periods must be positive".into(),
            ));
        }
        if self.limits.max_connections == 0 || self.limits.max_connections_per_address == 0 {
            return Err(ConfigError::Invalid(
                "limits.max_connections and limits.max_connections_per_address must be at least 1"
                    .into(),
            ));
        }
        if !(1..=3600).contains(&self.limits.header_timeout_secs)
            || !(1..=3600).contains(&self.limits.body_timeout_secs)
        {
            return Err(ConfigError::Invalid(
                "limits.header_timeout_secs and limits.body_timeout_secs must be between 1 and 3600"
                    .into(),
            ));
        }
        for (name, expr) in self.jobs.entries() {
            crate::schedule::parse(expr)
                .map_err(|e| ConfigError::Invalid(format!("jobs.{name}: {e}")))?;
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            ConfigError::Invalid(format!(
                "listen: {:?} is not an address like 127.0.0.1:8080",
                self.listen
            ))
        })
    }

    /// The TLS mode (checked when the config was read).
    pub fn tls_mode(&self) -> Result<Tls, ConfigError> {
        Ok(self.tls.clone())
    }

    /// The externally visible base URL without a trailing slash.
    pub fn public_url(&self) -> Result<String, ConfigError> {
        if self.public_url.trim().is_empty() {
            let scheme = if self.tls_mode()? == Tls::Off {
                "http"
            } else {
                "https"
            };
            return Ok(format!("{scheme}://{}", self.listen));
        }
        let parsed = url::Url::parse(self.public_url.trim())
            .map_err(|e| ConfigError::Invalid(format!("public_url {:?}: {e}", self.public_url)))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ConfigError::Invalid(format!(
                "public_url {:?} must be an http(s) URL with a host",
                self.public_url
            )));
        }
        Ok(self.public_url.trim().trim_end_matches('/').to_string())
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("switchboard.redb")
    }
}

impl JobsConfig {
    pub fn entries(&self) -> [(&'static str, &str); 8] {
        [
            ("automation", &self.automation),
            ("tls_renewal", &self.tls_renewal),
            ("backup", &self.backup),
            ("attachment_cleanup", &self.attachment_cleanup),
            ("session_closure", &self.session_closure),
            ("history_retention", &self.history_retention),
            ("outbound_retry", &self.outbound_retry),
            ("login_session_sweep", &self.login_session_sweep),
        ]
    }
}

/// Environment values are TOML literals when they parse as one (numbers, booleans, inline
/// tables), else plain strings.
fn parse_env_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

fn set_path(table: &mut toml::Table, keys: &[String], value: toml::Value) -> Result<(), String> {
    match keys {
        [] => Err("empty key".into()),
        [last] => {
            table.insert(last.clone(), value);
            Ok(())
        }
        [first, rest @ ..] => {
            let entry = table
                .entry(first.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => set_path(t, rest, value),
                _ => Err(format!("{first} is not a table")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let p = dir.path().join("c.toml");
        std::fs::write(&p, text).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Config::load(
            Some(&p),
            env.iter().map(|(a, b)| (a.to_string(), b.to_string())),
        )
    }

    #[test]
    fn defaults_serve_on_localhost() {
        let c = Config::load(None::<&Path>, Vec::new()).unwrap();
        assert_eq!(c.listen, "127.0.0.1:8080");
        assert_eq!(c.store.cache_size_mb, 8);
        assert_eq!(c.public_url().unwrap(), "http://127.0.0.1:8080");
    }

    #[test]
    fn unknown_key_is_named() {
        let err = load_str("listen = \"127.0.0.1:1\"\nlisten_port = 3\n", &[]).unwrap_err();
        assert!(err.to_string().contains("listen_port"), "{err}");
        let err = load_str("[store]\ncache = 3\n", &[]).unwrap_err();
        assert!(err.to_string().contains("cache"), "{err}");
    }

    #[test]
    fn env_overrides_nested_keys() {
        let c = load_str(
            "[store]\ncache_size_mb = 8\n",
            &[
                ("SWITCHBOARD_STORE__CACHE_SIZE_MB", "16"),
                ("SWITCHBOARD_LISTEN", "0.0.0.0:9000"),
            ],
        )
        .unwrap();
        assert_eq!(c.store.cache_size_mb, 16);
        assert_eq!(c.listen, "0.0.0.0:9000");
        let err = load_str("", &[("SWITCHBOARD_NOPE", "1")]).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }

    #[test]
    fn wrong_types_and_values_are_rejected() {
        assert!(load_str("listen = 5\n", &[]).is_err());
        assert!(load_str("listen = \"nowhere\"\n", &[]).is_err());
        assert!(load_str("tls = \"maybe\"\n", &[]).is_err());
        assert!(load_str("[jobs]\nsession_closure = \"every tuesday\"\n", &[]).is_err());
        let err = load_str("[jobs]\nattachment_cleanup = \"61 * * * * *\"\n", &[]).unwrap_err();
        assert!(err.to_string().contains("jobs.attachment_cleanup"), "{err}");
        assert!(load_str("[jobs]\nhistory_retention = \"0 30 3 * *\"\n", &[]).is_err());
        assert!(load_str("[retention]\nattachments_hours = 0\n", &[]).is_err());
        let c = load_str("[jobs]\nsession_closure = \"\"\n", &[]).unwrap();
        assert_eq!(c.jobs.session_closure, "");
        let c = load_str("tls = { cert = \"/a\", key = \"/b\" }\n", &[]).unwrap();
        assert!(matches!(c.tls_mode().unwrap(), Tls::Files { .. }));
    }

    proptest::proptest! {
        #![proptest_config(crate::proptest_config(256))]
        /// Any file content or environment value gives a config or a clear error, never a panic.
        #[test]
        fn arbitrary_config_text_never_panics(text in ".{0,200}", env_val in ".{0,40}") {
            let _ = load_str(&text, &[]);
            let _ = load_str("", &[("SWITCHBOARD_STORE__CACHE_SIZE_MB", &env_val), ("SWITCHBOARD_TLS", &env_val)]);
        }

        #[test]
        fn arbitrary_toml_shaped_config_never_panics(key in "[a-z_]{1,12}", val in "[0-9a-z\\\" ]{0,12}", section in "[a-z]{0,6}") {
            let text = if section.is_empty() { format!("{key} = {val}\n") } else { format!("[{section}]\n{key} = {val}\n") };
            let _ = load_str(&text, &[]);
        }
    }
}
