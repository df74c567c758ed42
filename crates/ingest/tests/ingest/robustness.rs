//! Whole-file refusals, memory safety, and a fuzz harness (proptest) feeding
//! arbitrary bytes and mutated workbooks to every reader: nothing may panic.

use std::io::{Cursor, Write};

use proptest::prelude::*;
use uketsuke_ingest::{
    Error, Limits, blank_form_xlsx, read_monthly_list, read_registry, read_request_forms,
    read_requests,
};

use crate::common::{data, example_form, put, rezip, unzip, xlsx};

fn refusal(bytes: &[u8], limits: &Limits) -> Error {
    match read_requests("x.xlsx", bytes, limits) {
        Err(e) => e,
        Ok(o) => panic!(
            "expected a refusal, got {} items and {:?}",
            o.items.len(),
            o.problems
        ),
    }
}

#[test]
fn an_oversized_file_is_refused_before_it_is_opened() {
    let limits = Limits {
        max_file_bytes: 1000,
        ..Limits::default()
    };
    let bytes = example_form(|_| {});
    let e = refusal(&bytes, &limits);
    assert!(matches!(e, Error::TooLarge { limit: 1000, .. }), "{e:?}");
    assert!(
        e.to_string().starts_with("「x.xlsx」はファイルサイズが"),
        "{e}"
    );
}

#[test]
fn a_zip_bomb_is_refused_from_its_central_directory() {
    let mut entries = unzip(&example_form(|_| {}));
    entries.push(("xl/media/padding.bin".into(), vec![0u8; 8 * 1024 * 1024]));
    let bomb = rezip(&entries);
    let e = refusal(&bomb, &Limits::default());
    assert!(
        matches!(e, Error::ZipBomb { ratio, .. } if ratio > 100),
        "{e:?}"
    );
    assert!(e.to_string().contains("圧縮率"), "{e}");

    let small = Limits {
        max_uncompressed_bytes: 2000,
        ..Limits::default()
    };
    let e = refusal(&example_form(|_| {}), &small);
    assert!(matches!(e, Error::ZipBomb { limit: 2000, .. }), "{e:?}");
}

fn cfb_with(streams: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut comp = cfb::CompoundFile::create(Cursor::new(Vec::new())).expect("cfb");
    for (name, data) in streams {
        let mut s = comp.create_stream(name).expect("stream");
        s.write_all(data).expect("write");
    }
    comp.flush().expect("flush");
    comp.into_inner().into_inner()
}

#[test]
fn an_encrypted_xlsx_is_refused_asking_to_remove_the_password() {
    let bytes = cfb_with(&[
        ("/EncryptionInfo", vec![4, 0, 4, 0, 0x40, 0, 0, 0]),
        ("/EncryptedPackage", vec![0; 4096]),
    ]);
    let e = refusal(&bytes, &Limits::default());
    assert!(matches!(e, Error::Encrypted { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("パスワードを解除して保存し直してください"),
        "{e}"
    );
}

fn record(typ: u16, body: &[u8]) -> Vec<u8> {
    let mut r = typ.to_le_bytes().to_vec();
    r.extend((body.len() as u16).to_le_bytes());
    r.extend(body);
    r
}

fn bof(dt: u16) -> Vec<u8> {
    let mut body = vec![0u8; 16];
    body[0..2].copy_from_slice(&0x0600u16.to_le_bytes());
    body[2..4].copy_from_slice(&dt.to_le_bytes());
    record(0x0809, &body)
}

/// A BIFF8 workbook stream: globals with one BOUNDSHEET, then the sheet's records.
fn biff(globals_extra: &[u8], sheet_records: &[u8]) -> Vec<u8> {
    let name = b"Sheet1";
    let mut bound = vec![0u8; 4];
    bound.extend([0, 0, name.len() as u8, 0]);
    bound.extend(name);
    let globals_len = bof(5).len()
        + globals_extra.len()
        + record(0x0085, &bound).len()
        + record(0x000A, &[]).len();
    bound[0..4].copy_from_slice(&(globals_len as u32).to_le_bytes());
    let mut s = bof(5);
    s.extend(globals_extra);
    s.extend(record(0x0085, &bound));
    s.extend(record(0x000A, &[]));
    s.extend(bof(0x10));
    s.extend(sheet_records);
    s.extend(record(0x000A, &[]));
    s
}

fn dimensions(
    first_row: u32,
    last_row_plus_1: u32,
    first_col: u16,
    last_col_plus_1: u16,
) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(first_row.to_le_bytes());
    body.extend(last_row_plus_1.to_le_bytes());
    body.extend(first_col.to_le_bytes());
    body.extend(last_col_plus_1.to_le_bytes());
    body.extend([0, 0]);
    record(0x0200, &body)
}

fn number_cell(row: u16, col: u16) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(row.to_le_bytes());
    body.extend(col.to_le_bytes());
    body.extend(0u16.to_le_bytes());
    body.extend(1.0f64.to_le_bytes());
    record(0x0203, &body)
}

