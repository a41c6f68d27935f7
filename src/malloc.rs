//! The allocator's settings the process runs with.

/// glibc raises its mmap threshold each time a large mapped block is freed (Argon2id's 19 MiB on
/// every password check, a large page or workbook buffer); from then on large buffers come from
/// the per-thread arenas and stay resident (a server was seen at 1.1 GB). A threshold given in the
/// environment is fixed, and glibc reads it only when the process starts, so the process starts
/// itself once more with the threshold set (and the number of arenas bounded). Values already
/// set by the operator are kept. Called
/// first thing by the binary and by the benchmarks that run a server in their own process.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn fix_mmap_threshold() {
    use std::os::unix::process::CommandExt;
    const VAR: &str = "MALLOC_MMAP_THRESHOLD_";
    const ARENAS: &str = "MALLOC_ARENA_MAX";
    if std::env::var_os(VAR).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let mut cmd = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        cmd.arg0(arg0);
    }
    cmd.args(args).env(VAR, "131072");
    // glibc's own default before any adjustment: 128 KiB. And an arena per core and two more
    // (for the SQLite connections' threads) rather than glibc's eight per core. With one arena
    // per core the threads queued for the arenas' locks (score submission at 500-550/s on two
    // cores, 590-660/s with four arenas); eight arenas kept 6 MiB more resident at the pages
    // bench's peak than four.
    if std::env::var_os(ARENAS).is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cmd.env(ARENAS, (cores + 2).to_string());
    }
    let failed = cmd.exec();
    // exec returns only when it failed (e.g. the binary was replaced on disk): run as we are.
    eprintln!("未能以固定的内存映射阈值重新启动（{failed}），按当前方式继续运行");
}

/// Other allocators keep no such threshold.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn fix_mmap_threshold() {}
