//! Backup and restore of an installation: a consistent copy of the database, the attachment store,
//! and a manifest with the SM3 sum of every file, written last so that an interrupted backup is
//! recognisably incomplete.
//!
//! The audit key is deliberately not part of a backup: whoever holds a backup alone cannot forge
//! the audit trail. It is kept apart (with the chain anchor beside it) and put in place before a
//! restore, which then verifies the chain with it. The same holds for `secrets.key` beside it,
//! which seals the TOTP secrets (`auth::sealed`): a backup alone does not give the second factors.
//!
//! With attachments on an S3-compatible object store (`JIQUN_ATTACHMENTS_URL=s3://…`) a backup
//! holds the database only, and the command says so: the bucket is backed up with the object
//! store's own means (versioning, replication), since its objects never pass through this
//! machine's disk. Objects are named by SM3 and never rewritten, so any copy of the bucket taken
//! after the database copy holds every object a row of it names.
//!
//! - SQLite: `VACUUM INTO` copies a consistent snapshot while the server keeps writing (WAL mode;
//!   a plain copy of the database file can miss everything still in the WAL).
//! - PostgreSQL: `pg_dump --format=custom` / `pg_restore`, the tools of the server's own version.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde::{Deserialize, Serialize};
use sm3::{Digest, Sm3};

/// The manifest's file name inside a backup folder.
pub const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "jiqun.db";
const PG_DUMP_FILE: &str = "jiqun.pgdump";
const ATTACHMENTS: &str = "attachments";
const FORMAT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("备份目录 {0} 已存在且不为空：请指定一个新目录，以免覆盖已有备份")]
    TargetNotEmpty(String),
    #[error(
        "恢复目标不是空的：{0}。恢复只写入全新的数据目录（或空的 PostgreSQL 数据库），不会覆盖现有数据"
    )]
    RestoreTargetNotEmpty(String),
    #[error("{0} 中没有备份清单 {MANIFEST}：备份不完整（可能在写入时中断），不能用于恢复")]
    NoManifest(String),
    #[error("备份清单无法读取：{0}")]
    BadManifest(String),
    #[error("备份文件 {path} 校验失败：{problem}。备份已损坏或被改动，未恢复任何内容")]
    Corrupt { path: String, problem: String },
    #[error("无法运行 {tool}：{reason}（PostgreSQL 的备份与恢复需要与服务器版本一致的 {tool}）")]
    Tool { tool: &'static str, reason: String },
    #[error("{tool} 执行失败：{stderr}")]
    ToolFailed { tool: &'static str, stderr: String },
    #[error("读写文件 {path} 失败：{reason}")]
    Io { path: String, reason: String },
    #[error("数据库错误：{0}")]
    Db(String),
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> BackupError + '_ {
    move |e| BackupError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// One file of a backup, relative to the backup folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileSum {
    pub path: String,
    pub bytes: u64,
    pub sm3: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// When the backup was taken (RFC 3339, UTC).
    pub taken_at: String,
    pub files: Vec<FileSum>,
}

/// What a backup or restore did, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub bytes: u64,
    pub attachments: usize,
}

enum Backend<'a> {
    Sqlite(PathBuf),
    Postgres(&'a str),
}

fn backend(database_url: &str) -> Backend<'_> {
    match sqlite_path(database_url) {
        Some(path) => Backend::Sqlite(path),
        None => Backend::Postgres(database_url),
    }
}

/// The file behind a `sqlite://path?options` URL.
pub fn sqlite_path(database_url: &str) -> Option<PathBuf> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    Some(PathBuf::from(path))
}

/// Copies `from` to `to` (creating folders) while hashing it, chunk by chunk.
fn copy_hashed(from: &Path, to: &Path) -> Result<(u64, String), BackupError> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    let mut input = std::fs::File::open(from).map_err(io_err(from))?;
    let mut output = std::fs::File::create(to).map_err(io_err(to))?;
    let mut hasher = Sm3::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = input.read(&mut buf).map_err(io_err(from))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n]).map_err(io_err(to))?;
        total += n as u64;
    }
    output.sync_all().map_err(io_err(to))?;
    Ok((total, hex::encode(hasher.finalize())))
}

