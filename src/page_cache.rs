//! Rendered public pages kept in memory and served like files. The public notice of a round is
//! read by many and changes only when the round, its entrants or its objections change (or the
//! day turns, which opens or closes the objection form), so the page is rendered once per such
//! state and kept with a strong ETag and its gzip bytes; a request then costs no database round
//! trip on SQLite. The services that change what the page shows invalidate it after their commit
//! (`invalidate`); a render that read the state before such a change is not stored (the page is
//! kept under the [`Stamp`] read before rendering). Entries also expire after a minute, bounding
//! how long an edit that does not invalidate (a cluster renamed during the notice) stays unseen.
//!
//! Several servers on one PostgreSQL database: each keeps its own pages, so a change made
//! through one must reach the others. `invalidate` also bumps a shared counter row per round
//! (`page_versions`, one upsert) and sends the round's id on the `CHANNEL` notification. Each
//! server listens on that channel (`spawn_listener`) and drops the named page when told; while
//! it listens, a request makes no query. While it does not (starting, or its listening
//! connection lost and not yet back), a kept page is served only while the shared counter still
//! has the value read before it was rendered: one primary-key read per request instead of
//! rendering the notice. When listening starts again every kept page is dropped, since
//! notifications sent in between are lost. A server killed between a change's commit and the
//! bump leaves the others at most the minute of expiry behind. SQLite serves one process
//! (several servers on one SQLite file are not a supported deployment), so there the process's
//! own generation is the whole stamp and a request makes no query.
//!
//! The cache holds one page per round on notice (a published notice's page is tens of KB, its
//! gzip a few KB); `MAX_PAGES` bounds it whatever happens.

use crate::store::id::RoundId;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use sm3::{Digest, Sm3};
use std::time::{Duration, Instant};
use time::Date;

const MAX_AGE: Duration = Duration::from_secs(60);
/// The PostgreSQL notification channel that names a round whose page changed.
pub const CHANNEL: &str = "jiqun_pages";
/// At most this many pages are kept; the oldest goes first.
const MAX_PAGES: usize = 64;

/// One rendered page, ready to send.
#[derive(Debug)]
pub struct Page {
    pub html: Bytes,
    /// The same bytes, gzip-compressed.
    pub gzip: Bytes,
    /// The same bytes, brotli-compressed (smaller again; every current browser takes it).
    pub brotli: Bytes,
    /// Strong validator of the identity bytes, quoted: `"sm3:…"`; the gzip bytes carry
    /// `"sm3:…-gz"`, the brotli bytes `"sm3:…-br"`.
    pub etag: String,
}

/// How a kept page is sent, by what the client takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Page {
    pub fn new(html: Bytes) -> Page {
        let digest = hex::encode(Sm3::digest(&html));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to memory cannot fail; an empty gzip would only be skipped below.
        let gzip = gz
            .write_all(&html)
            .and_then(|()| gz.finish())
            .map(Bytes::from)
            .unwrap_or_default();
        let mut br = Vec::new();
        // Quality 11, window 2^22: the page is compressed once and sent many times. Writing to
        // memory cannot fail; an empty result would only be skipped.
        let brotli = brotli::BrotliCompress(
            &mut &html[..],
            &mut br,
            &brotli::enc::BrotliEncoderParams {
                quality: 11,
                lgwin: 22,
                ..Default::default()
            },
        )
        .map(|_| Bytes::from(br))
        .unwrap_or_default();
        Page {
            etag: format!("\"sm3:{}\"", &digest[..32]),
            html,
            gzip,
            brotli,
        }
    }

    /// The validator of the bytes sent with `coding`.
    pub fn etag_of(&self, coding: Coding) -> String {
        let bare = self.etag.trim_end_matches('"');
        match coding {
            Coding::Identity => self.etag.clone(),
            Coding::Gzip => format!("{bare}-gz\""),
            Coding::Brotli => format!("{bare}-br\""),
        }
    }

    /// The bytes sent with `coding`; `None` when that copy could not be made.
    pub fn body(&self, coding: Coding) -> Option<&Bytes> {
        let b = match coding {
            Coding::Identity => &self.html,
            Coding::Gzip => &self.gzip,
            Coding::Brotli => &self.brotli,
        };
        (!b.is_empty() || coding == Coding::Identity).then_some(b)
    }
}

#[derive(Default)]
pub struct PageCache {
    inner: Mutex<Inner>,
    /// This server hears every other server's changes (PostgreSQL's `LISTEN` on `CHANNEL`).
    listening: AtomicBool,
}

