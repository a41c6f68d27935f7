//! The attachment store: uploaded files stream to disk under `<data_dir>/attachments/`, named by
//! their SM3 digest, so the same bytes are stored once however often they are uploaded. The
//! database keeps one `blobs` row per stored content and one `attachments` row per upload.
//!
//! A functional core decides (which purpose accepts which content types, what the first bytes of
//! a file say it is, what a ZIP's entry names say it is, how a file name is made safe); the shell
//! streams, hashes, moves files and writes rows. A file is never held whole in memory: it is
//! hashed and written chunk by chunk, and only its first 8 KB are kept to recognise its type.
//!
//! Refusals (too large, wrong type, empty) leave nothing behind: the temporary file is removed
//! whatever path the request takes out, by a guard that deletes it when dropped.

use std::collections::HashMap;
use std::future::Future;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use axum::body::Bytes;
use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use sm3::{Digest, Sm3};
use time::OffsetDateTime;

use crate::app::{App, Principal};
use crate::audit::{self, Event};
use crate::error::{AppError, Problems};
use crate::services::owners::{self, OwnerType};
use crate::store::{self, entity::attachment, entity::blob, entity::user};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;
/// The first bytes kept in memory to recognise the type.
const SNIFF_BYTES: usize = 8 * 1024;
/// Received chunks are hashed and written in batches of this many bytes.
const WRITE_BATCH: usize = 128 * 1024;
/// Default per-file limit when `max_upload_mb` is not configured.
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 50;
/// Longest stored file name, in characters (extension included).
pub const MAX_FILE_NAME_CHARS: usize = 120;
/// The multipart field that carries the file.
pub const FILE_FIELD: &str = "file";

// ---------------------------------------------------------------------------------------------
// Pure core: kinds, purposes, limits
// ---------------------------------------------------------------------------------------------

/// A content type the store accepts, recognised from the bytes, never from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
    Docx,
    Xlsx,
    Zip,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Pdf,
        Kind::Jpeg,
        Kind::Png,
        Kind::Docx,
        Kind::Xlsx,
        Kind::Zip,
    ];

    /// The name users know the format by, for lists of allowed types.
    pub fn short(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Jpeg => "JPEG",
            Kind::Png => "PNG",
            Kind::Docx => "DOCX",
            Kind::Xlsx => "XLSX",
            Kind::Zip => "ZIP",
        }
    }

    /// What the file is, in a sentence: "上传的文件实际为PNG图片".
    pub fn label(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF文件",
            Kind::Jpeg => "JPEG图片",
            Kind::Png => "PNG图片",
            Kind::Docx => "Word文档（DOCX）",
            Kind::Xlsx => "Excel表格（XLSX）",
            Kind::Zip => "ZIP压缩包",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Kind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Kind::Zip => "application/zip",
        }
    }

    /// File-name extensions that match the kind; the first is the one appended when missing.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Kind::Pdf => &["pdf"],
            Kind::Jpeg => &["jpg", "jpeg"],
            Kind::Png => &["png"],
            Kind::Docx => &["docx"],
            Kind::Xlsx => &["xlsx"],
            Kind::Zip => &["zip"],
        }
    }

    pub fn from_mime(mime: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.mime() == mime)
    }
}

/// Why a file is attached. The purpose decides which content types are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Purpose {
    /// 申请报告
    Report,
    /// 真实性承诺书
    Pledge,
    /// 佐证材料
    Evidence,
    /// 推荐函
    Letter,
    /// 通知附件
    Notice,
    /// 成员单位导入表
    MemberImport,
}

impl Purpose {
    pub const ALL: [Purpose; 6] = [
        Purpose::Report,
        Purpose::Pledge,
        Purpose::Evidence,
        Purpose::Letter,
        Purpose::Notice,
        Purpose::MemberImport,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Purpose::Report => "report",
            Purpose::Pledge => "pledge",
            Purpose::Evidence => "evidence",
            Purpose::Letter => "letter",
            Purpose::Notice => "notice",
            Purpose::MemberImport => "member_import",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Purpose::Report => "申请报告",
            Purpose::Pledge => "真实性承诺书",
            Purpose::Evidence => "佐证材料",
            Purpose::Letter => "推荐函",
            Purpose::Notice => "通知附件",
            Purpose::MemberImport => "成员单位导入表",
        }
    }

    pub fn from_key(key: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.key() == key)
    }

    pub fn allowed(self) -> &'static [Kind] {
        match self {
            // The report is the document experts score: one fixed layout, so PDF only.
            Purpose::Report => &[Kind::Pdf],
            // Signed and stamped pages: a PDF or a photo/scan of them.
            Purpose::Pledge | Purpose::Letter => &[Kind::Pdf, Kind::Jpeg, Kind::Png],
            Purpose::Evidence => &[
                Kind::Pdf,
                Kind::Jpeg,
                Kind::Png,
                Kind::Docx,
                Kind::Xlsx,
                Kind::Zip,
            ],
            Purpose::Notice => &[Kind::Pdf, Kind::Docx, Kind::Xlsx],
            // Read back by the import, which understands only XLSX.
            Purpose::MemberImport => &[Kind::Xlsx],
        }
    }
}

/// The label of an owner type, for audit summaries.
pub fn owner_label(owner: OwnerType) -> &'static str {
    match owner {
        OwnerType::Competition => "竞赛",
        OwnerType::Cluster => "集群",
        OwnerType::Application => "申报",
        OwnerType::Recommendation => "推荐",
        OwnerType::Objection => "异议",
    }
}

/// What an upload for one purpose may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub purpose: Purpose,
    pub max_bytes: u64,
    pub allowed: &'static [Kind],
}

/// The limits for a purpose key ("report", "pledge", ...), or None for an unknown purpose.
pub fn limits_for(purpose: &str) -> Option<Limits> {
    Purpose::from_key(purpose).map(|p| Limits {
        purpose: p,
        max_bytes: max_upload_bytes(),
        allowed: p.allowed(),
    })
}

impl Limits {
    pub fn allows(&self, kind: Kind) -> bool {
        self.allowed.contains(&kind)
    }

    /// "PDF", "PDF、JPEG或PNG".
    pub fn types_text(&self) -> String {
        join_or(&self.allowed.iter().map(|k| k.short()).collect::<Vec<_>>())
    }

    /// A hint for upload forms: "PDF、JPEG或PNG格式，单个文件不超过50MB".
    pub fn hint(&self) -> String {
        format!(
            "{}格式，单个文件不超过{}",
            self.types_text(),
            human_size(self.max_bytes)
        )
    }

