//! Opening a workbook from bytes, safely: the format is sniffed from the bytes
//! (never the extension), the container is inspected before calamine sees it, and
//! cells stream into sparse [`Grid`]s under the [`Limits`].
//!
//! - **.xlsx / .xlsm** (zip): the central directory is checked for size and
//!   compression ratio (the `zip` crate also refuses an entry that expands past
//!   its declared size), the shared-string count is checked (calamine reserves
//!   memory by it), then each sheet is streamed cell by cell with its formula flag
//!   in the same pass.
//! - **.ods** (zip): the same zip checks, an encrypted manifest is refused, and
//!   `content.xml` is pre-scanned so calamine's dense ranges (repeated rows and
//!   columns included) stay within the cell limit.
//! - **.xls** (OLE/CFB): the BIFF records are pre-scanned exactly as calamine will
//!   walk them (sheet positions, declared dimensions, cell positions), so its
//!   dense ranges stay within the cell limit; `FILEPASS` means encrypted.
//! - An OLE container holding `EncryptionInfo`/`EncryptedPackage` is a
//!   password-protected .xlsx.
//!
//! calamine is called inside `catch_unwind`: a panic in the parser on a malformed
//! file becomes [`Error::Corrupt`] instead of taking the server down.
//! Hidden sheets are not read: what the user does not see is not imported.

use std::collections::HashSet;
use std::io::{Cursor, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};

use calamine::{Data, DataRef, Ods, Reader, SheetType, SheetVisible, Xls, Xlsx, XlsxError};
use chrono::NaiveDate;
use quick_xml::events::{BytesStart, Event};

use crate::error::{Error, Result};
use crate::grid::{Cell, Grid, Value};
use crate::limits::Limits;

const MIB: u64 = 1024 * 1024;
const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// How a cell looks, where the format tells (xlsx only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Look {
    pub struck: bool,
    pub filled: bool,
}

/// An opened workbook: its visible worksheets as grids.
pub(crate) struct Book<'a> {
    pub sheets: Vec<Grid>,
    xlsx: Option<Xlsx<Cursor<&'a [u8]>>>,
}

impl Book<'_> {
    /// The strike-through and fill of the cells at `positions` of `sheet`
    /// (0-based row, column), in the same order. Only .xlsx exposes cell styles;
    /// elsewhere, and on any error, every look is the default.
    pub fn looks(&mut self, sheet: &str, positions: &[(u32, u32)]) -> Vec<Look> {
        let mut out = vec![Look::default(); positions.len()];
        let Some(xlsx) = self.xlsx.as_mut() else {
            return out;
        };
        let found = catch_unwind(AssertUnwindSafe(|| -> Option<Vec<(usize, Look)>> {
            let mut reader = xlsx.worksheet_cells_reader(sheet).ok()?;
            let mut ids = Vec::new();
            while let Ok(Some((row, col, id))) = reader.next_style_id() {
                if let Some(i) = positions.iter().position(|&p| p == (row, col)) {
                    ids.push((i, id));
                }
            }
            let styles = reader.styles();
            Some(
                ids.into_iter()
                    .filter_map(|(i, id)| {
                        let style = styles.get(id)?;
                        let struck = style.font.as_ref().is_some_and(|f| f.has_strikethrough());
                        let filled = style.fill.as_ref().is_some_and(|f| f.is_visible());
                        Some((i, Look { struck, filled }))
                    })
                    .collect(),
            )
        }));
        if let Ok(Some(found)) = found {
            for (i, look) in found {
                if let Some(slot) = out.get_mut(i) {
                    *slot = look;
                }
            }
        }
        out
    }
}

