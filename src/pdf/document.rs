//! An official document (公文, GB/T 9704 in outline) as A4 pages: the issuing organ's mark in
//! red, the document number, a red rule, the title, the addressee, the body paragraphs (indented
//! two characters, wrapped with the certificate's line breaking), then issuer and date flush
//! right; the body runs onto further pages, each numbered "— n —" at the foot.

use krilla::Document;
use krilla::geom::{PathBuilder, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;

use super::{
    Fonts, INK, Metrics, PAGE_HEIGHT, PAGE_WIDTH, PdfError, RED, clean, color, draw_line, wrap,
};

/// What a document says; the caller fills it from its frozen record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentText {
    /// The organ's mark, e.g. "湖南省工业和信息化厅".
    pub organ: String,
    /// e.g. "湘工信集群撤〔2026〕1号"
    pub number: String,
    pub title: String,
    /// e.g. "长沙工程机械产业集群促进会，长沙市工业和信息化局："
    pub addressee: String,
    pub paragraphs: Vec<String>,
    pub issuer: String,
    pub date: String,
}

// 公文 proportions: 28 mm side margins, 三号 (16 pt) body, about 22 lines to a page.
const SIDE: f32 = 79.0;
const WIDTH: f32 = PAGE_WIDTH - 2.0 * SIDE;
const TOP: f32 = 104.0;
const BOTTOM: f32 = PAGE_HEIGHT - 90.0;
const ORGAN_SIZE: f32 = 30.0;
const TITLE_SIZE: f32 = 20.0;
const BODY: f32 = 16.0;
const LINE: f32 = BODY * 1.8;
const FOLIO_SIZE: f32 = 12.0;

enum Item {
    Text {
        text: String,
        x: f32,
        baseline: f32,
        size: f32,
        bold: bool,
        red: bool,
    },
    Rule {
        y: f32,
    },
}

/// Places items top to bottom, starting a new page when a line would pass the foot.
struct Pages {
    pages: Vec<Vec<Item>>,
    y: f32,
}

/// One line of text to place.
struct Line {
    text: String,
    x: f32,
    height: f32,
    size: f32,
    bold: bool,
    red: bool,
}

impl Pages {
    fn line(&mut self, height: f32) -> f32 {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = TOP;
        }
        self.y += height;
        self.y
    }

    fn push(&mut self, item: Item) {
        if let Some(page) = self.pages.last_mut() {
            page.push(item);
        }
    }

    fn text(&mut self, l: Line) {
        let baseline = self.line(l.height);
        self.push(Item::Text {
            text: l.text,
            x: l.x,
            baseline,
            size: l.size,
            bold: l.bold,
            red: l.red,
        });
    }

    fn body(&mut self, text: String, x: f32) {
        self.text(Line {
            text,
            x,
            height: LINE,
            size: BODY,
            bold: false,
            red: false,
        });
    }
}

/// Lays out and renders the document.
pub fn document_pdf(fonts: &Fonts, doc: &DocumentText) -> Result<Vec<u8>, PdfError> {
    let regular = fonts.regular.metrics()?;
    let bold = fonts.heading().metrics()?;
    let centred =
        |m: &Metrics<'_>, text: &str, size: f32| (PAGE_WIDTH - m.width(text, 0.0) * size) / 2.0;
    let mut pages = Pages {
        pages: vec![Vec::new()],
        y: TOP,
    };
    let organ = clean(&doc.organ, false);
    let fit = (WIDTH / bold.width(&organ, 0.0).max(1.0)).min(ORGAN_SIZE);
    pages.text(Line {
        x: centred(&bold, &organ, fit),
        text: organ,
        height: fit,
        size: fit,
        bold: true,
        red: true,
    });
    let number = clean(&doc.number, false);
    pages.text(Line {
        x: centred(&regular, &number, BODY),
        text: number,
        height: LINE * 1.6,
        size: BODY,
        bold: false,
        red: false,
    });
    let rule = pages.line(BODY * 0.8);
    pages.push(Item::Rule { y: rule });
    pages.line(LINE * 0.6);
    for line in wrap(&clean(&doc.title, false), WIDTH, |c| {
        bold.advance(c) * TITLE_SIZE
    }) {
        pages.text(Line {
            x: centred(&bold, &line, TITLE_SIZE),
            text: line,
            height: TITLE_SIZE * 1.7,
            size: TITLE_SIZE,
            bold: true,
            red: false,
        });
    }
    pages.line(LINE * 0.5);
    for line in wrap(&clean(&doc.addressee, false), WIDTH, |c| {
        regular.advance(c) * BODY
    }) {
        pages.body(line, SIDE);
    }
    for paragraph in &doc.paragraphs {
        let indented = format!("\u{3000}\u{3000}{}", clean(paragraph, true));
        for piece in indented.split('\n') {
            for line in wrap(piece, WIDTH, |c| regular.advance(c) * BODY) {
                pages.body(line, SIDE);
            }
        }
    }
    // 落款: issuer and date centred on each other, the block four characters from the right.
    pages.line(LINE);
    let issuer = clean(&doc.issuer, false);
    let date = clean(&doc.date, false);
    let block = regular.width(&issuer, 0.0).max(regular.width(&date, 0.0)) * BODY;
    let centre = PAGE_WIDTH - SIDE - 4.0 * BODY - block / 2.0;
    for text in [issuer, date] {
        let x = centre - regular.width(&text, 0.0) * BODY / 2.0;
        pages.body(text, x);
    }
    render(&regular, &bold, doc, pages.pages)
}

