//! Pure domain rules of jiqun: no I/O, plain data in, plain data out.

pub mod access;
pub mod application;
pub mod attachment;
pub mod audit;
pub mod audit_vocabulary;
pub mod certificate;
pub mod change_request;
pub mod compliance;
pub mod contact;
pub mod county_cap;
pub mod credit_code;
pub mod funding;
pub mod industry;
pub mod ladder;
pub mod lifecycle;
pub mod member_sheet;
pub mod nomination;
pub mod password;
pub mod recheck;
pub mod region;
pub mod report;
pub mod review;
pub mod revocation;
pub mod round;
pub mod security;
pub mod text;
