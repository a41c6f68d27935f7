//! Attachments as plain data: which content types the store accepts and for which purpose,
//! what the first bytes of a file (and a ZIP's entry names) say it is, how a file name is made
//! safe, and the messages a refusal shows. The shell streams, hashes and stores; it decides
//! nothing of this itself.

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;
/// Default per-file limit when `JIQUN_MAX_UPLOAD_MB` is not set.
pub const DEFAULT_MAX_UPLOAD_MB: u64 = 50;
/// Longest stored file name, in characters (extension included).
pub const MAX_FILE_NAME_CHARS: usize = 120;

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

/// The kinds of object a file can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerType {
    Competition,
    Cluster,
    Application,
    Recommendation,
    /// Evidence filed with a public objection.
    Objection,
    /// A cluster's development report (第十三条).
    Report,
    /// The province's evidence in a revocation case (撤销案件).
    RevocationCase,
    /// The cluster's written statement (陈述申辩) in a revocation case; the owner id is the case's.
    RevocationResponse,
    /// Evidence filed with a designated cluster's 变更申请.
    ChangeRequest,
    /// Evidence filed with a finalist's 决赛申报材料.
    FinalMaterials,
    /// Evidence filed with a cluster's 复核 materials.
    Recheck,
    /// Evidence filed with a public objection to a 复核 result notice.
    RecheckObjection,
}

impl OwnerType {
    pub fn key(self) -> &'static str {
        match self {
            OwnerType::Competition => "competition",
            OwnerType::Cluster => "cluster",
            OwnerType::Application => "application",
            OwnerType::Recommendation => "recommendation",
            OwnerType::Objection => "objection",
            OwnerType::Report => "report",
            OwnerType::RevocationCase => "revocation_case",
            OwnerType::RevocationResponse => "revocation_response",
            OwnerType::ChangeRequest => "change_request",
            OwnerType::FinalMaterials => "final_materials",
            OwnerType::Recheck => "recheck",
            OwnerType::RecheckObjection => "recheck_objection",
        }
    }

    pub fn from_key(key: &str) -> Option<OwnerType> {
        [
            OwnerType::Competition,
            OwnerType::Cluster,
            OwnerType::Application,
            OwnerType::Recommendation,
            OwnerType::Objection,
            OwnerType::Report,
            OwnerType::RevocationCase,
            OwnerType::RevocationResponse,
            OwnerType::ChangeRequest,
            OwnerType::FinalMaterials,
            OwnerType::Recheck,
            OwnerType::RecheckObjection,
        ]
        .into_iter()
        .find(|o| o.key() == key)
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
        OwnerType::Report => "发展情况报告",
        OwnerType::RevocationCase => "撤销案件",
        OwnerType::RevocationResponse => "陈述申辩",
        OwnerType::ChangeRequest => "变更申请",
        OwnerType::FinalMaterials => "决赛申报材料",
        OwnerType::Recheck => "复核材料",
        OwnerType::RecheckObjection => "复核结果异议",
    }
}

/// "PDF", "PDF、JPEG或PNG".
pub fn types_text(allowed: &[Kind]) -> String {
    join_or(&allowed.iter().map(|k| k.short()).collect::<Vec<_>>())
}

/// A hint for upload forms: "PDF、JPEG或PNG格式，单个文件不超过50MB".
pub fn upload_hint(allowed: &[Kind], max_bytes: u64) -> String {
    format!(
        "{}格式，单个文件不超过{}",
        types_text(allowed),
        human_size(max_bytes)
    )
}