#[test]
fn an_encrypted_xls_is_refused() {
    let stream = biff(&record(0x002F, &[1, 0, 1, 0, 1, 0]), &[]);
    let e = refusal(&cfb_with(&[("/Workbook", stream)]), &Limits::default());
    assert!(matches!(e, Error::Encrypted { .. }), "{e:?}");
}

#[test]
fn an_xls_declaring_huge_dimensions_is_refused_before_calamine_allocates() {
    let stream = biff(&[], &dimensions(0, 0xFFFF_FFF0, 0, 200));
    let e = refusal(&cfb_with(&[("/Workbook", stream)]), &Limits::default());
    assert!(matches!(e, Error::TooManyCells { .. }), "{e:?}");

    // calamine would compute (end - start) with end before start.
    let stream = biff(&[], &dimensions(10, 5, 0, 3));
    let e = refusal(&cfb_with(&[("/Workbook", stream)]), &Limits::default());
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");

    // Two cells far apart: calamine's dense range would be 65535 × 255.
    let mut cells = number_cell(0, 0);
    cells.extend(number_cell(65_534, 254));
    let stream = biff(&[], &cells);
    let e = refusal(&cfb_with(&[("/Workbook", stream)]), &Limits::default());
    assert!(matches!(e, Error::TooManyCells { .. }), "{e:?}");
}

#[test]
fn a_small_handmade_xls_is_read() {
    let mut cells = dimensions(0, 2, 0, 2);
    cells.extend(number_cell(0, 0));
    cells.extend(number_cell(1, 1));
    let stream = biff(&[], &cells);
    let outcome = read_requests(
        "tiny.xls",
        &cfb_with(&[("/Workbook", stream)]),
        &Limits::default(),
    )
    .expect("readable");
    assert!(outcome.items.is_empty());
}

#[test]
fn a_truncated_or_garbled_workbook_is_refused_as_corrupt() {
    let bytes = example_form(|_| {});
    let e = refusal(&bytes[..bytes.len() / 2], &Limits::default());
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
    assert!(e.to_string().contains("壊れている"), "{e}");
    let e = refusal(b"PK\x03\x04 not really a zip", &Limits::default());
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
    let (_, xls) = data("form_compact.xls");
    let e = refusal(&xls[..600], &Limits::default());
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
}

#[test]
fn files_that_are_not_spreadsheets_are_refused_whatever_their_extension() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"%PDF-1.7\n...".to_vec(), "PDF"),
        (
            "項番,名称\n1,オン資クリニック\n".as_bytes().to_vec(),
            "テキスト",
        ),
        (
            rezip(&[("word/document.xml".into(), b"<w/>".to_vec())]),
            "Word",
        ),
        (rezip(&[("xl/workbook.bin".into(), vec![0; 8])]), "xlsb"),
        (rezip(&[("readme.txt".into(), b"hello".to_vec())]), "ZIP"),
        (cfb_with(&[("/WordDocument", vec![0; 64])]), "Word"),
        (b"<html><body>x</body></html>".to_vec(), "HTML"),
    ];
    for (bytes, what) in cases {
        let e = refusal(&bytes, &Limits::default());
        assert!(
            matches!(e, Error::UnsupportedFormat { .. }),
            "{what}: {e:?}"
        );
        assert!(e.to_string().contains(what), "{what}: {e}");
    }
    let e = refusal(b"", &Limits::default());
    assert!(matches!(e, Error::Corrupt { .. }), "{e:?}");
}

