//! Designations and certificates (being built).
