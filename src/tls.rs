//! TLS: a configured certificate, or a self-signed one generated on first start (rcgen) and kept
//! in the data dir. HTTP/2 is offered by ALPN so many tabs with event streams share one
//! connection.
//!
//! The self-signed certificate names the box (CN = host name, O = Switchboard; the host name,
//! `<host>.local`, localhost and the loopback addresses as alternative names) and is valid for
//! 397 days, the most browsers accept. `tls/self-signed.json` records when it expires; a start
//! within 30 days of that (or without the record, e.g. a certificate of an older version) makes
//! a new one, and the log gives its fingerprint.

use std::path::{Path, PathBuf};

use axum_server::tls_rustls::RustlsConfig;

use crate::config::{Config, Tls};

pub struct TlsMaterial {
    pub config: RustlsConfig,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// SHA-256 of the leaf certificate (DER), colon-separated hex.
    pub fingerprint: String,
}

pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `now_ms`: the clock's time, for the self-signed certificate's validity.
pub async fn load(cfg: &Config, now_ms: i64) -> anyhow::Result<Option<TlsMaterial>> {
    let (cert_path, key_path) = match cfg.tls_mode()? {
        Tls::Off => return Ok(None),
        Tls::Files { cert, key } => (cert, key),
        Tls::SelfSigned => ensure_self_signed(&cfg.data_dir, now_ms)?,
    };
    let cert = std::fs::read(&cert_path)
        .map_err(|e| anyhow::anyhow!("cannot read TLS certificate {}: {e}", cert_path.display()))?;
    let key = std::fs::read(&key_path)
        .map_err(|e| anyhow::anyhow!("cannot read TLS key {}: {e}", key_path.display()))?;
    let fingerprint = fingerprint_pem(&cert)
        .ok_or_else(|| anyhow::anyhow!("{} holds no PEM certificate", cert_path.display()))?;
    let config = RustlsConfig::from_pem(cert, key).await.map_err(|e| {
        anyhow::anyhow!(
            "TLS certificate {} / key {}: {e}",
            cert_path.display(),
            key_path.display()
        )
    })?;
    Ok(Some(TlsMaterial {
        config,
        cert_path,
        key_path,
        fingerprint,
    }))
}

fn fingerprint_pem(pem: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(pem).ok()?;
    let start = text.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = text[start..].find("-----END CERTIFICATE-----")? + start;
    let b64: String = text[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    use sha2::Digest;
    Some(
        sha2::Sha256::digest(&der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// Validity of a self-signed certificate (the most browsers accept for any certificate).
const VALID_DAYS: i64 = 397;
/// A start this close to the end of the validity makes a new certificate.
const RENEW_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

#[derive(serde::Serialize, serde::Deserialize)]
struct SelfSignedRecord {
    host: String,
    not_after_ms: i64,
}

/// This machine's host name, if it has one.
pub fn hostname() -> Option<String> {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()?;
    let h = h.trim();
    (!h.is_empty()).then(|| h.to_string())
}

fn ensure_self_signed(data_dir: &Path, now_ms: i64) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = data_dir.join("tls");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let record = dir.join("self-signed.json");
    let host = hostname().unwrap_or_else(|| "localhost".into());
    let current = std::fs::read(&record)
        .ok()
        .and_then(|b| serde_json::from_slice::<SelfSignedRecord>(&b).ok());
    let why = match &current {
        _ if !cert.exists() || !key.exists() => None,
        None => Some("it has no expiry record (made by an older version)".to_string()),
        Some(r) if r.not_after_ms - now_ms < RENEW_DAYS * DAY_MS => {
            Some("it expires within 30 days".into())
        }
        Some(r) if r.host != host => Some(format!("the host name changed from {}", r.host)),
        Some(_) => return Ok((cert, key)),
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if host != "localhost" {
        names.push(host.clone());
        names.push(format!("{host}.local"));
    }
    let mut params = rcgen::CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, host.as_str());
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Switchboard");
    let at = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .map_err(|e| anyhow::anyhow!("certificate validity: {e}"))
    };
    // A day of slack before "now" for clocks that are a little behind.
    params.not_before = at(now_ms - DAY_MS)?;
    let not_after_ms = now_ms + VALID_DAYS * DAY_MS;
    params.not_after = at(not_after_ms)?;
    let signing_key = rcgen::KeyPair::generate()?;
    let generated = params.self_signed(&signing_key)?;
    std::fs::write(&cert, generated.pem())?;
    write_private(&key, signing_key.serialize_pem().as_bytes())?;
    std::fs::write(
        &record,
        serde_json::to_vec(&SelfSignedRecord {
            host: host.clone(),
            not_after_ms,
        })?,
    )?;
    match why {
        None => {
            tracing::info!(cert = %cert.display(), %host, "generated a self-signed TLS certificate (valid 397 days)")
        }
        Some(why) => {
            tracing::warn!(cert = %cert.display(), %host, %why, "replaced the self-signed TLS certificate; browsers will ask to trust the new one (fingerprint below)")
        }
    }
    Ok((cert, key))
}

fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(data)
}
