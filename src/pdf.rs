//! Certificates (证书) as one A4 PDF page with real, extractable Chinese text, and official
//! documents (公文, e.g. a 决定书) over as many A4 pages as they need (`document`).
//!
//! The font comes from the system (Debian `fonts-noto-cjk`, else WenQuanYi) or from
//! `JIQUN_PDF_FONT`. krilla subsets it into the PDF and writes a ToUnicode map, so `pdftotext`,
//! search and screen readers get the text back. Layout happens here: glyph ids and advances are
//! read from the font through skrifa, and the very same advances place the glyphs, so what is
//! measured for line wrapping is exactly what is drawn.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use krilla::Document;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::charmap::Charmap;
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::raw::FileRef;
use skrifa::string::StringId;
use skrifa::{FontRef, MetadataProvider};

mod document;
pub use document::{DocumentText, document_pdf};

/// What a certificate says; the caller fills it from the designation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateText {
    /// e.g. "证书"
    pub heading: String,
    /// e.g. "湘集群认〔2026〕第001号"
    pub number: String,
    /// Body text, one entry per paragraph; each is indented by two characters and wrapped.
    pub paragraphs: Vec<String>,
    /// e.g. "湖南省工业和信息化厅"
    pub issuer: String,
    /// e.g. "2026年11月27日"
    pub date: String,
    /// The public check: a QR code of the address, the address printed under it.
    pub check: Option<CertificateCheck>,
}

/// Where anyone can check the certificate (`/verify/{code}`), and the words above the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateCheck {
    /// e.g. "https://jiqun.example.gov.cn/verify/C2026-001"
    pub url: String,
    /// e.g. "扫码或访问以下网址查验"
    pub caption: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("未找到可用的中文字体文件：{tried}（可通过 JIQUN_PDF_FONT 指定）")]
    NoFont { tried: String },
    #[error(
        "字体文件 {font} 缺少字符“{ch}”（U+{code:04X}）的字形，无法生成证书；请通过 JIQUN_PDF_FONT 指定字符更全的字体",
        code = u32::from(*.ch)
    )]
    MissingGlyph { font: String, ch: char },
    #[error("证书正文过长（{chars} 字），一页排不下，请精简内容")]
    TooLong { chars: usize },
    #[error("生成 PDF 失败：{0}")]
    Render(String),
}

/// Where Debian puts CJK fonts: `fonts-noto-cjk` (serif first: certificates are set in a Song
/// style), then `fonts-wqy-microhei` and `fonts-wqy-zenhei`.
pub fn default_font_paths() -> Vec<PathBuf> {
    [
        "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    ]
    .into_iter()
    .map(PathBuf::from)
    .collect()
}

/// One face of a font file (for a collection, the Simplified Chinese face if there is one).
struct Face {
    data: Arc<Vec<u8>>,
    index: u32,
    font: Font,
    path: PathBuf,
}

impl Face {
    fn load(path: &Path) -> Result<Face, String> {
        let data = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => "文件不存在".to_string(),
            _ => format!("无法读取（{e}）"),
        })?;
        let data = Arc::new(data);
        let index = {
            let file = FileRef::new(&data).map_err(|_| "不是有效的字体文件".to_string())?;
            let faces: Vec<Option<FontRef<'_>>> = file.fonts().map(Result::ok).collect();
            let index = faces
                .iter()
                .position(|f| f.as_ref().is_some_and(is_simplified_chinese))
                .unwrap_or(0);
            let face = faces
                .get(index)
                .and_then(Option::as_ref)
                .ok_or_else(|| "不是有效的字体文件".to_string())?;
            if face.charmap().map('证').is_none() {
                return Err("字体不含中文字形".to_string());
            }
            u32::try_from(index).map_err(|_| "不是有效的字体文件".to_string())?
        };
        let font = Font::new(krilla::Data::from(data.clone()), index)
            .ok_or_else(|| "不是有效的字体文件".to_string())?;
        Ok(Face {
            data,
            index,
            font,
            path: path.to_path_buf(),
        })
    }

    fn metrics(&self) -> Result<Metrics<'_>, PdfError> {
        let font = FontRef::from_index(self.data.as_slice(), self.index)
            .map_err(|e| PdfError::Render(format!("字体 {} 无法解析：{e}", self.path.display())))?;
        Ok(Metrics {
            charmap: font.charmap(),
            glyphs: font.glyph_metrics(Size::unscaled(), LocationRef::default()),
            units_per_em: self.font.units_per_em(),
            face: self,
        })
    }
}

