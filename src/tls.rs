//! TLS: a configured certificate, or a self-signed one generated on first start (rcgen) and kept
//! in the data dir. HTTP/2 is offered by ALPN so many tabs with event streams share one
//! connection.

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

pub async fn load(cfg: &Config) -> anyhow::Result<Option<TlsMaterial>> {
    let (cert_path, key_path) = match cfg.tls_mode()? {
        Tls::Off => return Ok(None),
        Tls::Files { cert, key } => (cert, key),
        Tls::SelfSigned => ensure_self_signed(&cfg.data_dir)?,
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

fn ensure_self_signed(data_dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let dir = data_dir.join("tls");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        let h = h.trim();
        if !h.is_empty() {
            names.push(h.to_string());
            names.push(format!("{h}.local"));
        }
    }
    let ck = rcgen::generate_simple_self_signed(names)?;
    std::fs::write(&cert, ck.cert.pem())?;
    write_private(&key, ck.signing_key.serialize_pem().as_bytes())?;
    tracing::info!(cert = %cert.display(), "generated a self-signed TLS certificate");
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