/// Opens `bytes` (named `file` in messages) under `limits`.
pub(crate) fn open<'a>(file: &str, bytes: &'a [u8], limits: &Limits) -> Result<Book<'a>> {
    let size = bytes.len() as u64;
    if size > limits.max_file_bytes {
        return Err(Error::TooLarge {
            file: file.to_owned(),
            size,
            limit: limits.max_file_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(Error::corrupt(
            file,
            "ファイルが空（0バイト）です",
            "empty file",
        ));
    }
    if bytes.starts_with(b"PK") {
        let kind = inspect_zip(file, bytes, limits)?;
        match kind {
            ZipKind::Xlsx => read_xlsx(file, bytes, limits),
            ZipKind::Ods => {
                prescan_ods(file, bytes, limits)?;
                read_ods(file, bytes, limits)
            }
        }
    } else if bytes.starts_with(&CFB_MAGIC) {
        read_cfb(file, bytes, limits)
    } else {
        Err(Error::unsupported(file, sniff_other(bytes)))
    }
}

/// What a non-zip, non-OLE file probably is, in Japanese.
fn sniff_other(bytes: &[u8]) -> &'static str {
    let head = &bytes[..bytes.len().min(512)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    let contains = |needle: &[u8]| lower.windows(needle.len()).any(|w| w == needle);
    if head.starts_with(b"%PDF") {
        "PDFファイル"
    } else if head.starts_with(b"\x89PNG")
        || head.starts_with(&[0xFF, 0xD8, 0xFF])
        || head.starts_with(b"GIF8")
    {
        "画像ファイル"
    } else if head.starts_with(b"{\\rtf") {
        "RTF文書"
    } else if head.starts_with(b"Rar!")
        || head.starts_with(&[0x1F, 0x8B])
        || head.starts_with(b"7z")
    {
        "ZIP以外の圧縮ファイル"
    } else if contains(b"<html") || contains(b"<!doctype html") {
        "HTMLファイル"
    } else if contains(b"<?xml") {
        "XMLファイル（Excel 2003 XML形式など）"
    } else if head
        .iter()
        .all(|&b| b >= 0x20 || b == b'\n' || b == b'\r' || b == b'\t')
        || std::str::from_utf8(head).is_ok()
    {
        "CSVなどのテキストファイル"
    } else {
        "Excelブックとして認識できない形式のファイル"
    }
}

/// Runs a parser call, turning a panic into [`Error::Corrupt`].
fn guarded<T>(file: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Error::corrupt(
            file,
            "ファイルの内容が壊れています",
            "the spreadsheet parser panicked",
        ))
    })
}

// ---------------------------------------------------------------------------
// Zip containers (.xlsx, .xlsm, .ods)
// ---------------------------------------------------------------------------

enum ZipKind {
    Xlsx,
    Ods,
}

fn inspect_zip(file: &str, bytes: &[u8], limits: &Limits) -> Result<ZipKind> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Error::corrupt(file, "ZIPの構造が壊れています", e))?;
    let bomb = |uncompressed: u64, compressed: u64| Error::ZipBomb {
        file: file.to_owned(),
        uncompressed,
        ratio: uncompressed / compressed.max(1),
        limit: limits.max_uncompressed_bytes,
        max_ratio: limits.max_compression_ratio,
    };
    let mut total: u64 = 0;
    let mut total_compressed: u64 = 0;
    let mut names = Vec::with_capacity(archive.len().min(10_000));
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| Error::corrupt(file, "ZIPの構造が壊れています", e))?;
        if entry.encrypted() {
            return Err(Error::Encrypted {
                file: file.to_owned(),
            });
        }
        let (size, compressed) = (entry.size(), entry.compressed_size());
        if size > MIB && size / compressed.max(1) > limits.max_compression_ratio {
            return Err(bomb(size, compressed));
        }
        total = total.saturating_add(size);
        total_compressed = total_compressed.saturating_add(compressed);
        if total > limits.max_uncompressed_bytes {
            return Err(bomb(total, total_compressed));
        }
        names.push(
            entry
                .name()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_ascii_lowercase(),
        );
    }
    if total > MIB && total / total_compressed.max(1) > limits.max_compression_ratio {
        return Err(bomb(total, total_compressed));
    }
    let has = |n: &str| names.iter().any(|x| x == n);
    if has("xl/workbook.bin") {
        return Err(Error::unsupported(file, "Excelバイナリブック（.xlsb）"));
    }
    if has("xl/workbook.xml") {
        check_shared_strings(file, &mut archive, &names, limits)?;
        return Ok(ZipKind::Xlsx);
    }
    if has("content.xml") {
        let mimetype = read_small(&mut archive, "mimetype", 256).unwrap_or_default();
        let mimetype = String::from_utf8_lossy(&mimetype);
        if !mimetype.is_empty() && !mimetype.contains("opendocument.spreadsheet") {
            return Err(Error::unsupported(file, "表計算ではないOpenDocument文書"));
        }
        let manifest = read_small(&mut archive, "META-INF/manifest.xml", MIB).unwrap_or_default();
        if manifest
            .windows(b"encryption-data".len())
            .any(|w| w == b"encryption-data")
        {
            return Err(Error::Encrypted {
                file: file.to_owned(),
            });
        }
        return Ok(ZipKind::Ods);
    }
    let found = if has("word/document.xml") {
        "Word文書（.docx）"
    } else if names.iter().any(|n| n.starts_with("ppt/")) {
        "PowerPointファイル"
    } else {
        "Excelブックを含まないZIP圧縮ファイル"
    };
    Err(Error::unsupported(file, found))
}

