//! The static assets, compiled into the binary and served from one table by one handler.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// (name under /static/, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.css", CSS, include_bytes!("../../static/app.css")),
    ("letter.css", CSS, include_bytes!("../../static/letter.css")),
    (
        "favicon.svg",
        SVG,
        include_bytes!("../../static/favicon.svg"),
    ),
    (
        "certificate.css",
        CSS,
        include_bytes!("../../static/certificate.css"),
    ),
    // The certificate's print button; a file of its own, since the CSP allows no inline script.
    (
        "certificate.js",
        JS,
        include_bytes!("../../static/certificate.js"),
    ),
    // The score sheet's running total (the page works without it).
    (
        "score-sheet.js",
        JS,
        include_bytes!("../../static/score-sheet.js"),
    ),
    // Draws the dashboards' and monitoring tables as charts (the tables stay without it).
    ("charts.js", JS, include_bytes!("../../static/charts.js")),
    // The cluster form's county picker: the lead county is not offered again (works without it).
    (
        "county-picker.js",
        JS,
        include_bytes!("../../static/county-picker.js"),
    ),
];

/// Vendored libraries, named with their version so they can be cached for a year:
/// ECharts from the npm registry (`static/vendor/`, with its LICENSE and NOTICE).
pub const ECHARTS: &str = "echarts-5.6.0.min.js";

const VENDORED: &[(&str, &str, &[u8])] = &[(
    ECHARTS,
    JS,
    include_bytes!("../../static/vendor/echarts.min.js"),
)];

/// `GET /static/{name}`: an asset, cached for an hour; anything else is the usual 404 page.
pub async fn serve(Path(name): Path<String>) -> Response {
    if let Some((_, content_type, bytes)) = VENDORED.iter().find(|(n, _, _)| *n == name) {
        return (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            *bytes,
        )
            .into_response();
    }
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *bytes,
        )
            .into_response(),
        None => super::pages::error_page(StatusCode::NOT_FOUND, "页面不存在。"),
    }
}
