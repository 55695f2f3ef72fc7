//! Users: accounts, roles, profiles.

use redb::{ReadTransaction, ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::store::codec::{self, k1};
use crate::store::tables::{USERS, USERS_BY_NAME};
use crate::store::{Audience, Store, WriteCtx};

use super::audit;
use super::passwords::Passwords;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    /// The catalogue key of its name (`role.admin`).
    pub fn key(self) -> &'static str {
        match self {
            Role::Admin => "role.admin",
            Role::Agent => "role.agent",
        }
    }
}

pub use crate::locale::Lang;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct NotifySettings {
    pub sound: bool,
    pub popups: bool,
    pub desktop: bool,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            sound: true,
            popups: true,
            desktop: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub extension: String,
    pub role: Role,
    #[serde(default)]
    pub disabled: bool,
    /// None = language from the browser (also when the stored one's file is gone).
    #[serde(default, deserialize_with = "crate::locale::lenient")]
    pub language: Option<Lang>,
    pub password_hash: String,
    pub created: i64,
    #[serde(default)]
    pub notify: NotifySettings,
    /// The PBX's view of their phone (on a call, DND) never keeps new sessions from them.
    #[serde(default)]
    pub phone_routing_off: bool,
}

/// The public view of a user (never the hash).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub extension: String,
    pub role: Role,
    pub disabled: bool,
    pub language: Option<Lang>,
    pub notify: NotifySettings,
    #[serde(default)]
    pub phone_routing_off: bool,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            extension: u.extension.clone(),
            role: u.role,
            disabled: u.disabled,
            language: u.language,
            notify: u.notify.clone(),
            phone_routing_off: u.phone_routing_off,
        }
    }
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
    pub fn display_name_or_username(&self) -> &str {
        if self.display_name.trim().is_empty() {
            &self.username
        } else {
            &self.display_name
        }
    }
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub extension: String,
    pub role: Role,
    #[serde(default)]
    pub language: Option<Lang>,
}

/// Fields a user may change about themself; admins may change any user's (plus role/disabled).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub extension: Option<String>,
    pub language: Option<Option<Lang>>,
    pub notify: Option<NotifySettings>,
    /// Leave their phone state (on a call, DND) out of assign-on-arrival.
    pub phone_routing_off: Option<bool>,
    /// Admin only.
    pub role: Option<Role>,
    /// Admin only.
    pub disabled: Option<bool>,
}

pub fn validate_username(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.len() > 64 {
        return Err(Error::invalid("username", "must be 1 to 64 characters"));
    }
    if !n
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        return Err(Error::invalid(
            "username",
            "may contain only letters, digits and . _ - @",
        ));
    }
    Ok(n.to_string())
}

fn clean_text(field: &str, v: &str, max: usize) -> Result<String> {
    let v = v.trim();
    if v.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if v.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(v.to_string())
}

fn validate_email(v: &str) -> Result<String> {
    let v = clean_text("email", v, 254)?;
    if !v.is_empty() && (!v.contains('@') || v.contains(' ')) {
        return Err(Error::invalid("email", "is not an email address"));
    }
    Ok(v)
}

fn validate_extension(v: &str) -> Result<String> {
    let v = clean_text("extension", v, 32)?;
    if !v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '*' | '#'))
    {
        return Err(Error::invalid(
            "extension",
            "may contain only digits, + * #",
        ));
    }
    Ok(v)
}

pub fn get(rtx: &ReadTransaction, id: UserId) -> Result<Option<User>> {
    codec::get(&rtx.open_table(USERS)?, &k1(id))
}

pub fn get_by_name(rtx: &ReadTransaction, username: &str) -> Result<Option<User>> {
    let idx = rtx.open_table(USERS_BY_NAME)?;
    let Some(id) = idx.get(username.trim().to_ascii_lowercase().as_bytes())? else {
        return Ok(None);
    };
    let id = UserId(codec::id_at(id.value(), 0)?);
    get(rtx, id)
}

pub fn list(rtx: &ReadTransaction) -> Result<Vec<User>> {
    let t = rtx.open_table(USERS)?;
    let mut out = Vec::new();
    for item in t.iter()? {
        out.push(codec::decode(item?.1.value())?);
    }
    Ok(out)
}

pub fn count(rtx: &ReadTransaction) -> Result<u64> {
    Ok(rtx.open_table(USERS)?.len()?)
}