/// What a kept page was rendered under: this process's generation of the round and, on
/// PostgreSQL, the round's shared change counter. A page is served only under the same stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    local: u64,
    epoch: u64,
    shared: i64,
}

#[derive(Default)]
struct Inner {
    pages: HashMap<RoundId, Cached>,
    /// Bumped by every invalidation of a round.
    generations: HashMap<RoundId, u64>,
    /// Bumped when every page is dropped at once.
    epoch: u64,
}

struct Cached {
    day: Date,
    at: Instant,
    stamp: Stamp,
    page: Arc<Page>,
}

/// The one parameter of a statement in the backend's spelling.
fn param(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DatabaseBackend::Postgres => "$1",
        _ => "?",
    }
}

/// The shared change counter of a round's page (0 before its first change).
async fn shared_version(db: &DatabaseConnection, id: RoundId) -> i64 {
    let read = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!(
                "SELECT version FROM page_versions WHERE round_id = {}",
                param(db)
            ),
            [id.get().into()],
        ))
        .await
        .and_then(|row| row.map(|r| r.try_get::<i64>("", "version")).transpose());
    match read {
        Ok(v) => v.unwrap_or(0),
        Err(e) => {
            // Unknown: a value no render was kept under, so the page is rendered afresh.
            tracing::warn!(round = id.get(), "reading the notice's change counter: {e}");
            -1
        }
    }
}

impl PageCache {
    /// The page stored for `id` on `day` under `stamp`, when still fresh.
    pub fn get(&self, id: RoundId, day: Date, stamp: Stamp) -> Option<Arc<Page>> {
        if stamp.shared < 0 {
            return None;
        }
        let inner = self.inner.lock().ok()?;
        inner
            .pages
            .get(&id)
            .filter(|c| c.day == day && c.stamp == stamp && c.at.elapsed() < MAX_AGE)
            .map(|c| c.page.clone())
    }

    /// Taken before reading what a page shows: this process's generation and, on PostgreSQL
    /// (where other servers may change the round), the shared counter, in one statement.
    pub async fn stamp(&self, db: &DatabaseConnection, id: RoundId) -> Stamp {
        let local = self.local_stamp(id);
        match db.get_database_backend() {
            DatabaseBackend::Postgres if !self.listening() => Stamp {
                shared: shared_version(db, id).await,
                ..local
            },
            _ => local,
        }
    }

    fn local_stamp(&self, id: RoundId) -> Stamp {
        let (local, epoch) = self
            .inner
            .lock()
            .map(|i| (i.generations.get(&id).copied().unwrap_or(0), i.epoch))
            .unwrap_or((u64::MAX, u64::MAX));
        Stamp {
            local,
            epoch,
            shared: 0,
        }
    }

    /// Whether this server hears the other servers' changes as they are made.
    pub fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Listening started (after dropping every page: what was missed is unknown) or stopped.
    pub fn set_listening(&self, on: bool) {
        if on {
            self.drop_all();
        }
        self.listening.store(on, Ordering::Release);
    }

    fn drop_all(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.pages.clear();
            inner.epoch += 1;
        }
    }

    /// Keeps the page rendered from the state read under `stamp`, and returns it. Not kept when
    /// this process saw a change in between.
    pub fn put(&self, id: RoundId, stamp: Stamp, day: Date, html: Bytes) -> Arc<Page> {
        let page = Arc::new(Page::new(html));
        if let Ok(mut inner) = self.inner.lock()
            && inner.generations.get(&id).copied().unwrap_or(0) == stamp.local
            && inner.epoch == stamp.epoch
            && stamp.shared >= 0
        {
            if inner.pages.len() >= MAX_PAGES
                && !inner.pages.contains_key(&id)
                && let Some(oldest) = inner
                    .pages
                    .iter()
                    .min_by_key(|(_, c)| c.at)
                    .map(|(k, _)| *k)
            {
                inner.pages.remove(&oldest);
            }
            inner.pages.insert(
                id,
                Cached {
                    day,
                    at: Instant::now(),
                    stamp,
                    page: page.clone(),
                },
            );
        }
        page
    }

    /// What the page of `id` shows has changed (called after the change's commit): dropped
    /// here, and the shared counter moves so that every other server renders it afresh.
    pub async fn invalidate(&self, db: &DatabaseConnection, id: RoundId) {
        self.invalidate_local(id);
        let bumped = db
            .execute_raw(Statement::from_sql_and_values(
                db.get_database_backend(),
                format!(
                    "INSERT INTO page_versions (round_id, version) VALUES ({}, 1) \
                     ON CONFLICT (round_id) DO UPDATE SET version = page_versions.version + 1",
                    param(db)
                ),
                [id.get().into()],
            ))
            .await;
        if let Err(e) = bumped {
            // The other servers' copies still expire within MAX_AGE.
            tracing::error!(round = id.get(), "moving the notice's change counter: {e}");
        }
        if db.get_database_backend() == DatabaseBackend::Postgres {
            let told = db
                .execute_raw(Statement::from_sql_and_values(
                    DatabaseBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), id.get().to_string().into()],
                ))
                .await;
            if let Err(e) = told {
                // The listeners' pages still expire within MAX_AGE.
                tracing::error!(round = id.get(), "telling the other servers: {e}");
            }
        }
    }

    fn invalidate_local(&self, id: RoundId) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.pages.remove(&id);
            *inner.generations.entry(id).or_default() += 1;
        }
    }
}