/// The first `max` bytes of entry `name`, if it exists and reads.
fn read_small<R: Read + std::io::Seek>(
    archive: &mut zip::ZipArchive<R>,
    name: &str,
    max: u64,
) -> Option<Vec<u8>> {
    let entry = archive.by_name(name).ok()?;
    let mut buf = Vec::new();
    entry.take(max).read_to_end(&mut buf).ok()?;
    Some(buf)
}

/// calamine reserves memory by `<sst uniqueCount="…">`: refuse absurd counts.
fn check_shared_strings<R: Read + std::io::Seek>(
    file: &str,
    archive: &mut zip::ZipArchive<R>,
    names: &[String],
    limits: &Limits,
) -> Result<()> {
    for i in 0..archive.len() {
        if !names.get(i).is_some_and(|n| n.contains("sharedstrings")) {
            continue;
        }
        let Ok(entry) = archive.by_index(i) else {
            continue;
        };
        let mut head = Vec::new();
        if entry.take(1024).read_to_end(&mut head).is_err() {
            return Err(Error::corrupt(
                file,
                "共有文字列（sharedStrings）が壊れています",
                "cannot read sharedStrings.xml",
            ));
        }
        for attr in [&b"uniqueCount=\""[..], &b"count=\""[..]] {
            if let Some(at) = head.windows(attr.len()).position(|w| w == attr) {
                let digits: Vec<u8> = head[at + attr.len()..]
                    .iter()
                    .copied()
                    .take_while(u8::is_ascii_digit)
                    .collect();
                let n = std::str::from_utf8(&digits)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(u64::MAX);
                if n > limits.max_cells as u64 {
                    return Err(Error::TooManyCells {
                        file: file.to_owned(),
                        limit: limits.max_cells,
                    });
                }
            }
        }
        // calamine holds each shared string whole: a string far over the cell limit is
        // refused here, streamed through a small buffer, before it is ever held.
        let Ok(entry) = archive.by_index(i) else {
            continue;
        };
        if longest_text_run(entry)
            .is_some_and(|bytes| bytes > MAX_BYTES_PER_CHAR * limits.max_cell_chars)
        {
            return Err(Error::CellTooLong {
                file: file.to_owned(),
                sheet: "共有文字列".to_owned(),
                cell: String::new(),
                limit: limits.max_cell_chars,
            });
        }
    }
    Ok(())
}

/// Bytes one character may take in the XML text (UTF-8, or a character reference):
/// a run of text longer than this many bytes per allowed character is surely too long.
const MAX_BYTES_PER_CHAR: usize = 8;

/// The longest run of bytes between markup (`>` … `<`) in an XML stream, read through
/// a small buffer; `None` if the stream cannot be read.
fn longest_text_run(mut xml: impl Read) -> Option<usize> {
    let mut buf = [0u8; 64 * 1024];
    let (mut longest, mut run) = (0usize, 0usize);
    loop {
        let n = xml.read(&mut buf).ok()?;
        if n == 0 {
            return Some(longest.max(run));
        }
        for &b in &buf[..n] {
            if b == b'<' || b == b'>' {
                longest = longest.max(run);
                run = 0;
            } else {
                run += 1;
            }
        }
    }
}

/// The rows seen in one sheet.
#[derive(Default)]
struct RowCount {
    last: Option<u32>,
    count: usize,
}

/// Counts filled cells and rows against the limits while a sheet streams in.
struct Counter<'l> {
    file: &'l str,
    limits: &'l Limits,
    cells: usize,
}

impl Counter<'_> {
    /// Refuses a text longer than the limit, before it is copied anywhere.
    fn text(&self, sheet: &str, row: u32, col: u32, text: &str) -> Result<()> {
        let limit = self.limits.max_cell_chars;
        if text.len() > limit && text.chars().count() > limit {
            return Err(Error::CellTooLong {
                file: self.file.to_owned(),
                sheet: sheet.to_owned(),
                cell: crate::grid::a1(row, col),
                limit,
            });
        }
        Ok(())
    }

    fn cell(&mut self) -> Result<()> {
        self.cells += 1;
        if self.cells > self.limits.max_cells {
            return Err(Error::TooManyCells {
                file: self.file.to_owned(),
                limit: self.limits.max_cells,
            });
        }
        Ok(())
    }

    /// Counts a sheet's rows as its cells stream in: each change of row is a
    /// new row (cells come row by row; out-of-order rows only count more).
    fn row(&self, sheet: &str, rows: &mut RowCount, row: u32) -> Result<()> {
        if rows.last != Some(row) {
            rows.last = Some(row);
            rows.count += 1;
            if rows.count > self.limits.max_rows {
                return Err(Error::TooManyRows {
                    file: self.file.to_owned(),
                    sheet: sheet.to_owned(),
                    limit: self.limits.max_rows,
                });
            }
        }
        Ok(())
    }

    fn sheets(&self, count: usize) -> Result<()> {
        if count > self.limits.max_sheets {
            return Err(Error::TooManySheets {
                file: self.file.to_owned(),
                count,
                limit: self.limits.max_sheets,
            });
        }
        Ok(())
    }
}

