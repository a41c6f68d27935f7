//! Public notice and objections (being built).
