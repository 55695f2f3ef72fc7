//! What may be stored: the size limit (channel cap, admin setting, WhatsApp per-type caps), the
//! type allowlist checked against the *sniffed* content (never the name or the client's
//! Content-Type), and safe file names.

use crate::domain::channels::{Channel, ChannelKind};
use crate::error::{Error, Result};

const MB: u64 = 1 << 20;

/// Internal chat files (and other non-channel uploads).
pub const INTERNAL_MAX_BYTES: u64 = 100 * MB;

/// The allowlist when a channel sets none (extensions, lowercase).
pub const DEFAULT_TYPES: &[&str] = &[
    // images
    "gif", "heic", "jpeg", "jpg", "png", "webp", // documents
    "pdf", "txt", "csv", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "zip",
    // audio
    "mp3", "ogg", "m4a", "amr", "aac", "wav", // video
    "mp4", "3gp", "webm",
];

/// Longest stored file name, in characters (the extension is kept when cutting).
pub const MAX_NAME_CHARS: usize = 150;

/// The size and type rules one upload is checked against.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Hard cap in bytes before the type is known.
    pub max_bytes: u64,
    /// Allowed extensions (lowercase, without dot).
    pub allowed: Vec<String>,
    /// Apply WhatsApp's per-media-type caps once the type is known.
    pub whatsapp_caps: bool,
    /// Twilio MMS rules (SMS channels): [`MMS_MAX_BYTES`] and [`MMS_TYPES`], refused with
    /// [`MMS_TOO_LARGE`] / [`MMS_TYPE_REFUSED`].
    pub mms: bool,
}

/// Twilio: the message and its media together must stay below 5 MB for MMS
/// (twilio.com/docs/messaging/guides/accepted-mime-types, "Media size limits").
pub const MMS_MAX_BYTES: u64 = 5 * MB;

/// Extensions of the content types Twilio accepts for MMS (same page: images JPEG/PNG/GIF,
/// common audio and video, vCard, CSV, PDF). Office documents, archives, HEIC and WebP are not
/// among them.
pub const MMS_TYPES: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "bmp", "tif", "mp3", "m4a", "ogg", "amr", "wav", "mp4", "3gp",
    "webm", "mov", "pdf", "csv", "vcf",
];

/// Why a file is too large for an SMS channel (one fixed sentence, translated in `err.msg.`).
pub const MMS_TOO_LARGE: &str =
    "files sent by SMS (MMS) may be at most 5 MB: Twilio refuses larger messages";

/// Why a type cannot go by SMS (one fixed sentence, translated in `err.msg.`).
pub const MMS_TYPE_REFUSED: &str = "this file type cannot be sent by SMS (MMS); Twilio accepts images (JPEG, PNG, GIF), audio, video, PDF, CSV and vCard";

impl Policy {
    /// A channel's rules: the provider cap lowered by the admin's `max_file_mb`, the channel's
    /// allowlist (or the defaults), and for WhatsApp the per-type caps.
    pub fn for_channel(ch: &Channel) -> Self {
        let allowed: Vec<String> = ch
            .allowed_types
            .clone()
            .unwrap_or_else(|| DEFAULT_TYPES.iter().map(|s| s.to_string()).collect());
        if ch.kind == ChannelKind::Sms {
            // What the admin allows, within what Twilio accepts for MMS.
            let mms = |e: &String| MMS_TYPES.contains(&e.to_ascii_lowercase().as_str());
            return Self {
                max_bytes: ch.max_file_bytes().min(MMS_MAX_BYTES),
                allowed: allowed.into_iter().filter(mms).collect(),
                whatsapp_caps: false,
                mms: true,
            };
        }
        Self {
            max_bytes: ch.max_file_bytes(),
            allowed,
            whatsapp_caps: ch.kind == ChannelKind::Whatsapp,
            mms: false,
        }
    }

