//! The JSON API under `/api/v1`. Every route is registered through `OpenApiRouter` so the
//! OpenAPI document at `/api/v1/openapi.json` always lists exactly what is served.

pub(crate) mod attachments;
pub(crate) mod automation;
pub(crate) mod calls;
pub(crate) mod channels;
pub(crate) mod chats;
pub(crate) mod contacts;
pub(crate) mod push;
pub(crate) mod reports;
pub(crate) mod session;
pub(crate) mod sessions;
pub(crate) mod templates;
pub(crate) mod users;
pub(crate) mod workflow;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::HttpState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchboard API",
        description = "Customer messaging inbox. Authenticate with the session cookie (plus `X-CSRF-Token` on writes) or `Authorization: Bearer swb_…`."
    ),
    components(schemas(super::error::ErrorBody))
)]
pub struct ApiDoc;

/// Every operation can answer with the common error shape: 4xx for bad input, missing auth,
/// unknown ids or refused rules, and 503 while storage is full or recovering.
/// Applied to the finished document (after all routes are registered).
pub struct CommonResponses;

impl utoipa::Modify for CommonResponses {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let error = || {
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build()
        };
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                for (code, text) in [
                    ("4XX", "The request was refused; see `error.code`"),
                    ("503", "Storage is full or recovering; retry later"),
                ] {
                    op.responses
                        .responses
                        .entry(code.to_string())
                        .or_insert_with(|| {
                            ResponseBuilder::new()
                                .description(text)
                                .content("application/json", error())
                                .into()
                        });
                }
            }
        }
    }
}

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(session::login_json, session::logout_json))
        .merge(users::router())
        .merge(channels::router())
        .merge(automation::router())
        .merge(sessions::router())
        .merge(attachments::router())
        .merge(workflow::router())
        .merge(templates::router())
        .merge(contacts::router())
        .merge(calls::router())
        .merge(reports::router())
        .merge(chats::router())
        .merge(push::router())
        .merge(super::events::router())
        .merge(super::livechat::agent::router())
}
