//! Secrets sealed at rest: SM4-CTR for secrecy, HMAC-SM3 over the ciphertext for integrity
//! (encrypt-then-MAC; GB/T 32907 and GB/T 32905). Used for the TOTP secrets, which the server must
//! read back in clear to check a code, so they cannot be stored as digests like passwords.
//!
//! The key lives outside the database, in `secrets.key` beside `audit.key` (created at the first
//! start, mode 0600). Like the audit key it is not part of a backup: a copy of the database alone
//! does not give anyone the second factors. It is put back beside the audit key before a restore.
//!
//! A sealed value is `sm4:` followed by hex of IV (16 bytes) ‖ ciphertext ‖ MAC (32 bytes). The MAC
//! also covers a context naming the row it belongs to (`users.totp_secret:<id>`), so a sealed
//! secret copied onto another account does not open there. Values without the prefix are clear
//! secrets written before sealing existed; they are read as they are, and sealed at start-up.

use crate::store::id::UserId;
use std::path::{Path, PathBuf};

use ctr::cipher::{KeyIvInit, StreamCipher};
use hmac::{KeyInit, Mac};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::{Expr, ExprTrait},
};
use time::OffsetDateTime;

use crate::audit::{Actor, Event};
use crate::store::entity::user;

type HmacSm3 = hmac::Hmac<sm3::Sm3>;
type Sm4Ctr = ctr::Ctr128BE<sm4::Sm4>;

/// Marks a sealed value.
pub const PREFIX: &str = "sm4:";

/// The key file's name, in the folder of the audit key.
pub const KEY_FILE: &str = "secrets.key";

const IV_LEN: usize = 16;
const TAG_LEN: usize = 32;

/// The sealing keys, derived from the 32 random bytes of `secrets.key`.
#[derive(Clone)]
pub struct SealKey {
    enc: [u8; 16],
    mac: [u8; 32],
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    // Zero-padding a short key to SM3's 64-byte block is what HMAC does itself (RFC 2104).
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let mut m = <HmacSm3 as KeyInit>::new(&block.into());
    for part in parts {
        m.update(&(part.len() as u64).to_be_bytes());
        m.update(part);
    }
    m.finalize().into_bytes().into()
}

/// Why a sealed value did not open.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("加密保存的密钥格式无效")]
    Malformed,
    #[error("加密保存的密钥校验失败（密钥文件不符，或数据被改动）")]
    Forged,
}

impl SealKey {
    pub fn from_master(master: &[u8; 32]) -> SealKey {
        let enc = hmac(master, &[b"jiqun-seal-enc-v1"]);
        let mut enc16 = [0u8; 16];
        enc16.copy_from_slice(&enc[..16]);
        SealKey {
            enc: enc16,
            mac: hmac(master, &[b"jiqun-seal-mac-v1"]),
        }
    }

    fn tag(&self, context: &str, iv: &[u8], ciphertext: &[u8]) -> [u8; 32] {
        hmac(
            &self.mac,
            &[b"jiqun-seal-v1", context.as_bytes(), iv, ciphertext],
        )
    }

    /// Seals `plain` for the row named by `context`.
    pub fn seal(&self, context: &str, plain: &str) -> String {
        let iv: [u8; IV_LEN] = rand::random();
        let mut data = plain.as_bytes().to_vec();
        Sm4Ctr::new(&self.enc.into(), &iv.into()).apply_keystream(&mut data);
        let tag = self.tag(context, &iv, &data);
        let mut out = Vec::with_capacity(IV_LEN + data.len() + TAG_LEN);
        out.extend_from_slice(&iv);
        out.extend_from_slice(&data);
        out.extend_from_slice(&tag);
        format!("{PREFIX}{}", hex::encode(out))
    }

    /// Opens a stored value: a sealed one is checked and decrypted, a clear one (written before
    /// sealing) is returned as it is.
    pub fn open(&self, context: &str, stored: &str) -> Result<String, SealError> {
        let Some(body) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_string());
        };
        let bytes = hex::decode(body).map_err(|_| SealError::Malformed)?;
        if bytes.len() < IV_LEN + TAG_LEN {
            return Err(SealError::Malformed);
        }
        let (iv, rest) = bytes.split_at(IV_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let expected = self.tag(context, iv, ciphertext);
        // Constant time, so the comparison leaks nothing about the right tag.
        let same = expected
            .iter()
            .zip(tag)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
        if !same {
            return Err(SealError::Forged);
        }
        let mut iv16 = [0u8; IV_LEN];
        iv16.copy_from_slice(iv);
        let mut data = ciphertext.to_vec();
        Sm4Ctr::new(&self.enc.into(), &iv16.into()).apply_keystream(&mut data);
        String::from_utf8(data).map_err(|_| SealError::Malformed)
    }
}

pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// The context a user's TOTP secret is sealed under.
pub fn totp_context(user_id: UserId) -> String {
    format!("users.totp_secret:{user_id}")
}

/// Where the key lives: beside the audit key.
pub fn key_path(audit_key_file: &Path) -> PathBuf {
    audit_key_file
        .parent()
        .map_or_else(|| PathBuf::from(KEY_FILE), |d| d.join(KEY_FILE))
}

