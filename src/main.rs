fn main() -> std::process::ExitCode {
    jiqun::cli::main()
}
