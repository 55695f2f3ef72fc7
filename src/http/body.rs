//! Request bodies for the JSON endpoints (API, live-chat visitor API): rejections use the API
//! error shape instead of axum's plain text.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::error::Error;

/// A JSON body whose rejections use the API error shape (400 malformed, 415 wrong type, 413 too big).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(rej) => Err(ApiError(match rej {
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
            })),
        }
    }
}
