//! Request bodies for the JSON endpoints (API, live-chat visitor API): rejections use the API
//! error shape instead of axum's plain text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::error::Error;

/// A JSON body whose rejections use the API error shape (400 malformed, 415 wrong type, 413 too
/// big), read as strictly as the OpenAPI document describes it: the body must be an object
/// (every request body in the document is one); an integer may be written `5` or `5.0` (JSON
/// Schema's `integer` admits both) but must fit in an int64, the format the document gives
/// every integer.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let value = match axum::Json::<serde_json::Value>::from_request(req, state).await {
            Ok(axum::Json(v)) => v,
            Err(rej) => {
                return Err(ApiError(match rej {
                    JsonRejection::MissingJsonContentType(_) => {
                        Error::Unsupported("expected Content-Type: application/json".into())
                    }
                    JsonRejection::JsonDataError(e) => {
                        Error::BadRequest(format!("invalid JSON body: {}", e.body_text()))
                    }
                    JsonRejection::JsonSyntaxError(e) => {
                        Error::BadRequest(format!("malformed JSON: {}", e.body_text()))
                    }
                    JsonRejection::BytesRejection(e) => {
                        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                            Error::TooLarge("request body too large".into())
                        } else {
                            Error::BadRequest(e.body_text())
                        }
                    }
                    other => Error::BadRequest(other.body_text()),
                }));
            }
        };
        if !value.is_object() {
            return Err(ApiError(Error::BadRequest(
                "invalid JSON body: expected an object".into(),
            )));
        }
        let mut too_big = None;
        let value = integers(value, &mut too_big);
        serde_json::from_value(value).map(JsonBody).map_err(|e| {
            ApiError(Error::BadRequest(match too_big {
                // The integer beyond int64 was in a field we read: say that, not serde's
                // "invalid type: floating point".
                Some(n) => format!("invalid JSON body: {n} is out of range (integers are int64)"),
                None => format!("invalid JSON body: {e}"),
            }))
        })
    }
}

/// Integral floats (`5.0`) become integers. An integer beyond int64 becomes a float, which no
/// integer field accepts (the body is then refused, naming the number in `too_big`), while a
/// property the endpoint does not read may hold one: the document allows such properties and
/// they are ignored.
fn integers(v: serde_json::Value, too_big: &mut Option<String>) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_u64() && n.as_i64().is_none() => {
            if too_big.is_none() {
                *too_big = Some(n.to_string());
            }
            n.as_f64().map_or(Value::Null, Value::from)
        }
        Value::Number(n) => match n.as_f64() {
            // Exactly representable integral values only (|x| <= 2^53).
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(|v| integers(v, too_big)).collect()),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| (k, integers(v, too_big)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[derive(serde::Deserialize)]
    struct Body {
        id: u64,
    }

    async fn read(json: &str) -> Result<u64, String> {
        let req = axum::http::Request::builder()
            .method("POST")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(json.to_string()))
            .unwrap();
        JsonBody::<Body>::from_request(req, &())
            .await
            .map(|b| b.0.id)
            .map_err(|e| format!("{:?}", e.0))
    }

    /// An integer beyond int64 is refused in a field the endpoint reads, and ignored in one it
    /// does not (schemathesis: extra properties are allowed by the document).
    #[tokio::test]
    async fn integers_beyond_int64_are_refused_only_where_they_are_read() {
        assert_eq!(read(r#"{"id": 5}"#).await, Ok(5));
        assert_eq!(read(r#"{"id": 5.0}"#).await, Ok(5));
        let e = read(r#"{"id": 10000000000000000001}"#).await.unwrap_err();
        assert!(e.contains("10000000000000000001 is out of range"), "{e}");
        assert_eq!(
            read(
                r#"{"id": 7, "x": [1.5, 10000000000000000001], "y": {"z": 18446744073709551615}}"#
            )
            .await,
            Ok(7)
        );
        let e = read(r#"{"id": "7"}"#).await.unwrap_err();
        assert!(e.contains("invalid type"), "{e}");
    }
}