fn visible_worksheets(sheets: &[calamine::Sheet]) -> Vec<String> {
    let mut seen = HashSet::new();
    sheets
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .filter(|s| seen.insert(s.name.clone()))
        .map(|s| s.name.clone())
        .collect()
}

fn read_xlsx<'a>(file: &str, bytes: &'a [u8], limits: &Limits) -> Result<Book<'a>> {
    let mut xlsx: Xlsx<Cursor<&'a [u8]>> = guarded(file, || {
        Xlsx::new(Cursor::new(bytes)).map_err(|e| xlsx_error(file, e))
    })?;
    let mut counter = Counter {
        file,
        limits,
        cells: 0,
    };
    counter.sheets(xlsx.sheets_metadata().len())?;
    let names = visible_worksheets(xlsx.sheets_metadata());
    let mut sheets = Vec::with_capacity(names.len());
    for name in names {
        let grid = guarded(file, || {
            stream_xlsx_sheet(file, &mut xlsx, &name, &mut counter)
        })?;
        if let Some(grid) = grid {
            sheets.push(grid);
        }
    }
    Ok(Book {
        sheets,
        xlsx: Some(xlsx),
    })
}

fn stream_xlsx_sheet(
    file: &str,
    xlsx: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    counter: &mut Counter<'_>,
) -> Result<Option<Grid>> {
    let mut reader = match xlsx.worksheet_cells_reader(name) {
        Ok(r) => r,
        Err(XlsxError::NotAWorksheet(_)) => return Ok(None),
        Err(e) => return Err(xlsx_error(file, e)),
    };
    let mut cells = Vec::new();
    let mut rows = RowCount::default();
    loop {
        let record = match reader.next_cell_with_formula_metadata() {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(e) => return Err(xlsx_error(file, e)),
        };
        let formula = record.formula.is_some();
        if let DataRef::String(text) = &record.value {
            counter.text(name, record.pos.0, record.pos.1, text)?;
        }
        if let DataRef::SharedString(text) = &record.value {
            counter.text(name, record.pos.0, record.pos.1, text)?;
        }
        let value = value_of_ref(record.value);
        if value.is_none() && !formula {
            continue;
        }
        counter.cell()?;
        let (row, col) = record.pos;
        counter.row(name, &mut rows, row)?;
        cells.push(Cell {
            row,
            col,
            value: value.unwrap_or(Value::Empty),
            formula,
        });
    }
    Ok(Some(Grid::new(name.to_owned(), cells)))
}

fn xlsx_error(file: &str, e: XlsxError) -> Error {
    match e {
        XlsxError::Password => Error::Encrypted {
            file: file.to_owned(),
        },
        XlsxError::Zip(_) | XlsxError::Io(_) => {
            Error::corrupt(file, "ZIPの中身を展開できません", e)
        }
        other => Error::corrupt(file, "ブックまたはシートのXMLが壊れています", other),
    }
}

/// A cell value as ours; `None` for an empty cell.
fn value_of_ref(v: DataRef<'_>) -> Option<Value> {
    Some(match v {
        DataRef::Empty => return None,
        DataRef::String(s) => Value::Text(s),
        DataRef::SharedString(s) => Value::Text(s.to_owned()),
        DataRef::Int(i) => Value::Number(i as f64),
        DataRef::Float(f) => Value::Number(f),
        DataRef::Bool(b) => Value::Bool(b),
        DataRef::DateTime(dt) => excel_datetime(dt),
        DataRef::DateTimeIso(s) => iso_date(s),
        DataRef::DurationIso(s) => Value::Text(s),
        DataRef::Error(e) => Value::Error(e.to_string()),
    })
}

