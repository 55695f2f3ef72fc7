//! Ordered schema migrations. The schema version is the number of migrations applied; each runs
//! in its own durable transaction. A database written by a newer binary is refused.

use redb::{Database, ReadableTable, TableDefinition, WriteTransaction};

use super::tables::{ALL, META, OPEN_SESSIONS_BY_ACTIVITY, SESSIONS_BY_ACTIVITY};
use crate::error::{Error, Result};

type Migration = fn(&WriteTransaction) -> Result<()>;

/// Append only; never edit or reorder a migration that has shipped.
const MIGRATIONS: &[Migration] = &[create_base_tables, index_open_sessions, index_api_tokens];

pub const SCHEMA_VERSION: u64 = MIGRATIONS.len() as u64;

fn create_base_tables(txn: &WriteTransaction) -> Result<()> {
    for def in ALL {
        txn.open_table(*def)?;
    }
    Ok(())
}

/// 2: `OPEN_SESSIONS_BY_ACTIVITY`, filled from the activity index.
fn index_open_sessions(txn: &WriteTransaction) -> Result<()> {
    // The activity index value as this migration shipped: the flags byte at offset 16, bit 2 =
    // closed. Frozen here on purpose: a later change of the live layout (in
    // `domain::sessions`) must not change what an old database is migrated from.
    const FLAGS_AT: usize = 16;
    const CLOSED: u8 = 2;
    let all = txn.open_table(SESSIONS_BY_ACTIVITY)?;
    let mut open = txn.open_table(OPEN_SESSIONS_BY_ACTIVITY)?;
    for item in all.iter()? {
        let (k, v) = item?;
        if v.value().get(FLAGS_AT).copied().unwrap_or(0) & CLOSED == 0 {
            open.insert(k.value(), v.value())?;
        }
    }
    Ok(())
}

/// 3: `api_tokens_by_user` (a user's tokens, for listing and revoking), filled from
/// `api_tokens`; tokens of users who are disabled now are removed (they used to come back when
/// the user was enabled again). Existing tokens keep no expiry and get `last_used` on their
/// next use (the fields default when absent).
fn index_api_tokens(txn: &WriteTransaction) -> Result<()> {
    // Frozen as this migration shipped: table names, the record encoding (version byte 1 +
    // JSON), the fields read, and the key layouts (big-endian ids).
    const TOKENS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("api_tokens");
    const BY_USER: TableDefinition<&[u8], &[u8]> = TableDefinition::new("api_tokens_by_user");
    const USERS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("users");
    const RECORD_V1: u8 = 1;
    #[derive(serde::Deserialize)]
    struct Token {
        id: u64,
        user_id: u64,
    }
    #[derive(serde::Deserialize)]
    struct UserRec {
        #[serde(default)]
        disabled: bool,
    }
    fn json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T> {
        match bytes.split_first() {
            Some((&RECORD_V1, rest)) => serde_json::from_slice(rest)
                .map_err(|e| Error::Internal(format!("undecodable record: {e}"))),
            _ => Err(Error::Internal("unexpected record version".into())),
        }
    }
    let mut tokens = txn.open_table(TOKENS)?;
    let users = txn.open_table(USERS)?;
    let mut by_user = txn.open_table(BY_USER)?;
    let mut dead = Vec::new();
    for item in tokens.iter()? {
        let (k, v) = item?;
        let t: Token = json(v.value())?;
        let disabled = match users.get(t.user_id.to_be_bytes().as_slice())? {
            Some(u) => json::<UserRec>(u.value())?.disabled,
            None => true,
        };
        if disabled {
            dead.push(k.value().to_vec());
            continue;
        }
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&t.user_id.to_be_bytes());
        key[8..].copy_from_slice(&t.id.to_be_bytes());
        by_user.insert(key.as_slice(), k.value())?;
    }
    for k in dead {
        tokens.remove(k.as_slice())?;
    }
    Ok(())
}

pub fn stored_version(txn: &WriteTransaction) -> Result<u64> {
    let t = txn.open_table(META)?;
    let v = match t.get(b"schema_version".as_slice())? {
        Some(v) => super::codec::u64_at(v.value(), 0)?,
        None => 0,
    };
    Ok(v)
}

/// Bring the database to `SCHEMA_VERSION`. Returns the version found before migrating.
pub fn migrate(db: &Database, path_for_messages: &str) -> Result<u64> {
    let found = {
        let txn = db.begin_write()?;
        let v = stored_version(&txn)?;
        txn.abort()?;
        v
    };
    if found > SCHEMA_VERSION {
        return Err(Error::Conflict(format!(
            "{path_for_messages} has schema version {found}, newer than this binary's {SCHEMA_VERSION}; \
             install the newer Switchboard or restore a backup"
        )));
    }
    for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let txn = db.begin_write()?;
        m(&txn)?;
        {
            let mut t = txn.open_table(META)?;
            t.insert(
                b"schema_version".as_slice(),
                ((i + 1) as u64).to_be_bytes().as_slice(),
            )?;
        }
        txn.commit()?;
        tracing::info!(version = i + 1, "applied schema migration");
    }
    // Tables added to ALL by later code paths are created lazily here as well, so readers never
    // hit a missing table.
    let txn = db.begin_write()?;
    for def in ALL {
        txn.open_table(*def)?;
    }
    txn.commit()?;
    Ok(found)
}
