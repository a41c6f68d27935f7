//! Rendered public pages kept in memory and served like files. The public notice of a round is
//! read by many and changes only when the round, its entrants or its objections change (or the
//! day turns, which opens or closes the objection form), so the page is rendered once per such
//! state and kept with a strong ETag and its gzip bytes; a request then costs no database round
//! trip. The services that change what the page shows invalidate it after their commit
//! (`invalidate`); a render that read the state before such a change is not stored
//! (`generation`). Entries also expire after a minute, bounding how long an edit made elsewhere
//! (a cluster renamed during the notice, a write on another server) can stay unseen.
//!
//! The cache holds one page per round on notice (a published notice's page is tens of KB, its
//! gzip a few KB); `MAX_PAGES` bounds it whatever happens.

use crate::store::id::RoundId;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use sm3::{Digest, Sm3};
use std::time::{Duration, Instant};
use time::Date;

const MAX_AGE: Duration = Duration::from_secs(60);
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
}

#[derive(Default)]
struct Inner {
    pages: HashMap<RoundId, Cached>,
    /// Bumped by every invalidation of a round.
    generations: HashMap<RoundId, u64>,
}

struct Cached {
    day: Date,
    at: Instant,
    page: Arc<Page>,
}

impl PageCache {
    /// The page stored for `id` on `day`, when still fresh.
    pub fn get(&self, id: RoundId, day: Date) -> Option<Arc<Page>> {
        let inner = self.inner.lock().ok()?;
        inner
            .pages
            .get(&id)
            .filter(|c| c.day == day && c.at.elapsed() < MAX_AGE)
            .map(|c| c.page.clone())
    }

    /// Taken before reading what a page shows; `put` stores the page only when no change came
    /// in between.
    pub fn generation(&self, id: RoundId) -> u64 {
        self.inner
            .lock()
            .map(|i| i.generations.get(&id).copied().unwrap_or(0))
            .unwrap_or(u64::MAX)
    }

    /// Keeps the page rendered from the state read under `generation`, and returns it.
    pub fn put(&self, id: RoundId, generation: u64, day: Date, html: Bytes) -> Arc<Page> {
        let page = Arc::new(Page::new(html));
        if let Ok(mut inner) = self.inner.lock()
            && inner.generations.get(&id).copied().unwrap_or(0) == generation
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
                    page: page.clone(),
                },
            );
        }
        page
    }

    /// What the page of `id` shows has changed (called after the change's commit).
    pub fn invalidate(&self, id: RoundId) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.pages.remove(&id);
            *inner.generations.entry(id).or_default() += 1;
        }
    }
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
        assert!(cache.get(id, day(4)).is_none());
        let g = cache.generation(id);
        cache.put(id, g, day(4), Bytes::from("<p>一</p>"));
        let page = cache.get(id, day(4)).map(|p| p.html.clone());
        assert_eq!(page, Some(Bytes::from("<p>一</p>")));
        assert!(
            cache.get(id, day(5)).is_none(),
            "the next day renders afresh"
        );
        assert!(cache.get(RoundId::new(2), day(4)).is_none());
        cache.invalidate(id);
        assert!(cache.get(id, day(4)).is_none(), "a change renders afresh");
    }

    #[test]
    fn a_render_that_read_before_a_change_is_not_kept() {
        let cache = PageCache::default();
        let id = RoundId::new(7);
        let before = cache.generation(id);
        cache.invalidate(id);
        cache.put(id, before, day(4), Bytes::from("旧"));
        assert!(cache.get(id, day(4)).is_none());
        let now = cache.generation(id);
        cache.put(id, now, day(4), Bytes::from("新"));
        assert!(cache.get(id, day(4)).is_some());
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
            cache.put(id, cache.generation(id), day(4), Bytes::from("x"));
        }
        let kept = cache.inner.lock().map(|i| i.pages.len()).unwrap_or(0);
        assert_eq!(kept, MAX_PAGES);
    }
}