fn value_of(v: &Data) -> Option<Value> {
    Some(match v {
        Data::Empty => return None,
        Data::String(s) => Value::Text(s.clone()),
        Data::Int(i) => Value::Number(*i as f64),
        Data::Float(f) => Value::Number(*f),
        Data::Bool(b) => Value::Bool(*b),
        Data::DateTime(dt) => excel_datetime(*dt),
        Data::DateTimeIso(s) => iso_date(s.clone()),
        Data::DurationIso(s) => Value::Text(s.clone()),
        Data::Error(e) => Value::Error(e.to_string()),
    })
}

fn excel_datetime(dt: calamine::ExcelDateTime) -> Value {
    if dt.is_datetime() {
        let (y, m, d, ..) = dt.to_ymd_hms_milli();
        if let Some(date) = NaiveDate::from_ymd_opt(i32::from(y), u32::from(m), u32::from(d)) {
            return Value::Date(date);
        }
    }
    Value::Number(dt.as_f64())
}

fn iso_date(s: String) -> Value {
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map_or(Value::Text(s), Value::Date)
}

/// Builds a grid from calamine's dense ranges (.xls, .ods).
fn grid_from_ranges(
    name: &str,
    values: &calamine::Range<Data>,
    formulas: &calamine::Range<String>,
    counter: &mut Counter<'_>,
) -> Result<Grid> {
    let mut cells = Vec::new();
    let mut rows = RowCount::default();
    let mut formula_at = HashSet::new();
    if let Some((r0, c0)) = formulas.start() {
        for (r, c, f) in formulas.used_cells() {
            if !f.is_empty() {
                formula_at.insert((r0 + r as u32, c0 + c as u32));
            }
        }
    }
    if let Some((r0, c0)) = values.start() {
        for (r, c, v) in values.used_cells() {
            let pos = (r0 + r as u32, c0 + c as u32);
            if let Data::String(text) = v {
                counter.text(name, pos.0, pos.1, text)?;
            }
            let formula = formula_at.remove(&pos);
            let Some(value) = value_of(v) else {
                if formula {
                    formula_at.insert(pos);
                }
                continue;
            };
            counter.cell()?;
            counter.row(name, &mut rows, pos.0)?;
            cells.push(Cell {
                row: pos.0,
                col: pos.1,
                value,
                formula,
            });
        }
    }
    for (row, col) in formula_at {
        counter.cell()?;
        counter.row(name, &mut rows, row)?;
        cells.push(Cell {
            row,
            col,
            value: Value::Empty,
            formula: true,
        });
    }
    Ok(Grid::new(name.to_owned(), cells))
}

fn read_ods<'a>(file: &str, bytes: &'a [u8], limits: &Limits) -> Result<Book<'a>> {
    let mut counter = Counter {
        file,
        limits,
        cells: 0,
    };
    let sheets = guarded(file, || {
        let mut ods: Ods<Cursor<&[u8]>> = Ods::new(Cursor::new(bytes)).map_err(|e| match e {
            calamine::OdsError::Password => Error::Encrypted {
                file: file.to_owned(),
            },
            other => Error::corrupt(file, "OpenDocumentの内容が壊れています", other),
        })?;
        counter.sheets(ods.sheets_metadata().len())?;
        let mut sheets = Vec::new();
        for name in visible_worksheets(ods.sheets_metadata()) {
            let values = ods
                .worksheet_range(&name)
                .map_err(|e| Error::corrupt(file, "シートの内容が壊れています", e))?;
            let formulas = ods
                .worksheet_formula(&name)
                .map_err(|e| Error::corrupt(file, "シートの内容が壊れています", e))?;
            sheets.push(grid_from_ranges(&name, &values, &formulas, &mut counter)?);
        }
        Ok(sheets)
    })?;
    Ok(Book { sheets, xlsx: None })
}

