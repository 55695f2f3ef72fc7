//! TLS: a configured certificate, or (`tls = "self-signed"`) a server certificate issued by a
//! small local certificate authority, both made on first start (rcgen) and kept in the data
//! dir. HTTP/2 is offered by ALPN so many tabs with event streams share one connection.
//!
//! The local CA (`tls/ca.pem`, key `tls/ca-key.pem`, 0600) is made once and valid ten years;
//! phones and computers trust it once (`/ca.crt`, the `/ca` page's steps). The server
//! certificate it issues names the box (CN = host name; the host name, `<host>.local`, the LAN
//! addresses, localhost and the loopback addresses as alternative names) and is valid for 397
//! days, the most browsers accept. `tls/self-signed.json` records its names, its end and its
//! CA; a start within 30 days of the end, with other names (a new address), or without such a
//! record (a self-signed certificate of an older version) issues a new one from the same CA, so
//! devices that trust the CA never see a warning. The daily `tls-renewal` job
//! ([`renew_self_signed`]) does the same while the server runs and swaps the new certificate
//! into the running acceptor (which reads the configuration per connection).

use std::path::{Path, PathBuf};

use axum_server::tls_rustls::RustlsConfig;

use crate::config::{Config, Tls};

pub struct TlsMaterial {
    pub config: RustlsConfig,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// SHA-256 of the leaf certificate (DER), colon-separated hex.
    pub fingerprint: String,
    /// The local CA that issued the certificate (`tls = "self-signed"`).
    pub ca: Option<CaCert>,
}

pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `now_ms`: the clock's time, for the self-signed certificate's validity.
pub async fn load(cfg: &Config, now_ms: i64) -> anyhow::Result<Option<TlsMaterial>> {
    let (cert_path, key_path, ca) = match cfg.tls_mode()? {
        Tls::Off => return Ok(None),
        Tls::Files { cert, key } => (cert, key, None),
        Tls::SelfSigned => {
            let (c, k, ca) = ensure_self_signed(&cfg.data_dir, now_ms)?;
            (c, k, Some(ca))
        }
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
        ca,
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

/// This machine's host name, if it has one.
pub fn hostname() -> Option<String> {
    let h = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()?;
    let h = h.trim();
    (!h.is_empty()).then(|| h.to_string())
}

/// The local certificate authority of `tls = "self-signed"`: made once, kept in
/// `tls/ca.pem` + `tls/ca-key.pem`, offered to phones and computers at `/ca.crt`.
#[derive(Debug, Clone)]
pub struct CaCert {
    pub pem: String,
    pub der: Vec<u8>,
    /// SHA-256 of the DER, colon-separated hex.
    pub fingerprint: String,
}

/// The CA's own validity: ten years (it is trusted by hand on every device, so it should
/// outlive many server certificates).
const CA_VALID_DAYS: i64 = 3650;

#[derive(serde::Serialize, serde::Deserialize)]
struct CaRecord {
    /// The CA's subject common name (the organisation is always "Switchboard").
    common_name: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct IssuedRecord {
    host: String,
    not_after_ms: i64,
    /// Every name the server certificate covers.
    #[serde(default)]
    names: Vec<String>,
    /// The CA that signed it (fingerprint); none for a certificate of an older version.
    #[serde(default)]
    ca: Option<String>,
}

fn sha256_hex(der: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn ca_params(common_name: &str, now_ms: i64) -> anyhow::Result<rcgen::CertificateParams> {
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, common_name);
    p.distinguished_name
        .push(rcgen::DnType::OrganizationName, "Switchboard");
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    p.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = at(now_ms - DAY_MS)?;
    p.not_after = at(now_ms + CA_VALID_DAYS * DAY_MS)?;
    Ok(p)
}

fn at(ms: i64) -> anyhow::Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map_err(|e| anyhow::anyhow!("certificate validity: {e}"))
}

/// Loads the local CA, or makes it on the first start.
fn ensure_ca(
    dir: &Path,
    host: &str,
    now_ms: i64,
) -> anyhow::Result<(CaCert, rcgen::Issuer<'static, rcgen::KeyPair>)> {
    let cert = dir.join("ca.pem");
    let key = dir.join("ca-key.pem");
    let record = dir.join("ca.json");
    let found = match (
        std::fs::read_to_string(&cert),
        std::fs::read_to_string(&key),
        std::fs::read(&record),
    ) {
        (Ok(c), Ok(k), Ok(r)) => Some((c, k, serde_json::from_slice::<CaRecord>(&r)?)),
        _ => None,
    };
    let (pem, key_pem, rec) = match found {
        Some(f) => f,
        None => {
            let mut suffix = [0u8; 4];
            getrandom::fill(&mut suffix).map_err(|e| anyhow::anyhow!("random: {e}"))?;
            let rec = CaRecord {
                common_name: format!("Switchboard local CA {host} {}", hex::encode(suffix)),
            };
            let kp = rcgen::KeyPair::generate()?;
            let made = ca_params(&rec.common_name, now_ms)?.self_signed(&kp)?;
            std::fs::write(&cert, made.pem())?;
            write_private(&key, kp.serialize_pem().as_bytes())?;
            std::fs::write(&record, serde_json::to_vec(&rec)?)?;
            tracing::info!(cert = %cert.display(), "made the local certificate authority (offered at /ca.crt)");
            (made.pem(), kp.serialize_pem(), rec)
        }
    };
    let kp = rcgen::KeyPair::from_pem(&key_pem)
        .map_err(|e| anyhow::anyhow!("{}: {e}", key.display()))?;
    let der =
        pem_der(&pem).ok_or_else(|| anyhow::anyhow!("{} holds no certificate", cert.display()))?;
    let issuer = rcgen::Issuer::new(ca_params(&rec.common_name, now_ms)?, kp);
    Ok((
        CaCert {
            fingerprint: sha256_hex(&der),
            pem,
            der,
        },
        issuer,
    ))
}

fn pem_der(pem: &str) -> Option<Vec<u8>> {
    let start = pem.find("-----BEGIN CERTIFICATE-----")? + "-----BEGIN CERTIFICATE-----".len();
    let end = pem[start..].find("-----END CERTIFICATE-----")? + start;
    let b64: String = pem[start..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// This machine's own addresses on the LAN (IPv4 from `/proc/net/fib_trie`, global IPv6 from
/// `/proc/net/if_inet6`), loopback and link-local left out.
pub fn lan_addresses() -> Vec<std::net::IpAddr> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let mut out: Vec<IpAddr> = Vec::new();
    if let Ok(trie) = std::fs::read_to_string("/proc/net/fib_trie") {
        let mut last: Option<Ipv4Addr> = None;
        for line in trie.lines() {
            let l = line.trim_start_matches([' ', '|', '+', '-']).trim();
            if let Ok(a) = l.parse::<Ipv4Addr>() {
                last = Some(a);
            } else if l.starts_with("/32 host LOCAL")
                && let Some(a) = last
                && !a.is_loopback()
                && !a.is_link_local()
                && !out.contains(&IpAddr::V4(a))
            {
                out.push(IpAddr::V4(a));
            }
        }
    }
    if let Ok(v6) = std::fs::read_to_string("/proc/net/if_inet6") {
        for line in v6.lines() {
            let mut f = line.split_whitespace();
            let (Some(hexaddr), Some(_), Some(_), Some(scope)) =
                (f.next(), f.next(), f.next(), f.next())
            else {
                continue;
            };
            if scope != "00" || hexaddr.len() != 32 {
                continue;
            }
            let Ok(bits) = u128::from_str_radix(hexaddr, 16) else {
                continue;
            };
            let a = Ipv6Addr::from(bits);
            if !a.is_loopback() && !out.contains(&IpAddr::V6(a)) {
                out.push(IpAddr::V6(a));
            }
        }
    }
    out
}

/// The names the server certificate covers: localhost and the loopback addresses, the host
/// name and `<host>.local` (mDNS), and the LAN addresses.
pub fn server_names(host: &str, lan: &[std::net::IpAddr]) -> Vec<String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if host != "localhost" {
        names.push(host.to_string());
        names.push(format!("{host}.local"));
    }
    for a in lan {
        let s = a.to_string();
        if !names.contains(&s) {
            names.push(s);
        }
    }
    names
}

fn ensure_self_signed(data_dir: &Path, now_ms: i64) -> anyhow::Result<(PathBuf, PathBuf, CaCert)> {
    let host = hostname().unwrap_or_else(|| "localhost".into());
    ensure_local_ca(&data_dir.join("tls"), &host, &lan_addresses(), now_ms)
}

/// `tls = "self-signed"`: the local CA (made once) and a server certificate it issued for
/// `host` and `lan`, in `dir`. A start within 30 days of the certificate's end, with other
/// names, or after the CA changed issues a new one from the same CA. Returns the certificate
/// and key paths and the CA.
pub fn ensure_local_ca(
    dir: &Path,
    host: &str,
    lan: &[std::net::IpAddr],
    now_ms: i64,
) -> anyhow::Result<(PathBuf, PathBuf, CaCert)> {
    issue_from_local_ca(dir, host, lan, now_ms).map(|(c, k, ca, _)| (c, k, ca))
}

/// The daily `tls-renewal` job (`tls = "self-signed"` only): issues a new server certificate
/// from the same CA when the current one is within 30 days of its end or the box's names
/// changed, and loads it into `live` (the running server's TLS configuration) so new
/// connections get it without a restart; open connections keep theirs. Returns what it did.
pub async fn renew_self_signed(
    cfg: &Config,
    now_ms: i64,
    live: Option<&RustlsConfig>,
) -> anyhow::Result<(String, bool)> {
    if !matches!(cfg.tls_mode()?, Tls::SelfSigned) {
        return Ok(("not tls = \"self-signed\"; nothing to renew".into(), false));
    }
    let dir = cfg.data_dir.join("tls");
    let (cert, key, _, renewed) = tokio::task::spawn_blocking(move || {
        let host = hostname().unwrap_or_else(|| "localhost".into());
        issue_from_local_ca(&dir, &host, &lan_addresses(), now_ms)
    })
    .await??;
    if !renewed {
        return Ok((
            "the server certificate is good for more than 30 days".into(),
            false,
        ));
    }
    let pem = std::fs::read(&cert)?;
    let fingerprint = fingerprint_pem(&pem).unwrap_or_default();
    match live {
        Some(live) => {
            live.reload_from_pem_file(&cert, &key).await.map_err(|e| {
                anyhow::anyhow!("issued {} but could not load it: {e}", cert.display())
            })?;
            tracing::info!(%fingerprint, "new connections get the renewed server certificate");
            Ok((
                format!("renewed the server certificate ({fingerprint}) and loaded it"),
                true,
            ))
        }
        None => Ok((
            format!(
                "renewed the server certificate ({fingerprint}); a running server loads it on SIGHUP or restart"
            ),
            true,
        )),
    }
}

/// [`ensure_local_ca`], and whether it issued a new server certificate.
fn issue_from_local_ca(
    dir: &Path,
    host: &str,
    lan: &[std::net::IpAddr],
    now_ms: i64,
) -> anyhow::Result<(PathBuf, PathBuf, CaCert, bool)> {
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let (ca, issuer) = ensure_ca(dir, host, now_ms)?;
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let record = dir.join("self-signed.json");
    let names = server_names(host, lan);
    let current = std::fs::read(&record)
        .ok()
        .and_then(|b| serde_json::from_slice::<IssuedRecord>(&b).ok());
    let why = match &current {
        _ if !cert.exists() || !key.exists() => None,
        None => Some("it has no record (made by an older version)".to_string()),
        Some(r) if r.ca.as_deref() != Some(ca.fingerprint.as_str()) => {
            Some("it was not issued by the local CA".into())
        }
        Some(r) if r.not_after_ms - now_ms < RENEW_DAYS * DAY_MS => {
            Some("it expires within 30 days".into())
        }
        Some(r) if r.names != names => {
            Some(format!("the names changed from {}", r.names.join(", ")))
        }
        Some(_) => return Ok((cert, key, ca, false)),
    };
    let mut params = rcgen::CertificateParams::new(names.clone())?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, host);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Switchboard");
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    // A day of slack before "now" for clocks that are a little behind.
    params.not_before = at(now_ms - DAY_MS)?;
    let not_after_ms = now_ms + VALID_DAYS * DAY_MS;
    params.not_after = at(not_after_ms)?;
    let leaf_key = rcgen::KeyPair::generate()?;
    let issued = params.signed_by(&leaf_key, &issuer)?;
    // The chain: the server certificate, then the CA (clients that trust the CA find it either way).
    std::fs::write(&cert, format!("{}{}", issued.pem(), ca.pem))?;
    write_private(&key, leaf_key.serialize_pem().as_bytes())?;
    std::fs::write(
        &record,
        serde_json::to_vec(&IssuedRecord {
            host: host.to_string(),
            not_after_ms,
            names: names.clone(),
            ca: Some(ca.fingerprint.clone()),
        })?,
    )?;
    match why {
        None => {
            tracing::info!(cert = %cert.display(), names = %names.join(", "), "issued the server certificate from the local CA (valid 397 days)")
        }
        Some(why) => {
            tracing::info!(cert = %cert.display(), names = %names.join(", "), %why, "issued a new server certificate from the same local CA; devices that trust the CA trust it too")
        }
    }
    Ok((cert, key, ca, true))
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
