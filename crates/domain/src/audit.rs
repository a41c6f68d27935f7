//! The audit chain: a canonical encoding of each entry and keyed SM3 chaining (HMAC-SM3, GB/T 32905).
//!
//! `hash_n = HMAC-SM3(key, "jiqun-audit-v1" ‖ prev_hash ‖ fields of entry n)`. The key lives outside
//! the database, so someone who can write to the database can neither alter, insert nor re-chain
//! entries without the verifier noticing. The chain head row is MACed as well, so cutting entries
//! off the end is caught too.
//!
//! An entry may carry a structured before/after of the fields it changed (`changes`, JSON text).
//! When present it is chained as two more length-prefixed fields after the others; when absent
//! the encoding is exactly the one entries had before the field existed, so old trails verify
//! unchanged (see the golden test below).

use hmac::{KeyInit, Mac};
use time::OffsetDateTime;

type HmacSm3 = hmac::Hmac<sm3::Sm3>;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audit entry as it is chained. Times are UTC with microsecond precision: PostgreSQL keeps
/// microseconds, so anything finer would not survive a round trip and the chain would break.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub at: OffsetDateTime,
    pub actor_user_id: Option<i64>,
    pub actor_name: String,
    pub actor_role: String,
    pub actor_org: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub summary: String,
    pub reason: String,
    pub client_addr: String,
    pub prev_hash: String,
    /// `{"field": {"before": …, "after": …}}` as stored (the exact text is chained).
    pub changes: Option<String>,
}

/// Truncates a time to the precision the chain uses.
pub fn chain_time(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    let micros = at.nanosecond() / 1_000 * 1_000;
    at.replace_nanosecond(micros).unwrap_or(at)
}

fn push_field(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u64).to_be_bytes());
    out.extend_from_slice(field);
}

/// Length-prefixed, fixed-order encoding: no separator can be forged by field content.
pub fn canonical_bytes(entry: &Entry) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    push_field(&mut out, b"jiqun-audit-v1");
    push_field(&mut out, entry.prev_hash.as_bytes());
    push_field(&mut out, &entry.seq.to_be_bytes());
    let at = chain_time(entry.at);
    push_field(&mut out, &at.unix_timestamp().to_be_bytes());
    push_field(&mut out, &(at.nanosecond() / 1_000).to_be_bytes());
    match entry.actor_user_id {
        Some(id) => push_field(&mut out, &id.to_be_bytes()),
        None => push_field(&mut out, b""),
    }
    for text in [
        &entry.actor_name,
        &entry.actor_role,
        &entry.actor_org,
        &entry.action,
        &entry.object_type,
        &entry.object_id,
        &entry.summary,
        &entry.reason,
        &entry.client_addr,
    ] {
        push_field(&mut out, text.as_bytes());
    }
    if let Some(changes) = &entry.changes {
        push_field(&mut out, b"changes");
        push_field(&mut out, changes.as_bytes());
    }
    out
}

/// The audit key: 32 random bytes kept outside the database.
#[derive(Clone)]
pub struct AuditKey(pub [u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

fn mac(key: &AuditKey, parts: &[&[u8]]) -> String {
    // A key shorter than SM3's 64-byte block is zero-padded by HMAC itself (RFC 2104), so this
    // equals HMAC with the 32-byte key and needs no fallible constructor.
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(&key.0);
    let mut m = <HmacSm3 as KeyInit>::new(&block.into());
    for part in parts {
        m.update(part);
    }
    hex::encode(m.finalize().into_bytes())
}

/// The hash stored with an entry.
pub fn entry_hash(key: &AuditKey, entry: &Entry) -> String {
    mac(key, &[&canonical_bytes(entry)])
}

/// The MAC stored with the chain head, binding its sequence number to its hash.
pub fn head_mac(key: &AuditKey, seq: i64, hash: &str) -> String {
    mac(
        key,
        &[b"jiqun-audit-head-v1", &seq.to_be_bytes(), hash.as_bytes()],
    )
}

/// Plain SM3 of some bytes, hex encoded.
pub fn sm3_hex(bytes: &[u8]) -> String {
    use sm3::Digest;
    hex::encode(sm3::Sm3::digest(bytes))
}

/// What the verifier found wrong, naming the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("第{seq}条审计记录的内容与其校验值不符（记录被修改，或被直接插入数据库）")]
    Altered { seq: i64 },
    #[error("第{expected}条审计记录缺失（在第{found}条之前有记录被删除）")]
    Missing { expected: i64, found: i64 },
    #[error("第{seq}条审计记录的前序校验值与上一条不符（链被改写）")]
    Relinked { seq: i64 },
    #[error(
        "审计链头记录被篡改或与最后一条记录不符（最后一条为第{last_seq}条，链头记为第{head_seq}条）"
    )]
    Head { last_seq: i64, head_seq: i64 },
}

/// Checks entries one at a time, in sequence order, so the caller can stream them from storage.
pub struct ChainVerifier<'k> {
    key: &'k AuditKey,
    next_seq: i64,
    prev_hash: String,
}

impl<'k> ChainVerifier<'k> {
    pub fn new(key: &'k AuditKey) -> Self {
        Self {
            key,
            next_seq: 1,
            prev_hash: GENESIS.to_string(),
        }
    }

    pub fn push(&mut self, entry: &Entry, stored_hash: &str) -> Result<(), ChainBreak> {
        if entry.seq != self.next_seq {
            return Err(ChainBreak::Missing {
                expected: self.next_seq,
                found: entry.seq,
            });
        }
        if entry_hash(self.key, entry) != stored_hash {
            return Err(ChainBreak::Altered { seq: entry.seq });
        }
        if entry.prev_hash != self.prev_hash {
            return Err(ChainBreak::Relinked { seq: entry.seq });
        }
        self.next_seq += 1;
        self.prev_hash = stored_hash.to_string();
        Ok(())
    }