/// Streams `content.xml` and refuses tables whose cells, used area or rows (with
/// `number-rows-repeated`/`number-columns-repeated` expanded, as calamine does)
/// exceed the limits.
fn prescan_ods(file: &str, bytes: &[u8], limits: &Limits) -> Result<()> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Error::corrupt(file, "ZIPの構造が壊れています", e))?;
    let entry = archive
        .by_name("content.xml")
        .map_err(|e| Error::corrupt(file, "content.xml を開けません", e))?;
    let mut xml = quick_xml::Reader::from_reader(std::io::BufReader::new(entry));
    let corrupt = |e: &dyn std::fmt::Display| {
        Error::corrupt(file, "OpenDocumentの内容（content.xml）が壊れています", e)
    };
    let too_many_cells = || Error::TooManyCells {
        file: file.to_owned(),
        limit: limits.max_cells,
    };
    let max_cells = limits.max_cells as u64;
    let mut buf = Vec::new();
    let mut tables = 0usize;
    let mut total_cells: u64 = 0;
    // Per table.
    let mut row: u64 = 0;
    let mut rows_repeat: u64 = 1;
    let mut col: u64 = 0;
    let mut row_last_filled: Option<u64> = None;
    let mut bbox: Option<(u64, u64, u64, u64)> = None;
    let mut intermediate: u64 = 0;
    let mut filled_rows: u64 = 0;
    let mut table_name = String::new();
    loop {
        buf.clear();
        let event = xml.read_event_into(&mut buf).map_err(|e| corrupt(&e))?;
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e), false),
            Event::Empty(e) => (Some(e), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            match e.name().as_ref() {
                "table:table" => {
                    tables += 1;
                    if tables > limits.max_sheets {
                        return Err(Error::TooManySheets {
                            file: file.to_owned(),
                            count: tables,
                            limit: limits.max_sheets,
                        });
                    }
                    row = 0;
                    bbox = None;
                    intermediate = 0;
                    filled_rows = 0;
                    table_name = attr(e, "table:name").unwrap_or_default();
                }
                "table:table-row" => {
                    rows_repeat =
                        repeat(e, "table:number-rows-repeated").map_err(|e| corrupt(&e))?;
                    col = 0;
                    row_last_filled = None;
                    if empty {
                        row = row.saturating_add(rows_repeat);
                    }
                }
                "table:table-cell" | "table:covered-table-cell" => {
                    let cols =
                        repeat(e, "table:number-columns-repeated").map_err(|e| corrupt(&e))?;
                    let filled = !empty || attr(e, "office:value-type").is_some();
                    if filled {
                        let last_col = col.saturating_add(cols - 1);
                        let last_row = row.saturating_add(rows_repeat - 1);
                        bbox = Some(match bbox {
                            None => (row, last_row, col, last_col),
                            Some((r0, r1, c0, c1)) => {
                                (r0.min(row), r1.max(last_row), c0.min(col), c1.max(last_col))
                            }
                        });
                        total_cells = total_cells.saturating_add(cols.saturating_mul(rows_repeat));
                        row_last_filled = Some(last_col);
                        if total_cells > max_cells {
                            return Err(too_many_cells());
                        }
                    }
                    col = col.saturating_add(cols);
                }
                _ => {}
            }
        }
        match &event {
            Event::End(e) if e.name().as_ref() == "table:table-row" => {
                if let Some(last) = row_last_filled {
                    intermediate = intermediate.saturating_add(last.min(16_383) + 1);
                    filled_rows = filled_rows.saturating_add(rows_repeat);
                    if filled_rows > limits.max_rows as u64 {
                        return Err(Error::TooManyRows {
                            file: file.to_owned(),
                            sheet: table_name.clone(),
                            limit: limits.max_rows,
                        });
                    }
                }
                row = row.saturating_add(rows_repeat);
                rows_repeat = 1;
            }
            Event::End(e) if e.name().as_ref() == "table:table" => {
                let area = bbox.map_or(0, |(r0, r1, c0, c1)| {
                    (r1 - r0)
                        .saturating_add(1)
                        .saturating_mul((c1.min(16_383).saturating_sub(c0)) + 1)
                });
                if area > max_cells || intermediate > max_cells {
                    return Err(too_many_cells());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(())
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .map(|a| a.value.to_string())
}

fn repeat(e: &BytesStart<'_>, name: &str) -> std::result::Result<u64, String> {
    match attr(e, name) {
        None => Ok(1),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(|n| n.max(1))
            .map_err(|_| format!("bad repeat count {v:?}")),
    }
}

// ---------------------------------------------------------------------------
// OLE containers (.xls, encrypted .xlsx)
// ---------------------------------------------------------------------------

fn read_cfb<'a>(file: &str, bytes: &'a [u8], limits: &Limits) -> Result<Book<'a>> {
    let stream = guarded(file, || {
        let mut cfb = cfb::CompoundFile::open(Cursor::new(bytes))
            .map_err(|e| Error::corrupt(file, "OLE形式の構造が壊れています", e))?;
        if cfb.exists("/EncryptionInfo") || cfb.exists("/EncryptedPackage") {
            return Err(Error::Encrypted {
                file: file.to_owned(),
            });
        }
        let name = if cfb.is_stream("/Workbook") {
            "/Workbook"
        } else if cfb.is_stream("/Book") {
            "/Book"
        } else if cfb.is_stream("/WordDocument") {
            return Err(Error::unsupported(file, "Word文書（.doc）"));
        } else if cfb.is_stream("/PowerPoint Document") {
            return Err(Error::unsupported(file, "PowerPointファイル"));
        } else {
            return Err(Error::unsupported(
                file,
                "Excelブックを含まないOLE形式のファイル",
            ));
        };
        let stream = cfb
            .open_stream(name)
            .map_err(|e| Error::corrupt(file, "ブックのデータを読めません", e))?;
        let mut data = Vec::new();
        stream
            .take(limits.max_uncompressed_bytes.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|e| Error::corrupt(file, "ブックのデータを読めません", e))?;
        if data.len() as u64 > limits.max_uncompressed_bytes {
            return Err(Error::ZipBomb {
                file: file.to_owned(),
                uncompressed: data.len() as u64,
                ratio: data.len() as u64 / (bytes.len() as u64).max(1),
                limit: limits.max_uncompressed_bytes,
                max_ratio: limits.max_compression_ratio,
            });
        }
        Ok(data)
    })?;
    prescan_biff(file, &stream, limits)?;
    drop(stream);
    let mut counter = Counter {
        file,
        limits,
        cells: 0,
    };
    let sheets = guarded(file, || {
        let mut xls: Xls<Cursor<&[u8]>> = Xls::new(Cursor::new(bytes)).map_err(|e| match e {
            calamine::XlsError::Password => Error::Encrypted {
                file: file.to_owned(),
            },
            other => Error::corrupt(file, "xls形式の内容が壊れています", other),
        })?;
        let mut sheets = Vec::new();
        for name in visible_worksheets(xls.sheets_metadata()) {
            let values = xls
                .worksheet_range(&name)
                .map_err(|e| Error::corrupt(file, "シートの内容が壊れています", e))?;
            let formulas = xls
                .worksheet_formula(&name)
                .map_err(|e| Error::corrupt(file, "シートの内容が壊れています", e))?;
            sheets.push(grid_from_ranges(&name, &values, &formulas, &mut counter)?);
        }
        Ok(sheets)
    })?;
    Ok(Book { sheets, xlsx: None })
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *data.get(at)?,
        *data.get(at + 1)?,
        *data.get(at + 2)?,
        *data.get(at + 3)?,
    ]))
}

