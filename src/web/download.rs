//! File answers: one `Content-Disposition` builder, workbook downloads and streamed attachment
//! downloads, for the pages and the API alike.

use crate::store::id::NominationId;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::attachments::Download;
use crate::error::AppError;

pub const XLSX_MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// `attachment` with a quoted ASCII fallback name and the exact UTF-8 name (RFC 6266 with the
/// RFC 8187 `filename*` parameter), so Chinese names survive in every browser. Without a
/// `fallback`, one is made from the name by replacing what is not plain ASCII.
pub fn content_disposition(name: &str, fallback: Option<&str>) -> String {
    let fallback: String = fallback
        .unwrap_or(name)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ' | '(' | ')') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        // attr-char of RFC 8187; everything else is percent-encoded.
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// Bytes made on the fly (a workbook, a PDF, a CSV) as a named download.
pub fn attachment(content_type: &str, bytes: Vec<u8>, name: &str, fallback: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(name, Some(fallback)),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A workbook as a download.
pub fn xlsx_download(bytes: Vec<u8>, name: &str, fallback: &str) -> Response {
    attachment(XLSX_MIME, bytes, name, fallback)
}

/// The recommended list of a competition as a workbook.
pub fn recommended_download(
    overview: &crate::services::competitions::RecommendedOverview,
) -> Result<Response, AppError> {
    use crate::services::competitions;
    let bytes = competitions::recommended_xlsx(overview)?;
    let name = competitions::xlsx_file_name(overview);
    let fallback = match &overview.competition {
        Some(c) => format!("recommended-{}.xlsx", c.year),
        None => "recommended.xlsx".into(),
    };
    Ok(xlsx_download(bytes, &name, &fallback))
}

/// The funding ledger as a workbook (the pages and the API name it alike).
pub fn funding_download(bytes: Vec<u8>) -> Response {
    xlsx_download(bytes, "资金台账.xlsx", "funding.xlsx")
}

/// A nominee's dossier (第十七条) as a ZIP download, for the pages and the API alike.
pub fn dossier_download(d: crate::services::nominations::Dossier, id: NominationId) -> Response {
    attachment(
        "application/zip",
        d.bytes,
        &d.file_name,
        &format!("nomination-{id}.zip"),
    )
}

/// The HTTP answer for a download, shared with the pages.
pub async fn file_response(d: Download) -> Result<Response, AppError> {
    let size = u64::try_from(d.blob.size).unwrap_or_default();
    let disposition = HeaderValue::from_str(&content_disposition(&d.attachment.file_name, None))
        .map_err(|e| AppError::internal(format!("content disposition: {e}")))?;
    let mime = HeaderValue::from_str(&d.blob.mime)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    // Streamed from the blob store (disk or object store): never the whole file in memory.
    let mut res = axum::body::Body::from_stream(d.body).into_response();
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, mime);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    headers.insert(header::CONTENT_DISPOSITION, disposition);
    Ok(res)
}

/// A dashboard table as an Excel workbook, for the pages and the API alike.
pub fn dashboard_download(name: &str, bytes: Vec<u8>) -> Response {
    xlsx_download(bytes, name, "dashboard.xlsx")
}

/// A page kept by `page_cache`, answered as a static file server would: 304 when the client
/// already holds it (`If-None-Match`), the brotli or gzip bytes when the client takes them, and
/// the validators and `Vary` that let caches keep each.
pub fn cached_page_response(
    headers: &axum::http::HeaderMap,
    page: &crate::page_cache::Page,
) -> Response {
    use crate::page_cache::Coding;
    use axum::http::StatusCode;
    let coding = [Coding::Brotli, Coding::Gzip]
        .into_iter()
        .filter(|c| page.body(*c).is_some())
        .find(|c| accepts(headers.get(header::ACCEPT_ENCODING), *c))
        .unwrap_or(Coding::Identity);
    let etag = page.etag_of(coding);
    let common = |mut res: Response| {
        let h = res.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
        h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        // Anyone may keep it, and must ask again before showing it (the notice can change).
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, no-cache"),
        );
        res
    };
    let tags = [Coding::Identity, Coding::Gzip, Coding::Brotli].map(|c| page.etag_of(c));
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',').map(str::trim).any(|t| {
                let t = t.trim_start_matches("W/");
                t == "*" || tags.iter().any(|tag| tag == t)
            })
        });
    if held {
        return common(StatusCode::NOT_MODIFIED.into_response());
    }
    let body = page.body(coding).cloned().unwrap_or_default();
    let mut res =
        common(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response());
    let encoding = match coding {
        Coding::Identity => None,
        Coding::Gzip => Some("gzip"),
        Coding::Brotli => Some("br"),
    };
    if let Some(e) = encoding {
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
    }
    res
}

