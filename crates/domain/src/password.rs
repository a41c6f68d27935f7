//! Password complexity (等保: 口令复杂度).

/// Returns the first rule the password breaks, as a message for the user.
pub fn check_complexity(password: &str, username: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < 10 {
        return Err("密码长度至少10位");
    }
    if chars > 128 {
        return Err("密码长度不能超过128位");
    }
    let classes = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password
            .chars()
            .any(|c| !c.is_ascii_alphanumeric() && !c.is_whitespace()),
    ];
    if classes.iter().filter(|&&has| has).count() < 3 {
        return Err("密码须包含大写字母、小写字母、数字、特殊字符中的至少三类");
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err("密码不能包含用户名");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_strong_password() {
        assert_eq!(check_complexity("Jiqun@2026abc", "zhangsan"), Ok(()));
    }

    #[test]
    fn names_the_broken_rule() {
        assert_eq!(check_complexity("Ab1!", "u"), Err("密码长度至少10位"));
        assert_eq!(
            check_complexity("abcdefghijk", "u"),
            Err("密码须包含大写字母、小写字母、数字、特殊字符中的至少三类")
        );
        assert_eq!(
            check_complexity("Zhangsan@2026", "zhangsan"),
            Err("密码不能包含用户名")
        );
    }
}
