//! Reading a whole uploaded file (an Excel import) into memory, for the pages and the API.

use axum::extract::Multipart;
use axum::http::StatusCode;

use crate::services::clusters::MAX_IMPORT_BYTES;

/// Why an upload could not be read.
pub enum UploadError {
    TooLarge,
    Missing,
    Malformed,
}

impl UploadError {
    pub fn message(&self) -> String {
        match self {
            UploadError::TooLarge => format!(
                "上传的文件超过{}MB，请删除多余内容或拆分后分批导入",
                MAX_IMPORT_BYTES / 1024 / 1024
            ),
            UploadError::Missing => "请选择要导入的Excel文件".into(),
            UploadError::Malformed => "上传内容不完整或格式错误，请重新选择文件上传".into(),
        }
    }
}

/// Reads the multipart field `file` fully into memory, refusing more than the import limit.
pub async fn read_upload(multipart: Multipart) -> Result<Vec<u8>, UploadError> {
    read_upload_named(multipart).await.map(|(_, bytes)| bytes)
}

/// [`read_upload`] with the file's name as the browser sent it.
pub async fn read_upload_named(mut multipart: Multipart) -> Result<(String, Vec<u8>), UploadError> {
    let too_large = |e: &axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            UploadError::TooLarge
        } else {
            UploadError::Malformed
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(|e| too_large(&e))? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| too_large(&e))? {
            if bytes.len() + chunk.len() > MAX_IMPORT_BYTES {
                return Err(UploadError::TooLarge);
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok((name, bytes));
    }
    Err(UploadError::Missing)
}
