//! rounds (being built).
