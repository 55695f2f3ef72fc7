//! Small helpers for walking untrusted webhook JSON with precise error messages.

use serde_json::{Map, Value};

use super::{MAX_ITEMS_PER_PAYLOAD, ParseCode, ParseError};

pub(crate) type Obj = Map<String, Value>;

/// Decode a webhook body: valid UTF-8, valid JSON, a JSON object at the top.
pub(crate) fn parse_root(body: &[u8]) -> Result<Obj, ParseError> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ParseError::new(
            ParseCode::BadUtf8,
            format!("body is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ParseError::invalid("(body)", "a JSON object")),
        Err(e) => Err(ParseError::new(
            ParseCode::BadJson,
            format!("body is not valid JSON: {e}"),
        )),
    }
}

/// Check the top-level `object` discriminator.
pub(crate) fn expect_object_kind(root: &Obj, expected: &str) -> Result<(), ParseError> {
    match root.get("object") {
        None | Some(Value::Null) => Err(ParseError::missing("object")),
        Some(Value::String(s)) if s == expected => Ok(()),
        Some(Value::String(s)) => Err(ParseError::new(
            ParseCode::WrongObject,
            format!("field object is {s:?}, expected {expected:?}"),
        )),
        Some(_) => Err(ParseError::invalid("object", "a string")),
    }
}

pub(crate) fn as_obj<'a>(v: &'a Value, path: &dyn Fn() -> String) -> Result<&'a Obj, ParseError> {
    v.as_object()
        .ok_or_else(|| ParseError::invalid(&path(), "an object"))
}

/// An optional array field: missing or null is empty, anything but an array is an error.
pub(crate) fn opt_array<'a>(
    o: &'a Obj,
    key: &str,
    path: &dyn Fn() -> String,
) -> Result<&'a [Value], ParseError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) => Ok(a.as_slice()),
        Some(_) => Err(ParseError::invalid(&join(&path(), key), "an array")),
    }
}

/// A required array field.
pub(crate) fn req_array<'a>(
    o: &'a Obj,
    key: &str,
    path: &dyn Fn() -> String,
) -> Result<&'a [Value], ParseError> {
    match o.get(key) {
        None | Some(Value::Null) => Err(ParseError::missing(&join(&path(), key))),
        Some(Value::Array(a)) => Ok(a.as_slice()),
        Some(_) => Err(ParseError::invalid(&join(&path(), key), "an array")),
    }
}

/// A required non-empty string field (numbers are accepted and rendered as decimal strings,
/// since some ids arrive as either).
pub(crate) fn req_str(o: &Obj, key: &str, path: &dyn Fn() -> String) -> Result<String, ParseError> {
    match o.get(key) {
        None | Some(Value::Null) => Err(ParseError::missing(&join(&path(), key))),
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(ParseError::invalid(
            &join(&path(), key),
            "a non-empty string",
        )),
    }
}

/// An optional string field; wrong types are treated as absent (these fields are cosmetic).
pub(crate) fn opt_str(o: &Obj, key: &str) -> Option<String> {
    match o.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// Follow a path of object keys, e.g. `get_path(msg, &["context", "id"])`.
pub(crate) fn get_path<'a>(o: &'a Obj, keys: &[&str]) -> Option<&'a Value> {
    let (first, rest) = keys.split_first()?;
    let mut cur = o.get(*first)?;
    for k in rest {
        cur = cur.as_object()?.get(*k)?;
    }
    Some(cur)
}

pub(crate) fn path_str(o: &Obj, keys: &[&str]) -> Option<String> {
    match get_path(o, keys)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer that may arrive as a JSON number or a decimal string.
pub(crate) fn int_field(o: &Obj, key: &str, path: &dyn Fn() -> String) -> Result<i64, ParseError> {
    let p = || join(&path(), key);
    match o.get(key) {
        None | Some(Value::Null) => Err(ParseError::missing(&p())),
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .ok_or_else(|| ParseError::invalid(&p(), "an integer")),
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| ParseError::invalid(&p(), "an integer (as number or string)")),
        Some(_) => Err(ParseError::invalid(&p(), "an integer")),
    }
}

/// Unix seconds (number or string) to milliseconds.
pub(crate) fn secs_to_ms(secs: i64, path: &str) -> Result<i64, ParseError> {
    secs.checked_mul(1000)
        .ok_or_else(|| ParseError::invalid(path, "a Unix timestamp in seconds"))
}

/// Counts produced items against [`MAX_ITEMS_PER_PAYLOAD`].
pub(crate) struct Budget(usize);

impl Budget {
    pub(crate) fn new() -> Self {
        Budget(0)
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<(), ParseError> {
        self.0 = self.0.saturating_add(n);
        if self.0 > MAX_ITEMS_PER_PAYLOAD {
            Err(ParseError::too_many(MAX_ITEMS_PER_PAYLOAD))
        } else {
            Ok(())
        }
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}