#[test]
fn too_many_sheets_rows_or_cells_are_refused() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    for _ in 0..3 {
        let ws = wb.add_worksheet();
        for r in 0..20u32 {
            ws.write_number(r, 0, f64::from(r)).expect("w");
            ws.write_number(r, 1, f64::from(r)).expect("w");
        }
    }
    let bytes = wb.save_to_buffer().expect("save");
    let e = refusal(
        &bytes,
        &Limits {
            max_sheets: 2,
            ..Limits::default()
        },
    );
    assert!(
        matches!(
            e,
            Error::TooManySheets {
                count: 3,
                limit: 2,
                ..
            }
        ),
        "{e:?}"
    );
    let e = refusal(
        &bytes,
        &Limits {
            max_rows: 10,
            ..Limits::default()
        },
    );
    assert!(
        matches!(e, Error::TooManyRows { limit: 10, ref sheet, .. } if sheet == "Sheet1"),
        "{e:?}"
    );
    assert!(e.to_problem("x.xlsx").sheet.is_some());
    let e = refusal(
        &bytes,
        &Limits {
            max_cells: 50,
            ..Limits::default()
        },
    );
    assert!(matches!(e, Error::TooManyCells { limit: 50, .. }), "{e:?}");
}

#[test]
fn a_stray_cell_far_away_costs_one_cell_not_the_whole_sheet() {
    let bytes = xlsx(|ws| {
        put(ws, &[("A1", "名称")]);
        ws.write_string(1_048_575, 16_383, "遠く").expect("w");
    });
    let outcome = read_requests("far.xlsx", &bytes, &Limits::default()).expect("readable");
    assert!(outcome.items.is_empty());
}

#[test]
fn an_ods_whose_repeated_rows_would_expand_beyond_the_limit_is_refused() {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="S"><table:table-row table:number-rows-repeated="1000000"><table:table-cell office:value-type="string" table:number-columns-repeated="1000"><text:p>x</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let bytes = rezip(&[
        (
            "mimetype".into(),
            b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
        ),
        ("content.xml".into(), content.as_bytes().to_vec()),
    ]);
    let e = refusal(&bytes, &Limits::default());
    assert!(
        matches!(e, Error::TooManyCells { .. } | Error::TooManyRows { .. }),
        "{e:?}"
    );
}

#[test]
fn an_encrypted_ods_is_refused() {
    let manifest = r#"<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data manifest:checksum-type="SHA1"/></manifest:file-entry></manifest:manifest>"#;
    let bytes = rezip(&[
        (
            "mimetype".into(),
            b"application/vnd.oasis.opendocument.spreadsheet".to_vec(),
        ),
        ("META-INF/manifest.xml".into(), manifest.as_bytes().to_vec()),
        ("content.xml".into(), vec![0xAB; 64]),
    ]);
    assert!(matches!(
        refusal(&bytes, &Limits::default()),
        Error::Encrypted { .. }
    ));
}

#[test]
fn a_shared_string_count_that_would_exhaust_memory_is_refused() {
    let entries: Vec<(String, Vec<u8>)> = unzip(&example_form(|_| {}))
        .into_iter()
        .map(|(name, data)| {
            if name.ends_with("sharedStrings.xml") {
                let text = String::from_utf8(data).expect("utf8");
                let start = text.find("uniqueCount=\"").expect("count") + "uniqueCount=\"".len();
                let end = start + text[start..].find('"').expect("quote");
                let patched = format!("{}99999999999999{}", &text[..start], &text[end..]);
                (name, patched.into_bytes())
            } else {
                (name, data)
            }
        })
        .collect();
    let e = refusal(&rezip(&entries), &Limits::default());
    assert!(matches!(e, Error::TooManyCells { .. }), "{e:?}");
}

/// Every reader on `bytes`: any result is fine, a panic is not.
fn read_all(bytes: &[u8]) {
    let limits = Limits::default();
    let _ = read_requests("fuzz.xlsx", bytes, &limits);
    let _ = read_request_forms("fuzz.xlsx", bytes, &limits);
    let _ = read_monthly_list("fuzz.xlsx", bytes, &limits);
    let _ = read_registry("fuzz.xlsx", bytes, &limits);
}

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = [
        "form_official.xlsx",
        "form_compact.xlsx",
        "form_shifted.xlsx",
        "form_compact.xls",
        "form_compact.ods",
        "monthly_list.xlsx",
        "code_list_fukui.xlsx",
    ]
    .iter()
    .map(|n| data(n).1)
    .collect();
    seeds.push(blank_form_xlsx().expect("blank"));
    seeds.push(example_form(|_| {}));
    seeds
}

