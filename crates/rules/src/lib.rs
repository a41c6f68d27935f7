//! Rules as data for jiqun: the working-day calendar, the versioned policy file
//! that encodes 《湖南省先进制造业集群培育管理办法》, and the one deadline engine
//! every feature uses.
//!
//! Everything here is a pure function over plain data: no I/O beyond parsing
//! strings handed in, so the rules are tested exhaustively and fast.
//! Identifiers are English; every message meant for a person is Simplified Chinese.

pub mod calendar;
pub mod deadline;
pub mod finals;
pub mod intake;
pub mod monitoring;
pub mod policy;
pub mod recheck_form;
pub mod report_form;

pub use calendar::{Calendar, CalendarError, DayKind};
pub use deadline::DeadlineError;

pub use policy::{Policy, PolicyError, PolicyErrors};