    /// The `accept` attribute of a file input: ".pdf,.jpg,.jpeg,.png".
    pub fn accept_attr(&self) -> String {
        self.allowed
            .iter()
            .flat_map(|k| k.extensions())
            .map(|e| format!(".{e}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn too_large(&self) -> AppError {
        AppError::invalid(
            FILE_FIELD,
            format!(
                "文件超过{}上限，请压缩或拆分后再上传",
                human_size(self.max_bytes)
            ),
        )
    }

    /// "申请报告须为PDF文件，上传的文件实际为PNG图片".
    pub fn wrong_type(&self, actual: &str) -> AppError {
        let wanted = match self.allowed {
            [only] => only.label().to_string(),
            _ => format!("{}文件", self.types_text()),
        };
        AppError::invalid(
            FILE_FIELD,
            format!(
                "{}须为{wanted}，上传的文件实际为{actual}",
                self.purpose.label()
            ),
        )
    }
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{}或{last}", init.join("、")),
    }
}

/// The per-file upload limit in bytes: `max_upload_mb` of the configuration (default 50).
pub fn max_upload_bytes() -> u64 {
    crate::config::max_upload_mb() * MIB
}

/// None when the value is present but unusable.
pub fn parse_max_upload_mb(raw: Option<&str>) -> Option<u64> {
    match raw.map(str::trim) {
        None | Some("") => Some(DEFAULT_MAX_UPLOAD_MB),
        Some(text) => text.parse::<u64>().ok().filter(|n| (1..=4096).contains(n)),
    }
}

/// The request-body limit for upload routes: one file at the limit plus room for the multipart
/// framing and a few small fields.
pub fn request_limit() -> usize {
    usize::try_from(max_upload_bytes() + MIB).unwrap_or(usize::MAX)
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sniffed {
    /// PDF, JPEG or PNG: settled by the first bytes alone.
    Known(Kind),
    /// A ZIP container: DOCX, XLSX, a plain ZIP or something else built on ZIP; its entry names
    /// (read from the central directory once the whole file is on disk) settle which.
    Zip,
    /// Anything else, with a name for the refusal message.
    Other(String),
}

/// Recognises a file from its first bytes (up to 8 KB).
pub fn sniff(head: &[u8]) -> Sniffed {
    if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Sniffed::Known(Kind::Png);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Sniffed::Known(Kind::Jpeg);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Sniffed::Zip;
    }
    if head.starts_with(b"PK\x05\x06") {
        return Sniffed::Other("空的ZIP压缩包".into());
    }
    // Readers accept a PDF header anywhere in the first 1024 bytes (some generators put a few
    // bytes before it), so the check does too. The prefixes above go first because a ZIP that
    // stores a PDF uncompressed also has "%PDF-" near its start.
    let window = &head[..head.len().min(1024)];
    if window.windows(5).any(|w| w == b"%PDF-") {
        return Sniffed::Known(Kind::Pdf);
    }
    Sniffed::Other(describe_other(head))
}

/// A name for content the store does not accept.
fn describe_other(head: &[u8]) -> String {
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // OLE2: the pre-2007 Office formats (infer needs the whole file to tell them apart).
        return "Office 97-2003格式文档（DOC/XLS/PPT，请另存为DOCX/XLSX或PDF）".into();
    }
    if let Some(t) = infer::get(head) {
        let ext = t.extension();
        let named = match ext {
            "gif" => "GIF图片",
            "bmp" => "BMP图片",
            "webp" => "WebP图片",
            "tif" => "TIFF图片",
            "heif" | "avif" => "HEIF图片",
            "rtf" => "RTF文档",
            "rar" => "RAR压缩包",
            "7z" => "7z压缩包",
            "gz" => "GZIP压缩包",
            "tar" => "TAR归档",
            "exe" | "dll" | "elf" | "mach" => "可执行程序",
            "html" | "xml" => "网页或XML文件",
            "mp4" | "mov" | "avi" | "wmv" | "mkv" | "webm" | "flv" | "m4v" => "视频文件",
            "mp3" | "wav" | "m4a" | "ogg" | "flac" | "amr" | "aac" => "音频文件",
            _ => "",
        };
        return if named.is_empty() {
            format!("{}文件", ext.to_uppercase())
        } else {
            named.to_string()
        };
    }
    // A cut at 8 KB may split a multi-byte character; judge text by the valid prefix.
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
    };
    let looks_textual = text.len() + 4 >= head.len()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'));
    if !head.is_empty() && looks_textual {
        "纯文本文件".into()
    } else {
        "无法识别格式的文件".into()
    }
}

/// Settles a ZIP container from its entry names: DOCX, XLSX, a plain ZIP, or (Err) the name of
/// a ZIP-based format the store does not accept.
pub fn classify_zip(names: &[String]) -> Result<Kind, String> {
    let has = |n: &str| names.iter().any(|x| x == n);
    let ooxml = has("[Content_Types].xml");
    if ooxml && has("word/vbaProject.bin") {
        return Err("启用宏的Word文档（DOCM）".into());
    }
    if ooxml && has("xl/vbaProject.bin") {
        return Err("启用宏的Excel表格（XLSM）".into());
    }
    if ooxml && has("word/document.xml") {
        return Ok(Kind::Docx);
    }
    if ooxml && has("xl/workbook.xml") {
        return Ok(Kind::Xlsx);
    }
    if ooxml && has("ppt/presentation.xml") {
        return Err("PowerPoint演示文稿（PPTX）".into());
    }
    if has("OFD.xml") {
        return Err("OFD版式文件（请转换为PDF）".into());
    }
    if names.first().is_some_and(|n| n == "mimetype") && has("content.xml") {
        return Err("OpenDocument文档（ODT/ODS）".into());
    }
    Ok(Kind::Zip)
}

/// Where a ZIP's central directory is, from its end-of-central-directory record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZipEnd {
    Directory {
        offset: u64,
        size: u64,
    },
    /// ZIP64: the real figures are in the record at this offset.
    Zip64Record {
        offset: u64,
    },
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Finds the end-of-central-directory record in the last bytes of a file (`tail`).
pub fn find_zip_end(tail: &[u8]) -> Option<ZipEnd> {
    if tail.len() < 22 {
        return None;
    }
    // Scan backwards: the record is followed only by its own comment.
    let pos = (0..=tail.len() - 22).rev().find(|&i| {
        tail[i..].starts_with(b"PK\x05\x06")
            && u16_at(tail, i + 20).is_some_and(|c| i + 22 + usize::from(c) == tail.len())
    })?;
    let size = u32_at(tail, pos + 12)?;
    let offset = u32_at(tail, pos + 16)?;
    if size == u32::MAX || offset == u32::MAX {
        let loc = pos.checked_sub(20)?;
        if !tail[loc..].starts_with(b"PK\x06\x07") {
            return None;
        }
        return Some(ZipEnd::Zip64Record {
            offset: u64_at(tail, loc + 8)?,
        });
    }
    Some(ZipEnd::Directory {
        offset: u64::from(offset),
        size: u64::from(size),
    })
}

