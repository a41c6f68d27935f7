//! Expert review of a round (第十条、第十一条): who reviews what, how the score sheets become
//! one score per application, and how applications are ranked within their cluster kind.
//!
//! - [`assignment`]: conflict-of-interest checks (回避) and automatic assignment of `k`
//!   experts per application with balanced loads;
//! - [`scoring`]: score-sheet validation, panel aggregation (trimmed mean), the defence
//!   (答辩) weighting and outlier flags;
//! - [`ranking`]: ranking per cluster kind with stated tie-breakers, and the winners under a
//!   quota;
//! - [`shortlist`]: the proposed list from the ranking, the quota and the province's choice
//!   among entrants tied at the cut, with the reason noted on each decision;
//! - [`floors`]: the floor per criterion an entrant must reach to be among the winners;
//! - [`normalise`]: each expert's totals as z-scores mapped back to the score scale;
//! - [`window`]: the scoring window (not yet open, open, closed; an extended deadline; a
//!   reopened sheet) and what an expert may still change.
//!
//! Everything here is pure: the policy's numbers (panel size, trim threshold, defence share,
//! criterion maxima, quotas) arrive as parameters, so no rule number is written into the code.

pub mod assignment;
pub mod floors;
pub mod normalise;
pub mod ranking;
pub mod scoring;
pub mod shortlist;
pub mod window;

#[cfg(test)]
mod properties;

pub use assignment::{
    Assignment, Conflict, ConflictRules, Entrant, Expert, Org, Shortfall, assign, assign_under,
    check_manual, check_manual_under, conflicts, conflicts_under,
};
pub use floors::{FloorMiss, below_floors};
pub use normalise::{z_score_totals, z_scores};
pub use ranking::{CutoffTie, RankInput, Ranked, rank, ties_at_cutoff, winners};
pub use scoring::{
    Aggregate, ApplicationScore, CriterionLimit, Outlier, OutlierRule, PanelRule, ScoreSheet,
    aggregate, combine, outliers, score_application, score_application_adjusted, total,
    validate_score, validate_sheet,
};
pub use window::{ScoringWindow, SheetState, Window};