/// Noto CJK collections hold JP, KR, SC, TC and HK faces; SC has the mainland punctuation
/// positions and glyph forms.
fn is_simplified_chinese(font: &FontRef<'_>) -> bool {
    [StringId::FAMILY_NAME, StringId::TYPOGRAPHIC_FAMILY_NAME]
        .into_iter()
        .flat_map(|id| font.localized_strings(id))
        .any(|name| {
            let name = name.to_string();
            name.ends_with(" SC") || name.contains("简")
        })
}

/// Glyph lookup and advances of one face, in em units.
struct Metrics<'a> {
    charmap: Charmap<'a>,
    glyphs: GlyphMetrics<'a>,
    units_per_em: f32,
    face: &'a Face,
}

impl Metrics<'_> {
    fn glyph(&self, ch: char) -> Option<(GlyphId, f32)> {
        let id = self.charmap.map(ch)?;
        let advance = self.glyphs.advance_width(id).unwrap_or(0.0) / self.units_per_em;
        Some((GlyphId::new(id.to_u32()), advance))
    }

    /// Advance in em; characters the font lacks count as one em (they are rejected when drawn).
    fn advance(&self, ch: char) -> f32 {
        self.glyph(ch).map_or(1.0, |(_, a)| a)
    }

    /// Width in em of `text` with `tracking` em added between characters.
    fn width(&self, text: &str, tracking: f32) -> f32 {
        let n = text.chars().count();
        text.chars().map(|c| self.advance(c)).sum::<f32>() + tracking * n.saturating_sub(1) as f32
    }

    fn run(&self, text: &str, tracking: f32) -> Result<Vec<KrillaGlyph>, PdfError> {
        let last = text.char_indices().last().map_or(0, |(i, _)| i);
        text.char_indices()
            .map(|(i, ch)| {
                let (id, advance) = self.glyph(ch).ok_or_else(|| PdfError::MissingGlyph {
                    font: self.face.path.display().to_string(),
                    ch,
                })?;
                let extra = if i == last { 0.0 } else { tracking };
                Ok(KrillaGlyph::new(
                    id,
                    advance + extra,
                    0.0,
                    0.0,
                    0.0,
                    i..i + ch.len_utf8(),
                    None,
                ))
            })
            .collect()
    }
}

/// A loaded CJK font: a regular face and, when the file has a `…-Bold` sibling, a bold one.
pub struct Fonts {
    regular: Face,
    bold: Option<Face>,
}

impl std::fmt::Debug for Fonts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fonts")
            .field("regular", &self.regular.path)
            .field("bold", &self.bold.as_ref().map(|b| &b.path))
            .finish()
    }
}

impl Fonts {
    /// The first file in `paths` that can be read and has Chinese glyphs wins. A `.ttc`
    /// collection contributes its Simplified Chinese face (else its first face).
    pub fn load(paths: &[PathBuf]) -> Result<Fonts, PdfError> {
        let mut tried = Vec::new();
        for path in paths {
            match Face::load(path) {
                Ok(regular) => {
                    let bold = bold_sibling(path).and_then(|p| Face::load(&p).ok());
                    return Ok(Fonts { regular, bold });
                }
                Err(reason) => tried.push(format!("{}（{reason}）", path.display())),
            }
        }
        Err(PdfError::NoFont {
            tried: if tried.is_empty() {
                "未给出任何路径".to_string()
            } else {
                tried.join("；")
            },
        })
    }

    /// The font file in use.
    pub fn path(&self) -> &Path {
        &self.regular.path
    }

    fn heading(&self) -> &Face {
        self.bold.as_ref().unwrap_or(&self.regular)
    }
}

/// `NotoSerifCJK-Regular.ttc` → `NotoSerifCJK-Bold.ttc`.
fn bold_sibling(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    name.contains("Regular")
        .then(|| path.with_file_name(name.replace("Regular", "Bold")))
}