/// Reads the central directory's place from a ZIP64 end record.
pub fn parse_zip64_record(record: &[u8]) -> Option<(u64, u64)> {
    if !record.starts_with(b"PK\x06\x06") {
        return None;
    }
    Some((u64_at(record, 48)?, u64_at(record, 40)?))
}

/// Entry names from (a prefix of) a central directory; stops at the first malformed entry.
pub fn central_directory_names(cd: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let mut at = 0usize;
    while cd.get(at..at + 4) == Some(b"PK\x01\x02") {
        let (Some(n), Some(x), Some(c)) = (
            u16_at(cd, at + 28),
            u16_at(cd, at + 30),
            u16_at(cd, at + 32),
        ) else {
            break;
        };
        let start = at + 46;
        let Some(name) = cd.get(start..start + usize::from(n)) else {
            break;
        };
        names.push(String::from_utf8_lossy(name).into_owned());
        at = start + usize::from(n) + usize::from(x) + usize::from(c);
    }
    names
}

/// A human-readable size: "812字节", "1.5KB", "20MB".
pub fn human_size(bytes: u64) -> String {
    let one = |value: f64, unit: &str| {
        let text = format!("{value:.1}");
        let text = text.strip_suffix(".0").unwrap_or(&text);
        format!("{text}{unit}")
    };
    if bytes < KIB {
        format!("{bytes}字节")
    } else if bytes < MIB {
        one(bytes as f64 / KIB as f64, "KB")
    } else if bytes < 1024 * MIB {
        one(bytes as f64 / MIB as f64, "MB")
    } else {
        one(bytes as f64 / (1024 * MIB) as f64, "GB")
    }
}

/// Characters that change how a name displays without showing themselves (bidirectional
/// overrides hide a real extension: "报告\u{202E}fdp.exe" shows as "报告exe.pdf").
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// A safe display name for a stored file: the last path segment of what the browser sent, with
/// control, invisible and reserved characters replaced, at most 120 characters, and ending in
/// an extension that matches the detected content (appended when it does not).
pub fn sanitise_file_name(raw: &str, kind: Kind) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !is_invisible(*c))
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .trim();
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && kind
                    .extensions()
                    .contains(&ext.to_ascii_lowercase().as_str()) =>
        {
            (stem, ext.to_ascii_lowercase())
        }
        _ => (cleaned, kind.extensions()[0].to_string()),
    };
    let stem = if stem.is_empty() {
        "未命名文件"
    } else {
        stem
    };
    let room = MAX_FILE_NAME_CHARS.saturating_sub(ext.chars().count() + 1);
    let stem: String = stem.chars().take(room).collect();
    format!("{}.{ext}", stem.trim_end())
}

/// A digest is 64 lower-case hex characters; anything else never becomes a path.
fn is_sm3_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Where the content with this digest lives: `<data_dir>/attachments/<first 2 hex>/<sm3>`.
pub fn blob_path(data_dir: &Path, sm3: &str) -> Result<PathBuf, AppError> {
    if !is_sm3_hex(sm3) {
        return Err(AppError::internal(format!("not an SM3 digest: {sm3:?}")));
    }
    Ok(data_dir.join("attachments").join(&sm3[..2]).join(sm3))
}

/// Uploads in progress: same file system as the store, so finishing one is a rename.
pub fn temp_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("attachments").join("tmp")
}

// ---------------------------------------------------------------------------------------------
// Shell: receiving a stream
// ---------------------------------------------------------------------------------------------

/// Something that yields an upload chunk by chunk: a multipart field, or (for tests, imports and
/// the benchmark) any iterator of byte chunks.
pub trait ChunkSource: Send {
    fn next_chunk(&mut self) -> impl Future<Output = Result<Option<Bytes>, AppError>> + Send;
}

impl ChunkSource for Field<'_> {
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, AppError> {
        self.chunk().await.map_err(multipart_error)
    }
}

/// Chunks from an iterator.
pub struct IterChunks<I>(pub I);

impl<I> ChunkSource for IterChunks<I>
where
    I: Iterator<Item = Bytes> + Send,
{
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, AppError> {
        Ok(self.0.next())
    }
}

fn multipart_error(e: MultipartError) -> AppError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::invalid(
            FILE_FIELD,
            format!(
                "上传内容超过{}上限，请压缩或拆分后再上传",
                human_size(max_upload_bytes())
            ),
        )
    } else {
        tracing::debug!("multipart upload failed: {e}");
        AppError::invalid(FILE_FIELD, "上传未完成：连接中断或上传格式有误，请重新上传")
    }
}

fn io_error(context: &str, e: std::io::Error) -> AppError {
    AppError::internal(format!("attachment store: {context}: {e}"))
}

/// A temporary file that deletes itself unless it was moved into the store.
#[derive(Debug)]
struct TempFile {
    path: PathBuf,
    moved: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.moved {
            // Best effort: the file may never have been created.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A file that arrived whole, passed its checks and waits in the temporary folder. Dropping it
/// without storing it removes the temporary file.
#[derive(Debug)]
pub struct Received {
    /// Lower-case hex SM3 digest of the content.
    pub sm3: String,
    pub size: u64,
    pub kind: Kind,
    /// Safe display name, see [`sanitise_file_name`].
    pub file_name: String,
    temp: TempFile,
}

impl Received {
    pub fn temp_path(&self) -> &Path {
        &self.temp.path
    }
}

/// Receives a multipart file field: streams it to a temporary file while hashing and counting,
/// refusing it as soon as it passes the size limit or shows a type the purpose does not accept.
pub async fn receive(app: &App, field: Field<'_>, limits: &Limits) -> Result<Received, AppError> {
    let name = field.file_name().unwrap_or_default().to_string();
    receive_stream(app, field, &name, limits).await
}

/// Finds the field named "file" in a multipart body and receives it. Other fields before it are
/// skipped; fields after it are not read.
pub async fn receive_multipart(
    app: &App,
    multipart: &mut Multipart,
    limits: &Limits,
) -> Result<Received, AppError> {
    let mut result = Err(AppError::invalid(FILE_FIELD, "请选择要上传的文件"));
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() == Some(FILE_FIELD) {
            result = receive(app, field, limits).await;
            break;
        }
    }
    // Read what follows (the closing boundary, stray fields) so the request ends cleanly: a
    // server that answers with request bytes still unread resets the connection, and the client
    // may lose the answer. The route's body limit bounds this.
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
    result
}

/// Receives any stream of chunks; see [`receive`].
pub async fn receive_stream<S: ChunkSource>(
    app: &App,
    mut source: S,
    file_name: &str,
    limits: &Limits,
) -> Result<Received, AppError> {
    let mut consumed = 0u64;
    let result = receive_into_temp(app, &mut source, &mut consumed, file_name, limits).await;
    if result.is_err() {
        // Read (and discard) what the client is still sending, up to the request limit, so a
        // browser gets to see the refusal instead of a reset connection.
        let budget = limits.max_bytes + MIB;
        while consumed < budget {
            match source.next_chunk().await {
                Ok(Some(chunk)) => consumed += chunk.len() as u64,
                _ => break,
            }
        }
    }
    result
}

/// Hashes and writes an upload on the blocking pool. Small network chunks are copied into one
/// reusable batch buffer, so an upload does not keep the multipart parser's buffers alive while
/// they wait; a chunk as large as the batch moves into the blocking task as it is. An upload in
/// flight holds one batch buffer and at most one chunk, whatever the size of the file.
struct DiskWriter {
    file: Option<std::fs::File>,
    hasher: Option<Sm3>,
    batch: Vec<u8>,
}

impl DiskWriter {
    fn new(file: std::fs::File) -> DiskWriter {
        DiskWriter {
            file: Some(file),
            hasher: Some(Sm3::new()),
            batch: Vec::with_capacity(WRITE_BATCH),
        }
    }

