//! One error type for the whole domain. `http::error` maps it to a JSON body for the API and a
//! readable page for the UI; the cause of an internal error is logged, never shown.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The thing does not exist, or the caller may not know it exists (404).
    NotFound(&'static str),
    /// A field failed validation (422).
    Invalid { field: String, message: String },
    /// The request cannot be understood (400).
    BadRequest(String),
    /// Not logged in / bad credentials (401).
    Unauthorized(String),
    /// Logged in but not allowed (403).
    Forbidden(String),
    /// The state does not allow this now (409).
    Conflict(String),
    /// A product rule refuses this (422), e.g. a closed reply window.
    Rule(String),
    /// Body or file over its limit (413).
    TooLarge(String),
    /// File type or content type not accepted (415).
    Unsupported(String),
    /// Slow down (429).
    RateLimited { retry_after_secs: u64 },
    /// Existed but is gone, e.g. an expired file (410).
    Gone(String),
    /// The store cannot take writes now (disk full, shutting down) (503); callers may retry.
    Unavailable(String),
    /// The storage engine failed (500). The writer fails the whole batch and reopens the
    /// database; the text is for the log only.
    Storage(String),
    /// A bug or an I/O failure (500). The text is for the log only.
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }
    pub fn internal(e: impl fmt::Display) -> Self {
        Error::Internal(e.to_string())
    }

    /// Stable machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::Invalid { .. } => "invalid",
            Error::BadRequest(_) => "bad_request",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::Conflict(_) => "conflict",
            Error::Rule(_) => "rule",
            Error::TooLarge(_) => "too_large",
            Error::Unsupported(_) => "unsupported_type",
            Error::RateLimited { .. } => "rate_limited",
            Error::Gone(_) => "gone",
            Error::Unavailable(_) => "unavailable",
            Error::Internal(_) | Error::Storage(_) => "internal",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Error::NotFound(_) => 404,
            Error::Invalid { .. } | Error::Rule(_) => 422,
            Error::BadRequest(_) => 400,
            Error::Unauthorized(_) => 401,
            Error::Forbidden(_) => 403,
            Error::Conflict(_) => 409,
            Error::TooLarge(_) => 413,
            Error::Unsupported(_) => 415,
            Error::RateLimited { .. } => 429,
            Error::Gone(_) => 410,
            Error::Unavailable(_) => 503,
            Error::Internal(_) | Error::Storage(_) => 500,
        }
    }

    /// What the user is shown.
    pub fn public_message(&self) -> String {
        match self {
            Error::NotFound(what) => format!("{what} not found"),
            Error::Invalid { field, message } => format!("{field}: {message}"),
            Error::BadRequest(m)
            | Error::Unauthorized(m)
            | Error::Forbidden(m)
            | Error::Conflict(m)
            | Error::Rule(m)
            | Error::TooLarge(m)
            | Error::Unsupported(m)
            | Error::Gone(m)
            | Error::Unavailable(m) => m.clone(),
            Error::RateLimited { retry_after_secs } => {
                format!("too many requests; try again in {retry_after_secs} s")
            }
            Error::Internal(_) | Error::Storage(_) => {
                "internal error; the cause has been logged".into()
            }
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Internal(m) => write!(f, "internal: {m}"),
            Error::Storage(m) => write!(f, "storage: {m}"),
            other => write!(f, "{}: {}", other.code(), other.public_message()),
        }
    }
}

impl std::error::Error for Error {}

fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(28)
}

impl From<redb::StorageError> for Error {
    fn from(e: redb::StorageError) -> Self {
        match &e {
            redb::StorageError::Io(io) if is_disk_full(io) => {
                Error::Unavailable("storage is full; try again later".into())
            }
            redb::StorageError::PreviousIo => {
                Error::Unavailable("storage failed earlier; try again later".into())
            }
            _ => Error::Storage(e.to_string()),
        }
    }
}

impl From<redb::TableError> for Error {
    fn from(e: redb::TableError) -> Self {
        match e {
            redb::TableError::Storage(s) => s.into(),
            other => Error::Storage(format!("table: {other}")),
        }
    }
}
impl From<redb::TransactionError> for Error {
    fn from(e: redb::TransactionError) -> Self {
        match e {
            redb::TransactionError::Storage(s) => s.into(),
            other => Error::Storage(format!("transaction: {other}")),
        }
    }
}
impl From<redb::CommitError> for Error {
    fn from(e: redb::CommitError) -> Self {
        match e {
            redb::CommitError::Storage(s) => s.into(),
            other => Error::Storage(format!("commit: {other}")),
        }
    }
}

impl From<redb::Error> for Error {
    fn from(e: redb::Error) -> Self {
        match e {
            redb::Error::Io(io) if is_disk_full(&io) => {
                Error::Unavailable("storage is full; try again later".into())
            }
            redb::Error::PreviousIo => {
                Error::Unavailable("storage failed earlier; try again later".into())
            }
            other => Error::Storage(other.to_string()),
        }
    }
}
