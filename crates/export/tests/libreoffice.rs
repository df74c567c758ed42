//! The 一覧表 and the 「8. 未指定」 list opened by a third independent reader:
//! LibreOffice Calc, headless, converting each workbook to CSV. `scripts/test` installs
//! it (Debian's `libreoffice-calc-nogui`); without `soffice` this test fails and says
//! why, as the openpyxl tests do without Python.

mod common;

use std::path::Path;
use std::process::Command;

use common::{date, sample_rows};
use uketsuke_export::reflection::{ReflectionRow, reflection_xlsx};
use uketsuke_export::{ListLayout, list_xlsx};

/// The workbook's first sheet as LibreOffice reads it, as CSV lines (UTF-8).
fn through_libreoffice(name: &str, bytes: &[u8]) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("uketsuke-lo-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join(format!("{name}.xlsx"));
    std::fs::write(&input, bytes).unwrap();
    // A profile of its own: two soffice processes must not share one.
    let profile = format!(
        "-env:UserInstallation=file://{}",
        dir.join("profile").display()
    );
    let out = Command::new("soffice")
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "--outdir",
        ])
        .arg(&dir)
        .arg(&input)
        .output()
        .unwrap_or_else(|e| {
            panic!("LibreOffice (soffice) is needed: scripts/test installs libreoffice-calc-nogui ({e})")
        });
    let csv = dir.join(format!("{name}.csv"));
    assert!(
        out.status.success() && Path::new(&csv).exists(),
        "LibreOffice could not open {name}.xlsx: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    text.lines().map(str::to_owned).collect()
}

#[test]
fn libreoffice_opens_the_list_and_the_not_designated_list() {
    let rows = sample_rows();
    let bytes = list_xlsx(
        &ListLayout::default(),
        date(2024, 7, 1),
        Some("第123回 鳥取県地方社会保険医療協議会 答申分"),
        &rows,
    )
    .unwrap();
    let text = through_libreoffice("list", &bytes).join("\n");
    assert!(text.starts_with("\"新規指定医療機関一覧表\""), "{text}");
    assert!(text.contains("\"[令和６年７月１日 現在]\""), "{text}");
    assert!(
        text.contains("\"項番\",\"都道府県コード\""),
        "headers: {text}"
    );
    // One line per facility, numbered, in order; codes stay text (the leading zero).
    for (i, row) in rows.iter().enumerate() {
        let start = format!("\n{},\"{:02}\"", i + 1, row.prefecture.code());
        assert!(text.contains(&start), "row {}: {text}", i + 1);
        assert!(
            text.contains(&format!("\"{}\"", row.reception_number)),
            "{text}"
        );
    }
    assert!(
        text.contains("\"0110112489\",\"0110112489\",\"0112489\""),
        "{text}"
    );
    // The 併設医療機関番号 of the 併設 dental clinic, and its name with its quotes.
    let combined = rows[1].combined_code.as_deref().unwrap();
    assert!(
        text.contains(&format!(",\"{combined}\",\"歯科\"\"スマイル\"\", 本院\"")),
        "{text}"
    );
    // Dates as Excel dates shown in 和暦; a note on two lines kept whole.
    assert!(text.contains(",令和6年7月1日,令和6年6月20日,"), "{text}");
    assert!(
        text.contains("\"開設者変更あり\n（旧：資格 花子）\""),
        "{text}"
    );

    let not_designated = reflection_xlsx(&[ReflectionRow {
        code: "1311040010".into(),
        facility_name: "ひまわり内科".into(),
        kind: "医科",
        address: "東京都新宿区西新宿2-8-1".into(),
        designation: date(2026, 10, 1),
        reason: "開設中止".into(),
    }])
    .unwrap();
    let lines = through_libreoffice("reflection", &not_designated);
    let row = lines
        .iter()
        .find(|l| l.contains("\"1311040010\""))
        .unwrap_or_else(|| panic!("the case's row: {lines:?}"));
    assert!(
        row.contains("ひまわり内科") && row.contains("開設中止"),
        "{row}"
    );
    assert!(row.contains("8. 未指定"), "{row}");
}
