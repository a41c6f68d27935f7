//! What signed-in reads keep between requests while the database is unchanged: each session's
//! account and unread count, and the rendered pages read most (the workbench and an
//! application's page), per session. Everything is kept under the [`Stamp`] read before it was
//! loaded and served only while the stamp is still the same: any committed write, by any
//! request, background job or (on PostgreSQL) any other server, makes every entry stale. What
//! changes without a write is handled apart: a session's idle and absolute timeouts are checked
//! against the time of each request; a page is kept per minute of the clock (deadlines and the
//! demo clock); entries also expire after [`MAX_AGE`]. A response that sets a cookie or is not
//! a whole page is never kept.
//!
//! Bounded: at most [`MAX_SESSIONS`] sessions (about 2 KB each) and [`MAX_PAGES`] pages of at
//! most [`MAX_PAGE_BYTES`] each; when full, expired and then the oldest entries go first.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::app::Shared;
use crate::store::entity::{organisation, session, user};
use crate::store::stamp::Stamp;

pub const MAX_AGE: Duration = Duration::from_secs(60);
pub const MAX_SESSIONS: usize = 1024;
pub const MAX_PAGES: usize = 256;
pub const MAX_PAGE_BYTES: usize = 64 * 1024;
/// The pages kept, by route.
const KEPT_ROUTES: &[&str] = &["/", "/applications/{id}"];
/// Says that a response was served from what was kept (for measurement and tests).
pub const KEPT_HEADER: &str = "x-jiqun-kept";

struct Entry<V> {
    stamp: Stamp,
    at: Instant,
    value: V,
}

/// A bounded map whose entries hold only under the stamp they were stored with.
pub struct Kept<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    max: usize,
}

impl<K: Eq + Hash + Clone, V: Clone> Kept<K, V> {
    pub fn new(max: usize) -> Self {
        Kept {
            entries: Mutex::new(HashMap::new()),
            max,
        }
    }

    pub fn get(&self, key: &K, stamp: &Stamp) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|e| &e.stamp == stamp && e.at.elapsed() < MAX_AGE)
            .map(|e| e.value.clone())
    }

    pub fn put(&self, key: K, stamp: Stamp, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.max && !entries.contains_key(&key) {
            entries.retain(|_, e| e.at.elapsed() < MAX_AGE && e.stamp == stamp);
            if entries.len() >= self.max
                && let Some(oldest) = entries
                    .iter()
                    .min_by_key(|(_, e)| e.at)
                    .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            key,
            Entry {
                stamp,
                at: Instant::now(),
                value,
            },
        );
    }

    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A session as loaded for a request: the row, its account and organisation, and the unread
/// count (`None` until a page asked for it; API requests do not).
#[derive(Clone)]
pub struct KeptSession {
    pub session: session::Model,
    pub user: user::Model,
    pub org: organisation::Model,
    pub unread: Option<u64>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    session: String,
    uri: String,
    /// The minute of the system's clock (demo offset included) the page was rendered in.
    minute: i64,
}

#[derive(Clone)]
pub struct KeptPage {
    headers: HeaderMap,
    body: Bytes,
}

/// The kept sessions and pages of one server.
pub struct Reads {
    pub sessions: Kept<String, KeptSession>,
    pub pages: Kept<PageKey, KeptPage>,
}

impl Default for Reads {
    fn default() -> Self {
        Reads {
            sessions: Kept::new(MAX_SESSIONS),
            pages: Kept::new(MAX_PAGES),
        }
    }
}

impl Reads {
    pub fn clear(&self) {
        self.sessions.clear();
        self.pages.clear();
    }
}

/// The stamp a signed-in read request was loaded under (set by `principal::load_session`).
#[derive(Clone)]
pub struct ReadStamp(pub Stamp);

/// Serves the kept copy of a kept route's page, or renders it and keeps it.
pub async fn keep_page(State(app): State<Shared>, req: Request, next: Next) -> Response {
    let kept_route = req.method() == Method::GET
        && req
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|m| KEPT_ROUTES.contains(&m.as_str()));
    let (Some(ctx), Some(ReadStamp(stamp))) = (
        req.extensions().get::<super::principal::SessionCtx>(),
        req.extensions().get::<ReadStamp>(),
    ) else {
        return next.run(req).await;
    };
    if !kept_route || ctx.bearer {
        return next.run(req).await;
    }
    let stamp = stamp.clone();
    let key = PageKey {
        session: ctx.session.id.clone(),
        uri: req
            .extensions()
            .get::<OriginalUri>()
            .map_or_else(|| req.uri().to_string(), |u| u.0.to_string()),
        minute: app.clock.now().unix_timestamp().div_euclid(60),
    };
    if let Some(page) = app.reads.pages.get(&key, &stamp) {
        let mut res = Response::new(Body::from(page.body));
        *res.headers_mut() = page.headers;
        res.headers_mut()
            .insert(KEPT_HEADER, HeaderValue::from_static("1"));
        return res;
    }
    let res = next.run(req).await;
    let keepable = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::SET_COOKIE)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"));
    if !keepable {
        return res;
    }
    // Only a body whose whole length is known and small (a rendered page) is kept.
    let small = axum::body::HttpBody::size_hint(res.body())
        .exact()
        .is_some_and(|n| n <= MAX_PAGE_BYTES as u64);
    if !small {
        return res;
    }
    let (parts, body) = res.into_parts();
    match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(bytes) => {
            app.reads.pages.put(
                key,
                stamp,
                KeptPage {
                    headers: parts.headers.clone(),
                    body: bytes.clone(),
                },
            );
            Response::from_parts(parts, Body::from(bytes))
        }
        // A rendered page is in memory and cannot fail to be read; should it, say so.
        Err(e) => {
            tracing::error!("keeping a page: {e}");
            crate::web::pages::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "页面生成失败，请刷新重试。",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_holds_only_under_its_stamp() {
        let kept: Kept<u32, &str> = Kept::new(4);
        kept.put(1, Stamp::Sqlite(7), "a");
        assert_eq!(kept.get(&1, &Stamp::Sqlite(7)), Some("a"));
        assert_eq!(kept.get(&1, &Stamp::Sqlite(8)), None);
        assert_eq!(kept.get(&2, &Stamp::Sqlite(7)), None);
    }

    #[test]
    fn a_full_map_drops_stale_then_oldest_entries() {
        let kept: Kept<u32, u32> = Kept::new(3);
        kept.put(1, Stamp::Sqlite(1), 1);
        kept.put(2, Stamp::Sqlite(2), 2);
        kept.put(3, Stamp::Sqlite(2), 3);
        // Full: the entry under an older stamp goes.
        kept.put(4, Stamp::Sqlite(2), 4);
        assert_eq!(kept.len(), 3);
        assert_eq!(kept.get(&1, &Stamp::Sqlite(1)), None);
        // Full of current entries: the oldest goes.
        kept.put(5, Stamp::Sqlite(2), 5);
        assert_eq!(kept.len(), 3);
        assert_eq!(kept.get(&2, &Stamp::Sqlite(2)), None);
        assert_eq!(kept.get(&5, &Stamp::Sqlite(2)), Some(5));
    }
}