    async fn push(&mut self, chunk: Bytes) -> Result<(), AppError> {
        if self.batch.len() + chunk.len() > WRITE_BATCH {
            let batch = std::mem::take(&mut self.batch);
            let mut batch = self.write(batch).await?;
            batch.clear();
            self.batch = batch;
        }
        if chunk.len() >= WRITE_BATCH {
            self.write(chunk).await?;
        } else {
            self.batch.extend_from_slice(&chunk);
        }
        Ok(())
    }

    /// Hashes and writes `data` on the blocking pool and hands it back, emptied when it is a
    /// reusable buffer.
    async fn write<D>(&mut self, data: D) -> Result<D, AppError>
    where
        D: AsRef<[u8]> + Send + 'static,
    {
        let (Some(mut file), Some(mut hasher)) = (self.file.take(), self.hasher.take()) else {
            return Err(AppError::Internal(
                "upload writer used after a failure".into(),
            ));
        };
        let (file, hasher, data) = blocking(move || {
            use std::io::Write;
            hasher.update(data.as_ref());
            file.write_all(data.as_ref())?;
            Ok((file, hasher, data))
        })
        .await
        .map_err(|e| io_error("writing an upload", e))?;
        self.file = Some(file);
        self.hasher = Some(hasher);
        Ok(data)
    }

    /// Writes what is left, makes it durable and returns the file and the hex digest.
    async fn finish(mut self) -> Result<(std::fs::File, String), AppError> {
        let batch = std::mem::take(&mut self.batch);
        if !batch.is_empty() {
            self.write(batch).await?;
        }
        let (Some(file), Some(hasher)) = (self.file.take(), self.hasher.take()) else {
            return Err(AppError::Internal(
                "upload writer used after a failure".into(),
            ));
        };
        // Durable before it is named in the database: a crash must not leave a row without bytes.
        let file = blocking(move || file.sync_all().map(|_| file))
            .await
            .map_err(|e| io_error("syncing an upload", e))?;
        Ok((file, hex::encode(hasher.finalize())))
    }
}

/// Runs file-system work on the blocking pool.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

async fn receive_into_temp<S: ChunkSource>(
    app: &App,
    source: &mut S,
    consumed: &mut u64,
    file_name: &str,
    limits: &Limits,
) -> Result<Received, AppError> {
    let dir = temp_dir(&app.config.data_dir);
    let temp = TempFile {
        path: dir.join(format!("{:032x}.part", rand::random::<u128>())),
        moved: false,
    };
    let path = temp.path.clone();
    // Readable too: a ZIP's directory is read back from it once it is complete.
    let file = blocking(move || {
        std::fs::create_dir_all(&dir)?;
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
    })
    .await
    .map_err(|e| io_error("creating a temporary file", e))?;
    let mut disk = DiskWriter::new(file);
    let mut size = 0u64;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut sniffed: Option<Sniffed> = None;
    while let Some(chunk) = source.next_chunk().await? {
        size += chunk.len() as u64;
        *consumed = size;
        if size > limits.max_bytes {
            return Err(limits.too_large());
        }
        if sniffed.is_none() {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == SNIFF_BYTES {
                sniffed = Some(check_head(&head, limits)?);
            }
        }
        disk.push(chunk).await?;
    }
    if size == 0 {
        return Err(AppError::invalid(
            FILE_FIELD,
            if file_name.trim().is_empty() {
                "请选择要上传的文件"
            } else {
                "文件为空（0字节），请检查后重新选择"
            },
        ));
    }
    let sniffed = match sniffed {
        Some(s) => s,
        None => check_head(&head, limits)?,
    };
    let (file, sm3) = disk.finish().await?;
    let kind = match sniffed {
        Sniffed::Known(k) => k,
        Sniffed::Zip => settle_zip(file, size, limits).await?,
        // check_head refuses everything else.
        Sniffed::Other(label) => return Err(limits.wrong_type(&label)),
    };
    Ok(Received {
        sm3,
        size,
        kind,
        file_name: sanitise_file_name(file_name, kind),
        temp,
    })
}

/// Refuses early what the first bytes already rule out. ZIP containers wait for the whole file:
/// only their central directory says whether they are DOCX, XLSX or a plain ZIP, and the user
/// deserves the precise name in the refusal.
fn check_head(head: &[u8], limits: &Limits) -> Result<Sniffed, AppError> {
    match sniff(head) {
        Sniffed::Known(k) if !limits.allows(k) => Err(limits.wrong_type(k.label())),
        Sniffed::Other(label) => Err(limits.wrong_type(&label)),
        s => Ok(s),
    }
}

/// The most of a central directory read to find entry names; OOXML parts come first in it.
const MAX_DIRECTORY_READ: u64 = 4 * MIB;

async fn settle_zip(file: std::fs::File, size: u64, limits: &Limits) -> Result<Kind, AppError> {
    let names = blocking(move || zip_entry_names(file, size))
        .await
        .map_err(|e| io_error("reading a ZIP directory", e))?;
    let Some(names) = names.filter(|n| !n.is_empty()) else {
        return Err(limits.wrong_type("不完整或已损坏的ZIP文件（请重新压缩或导出后上传）"));
    };
    match classify_zip(&names) {
        Ok(k) if limits.allows(k) => Ok(k),
        Ok(k) => Err(limits.wrong_type(k.label())),
        Err(label) => Err(limits.wrong_type(&label)),
    }
}

fn read_at(file: &mut std::fs::File, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek};
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(len).read_to_end(&mut buf)?;
    Ok(buf)
}

