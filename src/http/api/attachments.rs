//! Attachments: streamed upload (raw body or multipart), download with ranges, thumbnails,
//! and the signed public links providers fetch media from.

use crate::ids::AttachmentId;
use crate::ids::ChannelId;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::Json;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::attachments::{
    self, Attachment, AttachmentUpload, NewAttachment, Policy, Scope,
};
use crate::domain::{access, channels};
use crate::error::Error;
use crate::http::HttpState;
use crate::http::auth::{ApiAuth, Authed};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::files;

pub fn router() -> OpenApiRouter<HttpState> {
    // The global body cap is lifted for the upload only: it enforces the file's own limit
    // while streaming.
    let upload_routes = OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::disable());
    OpenApiRouter::new()
        .merge(upload_routes)
        .routes(routes!(download))
        .routes(routes!(info))
        .routes(routes!(thumbnail))
        .route(
            "/media/{id}/{expires}/{sig}",
            axum::routing::get(public_download),
        )
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The channel the file is for (its size limit and allowed types apply).
    pub channel_id: Option<ChannelId>,
    /// `internal` for internal-chat files (100 MB).
    pub scope: Option<String>,
    /// File name for raw uploads (else the `X-Filename` header; percent-encoding allowed).
    pub name: Option<String>,
}

/// Which rules and scope an upload gets. Internal chat adds `chat_id` here.
async fn purpose(
    state: &HttpState,
    who: &Authed,
    q: &UploadQuery,
) -> Result<(Scope, Policy), Error> {
    match (q.channel_id, q.scope.as_deref()) {
        (Some(channel_id), None | Some("channel")) => {
            let user = who.user.clone();
            let ch = state
                .store
                .read(move |rtx| {
                    let ch = channels::get(rtx, channel_id)?.ok_or(Error::NotFound("channel"))?;
                    if !access::visible_channels(rtx, &user)?.channel(channel_id) {
                        return Err(Error::NotFound("channel"));
                    }
                    Ok(ch)
                })
                .await?;
            Ok((Scope::Channel { channel_id }, Policy::for_channel(&ch)))
        }
        (None, Some("internal")) => Ok((Scope::Internal, Policy::internal())),
        _ => Err(Error::invalid(
            "channel_id",
            "give ?channel_id=N (a reply's file) or ?scope=internal (internal chat)",
        )),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[utoipa::path(post, path = "/api/v1/attachments", tag = "attachments", params(UploadQuery),
    request_body(content = Vec<u8>, description = "The file as the raw body (name in `X-Filename` or `?name=`), or multipart/form-data with a `file` field", content_type = "application/octet-stream"),
    responses((status = 201, body = Attachment), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Upload a file, streamed: the size limit and type (sniffed from the content) are checked as
/// the bytes arrive. Empty files are refused (422).
pub async fn upload(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> ApiResult<(StatusCode, Json<Attachment>)> {
    let (scope, policy) = purpose(&state, &who, &q).await?;
    let header_name = req
        .headers()
        .get("x-filename")
        .and_then(|v| v.to_str().ok())
        .map(percent_decode);
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let new = |name: Option<String>| NewAttachment {
        name: q
            .name
            .clone()
            .or(header_name.clone())
            .or(name)
            .unwrap_or_default(),
        scope: scope.clone(),
        owner: Some(who.id()),
        policy: policy.clone(),
        retention_ms: state.config.retention.attachments_hours as i64 * 3_600_000,
    };
    let att = if multipart {
        let budget = Arc::new(HeadBudget::default());
        let req = budget.guard(req);
        let mut mp = Multipart::from_request(req, &state)
            .await
            .map_err(|e| Error::BadRequest(e.body_text()))?;
        loop {
            budget.seeking(true);
            let next = mp.next_field().await;
            budget.seeking(false);
            let Some(mut field) = next.map_err(|e| budget.error(e.body_text()))? else {
                return Err(Error::invalid("file", "the form has no `file` field").into());
            };
            if field.name() != Some("file") {
                // Drained here, as data: only headers count against the budget.
                loop {
                    match field.chunk().await {
                        Ok(Some(_)) => {}
                        Ok(None) => break,
                        Err(e) => return Err(budget.error(e.body_text()).into()),
                    }
                }
                continue;
            }
            let mut up =
                AttachmentUpload::begin(&state.store, new(field.file_name().map(String::from)))
                    .await?;
            loop {
                match field.chunk().await {
                    Ok(Some(bytes)) => up.push(bytes).await?,
                    Ok(None) => break,
                    Err(e) => {
                        up.abort().await;
                        return Err(budget.error(e.body_text()).into());
                    }
                }
            }
            break up.finish().await?;
        }
    } else {
        let mut up = AttachmentUpload::begin(&state.store, new(None)).await?;
        let mut body = req.into_body().into_data_stream();
        while let Some(item) = body.next().await {
            match item {
                Ok(bytes) => up.push(bytes).await?,
                Err(e) => {
                    up.abort().await;
                    return Err(Error::BadRequest(format!("upload interrupted: {e}")).into());
                }
            }
        }
        up.finish().await?
    };
    Ok((StatusCode::CREATED, Json(att)))
}

/// Bytes the form parser may read while it looks for the next part's headers (the preamble,
/// a boundary, the headers). Real forms need a few hundred; the margin covers what a fast
/// client may have queued ahead of the parser (an HTTP/2 flow-control window). The parser
/// buffers all of it until the headers end, so headers that never end are refused here
/// instead of filling the memory.
pub const FORM_HEAD_BUDGET: u64 = 4 << 20;

/// Counts the body bytes read while the form parser is looking for headers.
#[derive(Default)]
struct HeadBudget {
    seeking: AtomicBool,
    used: AtomicU64,
    exceeded: AtomicBool,
}

impl HeadBudget {
    fn seeking(&self, on: bool) {
        self.used.store(0, Ordering::SeqCst);
        self.seeking.store(on, Ordering::SeqCst);
    }

    /// The request with its body metered.
    fn guard(self: &Arc<Self>, req: Request) -> Request {
        let (parts, body) = req.into_parts();
        let budget = self.clone();
        let metered = body.into_data_stream().map(move |item| {
            let bytes = item.map_err(axum::BoxError::from)?;
            if budget.seeking.load(Ordering::SeqCst)
                && budget
                    .used
                    .fetch_add(bytes.len() as u64, Ordering::SeqCst)
                    .saturating_add(bytes.len() as u64)
                    > FORM_HEAD_BUDGET
            {
                budget.exceeded.store(true, Ordering::SeqCst);
                return Err(axum::BoxError::from("multipart headers too large"));
            }
            Ok(bytes)
        });
        Request::from_parts(parts, axum::body::Body::from_stream(metered))
    }

    /// The error for a failure of the form parser.
    fn error(&self, text: String) -> Error {
        if self.exceeded.load(Ordering::SeqCst) {
            Error::TooLarge(format!(
                "the form's part headers are too large (more than {} MB)",
                FORM_HEAD_BUDGET >> 20
            ))
        } else {
            Error::BadRequest(text)
        }
    }
}

async fn visible(state: &HttpState, who: &Authed, id: AttachmentId) -> Result<Attachment, Error> {
    let user = who.user.clone();
    state
        .store
        .read(move |rtx| attachments::get_visible(rtx, &user, id))
        .await
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", params(("id" = u64, Path)),
    responses((status = 200, description = "The file's bytes"), (status = 206, description = "One byte range"), (status = 304),
        (status = 404, body = ErrorBody), (status = 410, body = ErrorBody, description = "file expired"), (status = 416)))]
/// Download a file (also `HEAD`); supports one `Range`, `If-None-Match` and `If-Range`.
pub async fn download(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<AttachmentId>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let att = visible(&state, &who, id).await?;
    Ok(files::serve(state.store.clone(), &att, &method, &headers)?)
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}/info", tag = "attachments", params(("id" = u64, Path)),
    responses((status = 200, body = Attachment), (status = 404, body = ErrorBody)))]
/// A file's metadata (name, size, type, state).
pub async fn info(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<AttachmentId>,
) -> ApiResult<Json<Attachment>> {
    Ok(Json(visible(&state, &who, id).await?))
}

#[utoipa::path(get, path = "/api/v1/attachments/{id}/thumbnail", tag = "attachments", params(("id" = u64, Path)),
    responses((status = 200, description = "A small JPEG", content_type = "image/jpeg"), (status = 404, body = ErrorBody)))]
/// The thumbnail of an image (404 for other files, or when none could be made).
pub async fn thumbnail(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Path(id): Path<AttachmentId>,
) -> ApiResult<Response> {
    let att = visible(&state, &who, id).await?;
    let bytes = state
        .store
        .read(move |rtx| attachments::thumbnail(rtx, att.id))
        .await?
        .ok_or(Error::NotFound("thumbnail"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "private, max-age=86400"),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /media/{id}/{expires}/{sig}`: no login; the signature and expiry are the credential.
pub async fn public_download(
    State(state): State<HttpState>,
    Path((id, expires, sig)): Path<(AttachmentId, i64, String)>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let secret = attachments::media_secret(&state.store).await?;
    if !attachments::verify_signature(&secret, id, expires, &sig, state.now()) {
        return Err(Error::NotFound("file").into());
    }
    let att = state
        .store
        .read(move |rtx| attachments::get(rtx, id))
        .await?
        .ok_or(Error::NotFound("file"))?;
    Ok(files::serve(state.store.clone(), &att, &method, &headers)?)
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn filenames_may_be_percent_encoded() {
        assert_eq!(percent_decode("%C3%9Cber%20x.pdf"), "Über x.pdf");
        assert_eq!(percent_decode("100%.txt"), "100%.txt");
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
