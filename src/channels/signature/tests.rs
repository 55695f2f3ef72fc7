#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

const TW_URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const TW_PARAMS: [(&str, &str); 5] = [
    ("CallSid", "CA1234567890ABCDE"),
    ("Digits", "1234"),
    ("From", "+14158675309"),
    ("To", "+18005551212"),
    ("Caller", "+14158675309"),
];

#[test]
fn twilio_published_vectors() {
    assert_eq!(
        twilio_signature("12345", TW_URL, &TW_PARAMS),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    assert_eq!(
        twilio_signature("12345", with_port, &TW_PARAMS),
        "kvajT1Ptam85bY51eRf/AJRuM3w="
    );
    let multi = [
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
    ];
    assert_eq!(
        twilio_signature("12345", TW_URL, &multi),
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    );
    assert_eq!(
        verify_twilio(
            "12345",
            TW_URL,
            &multi,
            Some("IK+Dwps556ElfBT0I3Rgjkr1wJU=")
        ),
        Ok(())
    );
}

#[test]
fn twilio_accepts_url_with_and_without_default_port() {
    let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    for url in [TW_URL, with_port] {
        for sig in [
            "RSOYDt4T1cUTdK1PDd93/VVr8B8=",
            "kvajT1Ptam85bY51eRf/AJRuM3w=",
        ] {
            assert_eq!(verify_twilio("12345", url, &TW_PARAMS, Some(sig)), Ok(()));
        }
    }
}

#[test]
fn twilio_rejects() {
    let sig = Some("RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    assert_eq!(
        verify_twilio("12346", TW_URL, &TW_PARAMS, sig),
        Err(SignatureError::Mismatch)
    );
    let other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2";
    assert_eq!(
        verify_twilio("12345", other_port, &TW_PARAMS, sig),
        Err(SignatureError::Mismatch)
    );
    let mut tampered = TW_PARAMS.to_vec();
    tampered[1] = ("Digits", "1235");
    assert_eq!(
        verify_twilio("12345", TW_URL, &tampered, sig),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_twilio("12345", TW_URL, &TW_PARAMS, None),
        Err(SignatureError::Missing)
    );
    assert_eq!(
        verify_twilio("12345", TW_URL, &TW_PARAMS, Some("")),
        Err(SignatureError::Missing)
    );
    assert_eq!(
        verify_twilio("12345", TW_URL, &TW_PARAMS, Some("!!notbase64")),
        Err(SignatureError::Malformed)
    );
}

#[test]
fn port_variants() {
    assert_eq!(
        url_port_variants("http://h/p"),
        vec!["http://h/p".to_owned(), "http://h:80/p".to_owned()]
    );
    assert_eq!(
        url_port_variants("https://u:p@h:443?q=1"),
        vec![
            "https://u:p@h:443?q=1".to_owned(),
            "https://u:p@h?q=1".to_owned()
        ]
    );
    assert_eq!(
        url_port_variants("https://[::1]:443/x"),
        vec![
            "https://[::1]:443/x".to_owned(),
            "https://[::1]/x".to_owned()
        ]
    );
    assert_eq!(
        url_port_variants("https://[::1]/x"),
        vec![
            "https://[::1]/x".to_owned(),
            "https://[::1]:443/x".to_owned()
        ]
    );
    assert_eq!(url_port_variants("https://h:8443/x").len(), 1);
    assert_eq!(url_port_variants("not a url").len(), 1);
    assert_eq!(url_port_variants("https://").len(), 1);
}

const META_BODY: &[u8] = br#"{"object":"whatsapp_business_account","entry":[]}"#;
const META_SIG: &str = "sha256=09eceea024af6e6343b760cc9bd3ae7c056938dd636e24e92109eb8219500384";

#[test]
fn meta_published_vector() {
    assert_eq!(meta_signature_256("appsecret", META_BODY), META_SIG);
    assert_eq!(
        verify_meta("appsecret", META_BODY, Some(META_SIG), None),
        Ok(())
    );
    // Upper-case hex is still the same signature.
    let upper = format!("sha256={}", META_SIG["sha256=".len()..].to_uppercase());
    assert_eq!(
        verify_meta("appsecret", META_BODY, Some(&upper), None),
        Ok(())
    );
}

#[test]
fn meta_sha1_legacy_only_when_256_absent() {
    // Vector computed independently with `openssl dgst -sha1 -hmac appsecret`.
    let body = br#"{"object":"page","entry":[]}"#;
    let sha1 = "sha1=15f6049a7f47c239a8364b9bacf7b4e0f8484bb6";
    assert_eq!(meta_signature_sha1("appsecret", body), sha1);
    assert_eq!(verify_meta("appsecret", body, None, Some(sha1)), Ok(()));
    // A wrong -256 header is not rescued by a right SHA-1 one.
    let wrong256 = meta_signature_256("other", body);
    assert_eq!(
        verify_meta("appsecret", body, Some(&wrong256), Some(sha1)),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn meta_rejects() {
    assert_eq!(
        verify_meta("appsecret", b"{}", Some(META_SIG), None),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_meta("wrong", META_BODY, Some(META_SIG), None),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_meta("appsecret", META_BODY, None, None),
        Err(SignatureError::Missing)
    );
    for bad in [
        "",
        "sha256=",
        "sha256=zz",
        "sha1=09ec",
        "09eceea0",
        "sha256=09ec",
    ] {
        assert_eq!(
            verify_meta("appsecret", META_BODY, Some(bad), None),
            Err(SignatureError::Malformed),
            "{bad}"
        );
    }
}
