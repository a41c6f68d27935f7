//! What a text field may hold. NUL and the other control characters have no place in anything a
//! person types (PostgreSQL refuses NUL outright, SQLite would store it silently); tab, line feed
//! and carriage return stay allowed because multi-line fields (reasons, narratives) need them,
//! and single-line fields check their own shape.

/// The first forbidden character and its position (in characters), if any.
pub fn forbidden_char(text: &str) -> Option<(usize, char)> {
    text.chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The refusal shown under the field.
pub fn forbidden_message(position: usize, c: char) -> String {
    format!(
        "含有不可见的控制字符（U+{:04X}，第{}个字符），请删除后重新提交",
        u32::from(c),
        position + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nul_and_other_controls_are_found_where_they_are() {
        assert_eq!(forbidden_char("长沙\0集群"), Some((2, '\0')));
        assert_eq!(forbidden_char("a\u{7}b"), Some((1, '\u{7}')));
        assert_eq!(forbidden_char("x\u{85}"), Some((1, '\u{85}')));
        assert_eq!(forbidden_char("理由：\n第一行\r\n\t第二行"), None);
        assert_eq!(
            forbidden_message(2, '\0'),
            "含有不可见的控制字符（U+0000，第3个字符），请删除后重新提交"
        );
    }

    proptest! {
        #[test]
        fn printable_text_is_never_refused(s in "[\\PC\t\n\r]*") {
            prop_assert_eq!(forbidden_char(&s), None);
        }

        #[test]
        fn any_inserted_control_is_refused(a in "\\PC*", b in "\\PC*", c in prop::sample::select(vec!['\0', '\u{1}', '\u{1b}', '\u{7f}', '\u{9f}'])) {
            let s = format!("{a}{c}{b}");
            prop_assert_eq!(forbidden_char(&s), Some((a.chars().count(), c)));
        }
    }
}