    /// The refusal for a file over `limit` bytes.
    pub fn too_large(&self, mime: Option<&str>, limit: u64, human: &str) -> Error {
        match mime {
            _ if self.mms => Error::TooLarge(MMS_TOO_LARGE.into()),
            Some(m) if limit < self.max_bytes => Error::TooLarge(format!(
                "file too large: the limit for {m} files here is {human}"
            )),
            _ => Error::TooLarge(format!("file too large: the limit here is {human}")),
        }
    }

    /// Internal chat: 100 MB, default types.
    pub fn internal() -> Self {
        Self {
            max_bytes: INTERNAL_MAX_BYTES,
            allowed: DEFAULT_TYPES.iter().map(|s| s.to_string()).collect(),
            whatsapp_caps: false,
            mms: false,
        }
    }

    /// The limit for a file of this (sniffed) MIME type.
    pub fn cap_for(&self, mime: &str) -> u64 {
        if !self.whatsapp_caps {
            return self.max_bytes;
        }
        self.max_bytes.min(whatsapp_cap(mime))
    }

    fn allows(&self, ext: &str) -> bool {
        synonyms(ext)
            .iter()
            .any(|e| self.allowed.iter().any(|a| a.eq_ignore_ascii_case(e)))
    }

    /// Refuses content whose sniffed type is not on the allowlist (415, naming the list).
    pub fn check(&self, sniffed: Option<&Sniffed>) -> Result<()> {
        // "*" admits every type (inbound media: what the customer sent is kept).
        if self.allowed.iter().any(|a| a == "*") {
            return Ok(());
        }
        let what = match sniffed {
            Some(s) if self.allows(s.ext) => return Ok(()),
            Some(_) if self.mms => return Err(Error::Unsupported(MMS_TYPE_REFUSED.into())),
            Some(s) => format!("{} ({})", s.ext, s.mime),
            None => "unrecognised binary content".to_string(),
        };
        Err(Error::Unsupported(format!(
            "file type not allowed here: {what}; allowed types: {}",
            self.allowed.join(", ")
        )))
    }
}

/// WhatsApp Cloud API media limits.
pub fn whatsapp_cap(mime: &str) -> u64 {
    match mime {
        "image/jpeg" | "image/png" => 5 * MB,
        // Stickers.
        "image/webp" => 500 * 1024,
        m if m.starts_with("audio/") || m.starts_with("video/") => 16 * MB,
        _ => 100 * MB,
    }
}

/// Extensions that name the same content type.
fn synonyms(ext: &str) -> &[&str] {
    match ext {
        "jpg" => &["jpg", "jpeg"],
        "heif" => &["heif", "heic"],
        "opus" => &["opus", "ogg"],
        "mp4" => &["mp4", "3gp", "m4v"],
        "txt" => &["txt"],
        "csv" => &["csv"],
        other => std::slice::from_ref(STATIC_EXTS.iter().find(|e| **e == other).unwrap_or(&"")),
    }
}

/// Extensions `infer` reports, as `'static` strings for `synonyms`.
const STATIC_EXTS: &[&str] = &[
    "png", "gif", "webp", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp",
    "zip", "mp3", "ogg", "m4a", "amr", "aac", "wav", "webm", "elf", "exe", "dll", "html", "xml",
    "rtf", "gz", "epub",
];

/// The type found in the first bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub mime: String,
    /// The canonical extension (`jpg`, `png`, `txt`, …).
    pub ext: &'static str,
}

