//! Authentication: passwords, second factors and sessions.

pub mod login;
pub mod password;
pub mod sealed;
pub mod session;
pub mod totp;
