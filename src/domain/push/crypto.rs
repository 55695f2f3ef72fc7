//! The two pieces of cryptography Web Push needs, on `ring` (already built for rustls and
//! rcgen, audited, maintained):
//!
//! - **RFC 8291** message encryption: a fresh P-256 key pair per message, ECDH with the
//!   browser's `p256dh` key, HKDF-SHA256 with its `auth` secret, one AES-128-GCM record in the
//!   RFC 8188 `aes128gcm` content coding (salt, record size, key id = our public key).
//! - **RFC 8292** VAPID: an ES256 JWT (`aud` = the push service's origin, `exp`, `sub`) signed
//!   with the install's P-256 key, sent as `Authorization: vapid t=<jwt>, k=<public key>`.
//!
//! Why not the `web-push` crate: it brings its own HTTP client (isahc/hyper) and, through
//! `ece`, OpenSSL. `ece` alone needs OpenSSL or a hand-written backend. `p256`/`ecdsa` would
//! add the RustCrypto elliptic-curve stack for what ring already does.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use ring::{aead, agreement, hkdf};

use crate::error::{Error, Result};

/// The record size written in the header (one record carries the whole payload).
const RECORD_SIZE: u32 = 4096;
/// The most plaintext one record may carry: record size − tag (16) − delimiter (1).
pub const MAX_PAYLOAD: usize = RECORD_SIZE as usize - 17;

fn internal(what: &str) -> Error {
    Error::internal(format!("web push crypto: {what}"))
}

/// A new VAPID private key (PKCS#8 DER).
pub fn generate_vapid_pkcs8() -> Result<Vec<u8>> {
    let rng = SystemRandom::new();
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map(|d| d.as_ref().to_vec())
        .map_err(|_| internal("cannot generate the VAPID key"))
}

/// The install's VAPID key pair.
pub struct Vapid {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
}

impl Vapid {
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Vapid> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
            .map_err(|_| internal("the stored VAPID key is not a P-256 PKCS#8 key"))?;
        Ok(Vapid { pair, rng })
    }

    /// The public key as browsers take it (`applicationServerKey`): the uncompressed point,
    /// base64url without padding.
    pub fn public_key_b64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().as_ref())
    }

    /// The `Authorization` header for a push to `endpoint`, valid until `exp_s` (Unix s).
    pub fn authorization(&self, endpoint: &str, exp_s: i64, sub: &str) -> Result<String> {
        let url = url::Url::parse(endpoint).map_err(|_| internal("endpoint is not a URL"))?;
        let aud = url.origin().ascii_serialization();
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({ "aud": aud, "exp": exp_s, "sub": sub });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let sig = self
            .pair
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| internal("cannot sign the VAPID token"))?;
        Ok(format!(
            "vapid t={signing_input}.{}, k={}",
            URL_SAFE_NO_PAD.encode(sig.as_ref()),
            self.public_key_b64()
        ))
    }
}

/// Check a browser's keys: `p256dh` an uncompressed P-256 point (65 bytes, on the curve),
/// `auth` 16 bytes; both base64url (padding tolerated). Returns the decoded pair.
pub fn check_keys(p256dh: &str, auth: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let dec = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok();
    let p = dec(p256dh)?;
    let a = dec(auth)?;
    if p.len() != 65 || p[0] != 4 || a.len() != 16 {
        return None;
    }
    // ring checks the point lies on the curve when it agrees on a secret with it.
    let rng = SystemRandom::new();
    let mine = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).ok()?;
    let theirs = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &p);
    agreement::agree_ephemeral(mine, &theirs, |_| ()).ok()?;
    Some((p, a))
}

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(prk: &hkdf::Prk, info: &[&[u8]], len: usize) -> Result<Vec<u8>> {
    let mut out = vec![0u8; len];
    prk.expand(info, Len(len))
        .and_then(|okm| okm.fill(&mut out))
        .map_err(|_| internal("HKDF"))?;
    Ok(out)
}

/// Encrypt `payload` for a browser (RFC 8291): the body of the push request, to send with
/// `Content-Encoding: aes128gcm`.
pub fn encrypt(ua_public: &[u8], auth_secret: &[u8], payload: &[u8]) -> Result<Vec<u8>> {
    if payload.len() > MAX_PAYLOAD {
        return Err(internal("payload too long"));
    }
    let rng = SystemRandom::new();
    let as_private = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
        .map_err(|_| internal("key generation"))?;
    let as_public = as_private
        .compute_public_key()
        .map_err(|_| internal("public key"))?;
    let theirs = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, ua_public);
    let ecdh_secret = agreement::agree_ephemeral(as_private, &theirs, |s| s.to_vec())
        .map_err(|_| internal("the subscription's p256dh key is not a P-256 point"))?;
    // IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32)
    let prk_key = hkdf::Salt::new(hkdf::HKDF_SHA256, auth_secret).extract(&ecdh_secret);
    let ikm = expand(
        &prk_key,
        &[b"WebPush: info\0", ua_public, as_public.as_ref()],
        32,
    )?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| internal("random salt"))?;
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(&ikm);
    let cek = expand(&prk, &[b"Content-Encoding: aes128gcm\0"], 16)?;
    let nonce = expand(&prk, &[b"Content-Encoding: nonce\0"], 12)?;
    let key = aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| internal("CEK"))?;
    let key = aead::LessSafeKey::new(key);
    let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).map_err(|_| internal("nonce"))?;
    // One record, the last: the payload, then the delimiter 0x02 (no padding).
    let mut record = Vec::with_capacity(payload.len() + 17);
    record.extend_from_slice(payload);
    record.push(2);
    key.seal_in_place_append_tag(nonce, aead::Aad::empty(), &mut record)
        .map_err(|_| internal("AES-GCM"))?;
    let mut body = Vec::with_capacity(86 + record.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.as_ref().len() as u8);
    body.extend_from_slice(as_public.as_ref());
    body.extend_from_slice(&record);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vapid_token_verifies_against_the_public_key() {
        let v = Vapid::from_pkcs8(&generate_vapid_pkcs8().unwrap()).unwrap();
        let h = v
            .authorization(
                "https://push.example:8443/send/abc",
                1_700_000_000,
                "mailto:a@b",
            )
            .unwrap();
        let t = h.strip_prefix("vapid t=").unwrap();
        let (jwt, k) = t.split_once(", k=").unwrap();
        assert_eq!(k, v.public_key_b64());
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let public = URL_SAFE_NO_PAD.decode(k).unwrap();
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, public)
            .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
            .unwrap();
        let claims = input.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example:8443");
    }

    #[test]
    fn keys_are_checked() {
        assert!(check_keys("AAAA", "AAAA").is_none());
        let not_on_curve = URL_SAFE_NO_PAD.encode([4u8; 65]);
        assert!(check_keys(&not_on_curve, &URL_SAFE_NO_PAD.encode([1u8; 16])).is_none());
    }
}