/// Loads the fonts on first use and keeps them; a failed load is retried on the next call.
/// The first call reads a font file of 20–30 MB: from async code call it in `spawn_blocking`.
pub struct FontCache {
    configured: Option<PathBuf>,
    loaded: Mutex<Option<Arc<Fonts>>>,
}

impl FontCache {
    /// `configured` (JIQUN_PDF_FONT) is the only file tried when given; otherwise
    /// [`default_font_paths`].
    pub fn new(configured: Option<PathBuf>) -> FontCache {
        FontCache {
            configured,
            loaded: Mutex::new(None),
        }
    }

    pub fn get(&self) -> Result<Arc<Fonts>, PdfError> {
        let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(fonts) = loaded.as_ref() {
            return Ok(fonts.clone());
        }
        let paths = match &self.configured {
            Some(path) => vec![path.clone()],
            None => default_font_paths(),
        };
        let fonts = Arc::new(Fonts::load(&paths)?);
        *loaded = Some(fonts.clone());
        Ok(fonts)
    }
}

/// Characters that must not begin a line (closing punctuation, 避头).
const NO_LINE_START: &str = "。，、；：？！）》」』】〕〉〗”’…—·%‰℃,.;:?!)]}";
/// Characters that must not end a line (opening punctuation, 避尾).
const NO_LINE_END: &str = "（《「『【〔〈〖“‘([{";

/// Wide (CJK) characters: a line may break on either side of them.
fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F
        | 0x2E80..=0xA4CF
        | 0xAC00..=0xD7A3
        | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F
        | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD)
}

/// Latin letters and digits hold together ("2026", "ABC123"); spaces never start a line.
fn can_break(before: char, after: char) -> bool {
    let word = |c: char| c.is_alphanumeric() && !is_wide(c);
    !(NO_LINE_START.contains(after)
        || after == ' '
        || NO_LINE_END.contains(before)
        || (word(before) && word(after)))
}

/// Breaks `text` into lines no wider than `max_width`, measuring each character with `advance`.
/// Chinese may break between any two characters, except that closing punctuation never starts a
/// line and opening punctuation never ends one (the character before is carried down instead);
/// runs of Latin letters and digits break only at spaces. A run wider than a whole line is cut
/// where it must. `\n` forces a break. Trailing spaces are dropped.
pub fn wrap(text: &str, max_width: f32, advance: impl Fn(char) -> f32) -> Vec<String> {
    const EPSILON: f32 = 1e-3;
    let mut lines = Vec::new();
    if text.is_empty() {
        return lines;
    }
    for piece in text.split('\n') {
        // Unbreakable units: (text, width, width without trailing spaces).
        let mut units: Vec<(String, f32, f32)> = Vec::new();
        let mut prev: Option<char> = None;
        for c in piece.chars() {
            let w = advance(c);
            match units.last_mut() {
                Some(unit) if prev.is_some_and(|p| !can_break(p, c)) => {
                    unit.0.push(c);
                    unit.1 += w;
                    if c != ' ' {
                        unit.2 = unit.1;
                    }
                }
                _ => units.push((c.to_string(), w, if c == ' ' { 0.0 } else { w })),
            }
            prev = Some(c);
        }

        let first = lines.len();
        let mut line = String::new();
        let mut width = 0.0_f32;
        for (unit, unit_width, unit_visible) in units {
            if !line.is_empty() && width + unit_visible > max_width + EPSILON {
                end_line(&mut lines, &mut line, &mut width);
            }
            if line.is_empty() && unit_visible > max_width + EPSILON {
                for c in unit.chars() {
                    let w = advance(c);
                    if !line.is_empty() && c != ' ' && width + w > max_width + EPSILON {
                        end_line(&mut lines, &mut line, &mut width);
                    }
                    line.push(c);
                    width += w;
                }
                continue;
            }
            line.push_str(&unit);
            width += unit_width;
        }
        if !line.is_empty() || lines.len() == first {
            end_line(&mut lines, &mut line, &mut width);
        }
    }
    lines
}

fn end_line(lines: &mut Vec<String>, line: &mut String, width: &mut f32) {
    lines.push(line.trim_end_matches(' ').to_string());
    line.clear();
    *width = 0.0;
}

