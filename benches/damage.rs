//! A damaged database file against the RELEASE binary: what start-up, reads and `check` do, and
//! what the start-up integrity check costs.
//!
//! ```text
//! PAGES_BENCH_SEED_ONLY=1 PAGES_BENCH_DIR=/some/dir cargo bench --profile dev --bench pages   # 617 MiB
//! DAMAGE_DB=/some/dir/switchboard.redb cargo bench --profile dev --bench damage
//! BENCH_SMOKE=1 cargo bench --profile dev --bench damage      # a small database of its own (CI)
//! ```
//! Knobs: `BENCH_BIN`, `DAMAGE_DB` (a populated database, copied before anything is done to it;
//! without it a database of `DAMAGE_USERS` users, 3,000 or 300 in smoke runs, is made),
//! `DAMAGE_STARTS` (timed starts per setting, 3), `DAMAGE_READS` (session reads per damaged
//! file, 300).
//!
//! 1. **cost**: `/healthz` 200 after spawn with the default settings and with
//!    `store.verify_on_start = false` (page cache warm: the file is read once before), and the
//!    time of an offline `switchboard check`.
//! 2. **XOR 4 KiB in the middle**, 3. **64 random bit flips** (fixed seed) and 4. **one leaf of
//!    the sessions table with a damaged entry count** (its sessions are then read), each on a
//!    fresh copy: does the server start (or refuse, with which message), do reads (session lists,
//!    messages of `DAMAGE_READS` sessions, search, channels, users) answer, does the process
//!    survive them, what `/healthz` says after, and what `check` prints. Binaries that do not
//!    know `store.verify_on_start` (before the change) are also started without it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Server, env_usize};
use switchboard::domain::users::Role;

