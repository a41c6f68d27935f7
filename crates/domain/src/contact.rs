//! Contact details as people type them.

/// A landline or mobile number: digits and hyphens, 7 to 20 characters (e.g. 0731-88888888).
pub fn is_phone(text: &str) -> bool {
    (7..=20).contains(&text.len()) && text.chars().all(|c| c.is_ascii_digit() || c == '-')
}

/// A plausible e-mail address; delivery is the real check.
pub fn is_email(text: &str) -> bool {
    text.len() <= 100
        && !text.contains(char::is_whitespace)
        && text
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert!(is_phone("0731-88888888"));
        assert!(is_phone("13800138000"));
        assert!(!is_phone("123"));
        assert!(!is_phone("0731 8888888"));
    }

    #[test]
    fn emails() {
        assert!(is_email("li@hunan.gov.cn"));
        assert!(!is_email("li@"));
        assert!(!is_email("li hunan@gov.cn"));
    }
}