/// Sniff the type from the first bytes. `complete` says `head` is the whole file (so a
/// multi-byte UTF-8 sequence cut at the end is an error, not a truncation). Text has no magic:
/// it counts as `text/plain` (or `text/csv` when so named) only if it is valid UTF-8 without
/// NUL bytes.
pub fn sniff(head: &[u8], complete: bool, name: &str) -> Option<Sniffed> {
    if head.is_empty() {
        return None;
    }
    if let Some(t) = infer::get(head) {
        let ext = STATIC_EXTS
            .iter()
            .chain(["jpg", "heif", "opus", "mp4"].iter())
            .find(|e| **e == t.extension())
            .copied()
            .unwrap_or("bin");
        return Some(Sniffed {
            mime: t.mime_type().to_string(),
            ext,
        });
    }
    if head.contains(&0) {
        return None;
    }
    let text = match std::str::from_utf8(head) {
        Ok(_) => true,
        // A sequence cut by the end of the sniff window is fine; anything else is not text.
        Err(e) => !complete && e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    };
    if !text {
        return None;
    }
    let csv = name.to_ascii_lowercase().ends_with(".csv");
    Some(if csv {
        Sniffed {
            mime: "text/csv".into(),
            ext: "csv",
        }
    } else {
        Sniffed {
            mime: "text/plain".into(),
            ext: "txt",
        }
    })
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A safe display/download name: no path components, no control or bidi-override characters,
/// no characters Windows refuses, no leading dots, at most [`MAX_NAME_CHARS`] characters with
/// the extension kept. Never empty.
pub fn sanitize_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !is_unsafe_char(*c))
        .map(|c| match c {
            ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c => c,
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let name = if trimmed.is_empty() { "file" } else { trimmed };
    if name.chars().count() <= MAX_NAME_CHARS {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && !e.is_empty() && e.chars().count() <= 16 => (s, e),
        _ => (name, ""),
    };
    let keep = MAX_NAME_CHARS
        - if ext.is_empty() {
            0
        } else {
            ext.chars().count() + 1
        };
    let stem: String = stem.chars().take(keep).collect();
    let stem = stem.trim_end();
    if ext.is_empty() {
        stem.to_string()
    } else {
        format!("{stem}.{ext}")
    }
}

/// The stored name: sanitised, and given the sniffed type's extension when its own does not
/// match the content (`report.pdf` holding a PNG becomes `report.pdf.png`).
pub fn name_for(raw: &str, sniffed: &Sniffed) -> String {
    let name = sanitize_name(raw);
    let own = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if synonyms(sniffed.ext).contains(&own.as_str()) {
        return name;
    }
    let fixed = format!("{name}.{}", sniffed.ext);
    if fixed.chars().count() <= MAX_NAME_CHARS {
        return fixed;
    }
    let stem: String = name
        .chars()
        .take(MAX_NAME_CHARS - sniffed.ext.len() - 1)
        .collect();
    format!("{stem}.{}", sniffed.ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    // infer wants a full ELF header (> 52 bytes).
    const ELF: &[u8] = &[
        0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0,
    ];

    #[test]
    fn names_lose_paths_controls_and_length() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(sanitize_name("a\u{0}b\r\nc\u{202E}gpj.exe"), "abcgpj.exe");
        assert_eq!(sanitize_name(".."), "file");
        assert_eq!(sanitize_name(""), "file");
        assert_eq!(sanitize_name("  .hidden "), "hidden");
        assert_eq!(sanitize_name("what?<x>.txt"), "what__x_.txt");
        let long = format!("{}.pdf", "é".repeat(1000));
        let s = sanitize_name(&long);
        assert_eq!(s.chars().count(), MAX_NAME_CHARS);
        assert!(s.ends_with(".pdf"));
        assert_eq!(
            sanitize_name(&"x".repeat(1000)).chars().count(),
            MAX_NAME_CHARS
        );
    }

    #[test]
    fn content_decides_the_type() {
        let png = sniff(PNG, true, "report.pdf").unwrap();
        assert_eq!(png.mime, "image/png");
        assert_eq!(name_for("report.pdf", &png), "report.pdf.png");
        assert_eq!(name_for("photo.PNG", &png), "photo.PNG");
        let elf = sniff(ELF, true, "cat.png").unwrap();
        assert_eq!(elf.ext, "elf");
        let p = Policy::internal();
        assert!(p.check(Some(&png)).is_ok());
        let err = p.check(Some(&elf)).unwrap_err();
        assert_eq!(err.status(), 415);
        assert!(
            err.public_message().contains("allowed types: gif, heic"),
            "{err}"
        );
        assert!(p.check(None).is_err());
    }

    #[test]
    fn text_is_utf8_without_nul() {
        assert_eq!(sniff(b"hello", true, "a.txt").unwrap().mime, "text/plain");
        assert_eq!(
            sniff(b"a,b\n1,2\n", true, "x.CSV").unwrap().mime,
            "text/csv"
        );
        assert!(sniff(b"a\0b", true, "a.txt").is_none());
        assert!(sniff(&[0xff, 0xfe, 0x41], true, "a.txt").is_none());
        // "é" cut in half at the end of the sniff window is still text, not at the end of file.
        assert!(sniff(&[b'a', 0xc3], false, "a.txt").is_some());
        assert!(sniff(&[b'a', 0xc3], true, "a.txt").is_none());
        assert!(sniff(b"", true, "a.txt").is_none());
        assert_eq!(
            sniff(b"<!DOCTYPE html><html>", true, "a.txt").unwrap().ext,
            "html"
        );
        let only_pdf = Policy {
            allowed: vec!["pdf".into()],
            ..Policy::internal()
        };
        assert!(
            only_pdf
                .check(sniff(b"hi", true, "a.txt").as_ref())
                .is_err()
        );
    }

    #[test]
    fn sms_channels_follow_twilio_mms_rules() {
        let ch: Channel = serde_json::from_value(serde_json::json!({
            "id": 1, "kind": "sms", "name": "SMS", "created": 0
        }))
        .unwrap();
        let p = Policy::for_channel(&ch);
        assert!(p.mms);
        assert_eq!(p.max_bytes, MMS_MAX_BYTES);
        assert_eq!(p.cap_for("application/pdf"), 5 * MB);
        for ok in ["jpg", "png", "gif", "pdf", "mp4", "mp3"] {
            assert!(p.allowed.iter().any(|a| a == ok), "{ok}");
        }
        for no in ["docx", "xlsx", "zip", "heic", "webp"] {
            assert!(!p.allowed.iter().any(|a| a == no), "{no}");
        }
        let docx = Sniffed {
            ext: "docx",
            mime: "application/vnd.openxmlformats-officedocument.wordprocessingml.document".into(),
        };
        let Err(Error::Unsupported(why)) = p.check(Some(&docx)) else {
            panic!("docx is not an MMS type")
        };
        assert_eq!(why, MMS_TYPE_REFUSED);
        let Error::TooLarge(why) = p.too_large(Some("application/pdf"), 5 * MB, "5 MB") else {
            panic!()
        };
        assert_eq!(why, MMS_TOO_LARGE);
    }

    #[test]
    fn whatsapp_caps_per_type() {
        let p = Policy {
            max_bytes: 100 * MB,
            allowed: vec![],
            whatsapp_caps: true,
            mms: false,
        };
        assert_eq!(p.cap_for("image/jpeg"), 5 * MB);
        assert_eq!(p.cap_for("image/webp"), 500 * 1024);
        assert_eq!(p.cap_for("audio/ogg"), 16 * MB);
        assert_eq!(p.cap_for("video/mp4"), 16 * MB);
        assert_eq!(p.cap_for("application/pdf"), 100 * MB);
        let lowered = Policy {
            max_bytes: 2 * MB,
            ..p
        };
        assert_eq!(lowered.cap_for("image/png"), 2 * MB);
        assert_eq!(Policy::internal().cap_for("image/png"), 100 * MB);
    }

    #[test]
    fn synonyms_let_jpeg_and_heic_through() {
        let p = Policy {
            allowed: vec!["jpeg".into(), "heic".into()],
            ..Policy::internal()
        };
        let jpg = Sniffed {
            mime: "image/jpeg".into(),
            ext: "jpg",
        };
        let heif = Sniffed {
            mime: "image/heif".into(),
            ext: "heif",
        };
        assert!(p.check(Some(&jpg)).is_ok());
        assert!(p.check(Some(&heif)).is_ok());
    }
}
