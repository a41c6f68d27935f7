//! Bad start-up input: one clear line and a non-zero exit, never a panic.

use std::process::Command;

fn run(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("jiqun-start-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jiqun"));
    cmd.args(args)
        .env("JIQUN_DATA_DIR", &dir)
        .env_remove("JIQUN_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run jiqun");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn a_malformed_config_file_is_named() {
    let dir = std::env::temp_dir().join(format!("jiqun-cfg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("jiqun.toml");
    std::fs::write(&file, "listen = [\n").unwrap();
    let (code, err) = run(&["migrate"], &[("JIQUN_CONFIG", file.to_str().unwrap())]);
    assert_ne!(code, 0);
    assert!(
        err.starts_with("错误：配置文件") && err.contains("jiqun.toml"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn a_bad_listen_address_is_named() {
    let (code, err) = run(&["serve"], &[("JIQUN_LISTEN", "localhost:eighty")]);
    assert_ne!(code, 0);
    assert!(err.contains("监听地址“localhost:eighty”无效"), "{err}");
}

#[test]
fn an_unreachable_database_is_reported() {
    let (code, err) = run(
        &["migrate"],
        &[("JIQUN_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    );
    assert_ne!(code, 0);
    assert!(err.starts_with("错误：无法连接数据库"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn a_port_in_use_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, err) = run(&["serve"], &[("JIQUN_LISTEN", addr.as_str())]);
    assert_ne!(code, 0);
    assert!(
        err.contains(&format!("无法监听 {addr}")) && err.contains("端口可能已被占用"),
        "{err}"
    );
}

#[test]
fn an_unwritable_data_dir_is_reported() {
    let (code, err) = run(
        &["migrate"],
        &[("JIQUN_DATA_DIR", "/proc/jiqun-cannot-write-here")],
    );
    assert_ne!(code, 0);
    assert!(
        err.contains("数据目录 /proc/jiqun-cannot-write-here 不可写"),
        "{err}"
    );
}

#[test]
fn help_is_in_plain_words() {
    let out = Command::new(env!("CARGO_BIN_EXE_jiqun"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for word in ["serve", "migrate", "user", "audit", "JIQUN_DATABASE_URL"] {
        assert!(text.contains(word), "{word} missing from help:\n{text}");
    }
}

/// A fresh installation is set up from the command line: the provincial department, then an
/// administrator, whose credentials the command line can also reset and unlock.
#[test]
fn a_new_installation_is_set_up_from_the_command_line() {
    let dir = std::env::temp_dir().join(format!("jiqun-setup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let jiqun = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_jiqun"))
            .args(args)
            .env("JIQUN_DATA_DIR", &dir)
            .env_remove("JIQUN_DATABASE_URL")
            .output()
            .expect("run jiqun");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    };
    let (code, out) = jiqun(&[
        "org",
        "create",
        "--name",
        "湖南省工业和信息化厅",
        "--kind",
        "provincial_dept",
    ]);
    assert_eq!(code, 0, "{out}");
    let id = out
        .split("编号 ")
        .nth(1)
        .and_then(|s| s.split('）').next())
        .expect("id printed")
        .to_string();
    let (code, out) = jiqun(&[
        "user",
        "create",
        "--username",
        "admin1",
        "--name",
        "系统管理员",
        "--role",
        "sys_admin",
        "--org-id",
        &id,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("初始密码："), "{out}");
    let (code, out) = jiqun(&[
        "user",
        "create",
        "--username",
        "admin2",
        "--name",
        "某",
        "--role",
        "root",
        "--org-id",
        &id,
    ]);
    assert_ne!(code, 0);
    assert!(out.contains("角色“root”无效"), "{out}");
    let (code, out) = jiqun(&[
        "user",
        "reset-password",
        "admin1",
        "--reason",
        "初始密码遗失",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = jiqun(&["user", "unlock", "admin1", "--reason", "例行"]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = jiqun(&["user", "unlock", "nobody", "--reason", "x"]);
    assert_ne!(code, 0);
    assert!(out.contains("用户“nobody”不存在"), "{out}");
    let (code, out) = jiqun(&["audit", "verify"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("共6条记录"),
        "the two shipped policies' installs, org, user, reset and unlock are audited: {out}"
    );

    // A successor policy is installed from the command line, once; `policy show` lists both.
    let successor = jiqun_rules::policy::BUILTIN_POLICY_SOURCES[0]
        .1
        .replacen("id = \"hunan-2021\"", "id = \"hunan-2026\"", 1)
        .replacen("\nversion = 5\n", "\n", 1)
        .replacen("effective_to = 2026-04-06", "effective_to = 2031-04-06", 1)
        .replacen(
            "effective_from = 2021-04-07",
            "effective_from = 2026-04-07",
            1,
        )
        .replacen("published = 2021-04-07", "published = 2026-04-07", 1)
        .replacen("issued = 2021-03-15", "issued = 2026-03-20", 1);
    let file = dir.join("hunan-2026.toml");
    std::fs::write(&file, &successor).unwrap();
    let broken = dir.join("broken.toml");
    std::fs::write(
        &broken,
        successor.replacen("per_year = 1", "per_year = 0", 1),
    )
    .unwrap();
    let (code, out) = jiqun(&["policy", "install", broken.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("competition.per_year：每年竞赛次数必须大于0"),
        "{out}"
    );
    let (code, out) = jiqun(&["policy", "install", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("已安装") && out.contains("hunan-2026"),
        "{out}"
    );
    let (code, out) = jiqun(&["policy", "install", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("已经安装"), "{out}");
    let (code, out) = jiqun(&["policy", "show"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hunan-2021 版本5"), "{out}");
    assert!(out.contains("hunan-2026 版本1"), "{out}");
    assert!(out.contains("现行有效"), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The environment the running server ended up with, once it has started itself again.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn served_threshold(given: Option<&str>) -> Option<String> {
    let dir = std::env::temp_dir().join(format!("jiqun-mmap-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jiqun"));
    cmd.arg("serve")
        .env("JIQUN_DATA_DIR", &dir)
        .env("JIQUN_LISTEN", "127.0.0.1:0")
        .env_remove("JIQUN_DATABASE_URL")
        .env_remove("MALLOC_MMAP_THRESHOLD_")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(v) = given {
        cmd.env("MALLOC_MMAP_THRESHOLD_", v);
    }
    let mut child = cmd.spawn().unwrap();
    let environ = format!("/proc/{}/environ", child.id());
    let mut found = None;
    for _ in 0..100 {
        let text = std::fs::read(&environ).unwrap_or_default();
        found = String::from_utf8_lossy(&text).split('\0').find_map(|kv| {
            kv.strip_prefix("MALLOC_MMAP_THRESHOLD_=")
                .map(str::to_string)
        });
        if found.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    found
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_server_keeps_glibc_from_raising_its_mmap_threshold() {
    assert_eq!(served_threshold(None).as_deref(), Some("131072"));
    assert_eq!(served_threshold(Some("262144")).as_deref(), Some("262144"));
}