/// The id of the user named `username`, exactly as the name index keys it (lowercase).
pub fn id_by_name_in(ctx: &WriteCtx<'_>, username: &str) -> Result<Option<UserId>> {
    ctx.txn
        .open_table(USERS_BY_NAME)?
        .get(username.as_bytes())?
        .map(|v| codec::id_at(v.value(), 0))
        .transpose()
}

/// Whether any administrator exists (setup is over once one does, however it was made).
pub fn admin_exists(rtx: &ReadTransaction) -> Result<bool> {
    Ok(list(rtx)?.iter().any(User::is_admin))
}

pub fn get_in(ctx: &WriteCtx<'_>, id: UserId) -> Result<User> {
    codec::get(&ctx.txn.open_table(USERS)?, &k1(id))?.ok_or(Error::NotFound("user"))
}

pub fn put_in(ctx: &mut WriteCtx<'_>, user: &User) -> Result<()> {
    let mut t = ctx.txn.open_table(USERS)?;
    codec::put(&mut t, &k1(user.id), user)?;
    drop(t);
    ctx.emit(
        Audience::Admins,
        &super::events::Event::UserUpdated(UserView::from(user)),
    )
}

/// Create a user. `only_if_no_users` makes this the atomic first-admin setup.
pub async fn create(
    store: &Store,
    passwords: &Passwords,
    actor: Option<UserId>,
    input: NewUser,
    only_if_no_admin: bool,
) -> Result<User> {
    let username = validate_username(&input.username)?;
    let display_name = match clean_text("display_name", &input.display_name, 100)? {
        d if d.is_empty() => username.clone(),
        d => d,
    };
    let email = validate_email(&input.email)?;
    let extension = validate_extension(&input.extension)?;
    let hash = passwords.hash(&input.password).await?;
    let (role, language) = (input.role, input.language);
    store
        .write(move |ctx| {
            let key = username.to_ascii_lowercase();
            {
                let idx = ctx.txn.open_table(USERS_BY_NAME)?;
                if idx.get(key.as_bytes())?.is_some() {
                    return Err(Error::Conflict(format!("the username {username} is taken")));
                }
            }
            if only_if_no_admin {
                let t = ctx.txn.open_table(USERS)?;
                for item in t.iter()? {
                    let u: User = codec::decode(item?.1.value())?;
                    if u.is_admin() {
                        return Err(Error::Conflict("setup is already complete".into()));
                    }
                }
            }
            let id = UserId(ctx.next_id("user")?);
            let user = User {
                id,
                username: username.clone(),
                display_name: display_name.clone(),
                email: email.clone(),
                extension: extension.clone(),
                role,
                disabled: false,
                language,
                password_hash: hash.clone(),
                created: ctx.now,
                notify: NotifySettings::default(),
                phone_routing_off: false,
            };
            ctx.txn
                .open_table(USERS_BY_NAME)?
                .insert(key.as_bytes(), k1(id).as_slice())?;
            put_in(ctx, &user)?;
            audit::record_phrased(
                ctx,
                actor.or(Some(id)),
                "user.create",
                format!("user:{id}"),
                vec![
                    crate::locale::Phrase::new("aud.d.user_created")
                        .arg("username", &username)
                        .word("role", role.key()),
                ],
            )?;
            Ok(user)
        })
        .await
}

