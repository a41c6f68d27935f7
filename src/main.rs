fn main() -> std::process::ExitCode {
    jiqun::malloc::fix_mmap_threshold();
    jiqun::cli::main()
}
