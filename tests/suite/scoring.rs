//! scoring (being built).