/// Apply a profile/admin change. `by_admin` allows role and disabled.
pub async fn update(
    store: &Store,
    actor: UserId,
    id: UserId,
    patch: UserPatch,
    by_admin: bool,
) -> Result<User> {
    if !by_admin && (patch.role.is_some() || patch.disabled.is_some()) {
        return Err(Error::Forbidden(
            "only an admin may change roles or disable users".into(),
        ));
    }
    let display_name = patch
        .display_name
        .as_deref()
        .map(|v| clean_text("display_name", v, 100))
        .transpose()?;
    if display_name.as_deref() == Some("") {
        return Err(Error::invalid("display_name", "must not be empty"));
    }
    let email = patch.email.as_deref().map(validate_email).transpose()?;
    let extension = patch
        .extension
        .as_deref()
        .map(validate_extension)
        .transpose()?;
    store
        .write(move |ctx| {
            let mut u = get_in(ctx, id)?;
            if actor == id
                && (patch.disabled == Some(true) || patch.role == Some(Role::Agent))
                && u.is_admin()
            {
                let admins = count_active_admins(ctx)?;
                if admins <= 1 {
                    return Err(Error::Conflict("you are the last active admin".into()));
                }
            }
            if let Some(v) = &display_name {
                u.display_name = v.clone();
            }
            if let Some(v) = &email {
                u.email = v.clone();
            }
            if let Some(v) = &extension {
                u.extension = v.clone();
            }
            if let Some(v) = patch.language {
                u.language = v;
            }
            if let Some(v) = &patch.notify {
                u.notify = v.clone();
            }
            if let Some(v) = patch.phone_routing_off {
                u.phone_routing_off = v;
            }
            let mut detail = Vec::new();
            if let Some(r) = patch.role
                && r != u.role
            {
                detail.push(
                    crate::locale::Phrase::new("aud.d.role_changed")
                        .word("from", u.role.key())
                        .word("to", r.key()),
                );
                u.role = r;
            }
            if let Some(d) = patch.disabled
                && d != u.disabled
            {
                detail.push(crate::locale::Phrase::new(if d {
                    "aud.d.disabled"
                } else {
                    "aud.d.enabled"
                }));
                u.disabled = d;
                if d {
                    // Sessions and API tokens end for good: enabling the user again later
                    // does not revive them.
                    super::auth::end_all_sessions_in(ctx, id)?;
                    super::auth::revoke_all_api_tokens_in(ctx, id)?;
                }
            }
            put_in(ctx, &u)?;
            audit::record_phrased(
                ctx,
                Some(actor),
                "user.update",
                format!("user:{id}"),
                detail,
            )?;
            Ok(u)
        })
        .await
}

fn count_active_admins(ctx: &WriteCtx<'_>) -> Result<usize> {
    let t = ctx.txn.open_table(USERS)?;
    let mut n = 0;
    for item in t.iter()? {
        let u: User = codec::decode(item?.1.value())?;
        if u.is_admin() && !u.disabled {
            n += 1;
        }
    }
    Ok(n)
}

/// A user changes their own password: the current one must be right (else `current` is
/// invalid); all their sessions end, and their API tokens unless `keep_tokens`.
pub async fn change_own_password(
    store: &Store,
    passwords: &Passwords,
    user: &User,
    current: &str,
    new: &str,
    keep_tokens: bool,
) -> Result<()> {
    if !passwords.verify(current, Some(&user.password_hash)).await? {
        return Err(Error::invalid("current", "is wrong"));
    }
    set_password(store, passwords, Some(user.id), user.id, new, keep_tokens)
        .await
        .map(|_| ())
}

/// The users `viewer` may list: everyone for an administrator, the enabled colleagues for an
/// agent; by id.
pub async fn list_for(store: &Store, viewer: &User) -> Result<Vec<User>> {
    let admin = viewer.is_admin();
    let mut all: Vec<User> = store
        .read(list)
        .await?
        .into_iter()
        .filter(|u| admin || !u.disabled)
        .collect();
    all.sort_by_key(|u| u.id);
    Ok(all)
}

/// One user as `viewer` may see them (a disabled user only for an administrator).
pub async fn get_for(store: &Store, viewer: &User, id: UserId) -> Result<User> {
    match store.read(move |rtx| get(rtx, id)).await? {
        Some(u) if viewer.is_admin() || !u.disabled => Ok(u),
        _ => Err(Error::NotFound("user")),
    }
}

/// Set a new password (reset by an admin or changed by the user): all the user's sessions end,
/// and their API tokens too unless `keep_tokens` (an explicit choice: a leaked password often
/// means leaked scripts). Returns how many tokens were revoked.
pub async fn set_password(
    store: &Store,
    passwords: &Passwords,
    actor: Option<UserId>,
    id: UserId,
    password: &str,
    keep_tokens: bool,
) -> Result<usize> {
    let hash = passwords.hash(password).await?;
    store
        .write(move |ctx| {
            let mut u = get_in(ctx, id)?;
            u.password_hash = hash.clone();
            put_in(ctx, &u)?;
            super::auth::end_all_sessions_in(ctx, id)?;
            let revoked = if keep_tokens {
                0
            } else {
                super::auth::revoke_all_api_tokens_in(ctx, id)?
            };
            let detail = if keep_tokens {
                crate::locale::Phrase::new("aud.d.tokens_kept")
            } else {
                crate::locale::Phrase::new("aud.d.tokens_revoked").arg("n", revoked)
            };
            audit::record_phrased(
                ctx,
                actor,
                "user.password",
                format!("user:{id}"),
                vec![detail],
            )?;
            Ok(revoked)
        })
        .await
}
