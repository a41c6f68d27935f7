//! jiqun (集群): the provincial advanced manufacturing cluster programme, end to end.

pub mod app;
pub mod attachments;
pub mod audit;
pub mod audit_anchor;
pub mod auth;
pub mod backup;
pub mod blob_store;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod mail;
pub mod malloc;
pub mod page_cache;
pub mod pdf;
pub mod scale;
pub mod server;
pub mod services;
pub mod store;
pub mod throttle;
pub mod web;
