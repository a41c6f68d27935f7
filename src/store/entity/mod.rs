//! SeaORM entities. They stay inside `store` and the services; handlers see plain types.

pub mod application;
pub mod application_event;
pub mod application_version;
pub mod attachment;
pub mod audit_entry;
pub mod audit_head;
pub mod blob;
pub mod calendar_year;
pub mod cluster;
pub mod cluster_co_applicant;
pub mod cluster_county;
pub mod cluster_member;
pub mod competition;
pub mod mail_outbox;
pub mod notification;
pub mod organisation;
pub mod recommendation;
pub mod session;
pub mod user;
