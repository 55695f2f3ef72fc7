//! Integer parameters in paths and query strings, checked against the OpenAPI document itself:
//! every parameter the document declares as an integer must be one, within its declared
//! `minimum`/`maximum` and its format's range (int64, or int32), else 400 in the JSON shape.
//! The document is generated from the handlers' types and attributes, so the server and the
//! document cannot drift apart here (before, `?channel_id=2^63` and `?limit=0` were accepted
//! though the document called them invalid).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::error::Error;

#[derive(Debug, Clone)]
struct IntParam {
    name: String,
    in_path: bool,
    min: i64,
    max: i64,
}

/// (method, path template) → its integer parameters.
#[derive(Default)]
pub struct Rules(HashMap<(String, String), Vec<IntParam>>);

impl Rules {
    pub fn from_doc(doc: &serde_json::Value) -> Self {
        let mut rules = HashMap::new();
        let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) else {
            return Self(rules);
        };
        for (template, item) in paths {
            let Some(item) = item.as_object() else {
                continue;
            };
            for (method, op) in item {
                let params: Vec<IntParam> = op
                    .get("parameters")
                    .and_then(|p| p.as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(int_param)
                    .collect();
                if !params.is_empty() {
                    rules.insert((method.to_ascii_uppercase(), template.clone()), params);
                }
            }
        }
        Self(rules)
    }
}

fn int_param(p: &serde_json::Value) -> Option<IntParam> {
    let schema = p.get("schema")?;
    let is_int = match schema.get("type")? {
        serde_json::Value::String(t) => t == "integer",
        serde_json::Value::Array(ts) => ts.iter().any(|t| t == "integer"),
        _ => false,
    };
    if !is_int {
        return None;
    }
    let (lo, hi) = match schema.get("format").and_then(|f| f.as_str()) {
        Some("int32") => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    };
    let bound = |k: &str| schema.get(k).and_then(|v| v.as_f64());
    Some(IntParam {
        name: p.get("name")?.as_str()?.to_string(),
        in_path: p.get("in")?.as_str()? == "path",
        min: bound("minimum").map_or(lo, |m| (m.ceil() as i64).max(lo)),
        max: bound("maximum").map_or(hi, |m| (m.floor() as i64).min(hi)),
    })
}

pub async fn guard(State(rules): State<Arc<Rules>>, req: Request, next: Next) -> Response {
    let key = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| (req.method().as_str().to_string(), m.as_str().to_string()));
    let Some(params) = key.and_then(|k| rules.0.get(&k)) else {
        return next.run(req).await;
    };
    let (mut parts, body) = req.into_parts();
    let path_values: Vec<(String, String)> = RawPathParams::from_request_parts(&mut parts, &())
        .await
        .map(|raw| {
            raw.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let query: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    for p in params {
        let values = if p.in_path { &path_values } else { &query };
        for (_, v) in values.iter().filter(|(k, _)| *k == p.name) {
            let ok = v.parse::<i64>().is_ok_and(|n| (p.min..=p.max).contains(&n));
            if !ok {
                return ApiError(Error::BadRequest(format!(
                    "{}: {v:?} is not an integer from {} to {}",
                    p.name, p.min, p.max
                )))
                .into_response();
            }
        }
    }
    next.run(Request::from_parts(parts, body)).await
}