/// The entry names of a ZIP on disk, or None when it has no valid end record.
fn zip_entry_names(mut file: std::fs::File, size: u64) -> std::io::Result<Option<Vec<String>>> {
    // End record (22 bytes) + longest comment (65535) + ZIP64 locator (20).
    let tail_len = size.min(22 + 65535 + 20);
    let tail = read_at(&mut file, size - tail_len, tail_len)?;
    let (offset, dir_size) = match find_zip_end(&tail) {
        None => return Ok(None),
        Some(ZipEnd::Directory { offset, size }) => (offset, size),
        Some(ZipEnd::Zip64Record { offset }) => {
            if offset >= size {
                return Ok(None);
            }
            match parse_zip64_record(&read_at(&mut file, offset, 56)?) {
                Some(found) => found,
                None => return Ok(None),
            }
        }
    };
    if offset.checked_add(dir_size).is_none_or(|end| end > size) {
        return Ok(None);
    }
    let cd = read_at(&mut file, offset, dir_size.min(MAX_DIRECTORY_READ))?;
    Ok(Some(central_directory_names(&cd)))
}

// ---------------------------------------------------------------------------------------------
// Shell: storing, attaching, listing, opening
// ---------------------------------------------------------------------------------------------

/// Content in its final place, not yet (or already) recorded in `blobs`.
#[derive(Debug, Clone)]
struct Placed {
    sm3: String,
    size: u64,
    kind: Kind,
}

/// Moves a received file to its content address. When the content is already there the
/// temporary file is simply removed (stored once). Files are placed before any row names them,
/// and a placed file is never deleted here: a concurrent upload of the same bytes may already
/// have recorded it.
async fn place(app: &App, received: Received) -> Result<(Placed, String), AppError> {
    let dest = blob_path(&app.config.data_dir, &received.sm3)?;
    let dir = dest
        .parent()
        .ok_or_else(|| AppError::Internal("blob path has no parent".into()))?
        .to_path_buf();
    let mut received = received;
    let present = tokio::fs::metadata(&dest)
        .await
        .is_ok_and(|m| m.is_file() && m.len() == received.size);
    if !present {
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| io_error("creating a store folder", e))?;
        // Atomic: readers see either no file or the whole file. Two identical uploads racing
        // here both rename identical bytes, which is harmless.
        tokio::fs::rename(&received.temp.path, &dest)
            .await
            .map_err(|e| io_error("moving an upload into the store", e))?;
        received.temp.moved = true;
        // Make the new directory entry durable too.
        blocking(move || std::fs::File::open(&dir)?.sync_all())
            .await
            .map_err(|e| io_error("syncing a store folder", e))?;
    }
    let placed = Placed {
        sm3: received.sm3.clone(),
        size: received.size,
        kind: received.kind,
    };
    Ok((placed, received.file_name.clone()))
}

