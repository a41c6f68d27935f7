//! The house style of the Excel exports (the recommended list, the round's list, the score
//! sheets and the ranking): a merged title row, bold shaded headers, thin borders, the header
//! rows frozen.

use rust_xlsxwriter::{ExcelDateTime, Format, FormatAlign, FormatBorder, Worksheet, XlsxError};
use time::OffsetDateTime;

use crate::error::AppError;

pub(crate) fn xlsx_err(e: XlsxError) -> AppError {
    AppError::internal(format!("xlsx: {e}"))
}

/// A moment as an Excel date-time in Beijing time.
pub(crate) fn excel_time(at: OffsetDateTime) -> Result<ExcelDateTime, AppError> {
    let t = crate::clock::local(at);
    let year =
        u16::try_from(t.year()).map_err(|_| AppError::Internal("year out of range".into()))?;
    ExcelDateTime::from_ymd(year, u8::from(t.month()), t.day())
        .and_then(|d| d.and_hms(u16::from(t.hour()), t.minute(), t.second()))
        .map_err(xlsx_err)
}

/// The cell formats of the house style.
pub(crate) struct Styles {
    pub title: Format,
    pub header: Format,
    pub cell: Format,
    pub wrap: Format,
    /// Two decimals: scores and amounts.
    pub number: Format,
    /// 2026年12月4日 14:05, as every page writes a time
    pub when: Format,
}

pub(crate) fn styles() -> Styles {
    let cell = Format::new().set_border(FormatBorder::Thin);
    Styles {
        title: Format::new()
            .set_bold()
            .set_font_size(14)
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter),
        header: Format::new()
            .set_bold()
            .set_border(FormatBorder::Thin)
            .set_background_color("#F0F2F4")
            .set_text_wrap()
            .set_align(FormatAlign::Center)
            .set_align(FormatAlign::VerticalCenter),
        wrap: cell.clone().set_text_wrap(),
        number: cell.clone().set_num_format("0.00"),
        when: cell
            .clone()
            .set_num_format("yyyy\"年\"m\"月\"d\"日\" hh:mm"),
        cell,
    }
}

/// The title merged across the first row, the headers in the second, both rows frozen.
pub(crate) fn header_row<S: AsRef<str>>(
    ws: &mut Worksheet,
    st: &Styles,
    title: &str,
    headers: &[S],
) -> Result<(), AppError> {
    let last = u16::try_from(headers.len().saturating_sub(1)).unwrap_or(0);
    ws.merge_range(0, 0, 0, last, title, &st.title)
        .map_err(xlsx_err)?;
    ws.set_row_height(0, 28).map_err(xlsx_err)?;
    for (col, h) in (0u16..).zip(headers) {
        ws.write_string_with_format(1, col, h.as_ref(), &st.header)
            .map_err(xlsx_err)?;
    }
    ws.set_freeze_panes(2, 0).map_err(xlsx_err)?;
    Ok(())
}

/// Column widths from the first column on.
pub(crate) fn column_widths(ws: &mut Worksheet, widths: &[f64]) -> Result<(), AppError> {
    for (col, w) in (0u16..).zip(widths) {
        ws.set_column_width(col, *w).map_err(xlsx_err)?;
    }
    Ok(())
}
