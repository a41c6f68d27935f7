//! The audit chain anchored outside the database, and the audit key checked against the trail.
//!
//! The chain proves that no entry was changed, but an emptied or cut-short trail is itself a
//! valid chain. So the head (sequence, hash, and its MAC under the key) is also written to a
//! small file beside the key: verification then fails when the trail no longer reaches the
//! anchored entry or that entry differs. The anchor moves forward whenever the trail verifies.
//!
//! A server must never start with a missing or different key once the trail has entries: a new
//! key would make every later entry unverifiable against the earlier ones (a false tamper alarm).

use std::path::{Path, PathBuf};

use jiqun_domain::audit::{AuditKey, head_mac};
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use crate::audit::KeyError;
use crate::store::entity::{audit_entry, audit_head};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Anchor {
    pub seq: i64,
    pub hash: String,
    /// The head MAC under the key, so the anchor cannot be rewritten without it.
    pub mac: String,
}

/// The anchor file of a key file: `audit.key` → `audit.anchor`, in the same folder.
pub fn anchor_path(key_file: &Path) -> PathBuf {
    key_file.with_extension("anchor")
}

#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error(
        "审计链被截断或清空：锚定文件记录审计日志至少有 {anchored} 条，数据库中现只有 {found} 条"
    )]
    Truncated { anchored: i64, found: i64 },
    #[error("审计链与锚定记录不符：第 {seq} 条记录已不是锚定时的内容")]
    Diverged { seq: i64 },
    #[error("审计锚定文件 {path} 无效：{reason}")]
    BadFile { path: String, reason: String },
    #[error("审计锚定文件 {path} 不是用当前审计密钥写入的")]
    ForeignKey { path: String },
    #[error("数据库错误：{0}")]
    Db(#[from] DbErr),
}

pub fn read(path: &Path, key: &AuditKey) -> Result<Option<Anchor>, AnchorError> {
    let shown = || path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(AnchorError::BadFile {
                path: shown(),
                reason: e.to_string(),
            });
        }
    };
    let anchor: Anchor = serde_json::from_str(&text).map_err(|e| AnchorError::BadFile {
        path: shown(),
        reason: e.to_string(),
    })?;
    if head_mac(key, anchor.seq, &anchor.hash) != anchor.mac {
        return Err(AnchorError::ForeignKey { path: shown() });
    }
    Ok(Some(anchor))
}

/// Writes the anchor atomically (a temporary file renamed over the old one).
pub fn write(path: &Path, key: &AuditKey, seq: i64, hash: &str) -> Result<(), AnchorError> {
    let anchor = Anchor {
        seq,
        hash: hash.to_string(),
        mac: head_mac(key, seq, hash),
    };
    let bad = |e: std::io::Error| AnchorError::BadFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    let tmp = path.with_extension("anchor.partial");
    let json = serde_json::to_string_pretty(&anchor).map_err(|e| AnchorError::BadFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    std::fs::write(&tmp, json).map_err(bad)?;
    std::fs::rename(&tmp, path).map_err(bad)
}

/// Checks an intact chain of `count` entries against the anchor.
pub async fn check(
    db: &DatabaseConnection,
    anchor: &Anchor,
    count: i64,
) -> Result<(), AnchorError> {
    if anchor.seq == 0 {
        return Ok(());
    }
    if count < anchor.seq {
        return Err(AnchorError::Truncated {
            anchored: anchor.seq,
            found: count,
        });
    }
    let entry = audit_entry::Entity::find()
        .filter(audit_entry::Column::Seq.eq(anchor.seq))
        .one(db)
        .await?;
    match entry {
        Some(e) if e.hash == anchor.hash => Ok(()),
        _ => Err(AnchorError::Diverged { seq: anchor.seq }),
    }
}

/// Moves the anchor to the current head (never backwards: a shorter trail was caught by `check`).
pub async fn advance(
    db: &DatabaseConnection,
    key: &AuditKey,
    key_file: &Path,
) -> Result<Option<i64>, AnchorError> {
    let Some(head) = audit_head::Entity::find_by_id(1).one(db).await? else {
        return Ok(None);
    };
    let path = anchor_path(key_file);
    if let Some(old) = read(&path, key)?
        && old.seq >= head.seq
    {
        return Ok(Some(old.seq));
    }
    write(&path, key, head.seq, &head.hash)?;
    Ok(Some(head.seq))
}

/// The number of entries the trail says it has (0 when it has none).
async fn head_seq(db: &DatabaseConnection) -> Result<Option<audit_head::Model>, DbErr> {
    audit_head::Entity::find_by_id(1).one(db).await
}

#[derive(Debug, thiserror::Error)]
pub enum StartKeyError {
    #[error(
        "审计日志已有 {entries} 条记录，但审计密钥文件 {path} 不存在。请把原来的密钥文件放回该位置（它不在数据库备份中，应与备份分开保管）；生成新密钥会使整条审计链无法校验，因此拒绝启动"
    )]
    Missing { entries: i64, path: String },
    #[error(
        "审计密钥文件 {path} 与审计日志不匹配（日志最后一条的校验码不是用此密钥生成的）。请换回原来的密钥文件；拒绝启动，以免写入无法校验的记录"
    )]
    Wrong { path: String },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("数据库错误：{0}")]
    Db(#[from] DbErr),
}

/// Loads the key for a server or command. A new key is made only for an empty trail; an existing
/// trail must verify its head under the key that is loaded.
pub async fn load_checked_key(
    db: &DatabaseConnection,
    key_file: &Path,
    create: bool,
) -> Result<AuditKey, StartKeyError> {
    let head = head_seq(db).await?.filter(|h| h.seq > 0);
    let shown = key_file.display().to_string();
    if let Some(h) = &head
        && !key_file.exists()
    {
        return Err(StartKeyError::Missing {
            entries: h.seq,
            path: shown,
        });
    }
    let key = crate::audit::load_key(key_file, create && head.is_none())?;
    if let Some(h) = head
        && head_mac(&key, h.seq, &h.hash) != h.mac
    {
        return Err(StartKeyError::Wrong { path: shown });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_anchor_reads_back_only_under_its_own_key() {
        let dir = std::env::temp_dir().join(format!("jiqun-anchor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = anchor_path(&dir.join("audit.key"));
        assert_eq!(path.file_name().unwrap(), "audit.anchor");
        let key = AuditKey([7; 32]);
        write(&path, &key, 12, "abc").unwrap();
        assert_eq!(read(&path, &key).unwrap().unwrap().seq, 12);
        assert!(matches!(
            read(&path, &AuditKey([8; 32])),
            Err(AnchorError::ForeignKey { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
