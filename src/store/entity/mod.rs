//! SeaORM entities. They stay inside `store` and the services; handlers see plain types.

pub mod audit_entry;
pub mod audit_head;
pub mod calendar_year;
pub mod organisation;
pub mod session;
pub mod user;
