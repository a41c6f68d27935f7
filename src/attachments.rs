//! The attachment store: uploaded files stream to a temporary file under
//! `<data_dir>/attachments/tmp/` and are then stored by the blob store, named by their SM3
//! digest, so the same bytes are stored once however often they are uploaded. The
//! database keeps one `blobs` row per stored content and one `attachments` row per upload.
//!
//! Where the stored contents live (the local folder or an S3-compatible object store) is
//! `blob_store`'s business; this module receives, checks and records.
//!
//! A functional core decides (which purpose accepts which content types, what the first bytes of
//! a file say it is, what a ZIP's entry names say it is, how a file name is made safe); the shell
//! streams, hashes, moves files and writes rows. A file is never held whole in memory: it is
//! hashed and written chunk by chunk, and only its first 8 KB are kept to recognise its type.
//!
//! Refusals (too large, wrong type, empty) leave nothing behind: the temporary file is removed
//! whatever path the request takes out, by a guard that deletes it when dropped.

use crate::store::id::{AttachmentId, UserId};
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
use crate::audit::{Audit, Event};
use crate::error::{AppError, Problems};
use crate::services::owners;
use crate::store::{self, entity::attachment, entity::blob, entity::user};

const MIB: u64 = 1024 * 1024;
/// The first bytes kept in memory to recognise the type.
const SNIFF_BYTES: usize = 8 * 1024;
/// Received chunks are hashed and written in batches of this many bytes.
const WRITE_BATCH: usize = 128 * 1024;
/// The multipart field that carries the file.
pub const FILE_FIELD: &str = "file";

// ---------------------------------------------------------------------------------------------
// Pure core: kinds, purposes, limits
// ---------------------------------------------------------------------------------------------

// The decisions themselves live in the domain crate (`jiqun_domain::attachment`); they are
// re-exported so callers keep one path for them.
pub use jiqun_domain::attachment::{
    DEFAULT_MAX_UPLOAD_MB, Kind, MAX_FILE_NAME_CHARS, OwnerType, Purpose, Sniffed, ZipEnd,
    central_directory_names, classify_zip, find_zip_end, human_size, owner_label,
    parse_max_upload_mb, parse_zip64_record, sanitise_file_name, sniff,
};

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
        jiqun_domain::attachment::types_text(self.allowed)
    }

    /// A hint for upload forms: "PDF、JPEG或PNG格式，单个文件不超过50MB".
    pub fn hint(&self) -> String {
        jiqun_domain::attachment::upload_hint(self.allowed, self.max_bytes)
    }

    /// The `accept` attribute of a file input: ".pdf,.jpg,.jpeg,.png".
    pub fn accept_attr(&self) -> String {
        jiqun_domain::attachment::accept_attr(self.allowed)
    }

    pub fn too_large(&self) -> AppError {
        AppError::invalid(
            FILE_FIELD,
            jiqun_domain::attachment::too_large_message(self.max_bytes),
        )
    }

    /// "申请报告须为PDF文件，上传的文件实际为PNG图片".
    pub fn wrong_type(&self, actual: &str) -> AppError {
        AppError::invalid(
            FILE_FIELD,
            jiqun_domain::attachment::wrong_type_message(self.purpose, self.allowed, actual),
        )
    }
}

/// The per-file upload limit in bytes: `max_upload_mb` of the configuration (default 50).
pub fn max_upload_bytes() -> u64 {
    crate::config::max_upload_mb() * MIB
}

/// The request-body limit for upload routes: one file at the limit plus room for the multipart
/// framing and a few small fields.
pub fn request_limit() -> usize {
    usize::try_from(max_upload_bytes() + MIB).unwrap_or(usize::MAX)
}

/// Uploads in progress: on the local store's file system, so finishing one is a rename; with an
/// object store they are sent from here.
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

/// Puts a received file into the blob store (`blob_store`): moved into the local folder, or
/// sent to the object store. Content already stored is not sent again. Done before any row names
/// it, so a row never points at missing bytes.
async fn place(app: &App, received: Received) -> Result<(Placed, String), AppError> {
    let mut received = received;
    if app
        .blobs
        .put(&received.sm3, received.size, &received.temp.path)
        .await?
    {
        received.temp.moved = true;
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
    Audit::of(app, p, now)
        .record(
            &txn,
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
                "附件所属对象类型“{}”无效，应为 competition、cluster、application、recommendation 或 report",
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
    #[schema(value_type = i64)]
    pub id: AttachmentId,
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
    #[schema(value_type = i64)]
    pub uploaded_by: UserId,
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
    let blobs = store::load_by_ids::<blob::Entity>(&app.db, rows.iter().map(|r| r.blob_id)).await?;
    let names = store::load_by_ids_map::<user::Entity, _>(
        &app.db,
        rows.iter().map(|r| r.uploaded_by),
        |u| u.display_name,
    )
    .await?;
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
pub async fn view(app: &App, id: AttachmentId) -> Result<AttachmentView, AppError> {
    let row = attachment::Entity::find_by_id(id)
        .one(&app.db)
        .await?
        .ok_or(AppError::NotFound)?;
    views(app, vec![row]).await?.pop().ok_or(AppError::NotFound)
}

/// An attachment ready to stream.
pub struct Download {
    pub attachment: attachment::Model,
    pub blob: blob::Model,
    /// The content, chunk by chunk, from whichever store holds it.
    pub body: crate::blob_store::BlobStream,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("attachment", &self.attachment)
            .field("blob", &self.blob)
            .finish_non_exhaustive()
    }
}

/// Opens an attachment's content for streaming. No permission check: see [`open_scoped`].
pub async fn open(app: &App, id: AttachmentId) -> Result<Download, AppError> {
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
    let body = app.blobs.open(&blob.sm3).await?;
    Ok(Download {
        attachment,
        blob,
        body,
    })
}

/// Opens an attachment the principal may read. Out of scope and missing look the same (404),
/// so the answer never reveals that a file exists.
pub async fn open_scoped(app: &App, p: &Principal, id: AttachmentId) -> Result<Download, AppError> {
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

    fn names_of(zip: &[u8]) -> Vec<String> {
        match find_zip_end(zip) {
            Some(ZipEnd::Directory { offset, size }) => {
                central_directory_names(&zip[offset as usize..(offset + size) as usize])
            }
            other => panic!("no directory: {other:?}"),
        }
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