/// BIFF records of `stream` from `pos`: (type, body, next position).
fn records(stream: &[u8], mut pos: usize) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let typ = u16_at(stream, pos)?;
        let len = usize::from(u16_at(stream, pos + 2)?);
        let start = pos + 4;
        let end = start.checked_add(len)?;
        let body = stream.get(start..end)?;
        pos = end;
        Some((typ, body))
    })
}

/// Walks the workbook globals and each sheet the way calamine will, and refuses
/// an encrypted workbook or one whose sheets would make calamine allocate more
/// than the limits (declared dimensions, bounding box of cells, cell count).
fn prescan_biff(file: &str, stream: &[u8], limits: &Limits) -> Result<()> {
    let too_many_cells = || Error::TooManyCells {
        file: file.to_owned(),
        limit: limits.max_cells,
    };
    let max_cells = limits.max_cells as u64;
    let mut sheet_positions = Vec::new();
    for (typ, body) in records(stream, 0) {
        match typ {
            0x002F => {
                return Err(Error::Encrypted {
                    file: file.to_owned(),
                });
            }
            0x0085 => {
                sheet_positions.push(u32_at(body, 0).map_or(usize::MAX, |p| p as usize));
                if sheet_positions.len() > limits.max_sheets {
                    return Err(Error::TooManySheets {
                        file: file.to_owned(),
                        count: sheet_positions.len(),
                        limit: limits.max_sheets,
                    });
                }
            }
            0x000A => break,
            _ => {}
        }
    }
    let mut total_cells: u64 = 0;
    for (index, &pos) in sheet_positions.iter().enumerate() {
        if pos >= stream.len() {
            continue;
        }
        let mut bbox: Option<(u64, u64, u64, u64)> = None;
        let mut rows = HashSet::new();
        let mut seen_bof = false;
        let mut depth = 0usize;
        let mut add = |row: u64, first_col: u64, last_col: u64, count: u64| -> Result<()> {
            bbox = Some(match bbox {
                None => (row, row, first_col, last_col),
                Some((r0, r1, c0, c1)) => (
                    r0.min(row),
                    r1.max(row),
                    c0.min(first_col),
                    c1.max(last_col),
                ),
            });
            total_cells = total_cells.saturating_add(count);
            if total_cells > max_cells {
                return Err(too_many_cells());
            }
            if rows.insert(row) && rows.len() > limits.max_rows {
                return Err(Error::TooManyRows {
                    file: file.to_owned(),
                    sheet: format!("{}枚目のシート", index + 1),
                    limit: limits.max_rows,
                });
            }
            Ok(())
        };
        for (typ, body) in records(stream, pos) {
            if depth > 0 {
                match typ {
                    0x0809 => depth += 1,
                    0x000A => depth -= 1,
                    _ => {}
                }
                continue;
            }
            match typ {
                0x0809 => {
                    if seen_bof {
                        depth += 1;
                    } else {
                        seen_bof = true;
                    }
                }
                0x000A => break,
                0x0200 => {
                    // As calamine reads DIMENSIONS, and then reserves rows × cols.
                    let dims = match body.len() {
                        10 => u16_at(body, 0)
                            .zip(u16_at(body, 2))
                            .zip(u16_at(body, 4).zip(u16_at(body, 6)))
                            .map(|((rf, rl), (cf, cl))| {
                                (u32::from(rf), u32::from(rl), u32::from(cf), u32::from(cl))
                            }),
                        14 | 16 => u32_at(body, 0)
                            .zip(u32_at(body, 4))
                            .zip(u16_at(body, 8).zip(u16_at(body, 10)))
                            .map(|((rf, rl), (cf, cl))| (rf, rl, u32::from(cf), u32::from(cl))),
                        _ => None,
                    };
                    if let Some((rf, rl, cf, cl)) = dims {
                        let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                        if rl >= 1 && cl >= 1 {
                            if rl - 1 < rf || cl - 1 < cf {
                                return Err(Error::corrupt(
                                    file,
                                    "シートの範囲（DIMENSIONS）の記録が壊れています",
                                    "DIMENSIONS end before start",
                                ));
                            }
                            let area = u64::from(rl - rf).saturating_mul(u64::from(cl - cf));
                            if area > max_cells {
                                return Err(too_many_cells());
                            }
                        }
                    }
                }
                0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                    if let (Some(row), Some(col)) = (u16_at(body, 0), u16_at(body, 2)) {
                        add(u64::from(row), u64::from(col), u64::from(col), 1)?;
                    }
                }
                0x00BD => {
                    if let (Some(row), Some(first)) = (u16_at(body, 0), u16_at(body, 2)) {
                        let n = (body.len().saturating_sub(6) / 6) as u64;
                        let last = body
                            .len()
                            .checked_sub(2)
                            .and_then(|at| u16_at(body, at))
                            .map_or(0, u64::from);
                        let last = last.max(u64::from(first) + n.saturating_sub(1));
                        add(u64::from(row), u64::from(first), last, n.max(1))?;
                    }
                }
                _ => {}
            }
        }
        if let Some((r0, r1, c0, c1)) = bbox {
            let area = (r1 - r0)
                .saturating_add(1)
                .saturating_mul(c1.saturating_sub(c0) + 1);
            if area > max_cells {
                return Err(too_many_cells());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_sniffed_from_bytes_not_names() {
        let limits = Limits::default();
        let err = |bytes: &[u8]| open("x.xlsx", bytes, &limits).err().map(|e| e.to_string());
        assert!(err(b"%PDF-1.7 ...").is_some_and(|m| m.contains("PDFファイル")));
        assert!(
            err("項番,名称\n1,オン資クリニック\n".as_bytes())
                .is_some_and(|m| m.contains("テキストファイル"))
        );
        assert!(err(b"").is_some_and(|m| m.contains("空")));
        assert!(err(b"PK\x03\x04garbage").is_some_and(|m| m.contains("壊れて")));
    }

    #[test]
    fn an_oversized_file_is_refused_before_anything_is_parsed() {
        let limits = Limits {
            max_file_bytes: 10,
            ..Limits::default()
        };
        let e = open("big.xlsx", b"PK\x03\x04 more than ten bytes", &limits).err();
        assert!(
            matches!(
                e,
                Some(Error::TooLarge {
                    size: 24,
                    limit: 10,
                    ..
                })
            ),
            "{e:?}"
        );
    }

    #[test]
    fn biff_records_stop_at_a_truncated_record() {
        let stream = [0x09, 0x08, 0x02, 0x00, 0xAA, 0xBB, 0x0A, 0x00, 0x05];
        let recs: Vec<_> = records(&stream, 0).collect();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].0, 0x0809);
    }
}
