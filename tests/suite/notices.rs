//! notices (being built).