/// Whether an `Accept-Encoding` header takes gzip (listed, or `*`, with a weight above zero).
pub fn accepts_gzip(value: Option<&HeaderValue>) -> bool {
    accepts(value, crate::page_cache::Coding::Gzip)
}

/// Whether an `Accept-Encoding` header takes `coding` (listed by name, or `*`, with a weight
/// above zero); identity is always taken.
pub fn accepts(value: Option<&HeaderValue>, coding: crate::page_cache::Coding) -> bool {
    use crate::page_cache::Coding;
    let names: &[&str] = match coding {
        Coding::Identity => return true,
        Coding::Gzip => &["gzip", "x-gzip"],
        Coding::Brotli => &["br"],
    };
    let Some(text) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let weight_of = |name: &str| {
        text.split(',').find_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next()?;
            if !coding.eq_ignore_ascii_case(name) {
                return None;
            }
            let q = parts
                .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            Some(q)
        })
    };
    match names.iter().find_map(|n| weight_of(n)) {
        Some(q) => q > 0.0,
        None => weight_of("*").is_some_and(|q| q > 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_is_sent_in_utf8() {
        assert_eq!(
            content_disposition("推荐名单-2026.xlsx", Some("recommended-2026.xlsx")),
            "attachment; filename=\"recommended-2026.xlsx\"; filename*=UTF-8''%E6%8E%A8%E8%8D%90%E5%90%8D%E5%8D%95-2026.xlsx"
        );
    }

    #[test]
    fn downloads_keep_chinese_names() {
        assert_eq!(
            content_disposition("申请报告 v2.pdf", None),
            "attachment; filename=\"____ v2.pdf\"; filename*=UTF-8''%E7%94%B3%E8%AF%B7%E6%8A%A5%E5%91%8A%20v2.pdf"
        );
        assert!(!content_disposition("a\"b;c.pdf", None).contains("a\"b"));
    }
}

#[cfg(test)]
mod encoding_tests {
    use super::*;

    #[test]
    fn gzip_is_chosen_by_accept_encoding() {
        let take = |v: &str| {
            accepts_gzip(Some(
                &HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            ))
        };
        assert!(take("gzip"));
        assert!(take("gzip, deflate, br"));
        assert!(take("br;q=1.0, gzip;q=0.8"));
        assert!(take("*"));
        assert!(!take("gzip;q=0"));
        assert!(!take("br"));
        assert!(!take("identity"));
        assert!(!take("*, gzip;q=0"));
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn brotli_is_chosen_by_accept_encoding() {
        use crate::page_cache::Coding;
        let take = |v: &str| {
            accepts(
                Some(&HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static(""))),
                Coding::Brotli,
            )
        };
        assert!(take("gzip, deflate, br"));
        assert!(take("br;q=0.5"));
        assert!(take("*"));
        assert!(!take("gzip"));
        assert!(!take("br;q=0, gzip"));
        assert!(!accepts(None, Coding::Brotli));
        assert!(accepts(None, Coding::Identity));
    }
}