/// Tabs become spaces; other control characters (the font has no glyphs for them) go.
fn clean(text: &str, keep_newlines: bool) -> String {
    text.trim()
        .chars()
        .filter_map(|c| match c {
            '\n' if keep_newlines => Some('\n'),
            '\t' | '\n' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

// Layout, in PDF points (A4 portrait, origin top left, y downwards).
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN: f32 = 92.0;
const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;
const HEADING_SIZE: f32 = 44.0;
const HEADING_BASELINE: f32 = 196.0;
const NUMBER_SIZE: f32 = 14.0;
const NUMBER_BASELINE: f32 = 246.0;
const BODY_TOP_BASELINE: f32 = 330.0;
const BODY_SIZE: f32 = 18.0;
const BODY_MIN_SIZE: f32 = 11.0;
const LINE_HEIGHT: f32 = 1.9;
const PARAGRAPH_GAP: f32 = 0.4;
const SIGNATURE_SIZE: f32 = 18.0;
const ISSUER_BASELINE: f32 = 650.0;
const DATE_BASELINE: f32 = 688.0;
const SIGNATURE_RIGHT: f32 = PAGE_WIDTH - MARGIN - 10.0;
/// The QR code of the public check sits bottom left, level with the signature.
const QR_SIZE: f32 = 78.0;
const QR_TOP: f32 = ISSUER_BASELINE - 36.0;
const CHECK_SIZE: f32 = 8.0;
const CHECK_WIDTH: f32 = SIGNATURE_RIGHT - 190.0 - MARGIN;
const RED: (u8, u8, u8) = (0xA3, 0x1D, 0x1D);
const INK: (u8, u8, u8) = (0x1A, 0x1A, 0x1A);

/// Body lines at the largest size (18 pt down to 11 pt) that stays clear of the signature.
struct Body {
    size: f32,
    lines: Vec<BodyLine>,
}

struct BodyLine {
    baseline: f32,
    text: String,
    /// Extra space between characters, in em, that makes the line flush right.
    tracking: f32,
}

/// Spacing that justifies a line that is not the last of its paragraph; none if the gaps would
/// get conspicuous (a long Latin word pushed down), where a ragged edge looks better.
fn justify(metrics: &Metrics<'_>, line: &str, size: f32) -> f32 {
    let gaps = line.chars().count().saturating_sub(1);
    if gaps == 0 {
        return 0.0;
    }
    let tracking = (TEXT_WIDTH / size - metrics.width(line, 0.0)) / gaps as f32;
    if tracking > 0.0 && tracking <= 0.15 {
        tracking
    } else {
        0.0
    }
}

fn layout_body(metrics: &Metrics<'_>, paragraphs: &[String]) -> Result<Body, PdfError> {
    let bottom = ISSUER_BASELINE - 2.5 * SIGNATURE_SIZE;
    let mut size = BODY_SIZE;
    while size >= BODY_MIN_SIZE {
        let line_height = size * LINE_HEIGHT;
        let mut lines = Vec::new();
        let mut y = BODY_TOP_BASELINE;
        for (i, paragraph) in paragraphs.iter().enumerate() {
            if i > 0 {
                y += line_height * PARAGRAPH_GAP;
            }
            let indented = format!("\u{3000}\u{3000}{paragraph}");
            for piece in indented.split('\n') {
                let wrapped = wrap(piece, TEXT_WIDTH, |c| metrics.advance(c) * size);
                let count = wrapped.len();
                for (j, text) in wrapped.into_iter().enumerate() {
                    let tracking = if j + 1 < count {
                        justify(metrics, &text, size)
                    } else {
                        0.0
                    };
                    lines.push(BodyLine {
                        baseline: y,
                        text,
                        tracking,
                    });
                    y += line_height;
                }
            }
        }
        let last = lines.last().map_or(0.0, |line| line.baseline);
        if last <= bottom {
            return Ok(Body { size, lines });
        }
        size -= 1.0;
    }
    Err(PdfError::TooLong {
        chars: paragraphs.iter().map(|p| p.chars().count()).sum(),
    })
}

fn color(c: (u8, u8, u8)) -> rgb::Color {
    rgb::Color::new(c.0, c.1, c.2)
}

fn draw_border(surface: &mut Surface<'_>, inset: f32, width: f32) -> Result<(), PdfError> {
    let rect = Rect::from_xywh(
        inset,
        inset,
        PAGE_WIDTH - 2.0 * inset,
        PAGE_HEIGHT - 2.0 * inset,
    )
    .ok_or_else(|| PdfError::Render("边框尺寸无效".into()))?;
    let mut builder = PathBuilder::new();
    builder.push_rect(rect);
    let path = builder
        .finish()
        .ok_or_else(|| PdfError::Render("边框尺寸无效".into()))?;
    surface.set_fill(None);
    surface.set_stroke(Some(Stroke {
        paint: color(RED).into(),
        width,
        ..Default::default()
    }));
    surface.draw_path(&path);
    surface.set_stroke(None);
    Ok(())
}

/// Draws one line of text starting at `x` on `baseline`.
#[allow(clippy::too_many_arguments)]
fn draw_line(
    surface: &mut Surface<'_>,
    metrics: &Metrics<'_>,
    text: &str,
    x: f32,
    baseline: f32,
    size: f32,
    tracking: f32,
    ink: (u8, u8, u8),
) -> Result<(), PdfError> {
    if text.is_empty() {
        return Ok(());
    }
    let glyphs = metrics.run(text, tracking)?;
    surface.set_fill(Some(Fill {
        paint: color(ink).into(),
        ..Default::default()
    }));
    surface.draw_glyphs(
        Point::from_xy(x, baseline),
        &glyphs,
        metrics.face.font.clone(),
        text,
        size,
        false,
    );
    Ok(())
}

/// A single centred line, shrunk if it would not fit between the margins.
fn draw_centred(
    surface: &mut Surface<'_>,
    metrics: &Metrics<'_>,
    text: &str,
    baseline: f32,
    size: f32,
    tracking: f32,
    ink: (u8, u8, u8),
) -> Result<(), PdfError> {
    let em = metrics.width(text, tracking);
    let size = if em * size > TEXT_WIDTH {
        TEXT_WIDTH / em
    } else {
        size
    };
    let x = (PAGE_WIDTH - em * size) / 2.0;
    draw_line(surface, metrics, text, x, baseline, size, tracking, ink)
}

/// Draws the QR code of the public check with its caption and the address under it.
fn draw_check(
    surface: &mut Surface<'_>,
    metrics: &Metrics<'_>,
    check: &CertificateCheck,
) -> Result<(), PdfError> {
    let code = qrcode::QrCode::new(check.url.as_bytes())
        .map_err(|e| PdfError::Render(format!("二维码：{e}")))?;
    let width = code.width();
    let module = QR_SIZE / width as f32;
    let mut builder = PathBuilder::new();
    for (i, colour) in code.to_colors().into_iter().enumerate() {
        if colour == qrcode::Color::Dark {
            let (x, y) = ((i % width) as f32, (i / width) as f32);
            // Slightly larger modules so that neighbours join without hairline gaps.
            if let Some(rect) = Rect::from_xywh(
                MARGIN + x * module,
                QR_TOP + y * module,
                module + 0.05,
                module + 0.05,
            ) {
                builder.push_rect(rect);
            }
        }
    }
    let path = builder
        .finish()
        .ok_or_else(|| PdfError::Render("二维码尺寸无效".into()))?;
    surface.set_stroke(None);
    surface.set_fill(Some(Fill {
        paint: color(INK).into(),
        ..Default::default()
    }));
    surface.draw_path(&path);
    let fit = |text: &str| {
        let em = metrics.width(text, 0.0);
        if em * CHECK_SIZE > CHECK_WIDTH {
            CHECK_WIDTH / em
        } else {
            CHECK_SIZE
        }
    };
    let caption = clean(&check.caption, false);
    let url = clean(&check.url, false);
    // Four modules of quiet zone under the code before the caption's ascenders.
    let below = QR_TOP + QR_SIZE + 4.0 * module + CHECK_SIZE;
    draw_line(
        surface,
        metrics,
        &caption,
        MARGIN,
        below,
        fit(&caption),
        0.0,
        INK,
    )?;
    draw_line(
        surface,
        metrics,
        &url,
        MARGIN,
        below + CHECK_SIZE * 1.5,
        fit(&url),
        0.0,
        INK,
    )
}

/// Lays out and renders the certificate as a one-page A4 PDF.
pub fn certificate_pdf(fonts: &Fonts, cert: &CertificateText) -> Result<Vec<u8>, PdfError> {
    let heading = clean(&cert.heading, false);
    let number = clean(&cert.number, false);
    let issuer = clean(&cert.issuer, false);
    let date = clean(&cert.date, false);
    let paragraphs: Vec<String> = cert
        .paragraphs
        .iter()
        .map(|p| clean(p, true))
        .filter(|p| !p.is_empty())
        .collect();

    let regular = fonts.regular.metrics()?;
    let bold = fonts.heading().metrics()?;
    let body = layout_body(&regular, &paragraphs)?;

    let mut document = Document::new();
    let mut metadata = Metadata::new()
        .language("zh-CN".into())
        .creator("jiqun".into());
    if !heading.is_empty() || !number.is_empty() {
        metadata = metadata.title(format!("{heading} {number}").trim().to_string());
    }
    document.set_metadata(metadata);
    let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
        .ok_or_else(|| PdfError::Render("页面尺寸无效".into()))?;
    let mut page = document.start_page_with(settings);
    let mut surface = page.surface();

    draw_border(&mut surface, 28.0, 3.0)?;
    draw_border(&mut surface, 36.0, 0.8)?;

    // "证书" reads as "证　书": spread short headings.
    let tracking = match heading.chars().count() {
        0..=2 => 1.0,
        3..=4 => 0.5,
        _ => 0.1,
    };
    draw_centred(
        &mut surface,
        &bold,
        &heading,
        HEADING_BASELINE,
        HEADING_SIZE,
        tracking,
        RED,
    )?;
    draw_centred(
        &mut surface,
        &regular,
        &number,
        NUMBER_BASELINE,
        NUMBER_SIZE,
        0.0,
        INK,
    )?;

    for line in &body.lines {
        draw_line(
            &mut surface,
            &regular,
            &line.text,
            MARGIN,
            line.baseline,
            body.size,
            line.tracking,
            INK,
        )?;
    }

    // 落款: issuer and date centred on each other, the block flush right.
    let issuer_em = regular.width(&issuer, 0.0);
    let date_em = regular.width(&date, 0.0);
    let block_em = issuer_em.max(date_em);
    let size = if block_em * SIGNATURE_SIZE > TEXT_WIDTH {
        TEXT_WIDTH / block_em
    } else {
        SIGNATURE_SIZE
    };
    let centre = SIGNATURE_RIGHT - block_em * size / 2.0;
    for (text, em, baseline) in [
        (&issuer, issuer_em, ISSUER_BASELINE),
        (&date, date_em, DATE_BASELINE),
    ] {
        let x = centre - em * size / 2.0;
        draw_line(&mut surface, &regular, text, x, baseline, size, 0.0, INK)?;
    }
    if let Some(check) = &cert.check {
        draw_check(&mut surface, &regular, check)?;
    }

    surface.finish();
    page.finish();
    document
        .finish()
        .map_err(|e| PdfError::Render(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn sample() -> CertificateText {
        CertificateText {
            heading: "证书".into(),
            number: "湘集群认〔2026〕第001号".into(),
            paragraphs: vec![
                "长沙工程机械产业集群（申报主体：长沙市工程机械产业集群促进会）被认定为湖南省先进制造业集群。"
                    .into(),
            ],
            issuer: "湖南省工业和信息化厅".into(),
            date: "2026年11月27日".into(),
            check: Some(CertificateCheck {
                url: "https://jiqun.example.gov.cn/verify/C2026-001".into(),
                caption: "扫码或访问以下网址查验".into(),
            }),
        }
    }

    fn fonts() -> Fonts {
        match Fonts::load(&default_font_paths()) {
            Ok(fonts) => fonts,
            Err(e) => panic!("{e}；请安装 fonts-noto-cjk（apt-get install -y fonts-noto-cjk）"),
        }
    }

    fn temp_pdf(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("jiqun-pdf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Runs the real `pdftotext`; fails (never skips) when poppler-utils is missing.
    fn pdftotext(pdf: &Path, args: &[&str]) -> String {
        let output = Command::new("pdftotext")
            .args(args)
            .arg(pdf)
            .arg("-")
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "pdftotext 无法运行（{e}）：请安装 poppler-utils（apt-get install -y poppler-utils）"
                )
            });
        assert!(
            output.status.success(),
            "pdftotext failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn squash(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn certificate_text_is_extractable() {
        let pdf = certificate_pdf(&fonts(), &sample()).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let path = temp_pdf("certificate.pdf", &pdf);
        let text = squash(&pdftotext(&path, &["-layout"]));
        for expected in [
            "证书",
            "湘集群认〔2026〕第001号",
            "长沙工程机械产业集群",
            "长沙市工程机械产业集群促进会",
            "被认定为湖南省先进制造业集群。",
            "湖南省工业和信息化厅",
            "2026年11月27日",
            "扫码或访问以下网址查验",
            "https://jiqun.example.gov.cn/verify/C2026-001",
        ] {
            assert!(text.contains(&squash(expected)), "{expected} not in {text}");
        }
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn a_long_paragraph_wraps_within_the_margins() {
        let sentence = "长沙工程机械产业集群（申报主体：长沙市工程机械产业集群促进会）被认定为湖南省先进制造业集群，培育期为2026年至2028年。";
        let mut cert = sample();
        cert.paragraphs = vec![sentence.repeat(4), "特发此证。".into()];
        let fonts = fonts();
        let pdf = certificate_pdf(&fonts, &cert).unwrap();
        let path = temp_pdf("long.pdf", &pdf);

        let text = pdftotext(&path, &["-layout"]);
        let body_lines = text.lines().filter(|l| l.contains("集群")).count();
        assert!(
            body_lines >= 8,
            "expected the paragraph on many lines:\n{text}"
        );
        assert!(
            squash(&text).contains(&squash(&sentence.repeat(4))),
            "{text}"
        );
        assert!(squash(&text).contains("特发此证。"), "{text}");

        // Every word box pdftotext finds lies inside the text area.
        let boxes = pdftotext(&path, &["-bbox"]);
        let mut words = 0;
        for line in boxes.lines().filter(|l| l.contains("<word ")) {
            let attr = |name: &str| -> f32 {
                let start = line.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                let end = start + line[start..].find('"').unwrap();
                line[start..end].parse().unwrap()
            };
            words += 1;
            assert!(attr("xMin") >= MARGIN - 1.0, "{line}");
            assert!(attr("xMax") <= PAGE_WIDTH - MARGIN + 1.0, "{line}");
        }
        assert!(words > 8, "{boxes}");

        // And the lines themselves, as measured with the font.
        let metrics = fonts.regular.metrics().unwrap();
        let lines = wrap(&sentence.repeat(4), TEXT_WIDTH, |c| {
            metrics.advance(c) * 18.0
        });
        assert!(lines.len() >= 8);
        for line in &lines {
            assert!(
                metrics.width(line, 0.0) * 18.0 <= TEXT_WIDTH + 0.01,
                "{line}"
            );
            assert!(
                !NO_LINE_START.contains(line.chars().next().unwrap()),
                "{line}"
            );
        }
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn too_much_text_is_refused() {
        let mut cert = sample();
        cert.paragraphs = vec!["很长的正文".repeat(400)];
        assert!(matches!(
            certificate_pdf(&fonts(), &cert),
            Err(PdfError::TooLong { chars: 2000 })
        ));
    }

    #[test]
    fn a_character_missing_from_the_font_is_named() {
        let mut cert = sample();
        cert.paragraphs = vec!["集群\u{10FFFD}".into()];
        let err = certificate_pdf(&fonts(), &cert).unwrap_err();
        assert!(matches!(err, PdfError::MissingGlyph { .. }), "{err}");
        assert!(err.to_string().contains("U+10FFFD"), "{err}");
    }

    #[test]
    fn the_simplified_chinese_face_of_a_collection_is_used() {
        let fonts = fonts();
        if fonts.path().to_string_lossy().contains("NotoSerifCJK") {
            let font =
                FontRef::from_index(fonts.regular.data.as_slice(), fonts.regular.index).unwrap();
            assert!(is_simplified_chinese(&font));
            assert!(fonts.bold.is_some(), "the Bold sibling is loaded");
        }
    }

    #[test]
    fn a_missing_font_file_is_named_in_chinese() {
        let err = Fonts::load(&[PathBuf::from("/nonexistent/字体.ttc")]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("未找到可用的中文字体文件"), "{text}");
        assert!(text.contains("/nonexistent/字体.ttc"), "{text}");
        assert!(text.contains("文件不存在"), "{text}");
        assert!(text.contains("JIQUN_PDF_FONT"), "{text}");

        let cache = FontCache::new(Some(PathBuf::from("/nonexistent/字体.ttc")));
        assert!(matches!(cache.get(), Err(PdfError::NoFont { .. })));
        assert!(matches!(cache.get(), Err(PdfError::NoFont { .. })));
    }

    #[test]
    fn a_file_that_is_not_a_font_is_refused() {
        let path = temp_pdf("not-a-font.ttf", b"hello");
        let err = Fonts::load(std::slice::from_ref(&path))
            .unwrap_err()
            .to_string();
        assert!(err.contains("不是有效的字体文件"), "{err}");
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn fonts_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Fonts>();
        shareable::<FontCache>();
    }

    #[test]
    fn the_cache_loads_once() {
        let cache = FontCache::new(None);
        let a = cache.get().unwrap();
        let b = cache.get().unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }

    fn unit(_: char) -> f32 {
        1.0
    }

    #[test]
    fn wrap_breaks_between_chinese_characters() {
        assert_eq!(
            wrap("一二三四五六七八九十", 4.0, unit),
            ["一二三四", "五六七八", "九十"]
        );
        assert_eq!(wrap("一二三", 10.0, unit), ["一二三"]);
        assert!(wrap("", 10.0, unit).is_empty());
    }

    #[test]
    fn wrap_keeps_closing_punctuation_off_the_line_start() {
        // "。" would start line two: "四" comes down with it.
        assert_eq!(wrap("一二三四。五六", 4.0, unit), ["一二三", "四。五六"]);
        // Two closers in a row.
        assert_eq!(wrap("一二三四）。五", 4.0, unit), ["一二三", "四）。五"]);
        for p in "。，、；：）》".chars() {
            let text = format!("一二三四{p}五六七八{p}九十");
            for line in wrap(&text, 4.0, unit) {
                assert!(!line.starts_with(p), "{text}: {line:?}");
                assert!(line.chars().count() <= 4);
            }
        }
    }

    #[test]
    fn wrap_keeps_opening_punctuation_off_the_line_end() {
        assert_eq!(wrap("一二三（四五）", 4.0, unit), ["一二三", "（四五）"]);
        assert_eq!(wrap("一二三《四》", 4.0, unit), ["一二三", "《四》"]);
    }

    #[test]
    fn wrap_keeps_numbers_and_words_whole() {
        assert_eq!(wrap("培育期2026年", 4.0, unit), ["培育期", "2026", "年"]);
        assert_eq!(wrap("hello world", 7.0, unit), ["hello", "world"]);
        // A run longer than a line is cut.
        assert_eq!(wrap("1234567890", 4.0, unit), ["1234", "5678", "90"]);
    }

    #[test]
    fn wrap_honours_newlines_and_widths() {
        assert_eq!(wrap("一二\n三", 10.0, unit), ["一二", "三"]);
        let narrow = |c: char| if c.is_ascii() { 0.5 } else { 1.0 };
        assert_eq!(wrap("ab一二三", 3.0, narrow), ["ab一二", "三"]);
    }

    #[test]
    fn wrap_never_loses_text_nor_overflows() {
        let text = "长沙工程机械产业集群（申报主体：长沙市工程机械产业集群促进会）被认定为湖南省先进制造业集群，培育期为2026年至2028年；特此证明。".repeat(3);
        for width in 3..30 {
            let lines = wrap(&text, width as f32, unit);
            assert_eq!(lines.concat(), text, "width {width}");
            for line in &lines {
                assert!(line.chars().count() <= width, "width {width}: {line}");
                let first = line.chars().next().unwrap();
                assert!(!NO_LINE_START.contains(first), "width {width}: {line}");
                let last = line.chars().last().unwrap();
                assert!(!NO_LINE_END.contains(last), "width {width}: {line}");
            }
        }
    }
}
