//! The monthly report (月報) as a workbook: a title, the rows under a frozen header —
//! label columns as text, counts as numbers — and a total row.

/// One row: its labels (事務所, 種別) and its counts (one per count column).
pub struct ReportRow {
    pub labels: Vec<String>,
    pub counts: Vec<u64>,
}

/// The report: `title` on row 1, `subtitle` on row 2, then the header (`label_headers`
/// then `count_headers`) and the rows, and a 合計 row summing each count column.
pub fn report_xlsx(
    title: &str,
    subtitle: &str,
    label_headers: &[&str],
    count_headers: &[&str],
    rows: &[ReportRow],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, FormatBorder, Workbook};
    const HEADER_ROW: u32 = 3;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("月報")?;
    let title_format = Format::new().set_bold().set_font_size(14);
    let head = Format::new()
        .set_bold()
        .set_background_color("#E8E8EE")
        .set_border(FormatBorder::Thin);
    let cell = Format::new().set_border(FormatBorder::Thin);
    let number = cell.clone().set_num_format("#,##0");
    let total = number.clone().set_bold();
    sheet.write_with_format(0, 0, title, &title_format)?;
    sheet.write(1, 0, subtitle)?;
    let labels = u16::try_from(label_headers.len()).unwrap_or(0);
    for (c, h) in (0u16..).zip(label_headers.iter().chain(count_headers)) {
        sheet.write_with_format(HEADER_ROW, c, *h, &head)?;
        sheet.set_column_width(c, if c < labels { 16 } else { 11 })?;
    }
    let mut sums = vec![0u64; count_headers.len()];
    let mut r = HEADER_ROW + 1;
    for row in rows {
        for (c, label) in (0u16..).zip(&row.labels) {
            sheet.write_with_format(r, c, label, &cell)?;
        }
        for ((c, n), sum) in (labels..).zip(&row.counts).zip(sums.iter_mut()) {
            // Counts are small; f64 holds them exactly.
            #[allow(clippy::cast_precision_loss)]
            sheet.write_with_format(r, c, *n as f64, &number)?;
            *sum += n;
        }
        r += 1;
    }
    sheet.write_with_format(r, 0, "合計", &head)?;
    for c in 1..labels {
        sheet.write_with_format(r, c, "", &head)?;
    }
    for (c, n) in (labels..).zip(&sums) {
        #[allow(clippy::cast_precision_loss)]
        sheet.write_with_format(r, c, *n as f64, &total)?;
    }
    sheet.set_freeze_panes(HEADER_ROW + 1, 0)?;
    book.save_to_buffer()
}
