//! Link settings of the release binary.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    // Relative relocations packed (DT_RELR; glibc 2.36 and GNU ld 2.38 or newer, older linkers
    // ignore the option with a warning): otherwise the loader reads a table of some 0.8 MB at
    // every start, and it stays resident for the life of the server.
    if var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "gnu"
        && var("PROFILE") == "release"
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