fn hash_file(path: &Path) -> Result<(u64, String), BackupError> {
    let mut input = std::fs::File::open(path).map_err(io_err(path))?;
    let mut hasher = Sm3::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0u64;
    loop {
        let n = input.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex::encode(hasher.finalize())))
}

/// The stored blobs under `<root>/attachments/<xx>/<sm3>`, relative to `root`; the temporary
/// folder of uploads in progress is not part of the store.
fn blob_files(root: &Path) -> Result<Vec<String>, BackupError> {
    let base = root.join(ATTACHMENTS);
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(&base) else {
        return Ok(out);
    };
    for dir in dirs {
        let dir = dir.map_err(io_err(&base))?;
        let name = dir.file_name().to_string_lossy().into_owned();
        if name == "tmp" || !dir.path().is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir.path()).map_err(io_err(&dir.path()))? {
            let file = file.map_err(io_err(&dir.path()))?;
            if file.path().is_file() {
                out.push(format!(
                    "{ATTACHMENTS}/{name}/{}",
                    file.file_name().to_string_lossy()
                ));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).map_or(true, |mut d| d.next().is_none())
}

fn run_tool(tool: &'static str, args: &[&std::ffi::OsStr]) -> Result<(), BackupError> {
    let out = std::process::Command::new(tool)
        .args(args)
        .output()
        .map_err(|e| BackupError::Tool {
            tool,
            reason: e.to_string(),
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(BackupError::ToolFailed {
            tool,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

/// Takes a backup into `target` (a new or empty folder) while the system keeps running.
pub async fn backup(
    db: &DatabaseConnection,
    database_url: &str,
    data_dir: &Path,
    target: &Path,
    taken_at: time::OffsetDateTime,
) -> Result<Summary, BackupError> {
    backup_of(db, database_url, Some(data_dir), target, taken_at).await
}

/// Takes a backup of the database and, with `attachments_in` (the data folder of a local
/// store), the attachments; without it the database only (attachments on an object store).
pub async fn backup_of(
    db: &DatabaseConnection,
    database_url: &str,
    attachments_in: Option<&Path>,
    target: &Path,
    taken_at: time::OffsetDateTime,
) -> Result<Summary, BackupError> {
    if target.exists() && !is_empty_dir(target) {
        return Err(BackupError::TargetNotEmpty(target.display().to_string()));
    }
    std::fs::create_dir_all(target).map_err(io_err(target))?;
    let mut files = Vec::new();
    // The database first: every blob a snapshot row names was on disk before the row committed,
    // so copying the store afterwards includes all of them.
    let (backend_name, db_file) = match backend(database_url) {
        Backend::Sqlite(_) => {
            let dest = target.join(SQLITE_FILE);
            let quoted = dest.display().to_string().replace('\'', "''");
            db.execute_raw(Statement::from_string(
                db.get_database_backend(),
                format!("VACUUM INTO '{quoted}'"),
            ))
            .await
            .map_err(|e| BackupError::Db(e.to_string()))?;
            ("sqlite", SQLITE_FILE)
        }
        Backend::Postgres(url) => {
            let dest = target.join(PG_DUMP_FILE);
            let (url, dest) = (url.to_string(), dest.clone());
            tokio::task::spawn_blocking(move || {
                run_tool(
                    "pg_dump",
                    &[
                        "--format=custom".as_ref(),
                        "--no-owner".as_ref(),
                        "--file".as_ref(),
                        dest.as_os_str(),
                        url.as_ref(),
                    ],
                )
            })
            .await
            .map_err(|e| BackupError::Db(e.to_string()))??;
            ("postgres", PG_DUMP_FILE)
        }
    };
    let data_dir = attachments_in.map(Path::to_path_buf);
    let target_dir = target.to_path_buf();
    let (blobs, db_sum) = tokio::task::spawn_blocking(move || {
        let db_sum = hash_file(&target_dir.join(db_file))?;
        let mut blobs = Vec::new();
        let Some(data_dir) = data_dir else {
            return Ok::<_, BackupError>((blobs, db_sum));
        };
        for rel in blob_files(&data_dir)? {
            let (bytes, sm3) = copy_hashed(&data_dir.join(&rel), &target_dir.join(&rel))?;
            blobs.push(FileSum {
                path: rel,
                bytes,
                sm3,
            });
        }
        Ok::<_, BackupError>((blobs, db_sum))
    })
    .await
    .map_err(|e| BackupError::Db(e.to_string()))??;
    files.push(FileSum {
        path: db_file.into(),
        bytes: db_sum.0,
        sm3: db_sum.1,
    });
    let attachments = blobs.len();
    files.extend(blobs);
    let manifest = Manifest {
        format: FORMAT_VERSION,
        backend: backend_name.into(),
        taken_at: taken_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Io {
        path: MANIFEST.into(),
        reason: e.to_string(),
    })?;
    let partial = target.join(format!("{MANIFEST}.partial"));
    std::fs::write(&partial, json).map_err(io_err(&partial))?;
    std::fs::rename(&partial, target.join(MANIFEST)).map_err(io_err(&partial))?;
    Ok(Summary {
        files: manifest.files.len(),
        bytes: manifest.files.iter().map(|f| f.bytes).sum(),
        attachments,
    })
}

/// Reads a backup's manifest and checks every file against it before anything is restored.
pub fn check(source: &Path) -> Result<Manifest, BackupError> {
    let path = source.join(MANIFEST);
    let text =
        std::fs::read(&path).map_err(|_| BackupError::NoManifest(source.display().to_string()))?;
    let manifest: Manifest =
        serde_json::from_slice(&text).map_err(|e| BackupError::BadManifest(e.to_string()))?;
    if manifest.format != FORMAT_VERSION {
        return Err(BackupError::BadManifest(format!(
            "格式版本 {} 不受支持",
            manifest.format
        )));
    }
    for f in &manifest.files {
        if f.path.contains("..") || f.path.starts_with('/') {
            return Err(BackupError::BadManifest(format!(
                "文件路径 {} 无效",
                f.path
            )));
        }
        let (bytes, sm3) = hash_file(&source.join(&f.path)).map_err(|_| BackupError::Corrupt {
            path: f.path.clone(),
            problem: "文件缺失或无法读取".into(),
        })?;
        if bytes != f.bytes || sm3 != f.sm3 {
            return Err(BackupError::Corrupt {
                path: f.path.clone(),
                problem: format!("SM3 校验值应为 {}，实际为 {sm3}", f.sm3),
            });
        }
    }
    Ok(manifest)
}

/// Restores a checked backup into an empty installation: the database named by `database_url`
/// (a SQLite file that does not exist yet, or an empty PostgreSQL database) and `data_dir`'s
/// attachment store. The caller then opens the installation and verifies the audit chain.
pub async fn restore(
    source: &Path,
    database_url: &str,
    data_dir: &Path,
) -> Result<Summary, BackupError> {
    let source = source.to_path_buf();
    let checked = source.clone();
    let manifest = tokio::task::spawn_blocking(move || check(&checked))
        .await
        .map_err(|e| BackupError::Db(e.to_string()))??;
    let store = data_dir.join(ATTACHMENTS);
    if store.exists() && !blob_files(data_dir)?.is_empty() {
        return Err(BackupError::RestoreTargetNotEmpty(
            store.display().to_string(),
        ));
    }
    match (backend(database_url), manifest.backend.as_str()) {
        (Backend::Sqlite(path), "sqlite") => {
            if path.exists() {
                return Err(BackupError::RestoreTargetNotEmpty(
                    path.display().to_string(),
                ));
            }
            let from = source.join(SQLITE_FILE);
            tokio::task::spawn_blocking(move || copy_hashed(&from, &path))
                .await
                .map_err(|e| BackupError::Db(e.to_string()))??;
        }
        (Backend::Postgres(url), "postgres") => {
            let db = crate::store::connect(url)
                .await
                .map_err(|e| BackupError::Db(e.to_string()))?;
            if postgres_has_tables(&db).await? {
                return Err(BackupError::RestoreTargetNotEmpty(
                    "PostgreSQL 数据库中已有数据表".into(),
                ));
            }
            db.close()
                .await
                .map_err(|e| BackupError::Db(e.to_string()))?;
            let (url, dump) = (url.to_string(), source.join(PG_DUMP_FILE));
            tokio::task::spawn_blocking(move || {
                run_tool(
                    "pg_restore",
                    &[
                        "--no-owner".as_ref(),
                        "--exit-on-error".as_ref(),
                        "--dbname".as_ref(),
                        url.as_ref(),
                        dump.as_os_str(),
                    ],
                )
            })
            .await
            .map_err(|e| BackupError::Db(e.to_string()))??;
        }
        (_, other) => {
            return Err(BackupError::BadManifest(format!(
                "这是 {other} 数据库的备份，与配置的数据库类型不一致"
            )));
        }
    }
    let files = manifest.files.clone();
    let data_dir = data_dir.to_path_buf();
    let attachments = tokio::task::spawn_blocking(move || {
        let mut n = 0;
        for f in files.iter().filter(|f| f.path.starts_with(ATTACHMENTS)) {
            copy_hashed(&source.join(&f.path), &data_dir.join(&f.path))?;
            n += 1;
        }
        Ok::<_, BackupError>(n)
    })
    .await
    .map_err(|e| BackupError::Db(e.to_string()))??;
    Ok(Summary {
        files: manifest.files.len(),
        bytes: manifest.files.iter().map(|f| f.bytes).sum(),
        attachments,
    })
}

async fn postgres_has_tables(db: &DatabaseConnection) -> Result<bool, BackupError> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "select count(*) as n from information_schema.tables where table_schema = current_schema()",
        ))
        .await
        .map_err(|e| BackupError::Db(e.to_string()))?;
    let n: i64 = row
        .map(|r| r.try_get("", "n"))
        .transpose()
        .map_err(|e| BackupError::Db(e.to_string()))?
        .unwrap_or(0);
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sqlite_file_comes_from_the_url() {
        assert_eq!(
            sqlite_path("sqlite://data/jiqun.db?mode=rwc"),
            Some(PathBuf::from("data/jiqun.db"))
        );
        assert_eq!(sqlite_path("sqlite:x.db"), Some(PathBuf::from("x.db")));
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }

    #[test]
    fn a_changed_file_fails_the_check_and_names_itself() {
        let dir = std::env::temp_dir().join(format!("jiqun-backup-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("attachments/ab")).unwrap();
        std::fs::write(dir.join("jiqun.db"), b"db").unwrap();
        std::fs::write(dir.join("attachments/ab/abc"), b"file").unwrap();
        let sum = |p: &str| {
            let (bytes, sm3) = hash_file(&dir.join(p)).unwrap();
            FileSum {
                path: p.into(),
                bytes,
                sm3,
            }
        };
        let manifest = Manifest {
            format: FORMAT_VERSION,
            backend: "sqlite".into(),
            taken_at: String::new(),
            files: vec![sum("jiqun.db"), sum("attachments/ab/abc")],
        };
        std::fs::write(dir.join(MANIFEST), serde_json::to_vec(&manifest).unwrap()).unwrap();
        assert_eq!(check(&dir).unwrap(), manifest);
        std::fs::write(dir.join("attachments/ab/abc"), b"fild").unwrap();
        let e = check(&dir).unwrap_err().to_string();
        assert!(
            e.contains("attachments/ab/abc") && e.contains("校验失败"),
            "{e}"
        );
        std::fs::remove_file(dir.join(MANIFEST)).unwrap();
        assert!(matches!(check(&dir), Err(BackupError::NoManifest(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