/// The `blobs` row for this content: the existing one, or a new one. Safe under concurrency on
/// both databases: the insert does nothing on a duplicate digest (the unique `sm3` column), and
/// the row is read back either way. Inside a PostgreSQL transaction a plain insert that hit the
/// unique index would abort the whole transaction, so ON CONFLICT DO NOTHING, not catch-and-retry.
async fn blob_row<C: ConnectionTrait>(
    conn: &C,
    placed: &Placed,
    now: OffsetDateTime,
) -> Result<blob::Model, AppError> {
    let find = || blob::Entity::find().filter(blob::Column::Sm3.eq(placed.sm3.as_str()));
    if let Some(existing) = find().one(conn).await? {
        return Ok(existing);
    }
    let size = i64::try_from(placed.size)
        .map_err(|_| AppError::Internal("file size does not fit i64".into()))?;
    blob::Entity::insert(blob::ActiveModel {
        sm3: Set(placed.sm3.clone()),
        size: Set(size),
        mime: Set(placed.kind.mime().to_string()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([blob::Column::Sm3])
    .exec_without_returning(conn)
    .await?;
    find()
        .one(conn)
        .await?
        .ok_or_else(|| AppError::internal(format!("blob {} vanished", placed.sm3)))
}

/// Puts a received file into the store and returns its `blobs` row (existing or new).
pub async fn store<C: ConnectionTrait>(
    app: &App,
    conn: &C,
    received: Received,
) -> Result<blob::Model, AppError> {
    let (placed, _) = place(app, received).await?;
    blob_row(conn, &placed, app.clock.now()).await
}

/// Stores a received file and attaches it to its owner, with its audit entry, in one write
/// transaction. The caller has checked that the principal may attach it
/// ([`owners::can_attach`]; [`upload`] does both).
pub async fn attach(
    app: &App,
    p: &Principal,
    owner: OwnerType,
    owner_id: i64,
    purpose: Purpose,
    received: Received,
) -> Result<AttachmentView, AppError> {
    // The file moves before the transaction opens, so the SQLite write lock is not held across
    // file-system work.
    let (placed, file_name) = place(app, received).await?;
    let now = app.clock.now();
    let txn = store::write_txn(&app.db).await?;
    let blob = blob_row(&txn, &placed, now).await?;
    let att = attachment::ActiveModel {
        blob_id: Set(blob.id),
        owner_type: Set(owner.key().to_string()),
        owner_id: Set(owner_id),
        purpose: Set(purpose.key().to_string()),
        file_name: Set(file_name.clone()),
        uploaded_by: Set(p.user.id),
        uploaded_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::append(
        &txn,
        &app.audit_key,
        now,
        &p.actor(),
        Event {
            action: "attachment.upload",
            object_type: "attachment",
            object_id: att.id.to_string(),
            summary: format!(
                "上传附件“{file_name}”（{}，{}，SM3 {}…）至{}#{owner_id}，用途：{}",
                placed.kind.label(),
                human_size(placed.size),
                &placed.sm3[..16],
                owner_label(owner),
                purpose.label(),
            ),
            ..Default::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(AttachmentView::new(
        &att,
        &blob,
        p.user.display_name.clone(),
    ))
}

/// The object an upload is for, as the request names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub owner: OwnerType,
    pub owner_id: i64,
    pub purpose: Purpose,
}

/// Checks the owner (and, for uploads, the purpose) named in a request; every problem is
/// reported against its parameter.
pub fn parse_owner(
    owner_type: Option<&str>,
    owner_id: Option<&str>,
) -> Result<(OwnerType, i64), AppError> {
    let mut p = Problems::default();
    let owner = owner_type.map(str::trim).and_then(OwnerType::from_key);
    if owner.is_none() {
        p.add(
            "owner_type",
            format!(
                "附件所属对象类型“{}”无效，应为 competition、cluster、application 或 recommendation",
                owner_type.unwrap_or_default()
            ),
        );
    }
    let id = owner_id
        .map(str::trim)
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| *id > 0);
    if id.is_none() {
        p.add("owner_id", "附件所属对象的编号无效");
    }
    p.into_result()?;
    match (owner, id) {
        (Some(o), Some(i)) => Ok((o, i)),
        _ => Err(AppError::Internal("owner checked above".into())),
    }
}

pub fn parse_target(
    owner_type: Option<&str>,
    owner_id: Option<&str>,
    purpose: Option<&str>,
) -> Result<Target, AppError> {
    let owner = parse_owner(owner_type, owner_id);
    let purpose_key = purpose.map(str::trim).unwrap_or_default();
    let parsed = Purpose::from_key(purpose_key);
    let mut fields = match &owner {
        Err(AppError::Invalid(f)) => f.clone(),
        _ => Vec::new(),
    };
    if parsed.is_none() {
        let choices = Purpose::ALL
            .iter()
            .map(|p| format!("{}（{}）", p.key(), p.label()))
            .collect::<Vec<_>>()
            .join("、");
        fields.push(crate::error::FieldError {
            field: "purpose".into(),
            message: format!("附件用途“{purpose_key}”无效，可选：{choices}"),
        });
    }
    if !fields.is_empty() {
        return Err(AppError::Invalid(fields));
    }
    let (owner, owner_id) = owner?;
    let purpose = parsed.ok_or_else(|| AppError::Internal("purpose checked above".into()))?;
    Ok(Target {
        owner,
        owner_id,
        purpose,
    })
}

/// The whole upload as pages and the API perform it: permission first (before a byte is
/// read), then receive, store and attach.
pub async fn upload(
    app: &App,
    p: &Principal,
    target: &Target,
    multipart: &mut Multipart,
) -> Result<AttachmentView, AppError> {
    owners::can_attach(app, p, target.owner, target.owner_id, target.purpose.key()).await?;
    let limits = Limits {
        purpose: target.purpose,
        max_bytes: max_upload_bytes(),
        allowed: target.purpose.allowed(),
    };
    let received = receive_multipart(app, multipart, &limits).await?;
    attach(
        app,
        p,
        target.owner,
        target.owner_id,
        target.purpose,
        received,
    )
    .await
}

/// An attachment as lists and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    /// competition | cluster | application | recommendation
    pub owner_type: String,
    pub owner_id: i64,
    /// report | pledge | evidence | letter | notice | member_import
    pub purpose: String,
    pub purpose_label: String,
    pub file_name: String,
    /// Bytes.
    pub size: i64,
    /// "20MB"
    pub size_label: String,
    pub mime: String,
    /// "PDF文件"
    pub type_label: String,
    /// Hex SM3 digest of the content.
    pub sm3: String,
    pub uploaded_by: i64,
    pub uploader_name: String,
    /// Shanghai time, "YYYY-MM-DD HH:MM:SS".
    pub uploaded_at: String,
}

impl AttachmentView {
    pub fn new(att: &attachment::Model, blob: &blob::Model, uploader_name: String) -> Self {
        AttachmentView {
            id: att.id,
            owner_type: att.owner_type.clone(),
            owner_id: att.owner_id,
            purpose: att.purpose.clone(),
            purpose_label: Purpose::from_key(&att.purpose)
                .map(|p| p.label().to_string())
                .unwrap_or_else(|| att.purpose.clone()),
            file_name: att.file_name.clone(),
            size: blob.size,
            size_label: human_size(u64::try_from(blob.size).unwrap_or_default()),
            mime: blob.mime.clone(),
            type_label: Kind::from_mime(&blob.mime)
                .map(|k| k.label().to_string())
                .unwrap_or_else(|| blob.mime.clone()),
            sm3: blob.sm3.clone(),
            uploaded_by: att.uploaded_by,
            uploader_name,
            uploaded_at: crate::clock::format_local(att.uploaded_at),
        }
    }
}

async fn views(app: &App, rows: Vec<attachment::Model>) -> Result<Vec<AttachmentView>, AppError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let blob_ids: Vec<i64> = rows.iter().map(|r| r.blob_id).collect();
    let user_ids: Vec<i64> = rows.iter().map(|r| r.uploaded_by).collect();
    let blobs: HashMap<i64, blob::Model> = blob::Entity::find()
        .filter(blob::Column::Id.is_in(blob_ids))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|b| (b.id, b))
        .collect();
    let names: HashMap<i64, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(user_ids))
        .all(&app.db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    rows.iter()
        .map(|r| {
            let b = blobs
                .get(&r.blob_id)
                .ok_or_else(|| AppError::internal(format!("attachment {} lost its blob", r.id)))?;
            Ok(AttachmentView::new(
                r,
                b,
                names.get(&r.uploaded_by).cloned().unwrap_or_default(),
            ))
        })
        .collect()
}

/// The files attached to an object, in upload order. No permission check: see [`list_scoped`].
pub async fn list(
    app: &App,
    owner: OwnerType,
    owner_id: i64,
) -> Result<Vec<AttachmentView>, AppError> {
    let rows = attachment::Entity::find()
        .filter(attachment::Column::OwnerType.eq(owner.key()))
        .filter(attachment::Column::OwnerId.eq(owner_id))
        .order_by_asc(attachment::Column::Id)
        .all(&app.db)
        .await?;
    views(app, rows).await
}

/// The files attached to an object the principal may see (404 otherwise).
pub async fn list_scoped(
    app: &App,
    p: &Principal,
    owner: OwnerType,
    owner_id: i64,
) -> Result<Vec<AttachmentView>, AppError> {
    owners::can_read(app, p, owner, owner_id).await?;
    list(app, owner, owner_id).await
}

/// One attachment's view, without a permission check.
pub async fn view(app: &App, id: i64) -> Result<AttachmentView, AppError> {
    let row = attachment::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    views(app, vec![row]).await?.pop().ok_or(AppError::NotFound)
}

/// An attachment ready to stream.
#[derive(Debug)]
pub struct Download {
    pub attachment: attachment::Model,
    pub blob: blob::Model,
    pub file: tokio::fs::File,
}

/// Opens an attachment's content for streaming. No permission check: see [`open_scoped`].
pub async fn open(app: &App, id: i64) -> Result<Download, AppError> {
    let attachment = attachment::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    open_row(app, attachment).await
}

async fn open_row(app: &App, attachment: attachment::Model) -> Result<Download, AppError> {
    let blob = blob::Entity::find_by_id(attachment.blob_id)
        .one(&app.db)
        .await?
        .ok_or_else(|| AppError::internal(format!("attachment {} lost its blob", attachment.id)))?;
    let path = blob_path(&app.config.data_dir, &blob.sm3)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| io_error(&format!("opening {}", path.display()), e))?;
    Ok(Download {
        attachment,
        blob,
        file,
    })
}

