/// mimalloc gives freed memory back to the system. With glibc's allocator every thread that
/// hashed a password (Argon2id's 19 MiB block) kept that block after the hash was done — glibc
/// raises its mmap threshold on the first free — so a server that had seen a few sign-ins or a
/// batch of new accounts held hundreds of MiB it no longer used.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    jiqun::cli::main()
}
