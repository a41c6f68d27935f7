//! Expert scoring (being built).
