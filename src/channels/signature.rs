//! Webhook signatures: Twilio `X-Twilio-Signature` and Meta `X-Hub-Signature-256`
//! (with the legacy `X-Hub-Signature: sha1=` fallback). Always verify over the raw body bytes
//! before parsing; all comparisons are constant-time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha1 = Hmac<Sha1>;
type HmacSha256 = Hmac<Sha256>;

/// Header names, lowercase as HTTP/2 and `http::HeaderMap` spell them.
pub const TWILIO_SIGNATURE_HEADER: &str = "x-twilio-signature";
pub const META_SIGNATURE_256_HEADER: &str = "x-hub-signature-256";
pub const META_SIGNATURE_SHA1_HEADER: &str = "x-hub-signature";

/// Why a webhook signature was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureError {
    /// No signature header at all.
    Missing,
    /// The header is not of the documented form (`sha256=<hex>`, base64, …).
    Malformed,
    /// Well-formed but computed with another key or over another body / URL.
    Mismatch,
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SignatureError::Missing => "signature header missing",
            SignatureError::Malformed => "signature header malformed",
            SignatureError::Mismatch => "signature does not match",
        })
    }
}

impl std::error::Error for SignatureError {}

fn hmac_sha1(key: &[u8], parts: &[&[u8]]) -> Option<Vec<u8>> {
    let mut mac = HmacSha1::new_from_slice(key).ok()?;
    for p in parts {
        mac.update(p);
    }
    Some(mac.finalize().into_bytes().to_vec())
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let mut mac = HmacSha256::new_from_slice(key).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().to_vec())
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    // `ct_eq` on slices of different length is false (length is not secret).
    !a.is_empty() && bool::from(a.ct_eq(b))
}

// ---------------------------------------------------------------------------------------------
// Twilio

fn twilio_mac<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
) -> Option<Vec<u8>> {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    // Byte-wise by name, and several values of one name each in sorted order.
    sorted.sort_unstable();
    let mut data = String::with_capacity(url.len() + sorted.len() * 24);
    data.push_str(url);
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    hmac_sha1(auth_token.as_bytes(), &[data.as_bytes()])
}

#[cfg(test)]
/// The `X-Twilio-Signature` Twilio computes for a form POST to `url` with `params`.
pub fn twilio_signature<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
) -> String {
    twilio_mac(auth_token, url, params)
        .map(|m| BASE64.encode(m))
        .unwrap_or_default()
}

/// Verify `X-Twilio-Signature` for a form POST. `url` is the public URL Twilio was configured
/// to call (from our configuration, never the Host header). The URL is accepted both as given
/// and with the default port (`:443` / `:80`) added or removed, since Twilio may sign either.
pub fn verify_twilio<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.map(str::trim).ok_or(SignatureError::Missing)?;
    if header.is_empty() {
        return Err(SignatureError::Missing);
    }
    let given = BASE64
        .decode(header)
        .map_err(|_| SignatureError::Malformed)?;
    let mut ok = false;
    for candidate in url_port_variants(url) {
        if let Some(mac) = twilio_mac(auth_token, &candidate, params) {
            // No early exit: every variant is checked.
            ok |= ct_eq(&mac, &given);
        }
    }
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// `url` itself plus the same URL with the scheme's default port toggled (added when absent,
/// removed when present). Other ports are left alone: they name a different URL.
pub fn url_port_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    let Some(scheme_end) = url.find("://") else {
        return out;
    };
    let scheme = url
        .get(..scheme_end)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        _ => return out,
    };
    let auth_start = scheme_end + 3;
    let rest = url.get(auth_start..).unwrap_or_default();
    let auth_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..auth_len).unwrap_or_default();
    let tail = rest.get(auth_len..).unwrap_or_default();
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (
            authority.get(..=i).unwrap_or_default(),
            authority.get(i + 1..).unwrap_or_default(),
        ),
        None => ("", authority),
    };
    // The port separator is the last ':' outside an IPv6 literal.
    let host_end = hostport.rfind(']').map(|i| i + 1).unwrap_or(0);
    let (host, port) = match hostport.get(host_end..).and_then(|s| s.rfind(':')) {
        Some(i) => (
            hostport.get(..host_end + i).unwrap_or_default(),
            Some(hostport.get(host_end + i + 1..).unwrap_or_default()),
        ),
        None => (hostport, None),
    };
    if host.is_empty() {
        return out;
    }
    let prefix = url.get(..auth_start).unwrap_or_default();
    match port {
        None => out.push(format!("{prefix}{userinfo}{host}:{default_port}{tail}")),
        Some(p) if p == default_port => out.push(format!("{prefix}{userinfo}{host}{tail}")),
        Some(_) => {}
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Meta (WhatsApp Cloud API and Messenger)

/// `sha256=<lowercase hex>` as Meta sends in `X-Hub-Signature-256`.
pub fn meta_signature_256(app_secret: &str, body: &[u8]) -> String {
    hmac_sha256(app_secret.as_bytes(), body)
        .map(|m| format!("sha256={}", hex::encode(m)))
        .unwrap_or_default()
}

#[cfg(test)]
/// `sha1=<lowercase hex>` as Meta sends in the legacy `X-Hub-Signature`.
pub fn meta_signature_sha1(app_secret: &str, body: &[u8]) -> String {
    hmac_sha1(app_secret.as_bytes(), &[body])
        .map(|m| format!("sha1={}", hex::encode(m)))
        .unwrap_or_default()
}

fn decode_prefixed_hex(header: &str, prefix: &str, len: usize) -> Result<Vec<u8>, SignatureError> {
    let header = header.trim();
    let hex_part = header
        .get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(prefix))
        .and_then(|_| header.get(prefix.len()..))
        .ok_or(SignatureError::Malformed)?;
    let bytes = hex::decode(hex_part).map_err(|_| SignatureError::Malformed)?;
    if bytes.len() == len {
        Ok(bytes)
    } else {
        Err(SignatureError::Malformed)
    }
}

/// Verify a Meta webhook over the raw `body`. `sig_256` is the `X-Hub-Signature-256` header
/// value, `sig_sha1` the legacy `X-Hub-Signature`; the legacy header is consulted only when the
/// SHA-256 one is absent (a present but wrong -256 signature is never rescued by SHA-1).
pub fn verify_meta(
    app_secret: &str,
    body: &[u8],
    sig_256: Option<&str>,
    sig_sha1: Option<&str>,
) -> Result<(), SignatureError> {
    let (given, computed) = match (sig_256, sig_sha1) {
        (Some(h), _) => (
            decode_prefixed_hex(h, "sha256=", 32)?,
            hmac_sha256(app_secret.as_bytes(), body),
        ),
        (None, Some(h)) => (
            decode_prefixed_hex(h, "sha1=", 20)?,
            hmac_sha1(app_secret.as_bytes(), &[body]),
        ),
        (None, None) => return Err(SignatureError::Missing),
    };
    match computed {
        Some(mac) if ct_eq(&mac, &given) => Ok(()),
        _ => Err(SignatureError::Mismatch),
    }
}

#[cfg(test)]
mod tests;