#[derive(Debug, thiserror::Error)]
pub enum SealStartError {
    #[error(
        "数据库中有 {sealed} 个账户的双因素密钥是加密保存的，但密钥文件 {path} 不存在。请把原来的 {KEY_FILE} 放回该位置（它与 audit.key 一样不在备份中，应与备份分开保管）；生成新密钥会使这些账户无法完成双因素认证，因此拒绝启动"
    )]
    Missing { sealed: u64, path: String },
    #[error(
        "密钥文件 {path} 与数据库中加密保存的双因素密钥不匹配。请换回原来的 {KEY_FILE}；拒绝启动"
    )]
    Wrong { path: String },
    #[error(transparent)]
    Key(#[from] crate::audit::KeyError),
    #[error("数据库错误：{0}")]
    Db(#[from] DbErr),
}

fn sealed_rows() -> sea_orm::Condition {
    sea_orm::Condition::all().add(user::Column::TotpSecret.starts_with(PREFIX))
}

/// Loads (or, while nothing is sealed yet, creates) the key, and checks it opens what is sealed.
/// With `seal_clear` the clear secrets still in the database are then sealed.
pub async fn load_at_start(
    db: &DatabaseConnection,
    audit_key_file: &Path,
    seal_clear: bool,
    at: OffsetDateTime,
    audit_key: &jiqun_domain::audit::AuditKey,
) -> Result<SealKey, SealStartError> {
    let path = key_path(audit_key_file);
    let shown = path.display().to_string();
    let sealed = user::Entity::find().filter(sealed_rows()).count(db).await?;
    if sealed > 0 && !path.exists() {
        return Err(SealStartError::Missing {
            sealed,
            path: shown,
        });
    }
    // The same 32 random bytes in hex as the audit key, made the same way (mode 0600).
    let master = crate::audit::load_key(&path, true)?;
    let key = SealKey::from_master(&master.0);
    if let Some(sample) = user::Entity::find().filter(sealed_rows()).one(db).await?
        && let Some(stored) = &sample.totp_secret
        && key.open(&totp_context(sample.id), stored).is_err()
    {
        return Err(SealStartError::Wrong { path: shown });
    }
    if seal_clear {
        seal_clear_secrets(db, &key, at, audit_key).await?;
    }
    Ok(key)
}

/// Seals every TOTP secret still stored in clear. Idempotent: sealed values carry the prefix,
/// and each row is rewritten only if it still holds the clear value read (so two servers
/// starting together seal it once). Returns how many were sealed; an audit entry records it.
pub async fn seal_clear_secrets(
    db: &DatabaseConnection,
    key: &SealKey,
    at: OffsetDateTime,
    audit_key: &jiqun_domain::audit::AuditKey,
) -> Result<u64, DbErr> {
    let clear = user::Entity::find()
        .filter(user::Column::TotpSecret.is_not_null())
        .filter(user::Column::TotpSecret.starts_with(PREFIX).not())
        .all(db)
        .await?;
    if clear.is_empty() {
        return Ok(0);
    }
    let txn = crate::store::write_txn(db).await?;
    let mut sealed = 0;
    for u in &clear {
        let Some(secret) = &u.totp_secret else {
            continue;
        };
        let done = user::Entity::update_many()
            .col_expr(
                user::Column::TotpSecret,
                Expr::value(key.seal(&totp_context(u.id), secret)),
            )
            .filter(user::Column::Id.eq(u.id))
            .filter(user::Column::TotpSecret.eq(secret.as_str()))
            .exec(&txn)
            .await?;
        sealed += done.rows_affected;
    }
    if sealed > 0 {
        crate::audit::append(
            &txn,
            audit_key,
            at,
            &Actor::console("system"),
            Event {
                action: "system.seal_totp_secrets",
                object_type: "user",
                object_id: "*".into(),
                summary: format!("{sealed}个账户的双因素密钥改为加密保存（SM4）"),
                ..Default::default()
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_row() {
        let key = SealKey::from_master(&[7; 32]);
        let sealed = key.seal("users.totp_secret:3", "JBSWY3DPEHPK3PXP");
        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            key.open("users.totp_secret:3", &sealed).unwrap(),
            "JBSWY3DPEHPK3PXP"
        );
        // Fresh IV each time.
        assert_ne!(sealed, key.seal("users.totp_secret:3", "JBSWY3DPEHPK3PXP"));
        assert!(matches!(
            key.open("users.totp_secret:4", &sealed),
            Err(SealError::Forged)
        ));
        let other = SealKey::from_master(&[8; 32]);
        assert!(other.open("users.totp_secret:3", &sealed).is_err());
        // One flipped bit of the ciphertext is caught.
        let mut bytes = hex::decode(&sealed[PREFIX.len()..]).unwrap();
        bytes[IV_LEN] ^= 1;
        let flipped = format!("{PREFIX}{}", hex::encode(bytes));
        assert!(key.open("users.totp_secret:3", &flipped).is_err());
        assert!(matches!(key.open("x", "sm4:zz"), Err(SealError::Malformed)));
        // A clear value (written before sealing) reads as it is.
        assert_eq!(key.open("x", "JBSWY3DP").unwrap(), "JBSWY3DP");
    }

    #[test]
    fn sm4_matches_the_standard_example() {
        // GB/T 32907-2016 appendix A, example 1: one block under the same key.
        use sm4::cipher::{BlockCipherEncrypt, KeyInit as _};
        let k = hex::decode("0123456789abcdeffedcba9876543210").unwrap();
        let cipher = sm4::Sm4::new_from_slice(&k).unwrap();
        let mut block = [0u8; 16];
        block.copy_from_slice(&k);
        let mut b = block.into();
        cipher.encrypt_block(&mut b);
        assert_eq!(
            hex::encode(<[u8; 16]>::from(b)),
            "681edf34d206965e86b3e94f536e4246"
        );
    }
}
