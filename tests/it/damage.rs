//! A damaged database file, against the real binary: `check` names the file, the table and the
//! cause; `serve` refuses the file at start with that message; with the start-up check turned
//! off, reads that meet the damage fail alone (the process stays up and `/healthz` says so);
//! `restore --latest` brings back the automatic backup; an empty file is refused, never
//! replaced. Figures at full size: `benches/damage.rs`.

use std::path::Path;

use serde_json::{Value, json};

use crate::binary::Bin;

/// xorshift: the same damage on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn text_file(rng: &mut Rng, bytes: usize) -> String {
    const WORDS: &[&str] = &[
        "invoice", "delivery", "Tuesday", "thanks", "order", "refund", "ok",
    ];
    let mut s = String::with_capacity(bytes + 16);
    while s.len() < bytes {
        s.push_str(WORDS[(rng.next() % WORDS.len() as u64) as usize]);
        s.push(if rng.next().is_multiple_of(12) {
            '\n'
        } else {
            ' '
        });
    }
    s
}

struct Seeded {
    token: String,
    files: Vec<u64>,
}

/// A database with users and 300 small text attachments (B-tree pages full of small records,
/// so a damaged page is mostly structure), an automatic backup of it, then a compaction so the
/// file holds little but live data.
async fn seed(bin: &Bin) -> Seeded {
    let token = bin.admin_token("ada", "ada-password-1");
    let srv = bin.serve().await.unwrap();
    let http = crate::support::client_builder().build().unwrap();
    let mut rng = Rng(0x5eed);
    let mut files = Vec::new();
    for i in 0..300 {
        let r = http
            .post(format!("{}/api/v1/attachments?scope=internal", srv.base))
            .bearer_auth(&token)
            .header("x-filename", format!("notes-{i}.txt"))
            .body(text_file(&mut rng, 1500))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        files.push(r.json::<Value>().await.unwrap()["id"].as_u64().unwrap());
    }
    for i in 0..20 {
        let r = http
            .post(format!("{}/api/v1/users", srv.base))
            .bearer_auth(&token)
            .json(&json!({"username": format!("agent{i}"), "password": "agent-password-1", "role": "agent"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
    }
    // The daily backup job, run now through the control socket.
    let out = bin.run(&["jobs", "run", "backup"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    srv.stop();
    let out = bin.run(&["compact"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Seeded { token, files }
}

/// One B-tree leaf of the attachments' chunks gets an entry count of 65,535: redb trusts it
/// when reading and panics. (The debug build of redb walks every page's type at open, so damage
/// elsewhere in a page header never gets as far as a read in the test binary.)
fn damage_chunk_leaf(db: &Path) {
    let mut bytes = std::fs::read(db).unwrap();
    let page = (4096..bytes.len())
        .step_by(4096)
        .find(|&p| {
            // A leaf (type 1) holding chunk text.
            bytes[p] == 1 && bytes[p..p + 4096].windows(7).any(|w| w == b"invoice")
        })
        .expect("a leaf of attachment_chunks");
    bytes[page + 2] = 0xff;
    bytes[page + 3] = 0xff;
    std::fs::write(db, bytes).unwrap();
}

/// XOR over the 4 KiB page a quarter into the file: after the compaction that is in the
/// attachments' chunks (the second half holds redb's free space and bookkeeping).
fn xor_page(db: &Path) {
    let mut bytes = std::fs::read(db).unwrap();
    let mid = (bytes.len() / 4) & !4095;
    for b in &mut bytes[mid..mid + 4096] {
        *b ^= 0xff;
    }
    std::fs::write(db, bytes).unwrap();
}

fn flip_bits(db: &Path, n: usize, seed: u64) {
    let mut bytes = std::fs::read(db).unwrap();
    let mut rng = Rng(seed);
    // Past redb's header page (a damaged header is refused by redb itself).
    for _ in 0..n {
        let bit = 4096 * 8 + rng.next() as usize % ((bytes.len() - 4096) * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
    }
    std::fs::write(db, bytes).unwrap();
}

fn stderr(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every read the seed can check: each attachment, the user list, one's own profile. Each
/// answers 200 or a JSON 500; with `flipped_keys`, also 404 (a flipped bit in a key moves a
/// record out of reach, which is what the file now says).
async fn read_everything(base: &str, s: &Seeded, flipped_keys: bool) -> (usize, usize) {
    let http = crate::support::client_builder().build().unwrap();
    let (mut ok, mut failed) = (0, 0);
    let mut paths: Vec<String> = s
        .files
        .iter()
        .map(|id| format!("/api/v1/attachments/{id}"))
        .collect();
    paths.extend(["/api/v1/users", "/api/v1/me", "/api/v1/sessions"].map(String::from));
    for p in paths {
        let r = match http
            .get(format!("{base}{p}"))
            .bearer_auth(&s.token)
            .send()
            .await
        {
            Ok(r) => r,
            // A download whose damage is met after its headers are sent is cut off.
            Err(_) => {
                failed += 1;
                continue;
            }
        };
        let status = r.status().as_u16();
        let body = r.bytes().await;
        match (status, body) {
            (200, Ok(_)) => ok += 1,
            (500, Ok(b)) => {
                let v: Value = serde_json::from_slice(&b).unwrap();
                assert_eq!(v["error"]["code"], "internal", "{p}: {v}");
                failed += 1;
            }
            // A damaged chunk can also cut a download short.
            (200, Err(_)) => failed += 1,
            (404, _) if flipped_keys => failed += 1,
            (other, _) => panic!("{p}: {other}"),
        }
    }
    (ok, failed)
}

#[tokio::test]
async fn a_damaged_file_is_named_refused_at_start_survived_and_restored() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bin = Bin::new(&data, &[]);
    let seeded = seed(&bin).await;
    let db = data.join("switchboard.redb");
    xor_page(&db);

    // check: the file, where, what, and the way back; never "internal error".
    let out = bin.run(&["check"]);
    let text = stderr(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains(&db.display().to_string()), "{text}");
    assert!(
        text.contains("PROBLEMS FOUND") && text.contains("damaged:"),
        "{text}"
    );
    assert!(text.contains("restore --latest"), "{text}");
    assert!(!text.contains("internal error"), "{text}");

    // serve: refused at start with the same kind of message.
    let refused = bin
        .serve()
        .await
        .err()
        .expect("a damaged file must not be served");
    assert!(
        refused.contains(&db.display().to_string()) && refused.contains("is damaged"),
        "{refused}"
    );
    assert!(refused.contains("restore"), "{refused}");

    // restore --latest: the backup comes back, the damaged file is kept beside it.
    let out = bin.run(&["restore", "--latest"]);
    let text = stderr(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("backups/switchboard-") && text.contains("before-restore"),
        "{text}"
    );
    assert!(bin.run(&["check"]).status.success());
    let srv = bin.serve().await.unwrap();
    let (ok, failed) = read_everything(&srv.base, &seeded, false).await;
    assert_eq!((ok, failed), (seeded.files.len() + 3, 0));
    srv.stop();
}

#[tokio::test]
async fn a_read_that_meets_damage_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bin = Bin::new(&data, &[]);
    let seeded = seed(&bin).await;
    let db = data.join("switchboard.redb");
    damage_chunk_leaf(&db);
    let out = bin.run(&["check"]);
    let text = stderr(&out);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("damaged: table attachment_chunks:"), "{text}");
    assert!(bin.serve().await.is_err(), "refused at start");

    // Without the start-up check, the reads that meet the damage fail alone.
    let lax = Bin::new(&data, &[("SWITCHBOARD_STORE__VERIFY_ON_START", "false")]);
    let mut srv = lax.serve().await.unwrap();
    let (ok, failed) = read_everything(&srv.base, &seeded, false).await;
    assert!(
        srv.alive(),
        "a damaged page must not end the process:\n{}",
        srv.log()
    );
    assert!(
        failed > 0 && ok > 0,
        "the damage should hit some reads, not all: ok {ok}, failed {failed}"
    );
    let health = crate::support::client_builder()
        .build()
        .unwrap()
        .get(format!("{}/healthz", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let health = health.text().await.unwrap();
    assert!(
        health.starts_with("degraded: the database is damaged"),
        "{health}\n{}",
        srv.log()
    );
    srv.stop();
}

/// Random flips land where they land: on a live page, or on one redb has freed (the layout of
/// the seeded file differs from run to run). Whatever they hit, `check` and the start-up check
/// agree; and of a few independent sets of 64 flips at least one must hit live data, which is
/// then found, refused at start, and survived when served anyway.
#[tokio::test]
async fn random_bit_flips_are_found_by_check_and_at_start_alike() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bin = Bin::new(&data, &[]);
    let seeded = seed(&bin).await;
    let db = data.join("switchboard.redb");
    let pristine = std::fs::read(&db).unwrap();
    let mut outcomes = Vec::new();
    for seed in [0xb17f, 0x5a17, 0x0dd5, 0xfeed, 0xc0de] {
        std::fs::write(&db, &pristine).unwrap();
        flip_bits(&db, 64, seed);
        let out = bin.run(&["check"]);
        let text = stderr(&out);
        assert!(!text.contains("internal error"), "{text}");
        let started = bin.serve().await;
        if out.status.success() {
            // Every flip hit free space: nothing to find, and the server starts.
            let srv = started.unwrap_or_else(|e| panic!("check passed, start refused: {e}"));
            srv.stop();
            outcomes.push("missed");
            continue;
        }
        assert!(text.contains("damaged:"), "{text}");
        let refused = started
            .err()
            .expect("check found damage; start must refuse");
        assert!(refused.contains("is damaged"), "{refused}");
        // Served anyway (check off): no read takes the process down.
        let lax = Bin::new(&data, &[("SWITCHBOARD_STORE__VERIFY_ON_START", "false")]);
        if let Ok(mut srv) = lax.serve().await {
            let _ = read_everything(&srv.base, &seeded, true).await;
            assert!(srv.alive(), "{}", srv.log());
            srv.stop();
        }
        return;
    }
    panic!("no set of 64 flips hit a live page: {outcomes:?}");
}

#[tokio::test]
async fn an_empty_database_file_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("switchboard.redb");
    std::fs::write(&db, b"").unwrap();
    let bin = Bin::new(&data, &[]);
    let refused = bin
        .serve()
        .await
        .err()
        .expect("an empty file must not be served");
    assert!(refused.contains("is empty (0 bytes)"), "{refused}");
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "left as it was");
    let out = bin.run(&["user", "list"]);
    assert!(
        !out.status.success(),
        "CLI commands refuse it too: {}",
        stderr(&out)
    );
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0);
    let out = bin.run(&["check"]);
    assert!(
        !out.status.success() && stderr(&out).contains("empty"),
        "{}",
        stderr(&out)
    );
}

/// The release profile must unwind: with `panic = "abort"` any panic (such as redb's on a
/// damaged page) ends the whole process, whatever the code catches.
#[test]
fn the_release_profile_unwinds_on_panic() {
    let manifest: toml::Table = toml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap(),
    )
    .unwrap();
    for profile in ["release", "profiling"] {
        let p = manifest["profile"]
            .get(profile)
            .and_then(|p| p.get("panic"));
        assert!(
            p.is_none() || p.and_then(|v| v.as_str()) == Some("unwind"),
            "[profile.{profile}] panic = {p:?}"
        );
    }
}
