//! The scoring window of a round (第十条): experts score only between its opening and its
//! closing time, and only while the round is in scoring. The province may move the closing
//! time later (an extended deadline) and may reopen one submitted sheet, which the expert may
//! then correct after the window closed, while the round is still in scoring.
//!
//! Times are shown to people in Beijing time; how a time is written is the caller's (`show`),
//! so this module stays free of clocks and time zones.

use time::OffsetDateTime;

use crate::round::RoundStatus;

/// Where the round's scoring window stands for an expert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// The round is still in setup, or the window has not opened yet.
    NotOpen,
    Open,
    /// The window closed, or the round has moved past scoring.
    Closed,
}

impl Window {
    pub fn key(self) -> &'static str {
        match self {
            Window::NotOpen => "not_open",
            Window::Open => "open",
            Window::Closed => "closed",
        }
    }
}

/// A round's scoring window: its status and its (possibly extended) times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoringWindow {
    pub status: RoundStatus,
    pub opens: OffsetDateTime,
    /// The current closing time, after any extension.
    pub closes: OffsetDateTime,
}

/// What the expert's sheet is, as far as editing goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SheetState {
    pub submitted: bool,
    /// The province reopened it with a reason.
    pub reopened: bool,
}

impl ScoringWindow {
    /// The window is [opens, closes): at the closing minute scoring has ended.
    pub fn at(&self, now: OffsetDateTime) -> Window {
        match self.status {
            RoundStatus::Setup => Window::NotOpen,
            RoundStatus::Scoring if now < self.opens => Window::NotOpen,
            RoundStatus::Scoring if now < self.closes => Window::Open,
            _ => Window::Closed,
        }
    }

    /// What an expert is told about the window.
    pub fn label(&self, now: OffsetDateTime, show: impl Fn(OffsetDateTime) -> String) -> String {
        match (self.at(now), self.status) {
            (Window::NotOpen, _) if now < self.opens => format!("评分将于{}开始", show(self.opens)),
            (Window::NotOpen, _) => "评分尚未开始，开始后将通知您".to_string(),
            (Window::Open, _) => format!("评分进行中，{}截止", show(self.closes)),
            (Window::Closed, RoundStatus::Scoring) => format!("评分已于{}截止", show(self.closes)),
            (Window::Closed, _) => "本轮评审已结束".to_string(),
        }
    }

