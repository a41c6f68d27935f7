//! The API's lists are paged like the pages' lists (the same [`ListParams`]: `page`, `sort`,
//! the list's filters): the body is the page's rows, the headers say where it sits.

use axum::Json;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::ApiError;
use crate::services::listing::{ListParams, ListSpec, PAGE_SIZE};

/// One page of a list: `X-Total-Count`, `X-Page`, `X-Page-Count`, `X-Page-Size` and a `Link`
/// to the next page while there is one.
pub struct Paged<T> {
    pub rows: Vec<T>,
    pub total: u64,
    pub link: Option<String>,
    pub page: u64,
    pub pages: u64,
}

impl<T> Paged<T> {
    pub fn new(spec: &ListSpec, params: &ListParams, rows: Vec<T>, total: u64) -> Paged<T> {
        let nav = params.nav(spec, total);
        Paged {
            rows,
            total,
            link: nav.has_next().then(|| nav.next_href()),
            page: nav.page(),
            pages: nav.pages,
        }
    }
}

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let mut r = Json(self.rows).into_response();
        let h = r.headers_mut();
        for (name, value) in [
            ("x-total-count", self.total),
            ("x-page", self.page),
            ("x-page-count", self.pages),
            ("x-page-size", PAGE_SIZE),
        ] {
            h.insert(name, HeaderValue::from(value));
        }
        if let Some(link) = self.link
            && let Ok(v) = HeaderValue::from_str(&format!("<{link}>; rel=\"next\""))
        {
            h.insert("link", v);
        }
        r
    }
}

/// What a paged list handler answers.
pub type PagedResult<T> = Result<Paged<T>, ApiError>;

/// The query keys every paged list takes, for the OpenAPI document.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListQuery {
    /// The page, from 1 (50 rows a page; see the `X-Total-Count` and `X-Page-Count` headers).
    pub page: Option<u64>,
    /// A sortable column's key; `-key` sorts descending.
    pub sort: Option<String>,
    /// A keyword.
    pub q: Option<String>,
    /// A year such as 2026 (lists with a year).
    pub year: Option<i32>,
    /// A 市州 code of Hunan such as 430100 (lists with a city).
    pub city: Option<String>,
    /// A status key (lists with a status).
    pub status: Option<String>,
}