fn main() {
    switchboard::tls::install_crypto_provider();
    let smoke = common::smoke();
    let bin = common::require_binary();
    let starts = env_usize("DAMAGE_STARTS", if smoke { 1 } else { 3 });
    let reads = env_usize("DAMAGE_READS", if smoke { 30 } else { 300 });
    let work = tempfile::tempdir().unwrap();
    let source = match std::env::var("DAMAGE_DB") {
        Ok(p) => PathBuf::from(p),
        Err(_) => {
            let n = env_usize("DAMAGE_USERS", if smoke { 300 } else { 3000 });
            let dir = work.path().join("seed");
            let store = common::open_store(&dir, 8);
            store
                .write_blocking(move |ctx| {
                    for i in 0..n {
                        common::put_user_in(ctx, &format!("user{i}"), Role::Agent, "x")?;
                    }
                    Ok(())
                })
                .unwrap();
            drop(store);
            dir.join("switchboard.redb")
        }
    };
    let size = std::fs::metadata(&source).unwrap().len();
    println!(
        "damage bench: {} ({:.0} MiB); load {}",
        source.display(),
        size as f64 / 1048576.0,
        common::loadavg()
    );
    // A copy with an admin token, undamaged: the template for every phase.
    let template = work.path().join("template");
    std::fs::create_dir_all(&template).unwrap();
    std::fs::copy(&source, template.join("switchboard.redb")).unwrap();
    let token = {
        let store = common::open_store(&template, 8);
        let t = store
            .write_blocking(|ctx| {
                let u = common::put_user_in(ctx, "damage-bench", Role::Admin, "x")?;
                common::api_token_in(ctx, u.id)
            })
            .unwrap();
        drop(store);
        t
    };

    println!("\n1. cost of the start-up integrity check (page cache warm)");
    let _ = std::fs::read(template.join("switchboard.redb"));
    for (label, env) in [
        ("default settings", vec![]),
        (
            "verify_on_start = false",
            vec![("SWITCHBOARD_STORE__VERIFY_ON_START", "false")],
        ),
    ] {
        let mut times = Vec::new();
        for _ in 0..starts {
            let dir = copy_of(&template, work.path());
            let mut srv = Server::spawn(&bin, &dir, &env);
            match try_ready(&mut srv) {
                Some(t) => times.push(t),
                None => {
                    println!("  {label}: did not start: {}", first_line(&srv.log_tail()));
                    break;
                }
            }
            srv.stop();
        }
        if !times.is_empty() {
            times.sort();
            println!(
                "  {label}: ready after {} ms (median of {})",
                times[times.len() / 2].as_millis(),
                times.len()
            );
        }
    }
    let dir = copy_of(&template, work.path());
    let t = Instant::now();
    let out = check(&bin, &dir);
    println!(
        "  offline `switchboard check`: {} ms, {}",
        t.elapsed().as_millis(),
        first_line(&out)
    );

    println!("\n2. XOR over 4 KiB in the middle of the file");
    let dir = copy_of(&template, work.path());
    let db = dir.join("switchboard.redb");
    let mut bytes = std::fs::read(&db).unwrap();
    let mid = (bytes.len() / 2) & !4095;
    for b in &mut bytes[mid..mid + 4096] {
        *b ^= 0xff;
    }
    std::fs::write(&db, bytes).unwrap();
    damaged(&bin, &dir, &token, reads, &[]);

    println!("\n3. 64 random bit flips (fixed seed)");
    let dir = copy_of(&template, work.path());
    let db = dir.join("switchboard.redb");
    let mut bytes = std::fs::read(&db).unwrap();
    let mut seed = 0x5eed_u64;
    for _ in 0..64 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let bit = seed as usize % (bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
    }
    std::fs::write(&db, bytes).unwrap();
    damaged(&bin, &dir, &token, reads, &[]);

    println!("\n4. one B-tree leaf of the sessions table with a damaged entry count");
    let dir = copy_of(&template, work.path());
    let db = dir.join("switchboard.redb");
    let mut bytes = std::fs::read(&db).unwrap();
    // A leaf (page type 1) past the middle holding session records; its sessions' ids.
    let leaf = (bytes.len() / 2 / 4096 * 4096..bytes.len())
        .step_by(4096)
        .find(|&p| bytes[p] == 1 && contains(&bytes[p..p + 4096], b"\"last_preview\""));
    let Some(leaf) = leaf else {
        println!("  no session leaf found past the middle (a database without sessions?)");
        return;
    };
    let ids = session_ids(&bytes[leaf..leaf + 4096]);
    bytes[leaf + 2] = 0xff;
    bytes[leaf + 3] = 0xff;
    std::fs::write(&db, bytes).unwrap();
    println!("  leaf at byte {leaf}, sessions {ids:?}");
    let extra: Vec<String> = ids
        .iter()
        .map(|id| format!("/api/v1/sessions/{id}"))
        .collect();
    damaged(&bin, &dir, &token, reads.min(20), &extra);
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The ids of the session records (`{"id":N,"channel_id"…`) in a page.
fn session_ids(page: &[u8]) -> Vec<u64> {
    let text = String::from_utf8_lossy(page);
    text.match_indices("{\"id\":")
        .filter_map(|(i, m)| {
            let rest = &text[i + m.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            rest[digits.len()..]
                .starts_with(",\"channel_id\"")
                .then(|| digits.parse().ok())
                .flatten()
        })
        .collect()
}

fn copy_of(template: &Path, work: &Path) -> PathBuf {
    let dir = tempfile::tempdir_in(work).unwrap().keep();
    std::fs::copy(
        template.join("switchboard.redb"),
        dir.join("switchboard.redb"),
    )
    .unwrap();
    dir
}

fn first_line(s: &str) -> String {
    s.lines()
        .find(|l| l.contains("switchboard") || l.contains("ERROR") || l.contains("damaged"))
        .unwrap_or_else(|| s.lines().next().unwrap_or(""))
        .chars()
        .take(400)
        .collect()
}

/// Ready time, or None if the process exited first.
fn try_ready(srv: &mut Server) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(120) {
        if srv.exited() {
            return None;
        }
        if common::raw_get(&srv.base, "/healthz", None).is_some_and(|(s, _)| s == 200) {
            return Some(srv.spawned.elapsed());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn check(bin: &Path, dir: &Path) -> String {
    let out = Command::new(bin)
        .arg("check")
        .env_clear()
        .env("SWITCHBOARD_DATA_DIR", dir)
        .output()
        .unwrap();
    format!(
        "exit {}: {}{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn damaged(bin: &Path, dir: &Path, token: &str, reads: usize, extra: &[String]) {
    let out = check(bin, dir);
    println!("  `switchboard check`:");
    for l in out
        .lines()
        .filter(|l| !l.starts_with("  ") || l.contains("damaged"))
        .take(8)
    {
        println!("    {l}");
    }
    let mut srv = Server::spawn(bin, dir, &[]);
    if try_ready(&mut srv).is_none() {
        println!(
            "  start (default settings): refused: {}",
            first_line(&srv.log_tail())
        );
        // Served without the check, where the binary has it (else it is already off).
        srv = Server::spawn(bin, dir, &[("SWITCHBOARD_STORE__VERIFY_ON_START", "false")]);
        if try_ready(&mut srv).is_none() {
            println!(
                "  start with verify_on_start = false: refused: {}",
                first_line(&srv.log_tail())
            );
            return;
        }
        println!("  started with verify_on_start = false");
    } else {
        println!("  start (default settings): served");
    }
    let mut paths = vec![
        "/api/v1/sessions?limit=50".to_string(),
        "/api/v1/search?q=hello".into(),
        "/api/v1/channels".into(),
        "/api/v1/users".into(),
    ];
    for i in 0..reads {
        paths.push(format!(
            "/api/v1/sessions/{}/messages",
            1 + (i * 7919) % 100_000
        ));
    }
    paths.extend(extra.iter().cloned());
    let (mut ok, mut not_found, mut e500, mut other, mut gone) = (0, 0, 0, 0, 0);
    let mut first_500 = None;
    for p in &paths {
        match common::raw_get(&srv.base, p, Some(token)) {
            Some((200, _)) => ok += 1,
            Some((404, _)) => not_found += 1,
            Some((500, body)) => {
                e500 += 1;
                if first_500.is_none() {
                    first_500 = Some(format!("{p}: {body}"));
                }
            }
            Some(_) => other += 1,
            None => {
                gone += 1;
                if srv.exited() {
                    break;
                }
            }
        }
    }
    let alive = !srv.exited();
    println!(
        "  {} reads: 200 {ok}, 404 {not_found}, 500 {e500}, other {other}, no answer {gone}; process {}",
        paths.len(),
        if alive {
            "alive".to_string()
        } else {
            format!("DEAD: {}", first_line(&srv.log_tail()))
        }
    );
    if let Some(f) = first_500 {
        println!("  first 500: {}", f.chars().take(200).collect::<String>());
    }
    if alive {
        let h = common::raw_get(&srv.base, "/healthz", None)
            .map(|(s, b)| format!("{s} {b}"))
            .unwrap_or_else(|| "no answer".into());
        println!(
            "  /healthz after: {}",
            h.chars().take(200).collect::<String>()
        );
        srv.stop();
    }
    println!(
        "  `switchboard check` after: {}",
        first_line(&check(bin, dir))
    );
}
