//! Where attachment contents live: the local folder `<data_dir>/attachments/<xx>/<sm3>` (the
//! default) or an S3-compatible object store (`JIQUN_ATTACHMENTS_URL=s3://bucket/prefix`:
//! MinIO, Ceph RGW, OBS, OSS), objects named `<prefix>/<xx>/<sm3>`. Every reader and writer of
//! contents goes through [`BlobStore`]; the rest of the system sees digests and streams.
//!
//! Both ways are streamed: an upload is received to a temporary file on local disk (hashed and
//! sniffed there, see `attachments`), then moved (local) or sent in parts (S3, multipart above
//! [`PART_BYTES`]); a download is a stream of chunks. Content with a digest already stored is not
//! sent again. The caller writes the `blobs` row only after [`BlobStore::put`] returned, so a
//! server stopped halfway leaves at most an orphan object or temporary file, never a row that
//! names missing bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Bytes;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
// The base trait's methods, not `ObjectStoreExt`'s: theirs return futures not known to be
// `Send`, which a request handler needs.
use object_store::{
    GetOptions, ObjectStore, PutMultipartOptions, PutOptions, PutPayload, WriteMultipart,
};

use crate::config::{AttachmentStore, S3Settings};
use crate::error::AppError;

/// Part size of a multipart upload (S3 takes 5 MiB at least for every part but the last). A file
/// up to this size goes up in one request, read from its temporary file into one buffer.
pub const PART_BYTES: usize = 5 * 1024 * 1024;
/// Parts of one upload in flight at once: with the part being filled, at most three part buffers.
const PARTS_IN_FLIGHT: usize = 2;
/// Chunks of a local download.
const READ_CHUNK: usize = 64 * 1024;

/// The contents of a stored blob, chunk by chunk.
pub type BlobStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// The store of attachment contents chosen by the configuration.
#[derive(Clone)]
pub enum BlobStore {
    /// `<data_dir>/attachments/<xx>/<sm3>`.
    Local { data_dir: PathBuf },
    /// An S3-compatible bucket.
    S3 {
        store: Arc<dyn ObjectStore>,
        prefix: String,
        /// `s3://bucket/prefix` as configured, for messages.
        url: String,
    },
}

impl std::fmt::Debug for BlobStore {
    // The client is not shown: its configuration holds the credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlobStore({})", self.describe())
    }
}

fn store_error(context: &str, e: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("attachment store: {context}: {e}"))
}

/// Refuses anything that is not a lower-case hex SM3 digest before it becomes a name.
fn checked(sm3: &str) -> Result<&str, AppError> {
    if jiqun_domain::attachment::is_sm3_hex(sm3) {
        Ok(sm3)
    } else {
        Err(AppError::internal(format!("not an SM3 digest: {sm3:?}")))
    }
}

/// The object name of a digest under `prefix`: `<prefix>/<xx>/<sm3>` (no prefix: `<xx>/<sm3>`).
pub fn object_name(prefix: &str, sm3: &str) -> Result<String, AppError> {
    let sm3 = checked(sm3)?;
    let prefix = prefix.trim_matches('/');
    Ok(if prefix.is_empty() {
        format!("{}/{sm3}", &sm3[..2])
    } else {
        format!("{prefix}/{}/{sm3}", &sm3[..2])
    })
}

/// Where the content with this digest lives on local disk:
/// `<data_dir>/attachments/<first 2 hex>/<sm3>`.
pub fn local_path(data_dir: &Path, sm3: &str) -> Result<PathBuf, AppError> {
    let sm3 = checked(sm3)?;
    Ok(data_dir.join("attachments").join(&sm3[..2]).join(sm3))
}

impl BlobStore {
    /// The store the configuration names. Building an S3 client makes no request.
    pub fn from_config(data_dir: &Path, setting: &AttachmentStore) -> Result<BlobStore, AppError> {
        match setting {
            AttachmentStore::Local => Ok(BlobStore::Local {
                data_dir: data_dir.to_path_buf(),
            }),
            AttachmentStore::S3(s) => Ok(BlobStore::S3 {
                store: Arc::new(s3_client(s)?),
                prefix: s.prefix.clone(),
                url: s.url(),
            }),
        }
    }

    /// Whether the contents live on this machine's disk (`jiqun backup` copies only those).
    pub fn is_local(&self) -> bool {
        matches!(self, BlobStore::Local { .. })
    }

