//! Reports as JSON and CSV (the page is `/reports`).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::reports::{self, Report, ReportQuery};
use crate::http::HttpState;
use crate::http::auth::ApiAuth;
use crate::http::error::{ApiResult, ErrorBody};

pub fn router() -> OpenApiRouter<HttpState> {
    OpenApiRouter::new()
        .routes(routes!(report))
        .routes(routes!(report_csv))
}

#[utoipa::path(get, path = "/api/v1/reports", tag = "reports", params(ReportQuery),
    responses((status = 200, body = Report), (status = 422, body = ErrorBody)))]
/// Sessions per channel per day, first-response and resolution times (median, p90; seconds) overall and per agent, for sessions created from `from` to `to` (UTC days, inclusive). Agents see their channels only.
pub async fn report(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Json<Report>> {
    Ok(Json(
        reports::for_user(&state.store, &who.user, q, state.now()).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/reports.csv", tag = "reports", params(ReportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 422, body = ErrorBody)))]
/// The same report as CSV (one table; `row` = day, agent or overall).
pub async fn report_csv(
    State(state): State<HttpState>,
    ApiAuth(who): ApiAuth,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Response> {
    let r = reports::for_user(&state.store, &who.user, q, state.now()).await?;
    let name = format!(
        "attachment; filename=\"switchboard-report-{}-{}.csv\"",
        r.from, r.to
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        reports::to_csv(&r),
    )
        .into_response())
}