/// The `accept` attribute of a file input: ".pdf,.jpg,.jpeg,.png".
pub fn accept_attr(allowed: &[Kind]) -> String {
    allowed
        .iter()
        .flat_map(|k| k.extensions())
        .map(|e| format!(".{e}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// "文件超过50MB上限，请压缩或拆分后再上传".
pub fn too_large_message(max_bytes: u64) -> String {
    format!(
        "文件超过{}上限，请压缩或拆分后再上传",
        human_size(max_bytes)
    )
}

/// "申请报告须为PDF文件，上传的文件实际为PNG图片".
pub fn wrong_type_message(purpose: Purpose, allowed: &[Kind], actual: &str) -> String {
    let wanted = match allowed {
        [only] => only.label().to_string(),
        _ => format!("{}文件", types_text(allowed)),
    };
    format!("{}须为{wanted}，上传的文件实际为{actual}", purpose.label())
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{}或{last}", init.join("、")),
    }
}

/// None when the value is present but unusable.
pub fn parse_max_upload_mb(raw: Option<&str>) -> Option<u64> {
    match raw.map(str::trim) {
        None | Some("") => Some(DEFAULT_MAX_UPLOAD_MB),
        Some(text) => text.parse::<u64>().ok().filter(|n| (1..=4096).contains(n)),
    }
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
pub fn is_sm3_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// ZIP files for tests: this crate's own and the root crate's suite (feature `test-support`).
#[cfg(any(test, feature = "test-support"))]
pub mod testing {
    /// A minimal ZIP of empty, stored entries with these names.
    pub fn zip_with(names: &[&str]) -> Vec<u8> {
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
}

#[cfg(test)]
mod tests {
    use super::testing::zip_with;
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0];

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
    fn refusals_name_the_rule_and_the_file() {
        let report = Purpose::Report.allowed();
        assert_eq!(
            wrong_type_message(Purpose::Report, report, Kind::Png.label()),
            "申请报告须为PDF文件，上传的文件实际为PNG图片"
        );
        assert_eq!(
            too_large_message(50 * MIB),
            "文件超过50MB上限，请压缩或拆分后再上传"
        );
        let pledge = Purpose::Pledge.allowed();
        assert_eq!(
            wrong_type_message(Purpose::Pledge, pledge, Kind::Docx.label()),
            "真实性承诺书须为PDF、JPEG或PNG文件，上传的文件实际为Word文档（DOCX）"
        );
        assert_eq!(
            upload_hint(pledge, 50 * MIB),
            "PDF、JPEG或PNG格式，单个文件不超过50MB"
        );
        assert_eq!(types_text(Purpose::Notice.allowed()), "PDF、DOCX或XLSX");
        assert_eq!(accept_attr(pledge), ".pdf,.jpg,.jpeg,.png");
    }

    #[test]
    fn owner_types_round_trip_and_have_labels() {
        for o in [
            OwnerType::Competition,
            OwnerType::Cluster,
            OwnerType::Application,
            OwnerType::Recommendation,
            OwnerType::Objection,
            OwnerType::Report,
            OwnerType::RevocationCase,
            OwnerType::RevocationResponse,
            OwnerType::FinalMaterials,
            OwnerType::ChangeRequest,
            OwnerType::Recheck,
            OwnerType::RecheckObjection,
        ] {
            assert_eq!(OwnerType::from_key(o.key()), Some(o));
            assert!(!owner_label(o).is_empty());
        }
        assert_eq!(OwnerType::from_key("bogus"), None);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the browser sends, the stored name is short, shows no control or
            /// invisible characters, has no folder part and ends in the content's extension.
            #[test]
            fn any_file_name_is_made_safe(raw in ".{0,400}", k in 0usize..6) {
                let kind = Kind::ALL[k];
                let safe = sanitise_file_name(&raw, kind);
                prop_assert!(safe.chars().count() <= MAX_FILE_NAME_CHARS);
                prop_assert!(!safe.contains(['/', '\\']));
                prop_assert!(!safe.chars().any(|c| c.is_control() || is_invisible(c)));
                let ext = safe.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or_default();
                prop_assert!(kind.extensions().contains(&ext.as_str()));
            }

            /// Sniffing never fails on any bytes, and the three fixed signatures always win.
            #[test]
            fn any_bytes_are_sniffed(tail in proptest::collection::vec(any::<u8>(), 0..600)) {
                let _ = sniff(&tail);
                let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
                png.extend_from_slice(&tail);
                prop_assert_eq!(sniff(&png), Sniffed::Known(Kind::Png));
                let mut zip = b"PK\x03\x04".to_vec();
                zip.extend_from_slice(&tail);
                prop_assert_eq!(sniff(&zip), Sniffed::Zip);
                let _ = find_zip_end(&tail);
                let _ = central_directory_names(&tail);
            }

            /// Sizes never read as more than the next unit: under 1024 of each.
            #[test]
            fn sizes_stay_in_their_unit(bytes in any::<u64>()) {
                let text = human_size(bytes);
                let number: String = text.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
                prop_assert!(number.parse::<f64>().is_ok_and(|n| n <= 1024.0 || text.ends_with("GB")));
            }
        }
    }
}