    /// Where the contents are, for people: the folder or `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        match self {
            BlobStore::Local { data_dir } => data_dir.join("attachments").display().to_string(),
            BlobStore::S3 { url, .. } => url.clone(),
        }
    }

    fn object_path(prefix: &str, sm3: &str) -> Result<object_store::path::Path, AppError> {
        let name = object_name(prefix, sm3)?;
        object_store::path::Path::parse(&name).map_err(|e| store_error("object name", e))
    }

    /// Stores the file at `temp` (fully written and synced) as the content `sm3` of `size`
    /// bytes. Returns whether `temp` was consumed (moved into place); otherwise the caller
    /// removes it. Content already stored is left as it is.
    pub async fn put(&self, sm3: &str, size: u64, temp: &Path) -> Result<bool, AppError> {
        match self {
            BlobStore::Local { data_dir } => put_local(data_dir, sm3, size, temp).await,
            BlobStore::S3 { store, prefix, .. } => {
                let path = Self::object_path(prefix, sm3)?;
                let head = GetOptions::new().with_head(true);
                match store.get_opts(&path, head).await.map(|got| got.meta) {
                    // Stored once: the same digest is the same bytes.
                    Ok(meta) if meta.size == size => return Ok(false),
                    Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
                    // S3 answers 403 for a missing object to a key without ListBucket: send it;
                    // a real failure shows in the upload.
                    Err(e) => tracing::debug!("checking {path} before storing it: {e}"),
                }
                put_s3(store.as_ref(), &path, size, temp).await?;
                Ok(false)
            }
        }
    }

    /// The content with this digest as a stream of chunks.
    pub async fn open(&self, sm3: &str) -> Result<BlobStream, AppError> {
        match self {
            BlobStore::Local { data_dir } => {
                let path = local_path(data_dir, sm3)?;
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| store_error(&format!("opening {}", path.display()), e))?;
                Ok(tokio_util::io::ReaderStream::with_capacity(file, READ_CHUNK).boxed())
            }
            BlobStore::S3 { store, prefix, .. } => {
                let path = Self::object_path(prefix, sm3)?;
                let got = store
                    .get_opts(&path, GetOptions::default())
                    .await
                    .map_err(|e| store_error(&format!("reading {path}"), e))?;
                Ok(got.into_stream().map_err(std::io::Error::other).boxed())
            }
        }
    }

    /// The whole content in memory, for the few readers that parse a small file (an import's
    /// workbook); downloads use [`BlobStore::open`].
    pub async fn read(&self, sm3: &str) -> Result<Vec<u8>, AppError> {
        let mut stream = self.open(sm3).await?;
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.map_err(|e| store_error("reading content", e))?);
        }
        Ok(out)
    }
}

fn s3_client(s: &S3Settings) -> Result<object_store::aws::AmazonS3, AppError> {
    let mut b = object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(&s.bucket)
        .with_region(&s.region)
        .with_access_key_id(&s.access_key_id)
        .with_secret_access_key(s.secret_access_key.expose());
    if let Some(endpoint) = &s.endpoint {
        // Path-style requests (`endpoint/bucket/key`), which every S3-compatible server takes.
        b = b
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false);
    }
    b.build().map_err(|e| store_error("S3 settings", e))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(std::io::Error::other)?
}

/// Moves a received file to its content address. When the content is already there the
/// temporary file is left to the caller (stored once). A placed file is never deleted here: a
/// concurrent upload of the same bytes may already have recorded it.
async fn put_local(data_dir: &Path, sm3: &str, size: u64, temp: &Path) -> Result<bool, AppError> {
    let dest = local_path(data_dir, sm3)?;
    let dir = dest
        .parent()
        .ok_or_else(|| AppError::Internal("blob path has no parent".into()))?
        .to_path_buf();
    let present = tokio::fs::metadata(&dest)
        .await
        .is_ok_and(|m| m.is_file() && m.len() == size);
    if present {
        return Ok(false);
    }
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| store_error("creating a store folder", e))?;
    // Atomic: readers see either no file or the whole file. Two identical uploads racing here
    // both rename identical bytes, which is harmless.
    tokio::fs::rename(temp, &dest)
        .await
        .map_err(|e| store_error("moving an upload into the store", e))?;
    // Make the new directory entry durable too.
    blocking(move || std::fs::File::open(&dir)?.sync_all())
        .await
        .map_err(|e| store_error("syncing a store folder", e))?;
    Ok(true)
}

/// Sends a file to the object store: in one request up to [`PART_BYTES`], else in parts read
/// from disk one at a time. A failed multipart upload is aborted, so no part is left billed.
async fn put_s3(
    store: &dyn ObjectStore,
    path: &object_store::path::Path,
    size: u64,
    temp: &Path,
) -> Result<(), AppError> {
    use tokio::io::AsyncReadExt;
    let mut file = tokio::fs::File::open(temp)
        .await
        .map_err(|e| store_error("opening an upload", e))?;
    if size <= PART_BYTES as u64 {
        let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.read_to_end(&mut buf)
            .await
            .map_err(|e| store_error("reading an upload", e))?;
        store
            .put_opts(path, PutPayload::from(buf), PutOptions::default())
            .await
            .map_err(|e| store_error(&format!("storing {path}"), e))?;
        return Ok(());
    }
    let upload = store
        .put_multipart_opts(path, PutMultipartOptions::default())
        .await
        .map_err(|e| store_error(&format!("starting {path}"), e))?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    let mut buf = vec![0u8; 256 * 1024];
    let sent: Result<(), AppError> = async {
        loop {
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| store_error("reading an upload", e))?;
            if n == 0 {
                return Ok(());
            }
            writer
                .wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(|e| store_error(&format!("storing {path}"), e))?;
            writer.write(&buf[..n]);
        }
    }
    .await;
    match sent {
        Ok(()) => writer
            .finish()
            .await
            .map(|_| ())
            .map_err(|e| store_error(&format!("finishing {path}"), e)),
        Err(e) => {
            if let Err(abort) = writer.abort().await {
                tracing::warn!("aborting the upload of {path}: {abort}");
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_digests_become_names() {
        let sm3 = "ab".repeat(32);
        assert_eq!(
            object_name("jiqun/files", &sm3).unwrap(),
            format!("jiqun/files/ab/{sm3}")
        );
        assert_eq!(object_name("/x/", &sm3).unwrap(), format!("x/ab/{sm3}"));
        assert_eq!(object_name("", &sm3).unwrap(), format!("ab/{sm3}"));
        assert!(object_name("p", "../../etc/passwd").is_err());
        assert_eq!(
            local_path(Path::new("/data"), &sm3).unwrap(),
            Path::new("/data/attachments/ab").join(&sm3)
        );
        assert!(local_path(Path::new("/data"), &"AB".repeat(32)).is_err());
    }
}