    /// Whether the expert may still change a sheet now, or why not. A sheet the province
    /// reopened stays editable after the window closed, while the round is still in scoring:
    /// the reopening is the province's explicit request for a correction.
    pub fn check_edit(
        &self,
        sheet: SheetState,
        now: OffsetDateTime,
        show: impl Fn(OffsetDateTime) -> String,
    ) -> Result<(), String> {
        let not_yet = || format!("评分尚未开始，评分将于{}（北京时间）开始", show(self.opens));
        match self.status {
            RoundStatus::Setup if now < self.opens => return Err(not_yet()),
            RoundStatus::Setup => {
                return Err("评分尚未开始（评审轮次筹备中），开始后将通知您".into());
            }
            RoundStatus::Scoring => {}
            _ => return Err("本轮评分已结束，拟定名单已确定，不能再修改评分".into()),
        }
        if sheet.submitted {
            return Err("评分表已提交，不能再修改；如确需修改，请联系省工信厅退回".into());
        }
        if now < self.opens {
            return Err(not_yet());
        }
        if now >= self.closes && !sheet.reopened {
            return Err(format!(
                "评分已于{}（北京时间）截止，不能再保存或提交评分",
                show(self.closes)
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const OPENS: OffsetDateTime = datetime!(2026-06-01 00:00 UTC);
    const CLOSES: OffsetDateTime = datetime!(2026-06-10 09:30 UTC);

    fn show(t: OffsetDateTime) -> String {
        format!(
            "{:02}-{:02} {:02}:{:02}",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute()
        )
    }

    fn round(status: RoundStatus) -> ScoringWindow {
        ScoringWindow {
            status,
            opens: OPENS,
            closes: CLOSES,
        }
    }

    const BEFORE: OffsetDateTime = datetime!(2026-05-31 12:00 UTC);
    const DURING: OffsetDateTime = datetime!(2026-06-05 12:00 UTC);
    const AFTER: OffsetDateTime = datetime!(2026-06-11 12:00 UTC);

    #[test]
    fn the_window_by_status_and_time() {
        use RoundStatus::*;
        let table = [
            (Setup, BEFORE, Window::NotOpen),
            (Setup, DURING, Window::NotOpen),
            (Setup, AFTER, Window::NotOpen),
            (Scoring, BEFORE, Window::NotOpen),
            (Scoring, OPENS, Window::Open),
            (Scoring, DURING, Window::Open),
            (Scoring, CLOSES, Window::Closed),
            (Scoring, AFTER, Window::Closed),
            (Proposed, DURING, Window::Closed),
            (OnNotice, DURING, Window::Closed),
            (Confirmed, BEFORE, Window::Closed),
        ];
        for (status, now, want) in table {
            assert_eq!(round(status).at(now), want, "{status:?} at {now}");
        }
    }

    #[test]
    fn an_extended_deadline_opens_the_window_again() {
        let mut w = round(RoundStatus::Scoring);
        assert_eq!(w.at(AFTER), Window::Closed);
        w.closes = datetime!(2026-06-15 00:00 UTC);
        assert_eq!(w.at(AFTER), Window::Open);
        assert_eq!(w.label(AFTER, show), "评分进行中，06-15 00:00截止");
        assert_eq!(w.check_edit(SheetState::default(), AFTER, show), Ok(()));
    }

    #[test]
    fn experts_are_told_where_the_window_stands() {
        use RoundStatus::*;
        let table = [
            (Setup, BEFORE, "评分将于06-01 00:00开始"),
            (Setup, DURING, "评分尚未开始，开始后将通知您"),
            (Scoring, BEFORE, "评分将于06-01 00:00开始"),
            (Scoring, DURING, "评分进行中，06-10 09:30截止"),
            (Scoring, AFTER, "评分已于06-10 09:30截止"),
            (Proposed, DURING, "本轮评审已结束"),
        ];
        for (status, now, want) in table {
            assert_eq!(round(status).label(now, show), want, "{status:?} at {now}");
        }
    }

    #[test]
    fn a_sheet_is_editable_only_in_the_window_unless_reopened() {
        use RoundStatus::*;
        let fresh = SheetState::default();
        let submitted = SheetState {
            submitted: true,
            reopened: false,
        };
        let reopened = SheetState {
            submitted: false,
            reopened: true,
        };
        let table: [(RoundStatus, SheetState, OffsetDateTime, Result<(), &str>); 9] = [
            (
                Setup,
                fresh,
                BEFORE,
                Err("评分尚未开始，评分将于06-01 00:00（北京时间）开始"),
            ),
            (
                Setup,
                fresh,
                DURING,
                Err("评分尚未开始（评审轮次筹备中），开始后将通知您"),
            ),
            (
                Scoring,
                fresh,
                BEFORE,
                Err("评分尚未开始，评分将于06-01 00:00（北京时间）开始"),
            ),
            (Scoring, fresh, DURING, Ok(())),
            (
                Scoring,
                submitted,
                DURING,
                Err("评分表已提交，不能再修改；如确需修改，请联系省工信厅退回"),
            ),
            (
                Scoring,
                fresh,
                CLOSES,
                Err("评分已于06-10 09:30（北京时间）截止，不能再保存或提交评分"),
            ),
            (Scoring, reopened, AFTER, Ok(())),
            (
                Proposed,
                reopened,
                DURING,
                Err("本轮评分已结束，拟定名单已确定，不能再修改评分"),
            ),
            (
                Confirmed,
                fresh,
                AFTER,
                Err("本轮评分已结束，拟定名单已确定，不能再修改评分"),
            ),
        ];
        for (status, sheet, now, want) in table {
            assert_eq!(
                round(status).check_edit(sheet, now, show),
                want.map_err(String::from),
                "{status:?} {sheet:?} at {now}"
            );
        }
    }
}
