//! TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s — what every authenticator app speaks),
//! its QR code and one-time recovery codes.

use crate::store::id::UserId;
use jiqun_domain::audit::sm3_hex;
use totp_rs::{Builder, Secret, Totp};

use super::sealed;
use crate::error::AppError;
use crate::store::entity::user;

pub const ISSUER: &str = "jiqun";

/// An account's TOTP secret in clear, however it is stored (sealed, or clear from before
/// sealing; see [`super::sealed`]). Every read of `users.totp_secret` goes through here.
pub fn secret_of(app: &crate::app::App, u: &user::Model) -> Result<Option<String>, AppError> {
    u.totp_secret
        .as_deref()
        .map(|stored| {
            app.seal_key
                .open(&sealed::totp_context(u.id), stored)
                .map_err(AppError::internal)
        })
        .transpose()
}

/// The value to store for a new TOTP secret of account `user_id`: sealed, never clear.
pub fn sealed_secret(app: &crate::app::App, user_id: UserId, secret: &str) -> String {
    app.seal_key.seal(&sealed::totp_context(user_id), secret)
}

pub fn new_secret() -> String {
    Secret::from(rand::random::<[u8; 20]>()).to_base32()
}

fn totp(secret_b32: &str, account: &str) -> Result<Totp, AppError> {
    let secret = Secret::try_from_base32(secret_b32)
        .map_err(|_| AppError::Internal("stored TOTP secret is not base32".into()))?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| AppError::internal(format!("totp: {e}")))
}

/// Accepts the code of the current 30-second step or its neighbours (clock drift), and only for
/// a step later than the last one used (RFC 6238 §5.2: a code is accepted once). Returns the step.
pub fn check(secret_b32: &str, code: &str, unix_time: i64, last_step: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let step = totp(secret_b32, "x")
        .ok()?
        .check(&code, unix_time.max(0) as u64)
        .and_then(|s| i64::try_from(s).ok())?;
    (last_step.is_none_or(|last| step > last)).then_some(step)
}

pub fn code_at(secret_b32: &str, unix_time: i64) -> Result<String, AppError> {
    Ok(totp(secret_b32, "x")?
        .generate(unix_time.max(0) as u64)
        .to_string())
}

pub fn otpauth_url(secret_b32: &str, account: &str) -> Result<String, AppError> {
    totp(secret_b32, account)?
        .to_url()
        .map_err(|e| AppError::internal(format!("totp url: {e}")))
}

/// An SVG QR code of the otpauth URL, for enrolment.
pub fn qr_svg(url: &str) -> Result<String, AppError> {
    let code =
        qrcode::QrCode::new(url.as_bytes()).map_err(|e| AppError::internal(format!("qr: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build())
}

/// Ten recovery codes; only their SM3 digests are stored.
pub fn new_recovery_codes() -> Vec<String> {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..10)
        .map(|_| {
            let raw: String = (0..10)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect()
}

pub fn digest_recovery_code(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sm3_hex(normal.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 → 94287082 (8 digits);
        // the 6-digit code is its last six digits.
        let secret = Secret::from(&b"12345678901234567890"[..]).to_base32();
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(check(&secret, "287 082", 59, None), Some(1));
        assert_eq!(check(&secret, "287083", 59, None), None);
        // The same code is not accepted twice.
        assert_eq!(check(&secret, "287082", 59, Some(1)), None);
    }

    #[test]
    fn recovery_codes_are_compared_without_punctuation_or_case() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let c = &codes[0];
        assert_eq!(
            digest_recovery_code(c),
            digest_recovery_code(&c.to_lowercase().replace('-', ""))
        );
    }
}