/// Opens an attachment the principal may read. Out of scope and missing look the same (404),
/// so the answer never reveals that a file exists.
pub async fn open_scoped(app: &App, p: &Principal, id: i64) -> Result<Download, AppError> {
    let attachment = attachment::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let owner = OwnerType::from_key(&attachment.owner_type).ok_or(AppError::NotFound)?;
    owners::can_read(app, p, owner, attachment.owner_id).await?;
    open_row(app, attachment).await
}

/// Removes temporary files left by uploads that were cut off by a crash or a restart; call at
/// start-up. Returns how many were removed.
pub async fn sweep_temp(data_dir: &Path, older_than: std::time::Duration) -> usize {
    let Ok(mut entries) = tokio::fs::read_dir(temp_dir(data_dir)).await else {
        return 0;
    };
    let mut removed = 0;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let old = entry
            .metadata()
            .await
            .ok()
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age >= older_than);
        if old && tokio::fs::remove_file(entry.path()).await.is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];

    /// A ZIP of empty stored entries with these names.
    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut central = Vec::new();
        for name in names {
            let offset = out.len() as u32;
            out.extend_from_slice(b"PK\x03\x04");
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&[0; 12]);
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            central.extend_from_slice(b"PK\x01\x02");
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&[0; 12]);
            central.extend_from_slice(&offset.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
        }
        let cd_offset = out.len() as u32;
        out.extend_from_slice(&central);
        out.extend_from_slice(b"PK\x05\x06");
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(names.len() as u16).to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    fn names_of(zip: &[u8]) -> Vec<String> {
        match find_zip_end(zip) {
            Some(ZipEnd::Directory { offset, size }) => {
                central_directory_names(&zip[offset as usize..(offset + size) as usize])
            }
            other => panic!("no directory: {other:?}"),
        }
    }

    #[test]
    fn first_bytes_decide_the_type() {
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Known(Kind::Pdf));
        assert_eq!(sniff(b"\r\n  junk %PDF-1.4"), Sniffed::Known(Kind::Pdf));
        assert_eq!(sniff(PNG), Sniffed::Known(Kind::Png));
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Sniffed::Known(Kind::Jpeg)
        );
        assert_eq!(sniff(b"PK\x03\x04rest"), Sniffed::Zip);
        assert_eq!(sniff(b"GIF89a......"), Sniffed::Other("GIF图片".into()));
        assert_eq!(
            sniff(b"hello, world\n"),
            Sniffed::Other("纯文本文件".into())
        );
        assert_eq!(
            sniff(&[0, 1, 2, 3, 0xFE]),
            Sniffed::Other("无法识别格式的文件".into())
        );
        assert!(matches!(
            sniff(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0]),
            Sniffed::Other(l) if l.contains("97-2003")
        ));
        // A ZIP storing a PDF uncompressed is a ZIP, not a PDF.
        let mut zipped_pdf = b"PK\x03\x04".to_vec();
        zipped_pdf.extend_from_slice(&[0; 40]);
        zipped_pdf.extend_from_slice(b"%PDF-1.7");
        assert_eq!(sniff(&zipped_pdf), Sniffed::Zip);
        // The PDF marker counts only near the start.
        let mut late = vec![b' '; 2000];
        late.extend_from_slice(b"%PDF-1.7");
        assert_ne!(sniff(&late), Sniffed::Known(Kind::Pdf));
    }

    #[test]
    fn zip_entry_names_tell_office_files_from_plain_zips() {
        let docx = zip_with(&[
            "[Content_Types].xml",
            "_rels/.rels",
            "docProps/app.xml",
            "word/document.xml",
        ]);
        assert_eq!(classify_zip(&names_of(&docx)), Ok(Kind::Docx));
        let xlsx = zip_with(&[
            "[Content_Types].xml",
            "xl/workbook.xml",
            "xl/worksheets/sheet1.xml",
        ]);
        assert_eq!(classify_zip(&names_of(&xlsx)), Ok(Kind::Xlsx));
        let plain = zip_with(&["证明材料/营业执照.pdf", "a.jpg"]);
        assert_eq!(classify_zip(&names_of(&plain)), Ok(Kind::Zip));
        let xlsm = zip_with(&[
            "[Content_Types].xml",
            "xl/workbook.xml",
            "xl/vbaProject.bin",
        ]);
        assert!(classify_zip(&names_of(&xlsm)).unwrap_err().contains("XLSM"));
        let pptx = zip_with(&["[Content_Types].xml", "ppt/presentation.xml"]);
        assert!(classify_zip(&names_of(&pptx)).unwrap_err().contains("PPTX"));
        let ofd = zip_with(&["OFD.xml", "Doc_0/Document.xml"]);
        assert!(classify_zip(&names_of(&ofd)).unwrap_err().contains("OFD"));
        // word/document.xml without the OOXML manifest is just a ZIP.
        let fake = zip_with(&["word/document.xml"]);
        assert_eq!(classify_zip(&names_of(&fake)), Ok(Kind::Zip));
    }

    #[test]
    fn a_real_xlsx_is_recognised() {
        let mut wb = rust_xlsxwriter::Workbook::new();
        wb.add_worksheet().write_string(0, 0, "成员单位").unwrap();
        let bytes = wb.save_to_buffer().unwrap();
        assert_eq!(sniff(&bytes[..bytes.len().min(SNIFF_BYTES)]), Sniffed::Zip);
        assert_eq!(classify_zip(&names_of(&bytes)), Ok(Kind::Xlsx));
    }

    #[test]
    fn the_end_record_is_found_behind_a_comment_and_garbage_is_not() {
        let mut zip = zip_with(&["a.txt"]);
        let n = zip.len();
        zip[n - 2..].copy_from_slice(&5u16.to_le_bytes());
        zip.extend_from_slice(b"hello");
        assert_eq!(names_of(&zip), vec!["a.txt".to_string()]);
        assert_eq!(find_zip_end(b"PK\x03\x04 truncated"), None);
        // A comment length that does not reach the end is not an end record.
        let mut bad = zip_with(&["a.txt"]);
        bad.extend_from_slice(b"trailing");
        assert_eq!(find_zip_end(&bad), None);
        // ZIP64 markers lead to the ZIP64 record.
        let mut z64 = vec![0u8; 4];
        z64.extend_from_slice(b"PK\x06\x07");
        z64.extend_from_slice(&[0; 4]);
        z64.extend_from_slice(&1234u64.to_le_bytes());
        z64.extend_from_slice(&[1, 0, 0, 0]);
        z64.extend_from_slice(b"PK\x05\x06");
        z64.extend_from_slice(&[0; 8]);
        z64.extend_from_slice(&u32::MAX.to_le_bytes());
        z64.extend_from_slice(&u32::MAX.to_le_bytes());
        z64.extend_from_slice(&[0, 0]);
        assert_eq!(
            find_zip_end(&z64),
            Some(ZipEnd::Zip64Record { offset: 1234 })
        );
        let mut record = b"PK\x06\x06".to_vec();
        record.extend_from_slice(&[0; 36]);
        record.extend_from_slice(&77u64.to_le_bytes());
        record.extend_from_slice(&99u64.to_le_bytes());
        assert_eq!(parse_zip64_record(&record), Some((99, 77)));
    }

    #[test]
    fn purposes_decide_what_is_allowed() {
        let report = limits_for("report").unwrap();
        assert!(report.allows(Kind::Pdf) && !report.allows(Kind::Png));
        let evidence = limits_for("evidence").unwrap();
        assert!(Kind::ALL.iter().all(|k| evidence.allows(*k)));
        assert_eq!(limits_for("member_import").unwrap().allowed, &[Kind::Xlsx]);
        assert_eq!(
            limits_for("notice").unwrap().types_text(),
            "PDF、DOCX或XLSX"
        );
        assert!(limits_for("virus").is_none());
        for p in Purpose::ALL {
            assert_eq!(Purpose::from_key(p.key()), Some(p));
        }
        assert_eq!(
            limits_for("pledge").unwrap().accept_attr(),
            ".pdf,.jpg,.jpeg,.png"
        );
    }

    #[test]
    fn refusals_name_the_rule_and_the_file() {
        let report = Limits {
            purpose: Purpose::Report,
            max_bytes: 50 * MIB,
            allowed: Purpose::Report.allowed(),
        };
        let msg = |e: AppError| e.fields()[0].message.clone();
        assert_eq!(
            msg(report.wrong_type(Kind::Png.label())),
            "申请报告须为PDF文件，上传的文件实际为PNG图片"
        );
        assert_eq!(
            msg(report.too_large()),
            "文件超过50MB上限，请压缩或拆分后再上传"
        );
        let pledge = Limits {
            purpose: Purpose::Pledge,
            allowed: Purpose::Pledge.allowed(),
            ..report
        };
        assert_eq!(
            msg(pledge.wrong_type(Kind::Docx.label())),
            "真实性承诺书须为PDF、JPEG或PNG文件，上传的文件实际为Word文档（DOCX）"
        );
        assert_eq!(pledge.hint(), "PDF、JPEG或PNG格式，单个文件不超过50MB");
        assert_eq!(report.too_large().fields()[0].field, "file");
    }

    #[test]
    fn the_limit_comes_from_the_environment_value() {
        assert_eq!(parse_max_upload_mb(None), Some(50));
        assert_eq!(parse_max_upload_mb(Some(" 20 ")), Some(20));
        assert_eq!(parse_max_upload_mb(Some("")), Some(50));
        assert_eq!(parse_max_upload_mb(Some("0")), None);
        assert_eq!(parse_max_upload_mb(Some("50MB")), None);
        assert_eq!(parse_max_upload_mb(Some("-1")), None);
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(
            sanitise_file_name("申请报告.pdf", Kind::Pdf),
            "申请报告.pdf"
        );
        assert_eq!(
            sanitise_file_name(r"C:\Users\张三\Desktop\承诺书.PDF", Kind::Pdf),
            "承诺书.pdf"
        );
        assert_eq!(
            sanitise_file_name("../../etc/passwd", Kind::Pdf),
            "passwd.pdf"
        );
        assert_eq!(sanitise_file_name("扫描件", Kind::Jpeg), "扫描件.jpg");
        assert_eq!(sanitise_file_name("photo.jpeg", Kind::Jpeg), "photo.jpeg");
        // The name said PNG, the content is a PDF: the download must open as a PDF.
        assert_eq!(
            sanitise_file_name("盖章页.png", Kind::Pdf),
            "盖章页.png.pdf"
        );
        assert_eq!(sanitise_file_name("", Kind::Pdf), "未命名文件.pdf");
        assert_eq!(sanitise_file_name("...", Kind::Zip), "未命名文件.zip");
        assert_eq!(sanitise_file_name(".bashrc", Kind::Pdf), "bashrc.pdf");
        assert_eq!(
            sanitise_file_name("a<b>:c\"d|e?f*g\u{0}.pdf", Kind::Pdf),
            "a_b__c_d_e_f_g_.pdf"
        );
        assert_eq!(
            sanitise_file_name("报告\u{202E}fdp.exe", Kind::Pdf),
            "报告fdp.exe.pdf"
        );
        let long = format!("{}.pdf", "长".repeat(300));
        let safe = sanitise_file_name(&long, Kind::Pdf);
        assert_eq!(safe.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(safe.ends_with(".pdf"));
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(0), "0字节");
        assert_eq!(human_size(812), "812字节");
        assert_eq!(human_size(1536), "1.5KB");
        assert_eq!(human_size(20 * MIB), "20MB");
        assert_eq!(human_size(50 * MIB + 300 * KIB), "50.3MB");
        assert_eq!(human_size(3 * 1024 * MIB), "3GB");
    }

    #[test]
    fn only_digests_become_paths() {
        let d = Path::new("/data");
        let sm3 = "ab".repeat(32);
        assert_eq!(
            blob_path(d, &sm3).unwrap(),
            Path::new("/data/attachments/ab").join(&sm3)
        );
        assert!(blob_path(d, "../../etc/passwd").is_err());
        assert!(blob_path(d, &"AB".repeat(32)).is_err());
    }

    #[test]
    fn targets_are_checked_field_by_field() {
        let t = parse_target(Some("application"), Some("12"), Some("report")).unwrap();
        assert_eq!(t.owner, OwnerType::Application);
        assert_eq!((t.owner_id, t.purpose), (12, Purpose::Report));
        let err = parse_target(Some("bogus"), Some("x"), Some("nope")).unwrap_err();
        let fields: Vec<_> = err.fields().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["owner_type", "owner_id", "purpose"]);
        assert!(parse_owner(Some("cluster"), Some("-3")).is_err());
    }
}
