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
        let value = integers(value).map_err(|e| ApiError(Error::BadRequest(e)))?;
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|e| ApiError(Error::BadRequest(format!("invalid JSON body: {e}"))))
    }
}

/// Integral floats (`5.0`) become integers; integers beyond int64 are refused.
fn integers(v: serde_json::Value) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    Ok(match v {
        Value::Number(n) if n.is_u64() && n.as_i64().is_none() => {
            return Err(format!(
                "invalid JSON body: {n} is out of range (integers are int64)"
            ));
        }
        Value::Number(n) => match n.as_f64() {
            // Exactly representable integral values only (|x| <= 2^53).
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0 => {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(a) => Value::Array(a.into_iter().map(integers).collect::<Result<_, _>>()?),
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, v)| Ok((k, integers(v)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other,
    })
}