/// 96 cases each by default; `PROPTEST_CASES=5000` for a longer local run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(96)
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(cases()) })]

    #[test]
    fn arbitrary_bytes_never_panic(prefix in 0usize..3, body in proptest::collection::vec(any::<u8>(), 0..3000)) {
        let mut bytes = match prefix {
            0 => Vec::new(),
            1 => b"PK\x03\x04".to_vec(),
            _ => vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1],
        };
        bytes.extend(body);
        read_all(&bytes);
    }

    #[test]
    fn flipped_bytes_in_real_and_generated_workbooks_never_panic(
        seed in 0usize..9,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..24),
    ) {
        let mut bytes = seeds().swap_remove(seed);
        for (at, xor) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
        }
        read_all(&bytes);
    }

    #[test]
    fn mutated_xml_inside_valid_workbooks_never_panics(
        seed in prop::sample::select(vec![0usize, 1, 2, 4, 5, 6, 7, 8]),
        entry in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>()), 1..16),
    ) {
        let mut entries = unzip(&seeds()[seed]);
        let e = entry.index(entries.len());
        let data = &mut entries[e].1;
        for (at, op, byte) in edits {
            if data.is_empty() {
                data.push(byte);
                continue;
            }
            let i = at.index(data.len());
            match op {
                0 => data[i] = byte,
                1 => data.insert(i, byte),
                2 => { data.remove(i); }
                _ => {
                    // Swap a digit for another: row/column numbers, counts, sizes.
                    if data[i].is_ascii_digit() { data[i] = b'0' + byte % 10; } else { data[i] = byte; }
                }
            }
        }
        read_all(&rezip(&entries));
    }
}

#[test]
fn a_cell_longer_than_excel_allows_is_refused_naming_the_cell() {
    // Excel (and rust_xlsxwriter) will not write such a cell: put it into the XML.
    let written = xlsx(|ws| {
        ws.write_string(0, 0, "名称").unwrap();
        ws.write_string(2, 1, "PLACEHOLDER").unwrap();
    });
    let long = "あ".repeat(40_000);
    let entries: Vec<(String, Vec<u8>)> = unzip(&written)
        .into_iter()
        .map(|(name, bytes)| {
            let text = String::from_utf8_lossy(&bytes).replace("PLACEHOLDER", &long);
            (name, text.into_bytes())
        })
        .collect();
    let bytes = rezip(&entries);
    let e = refusal(&bytes, &Limits::default());
    assert!(
        matches!(&e, Error::CellTooLong { cell, limit: 32_767, .. } if cell == "B3"),
        "{e:?}"
    );
    assert!(e.to_string().contains("セルB3"), "{e}");
    // A cell within the limit is read as usual.
    let fine = xlsx(|ws| {
        ws.write_string(0, 0, "い".repeat(32_000)).unwrap();
    });
    assert!(read_requests("x.xlsx", &fine, &Limits::default()).is_ok());
}

#[test]
fn a_shared_string_far_over_the_cell_limit_is_refused_before_it_is_held() {
    // Ten times Excel's limit: refused while the shared strings stream through a small
    // buffer, before calamine would hold the string whole.
    let written = xlsx(|ws| {
        ws.write_string(0, 0, "名称").unwrap();
        ws.write_string(2, 1, "PLACEHOLDER").unwrap();
    });
    let long = "あ".repeat(327_670);
    let entries: Vec<(String, Vec<u8>)> = unzip(&written)
        .into_iter()
        .map(|(name, bytes)| {
            let text = String::from_utf8_lossy(&bytes).replace("PLACEHOLDER", &long);
            (name, text.into_bytes())
        })
        .collect();
    let e = refusal(&rezip(&entries), &Limits::default());
    assert!(
        matches!(&e, Error::CellTooLong { sheet, limit: 32_767, .. } if sheet == "共有文字列"),
        "{e:?}"
    );
    assert!(e.to_string().contains("文字数が上限の32767字"), "{e}");
}
