//! Rendered public pages kept in memory. The public notice of a round is read by many and
//! changes only when the round or its objections change (or the day turns, which opens or
//! closes the objection form), so the page is rendered once per such state and served from
//! memory until then. Entries also expire after a minute, bounding how long an edit elsewhere
//! (e.g. a cluster renamed during the notice) can stay unseen.

use crate::store::id::RoundId;
use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;
use std::time::{Duration, Instant};

const MAX_AGE: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<RoundId, Cached>>,
}

struct Cached {
    key: String,
    at: Instant,
    html: Bytes,
}

impl PageCache {
    /// The page stored for `id` under exactly `key`, when still fresh.
    pub fn get(&self, id: RoundId, key: &str) -> Option<Bytes> {
        let pages = self.pages.lock().ok()?;
        pages
            .get(&id)
            .filter(|c| c.key == key && c.at.elapsed() < MAX_AGE)
            .map(|c| c.html.clone())
    }

    pub fn put(&self, id: RoundId, key: String, html: Bytes) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.insert(
                id,
                Cached {
                    key,
                    at: Instant::now(),
                    html,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_served_only_under_its_own_key() {
        let cache = PageCache::default();
        assert!(cache.get(RoundId::new(1), "v1").is_none());
        cache.put(RoundId::new(1), "v1".into(), Bytes::from("<p>一</p>"));
        assert_eq!(
            cache.get(RoundId::new(1), "v1"),
            Some(Bytes::from("<p>一</p>"))
        );
        assert!(
            cache.get(RoundId::new(1), "v2").is_none(),
            "a changed round is rendered afresh"
        );
        assert!(cache.get(RoundId::new(2), "v1").is_none());
    }
}