fn render(
    regular: &Metrics<'_>,
    bold: &Metrics<'_>,
    doc: &DocumentText,
    pages: Vec<Vec<Item>>,
) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .language("zh-CN".into())
            .creator("jiqun".into())
            .title(format!("{} {}", doc.title, doc.number).trim().to_string()),
    );
    let count = pages.len();
    for (n, items) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT)
            .ok_or_else(|| PdfError::Render("页面尺寸无效".into()))?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        for item in items {
            match item {
                Item::Text {
                    text,
                    x,
                    baseline,
                    size,
                    bold: b,
                    red,
                } => {
                    let m = if b { bold } else { regular };
                    let ink = if red { RED } else { INK };
                    draw_line(&mut surface, m, &text, x, baseline, size, 0.0, ink)?;
                }
                Item::Rule { y } => draw_rule(&mut surface, y)?,
            }
        }
        if count > 1 {
            let folio = format!("— {} —", n + 1);
            let x = (PAGE_WIDTH - regular.width(&folio, 0.0) * FOLIO_SIZE) / 2.0;
            draw_line(
                &mut surface,
                regular,
                &folio,
                x,
                PAGE_HEIGHT - 50.0,
                FOLIO_SIZE,
                0.0,
                INK,
            )?;
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| PdfError::Render(e.to_string()))
}

/// The red rule under the document number.
fn draw_rule(surface: &mut Surface<'_>, y: f32) -> Result<(), PdfError> {
    let rect = Rect::from_xywh(SIDE, y, WIDTH, 1.5)
        .ok_or_else(|| PdfError::Render("分隔线尺寸无效".into()))?;
    let mut builder = PathBuilder::new();
    builder.push_rect(rect);
    let path = builder
        .finish()
        .ok_or_else(|| PdfError::Render("分隔线尺寸无效".into()))?;
    surface.set_stroke(None);
    surface.set_fill(Some(Fill {
        paint: color(RED).into(),
        ..Default::default()
    }));
    surface.draw_path(&path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_decision_runs_onto_numbered_pages_with_its_text() {
        let Ok(fonts) = Fonts::load(&super::super::default_font_paths()) else {
            return; // No CJK font on this machine: the certificate tests say so already.
        };
        let doc = DocumentText {
            organ: "湖南省工业和信息化厅".into(),
            number: "湘工信集群撤〔2026〕1号".into(),
            title: "关于撤销长沙工程机械产业集群湖南省先进制造业集群称号的决定".into(),
            addressee: "长沙工程机械产业集群促进会，长沙市工业和信息化局：".into(),
            paragraphs: vec!["经查，该集群申报材料存在弄虚作假情形。".repeat(40)],
            issuer: "湖南省工业和信息化厅".into(),
            date: "2026年12月18日".into(),
        };
        let bytes = document_pdf(&fonts, &doc).unwrap();
        assert!(bytes.starts_with(b"%PDF"));
        let path = std::env::temp_dir().join(format!("jiqun-document-{}.pdf", std::process::id()));
        std::fs::write(&path, &bytes).unwrap();
        let out = std::process::Command::new("pdftotext")
            .arg(&path)
            .arg("-")
            .output();
        let _ = std::fs::remove_file(&path);
        let Ok(out) = out else {
            return; // poppler-utils missing: the bytes were produced, nothing more to read.
        };
        let text = String::from_utf8_lossy(&out.stdout).replace([' ', '\n'], "");
        assert!(text.contains("湘工信集群撤〔2026〕1号"), "{text}");
        assert!(text.contains("长沙市工业和信息化局"), "{text}");
        assert!(
            text.contains("—2—"),
            "the body runs onto a second page: {text}"
        );
        assert!(text.contains("2026年12月18日"), "{text}");
    }
}