    /// Compares the stored head (seq, hash, mac) with what the entries gave. Returns the count.
    pub fn finish(self, head: Option<(i64, &str, &str)>) -> Result<i64, ChainBreak> {
        let last_seq = self.next_seq - 1;
        let (head_seq, head_hash, mac_value) = head.unwrap_or((0, GENESIS, ""));
        let head_ok = head_seq == last_seq
            && head_hash == self.prev_hash
            && (last_seq == 0 || head_mac(self.key, head_seq, head_hash) == mac_value);
        if head_ok {
            Ok(last_seq)
        } else {
            Err(ChainBreak::Head { last_seq, head_seq })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &AuditKey = &AuditKey(*b"test-key-test-key-test-key-32byt");

    fn chain(n: i64) -> Vec<(Entry, String)> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let entry = Entry {
                    seq,
                    at: OffsetDateTime::from_unix_timestamp(1_700_000_000 + seq).unwrap(),
                    actor_user_id: Some(7),
                    actor_name: "张三".into(),
                    actor_role: "sys_admin".into(),
                    actor_org: "湖南省工业和信息化厅".into(),
                    action: "user.create".into(),
                    object_type: "user".into(),
                    object_id: seq.to_string(),
                    summary: "新建用户".into(),
                    reason: String::new(),
                    client_addr: "127.0.0.1".into(),
                    prev_hash: prev.clone(),
                    changes: None,
                };
                let hash = entry_hash(KEY, &entry);
                prev = hash.clone();
                (entry, hash)
            })
            .collect()
    }

    fn verify(
        entries: &[(Entry, String)],
        head: Option<(i64, String, String)>,
    ) -> Result<i64, ChainBreak> {
        let mut v = ChainVerifier::new(KEY);
        for (e, h) in entries {
            v.push(e, h)?;
        }
        v.finish(head.as_ref().map(|(s, h, m)| (*s, h.as_str(), m.as_str())))
    }

    fn head_of(entries: &[(Entry, String)]) -> Option<(i64, String, String)> {
        entries
            .last()
            .map(|(e, h)| (e.seq, h.clone(), head_mac(KEY, e.seq, h)))
    }

    #[test]
    fn sm3_matches_the_standard_example() {
        assert_eq!(
            sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, head_of(&c)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn an_altered_field_is_named() {
        let mut c = chain(5);
        let head = head_of(&c);
        c[2].0.summary = "改过".into();
        assert_eq!(verify(&c, head), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn a_deleted_entry_is_named() {
        let mut c = chain(5);
        let head = head_of(&c);
        c.remove(1);
        assert_eq!(
            verify(&c, head),
            Err(ChainBreak::Missing {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn a_rechained_log_without_the_key_is_caught() {
        // An attacker recomputes every hash with a key of their own choosing.
        let mut c = chain(3);
        let mut prev = GENESIS.to_string();
        for (e, h) in c.iter_mut() {
            e.prev_hash = prev.clone();
            *h = entry_hash(&AuditKey([9; 32]), e);
            prev = h.clone();
        }
        assert_eq!(verify(&c, head_of(&c)), Err(ChainBreak::Altered { seq: 1 }));
    }

    #[test]
    fn cutting_off_the_tail_is_caught_by_the_head() {
        let c = chain(5);
        let head = head_of(&c);
        assert_eq!(
            verify(&c[..3], head),
            Err(ChainBreak::Head {
                last_seq: 3,
                head_seq: 5
            })
        );
        // Rewinding the head needs the key.
        let forged = Some((3, c[2].1.clone(), "00".to_string()));
        assert!(verify(&c[..3], forged).is_err());
    }

    #[test]
    fn padded_key_equals_plain_hmac() {
        let mut m = <HmacSm3 as KeyInit>::new_from_slice(&KEY.0).unwrap();
        m.update(b"abc");
        assert_eq!(mac(KEY, &[b"abc"]), hex::encode(m.finalize().into_bytes()));
    }

    #[test]
    fn times_are_chained_at_microsecond_precision() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        assert_eq!(chain_time(t).nanosecond(), 123_456_000);
    }

    /// The hash of an entry without `changes`, as the code before that field computed it: a
    /// trail written by an older version verifies unchanged.
    #[test]
    fn entries_without_changes_hash_as_before() {
        let mut e = chain(1).remove(0).0;
        e.action = "org.update".into();
        e.object_type = "organisation".into();
        e.object_id = "3".into();
        e.summary = "修改单位".into();
        e.at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(
            entry_hash(KEY, &e),
            "f6d1b78e2a88a565e9eabfebb625f1d6a49d744087c3117541e7a673050cc317"
        );
        // With changes the hash covers them: dropping, editing or adding them is caught.
        let mut with = e.clone();
        with.changes = Some(r#"{"name":{"after":"乙","before":"甲"}}"#.into());
        let h = entry_hash(KEY, &with);
        assert_ne!(h, entry_hash(KEY, &e));
        let mut edited = with.clone();
        edited.changes = Some(r#"{"name":{"after":"丙","before":"甲"}}"#.into());
        assert_ne!(entry_hash(KEY, &edited), h);
        let mut empty = with.clone();
        empty.changes = Some(String::new());
        assert_ne!(entry_hash(KEY, &empty), entry_hash(KEY, &e));
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let c = chain(1);
        let mut moved = c[0].0.clone();
        moved.actor_name = "张".into();
        moved.actor_role = format!("三{}", moved.actor_role);
        assert_ne!(entry_hash(KEY, &moved), c[0].1);
    }
}