/// Listens on `CHANNEL`, dropping each page another server (or this one) changed, until the
/// connection is lost (`Ok`) or fails otherwise (`Err`); `server::spawn_page_listener` runs it
/// again.
pub async fn listen(
    pool: &sea_orm::sqlx::PgPool,
    cache: &PageCache,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    cache.set_listening(true);
    while let Some(told) = listener.try_recv().await? {
        match told.payload().parse::<i64>() {
            Ok(id) => cache.invalidate_local(RoundId::new(id)),
            Err(_) => cache.drop_all(),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn day(d: u8) -> Date {
        Date::from_calendar_date(2026, time::Month::December, d).unwrap_or(Date::MIN)
    }

    #[test]
    fn a_page_is_served_on_its_day_until_invalidated() {
        let cache = PageCache::default();
        let id = RoundId::new(1);
        assert!(cache.get(id, day(4), cache.local_stamp(id)).is_none());
        let g = cache.local_stamp(id);
        cache.put(id, g, day(4), Bytes::from("<p>一</p>"));
        let page = cache
            .get(id, day(4), cache.local_stamp(id))
            .map(|p| p.html.clone());
        assert_eq!(page, Some(Bytes::from("<p>一</p>")));
        assert!(
            cache.get(id, day(5), cache.local_stamp(id)).is_none(),
            "the next day renders afresh"
        );
        assert!(
            cache
                .get(RoundId::new(2), day(4), cache.local_stamp(RoundId::new(2)))
                .is_none()
        );
        cache.invalidate_local(id);
        assert!(
            cache.get(id, day(4), cache.local_stamp(id)).is_none(),
            "a change renders afresh"
        );
    }

    #[test]
    fn a_render_that_read_before_a_change_is_not_kept() {
        let cache = PageCache::default();
        let id = RoundId::new(7);
        let before = cache.local_stamp(id);
        cache.invalidate_local(id);
        cache.put(id, before, day(4), Bytes::from("旧"));
        assert!(cache.get(id, day(4), cache.local_stamp(id)).is_none());
        let now = cache.local_stamp(id);
        cache.put(id, now, day(4), Bytes::from("新"));
        assert!(cache.get(id, day(4), cache.local_stamp(id)).is_some());
    }

    #[test]
    fn the_compressed_bytes_are_the_page_and_the_validators_differ() {
        let page = Page::new(Bytes::from("<p>公示名单</p>".repeat(50)));
        let mut out = String::new();
        flate2::read::GzDecoder::new(&page.gzip[..])
            .read_to_string(&mut out)
            .unwrap_or_default();
        assert_eq!(out.as_bytes(), &page.html[..]);
        let mut unbrotli = Vec::new();
        brotli::BrotliDecompress(&mut &page.brotli[..], &mut unbrotli).unwrap_or_default();
        assert_eq!(&unbrotli[..], &page.html[..]);
        assert!(page.gzip.len() < page.html.len());
        assert!(page.brotli.len() <= page.gzip.len());
        assert!(page.etag.starts_with("\"sm3:") && page.etag.ends_with('"'));
        let tags = [Coding::Identity, Coding::Gzip, Coding::Brotli].map(|c| page.etag_of(c));
        assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
        assert_eq!(Page::new(page.html.clone()).etag, page.etag, "stable");
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = PageCache::default();
        for i in 0..(MAX_PAGES as i64 + 10) {
            let id = RoundId::new(i);
            cache.put(id, cache.local_stamp(id), day(4), Bytes::from("x"));
        }
        let kept = cache.inner.lock().map(|i| i.pages.len()).unwrap_or(0);
        assert_eq!(kept, MAX_PAGES);
    }
}
