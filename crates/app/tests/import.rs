//! `uketsuke import`, run as a user runs it: forms in three layouts give the same
//! JSON; a form with two kinds, a bad date or a broken file is named and nothing is
//! written; the two real 名簿 import one entry per facility and kind, and again adds
//! nothing.

mod common;

use std::path::{Path, PathBuf};

use common::{TempDir, json, query_texts, stderr, stdout, uketsuke};

fn ingest_data(name: &str) -> String {
    format!("{}/../ingest/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A real 名簿 beside the checkout, or `None` (the test is skipped, saying so).
fn real(name: &str) -> Option<String> {
    uketsuke_domain::fixtures::real(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."), name)
        .map(|p| p.to_string_lossy().into_owned())
}

/// A compact label/value form, as a bureau might type one, with `changes` applied.
fn compact_form(dir: &Path, file: &str, changes: &[(&str, &str)]) -> PathBuf {
    let mut rows: Vec<(String, String)> = [
        ("回答書送付先住所：〒123-4567 東京都千代田区霞が関1-2-2", ""),
        ("回答書送付先氏名：資格 太郎 様", ""),
        ("種別", "医科"),
        ("名称：オン資クリニック", ""),
        ("所在地", "〒123-4567 東京都千代田区霞が関1-2-2"),
        ("指定希望日（予定）", "令和6年4月1日"),
        ("依頼日", "令和6年2月1日"),
        ("関東信越厚生局　御中", ""),
        ("開設者：資格 花子", ""),
        ("保険医登録番号", "医 第123456号"),
        ("電話番号：03-1234-5678", ""),
    ]
    .iter()
    .map(|(l, v)| (l.to_string(), v.to_string()))
    .collect();
    for (label, value) in changes {
        if let Some(row) = rows.iter_mut().find(|(l, _)| l == label) {
            row.1 = value.to_string();
        }
    }
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("依頼書").unwrap();
    for (i, (label, value)) in rows.iter().enumerate() {
        let row = u32::try_from(i).unwrap();
        sheet.write_string(row, 0, label).unwrap();
        if !value.is_empty() {
            sheet.write_string(row, 1, value).unwrap();
        }
    }
    let path = dir.join(file);
    book.save(&path).unwrap();
    path
}

#[test]
fn three_layouts_of_the_example_form_give_the_same_json() {
    let tmp = TempDir::new();
    let files = [
        "form_official.xlsx",
        "form_compact.xlsx",
        "form_shifted.xlsx",
    ]
    .map(ingest_data);
    let args: Vec<&str> = ["import", "--dry-run", "--json"]
        .into_iter()
        .chain(files.iter().map(String::as_str))
        .collect();
    let out = uketsuke(&tmp, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    let first = &files[0]["requests"];
    assert_eq!(first.as_array().unwrap().len(), 1);
    for f in files {
        assert_eq!(&f["requests"], first, "{} differs", f["file"]);
        assert_eq!(f["errors"], serde_json::json!([]));
    }
    let request = &first[0];
    let keys: Vec<&str> = request
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "kind",
            "facility_name",
            "facility_postal_code",
            "facility_address",
            "designation_date",
            "request_date",
            "founder_name",
            "founder_registration",
            "contact_phone",
            "reply_postal_code",
            "reply_address",
            "reply_name"
        ]
    );
    assert_eq!(request["kind"], "medical");
    assert_eq!(request["facility_name"], "オン資クリニック");
    assert_eq!(request["facility_postal_code"], "123-4567");
    assert_eq!(request["designation_date"], "2024-04-01");
    assert_eq!(request["request_date"], "2024-02-01");
}

#[test]
fn importing_a_form_writes_the_request_once() {
    let tmp = TempDir::new();
    let file = compact_form(tmp.path(), "ok.xlsx", &[]);
    let out = uketsuke(&tmp, &["import", "--json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json(&out)["files"][0]["written"],
        serde_json::json!({"created": 1, "already_present": 0})
    );
    let again = uketsuke(&tmp, &["import", "--json", file.to_str().unwrap()]);
    assert_eq!(
        json(&again)["files"][0]["written"],
        serde_json::json!({"created": 0, "already_present": 1})
    );
}

#[test]
fn a_form_with_two_kinds_a_bad_date_or_a_broken_file_is_named_and_nothing_is_written() {
    let tmp = TempDir::new();
    let two_kinds = compact_form(
        tmp.path(),
        "two-kinds.xlsx",
        &[("種別", "○医科・○歯科・薬局")],
    );
    let bad_date = compact_form(
        tmp.path(),
        "bad-date.xlsx",
        &[("指定希望日（予定）", "令和6年2月30日")],
    );
    let broken = tmp.path().join("broken.xlsx");
    std::fs::write(&broken, b"PK\x03\x04 this is not really a workbook").unwrap();
    let good = compact_form(tmp.path(), "good.xlsx", &[]);

    for (file, field) in [
        (&two_kinds, Some("kind")),
        (&bad_date, Some("designation_date")),
        (&broken, None),
    ] {
        let out = uketsuke(&tmp, &["import", "--json", file.to_str().unwrap()]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: {}",
            file.display(),
            stdout(&out)
        );
        let report = &json(&out)["files"][0];
        let errors = report["errors"].as_array().unwrap();
        assert!(!errors.is_empty(), "{}", file.display());
        if let Some(field) = field {
            assert!(
                errors.iter().any(|e| e["field"] == field),
                "{}: {errors:?}",
                file.display()
            );
            assert!(
                errors
                    .iter()
                    .any(|e| e["sheet"] == "依頼書" && e["cell"].is_string()),
                "{errors:?}"
            );
        }
        assert!(
            report["written"].is_null(),
            "nothing written for {}",
            file.display()
        );
    }
    let out = uketsuke(&tmp, &["import", "--json", two_kinds.to_str().unwrap()]);
    let message = json(&out)["files"][0]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("医科") && message.contains("歯科"),
        "{message}"
    );

    // The database holds nothing from them: importing a good form creates exactly one.
    let out = uketsuke(&tmp, &["import", "--json", good.to_str().unwrap()]);
    assert_eq!(json(&out)["files"][0]["written"]["created"], 1);
    // Nothing was half-written: a second run of the good file finds only itself.
    let out = uketsuke(&tmp, &["import", "--json", good.to_str().unwrap()]);
    assert_eq!(
        json(&out)["files"][0]["written"],
        serde_json::json!({"created": 0, "already_present": 1})
    );
}

#[test]
fn the_two_real_meibo_import_one_entry_per_facility_and_kind_and_again_add_nothing() {
    let tmp = TempDir::new();
    let (Some(tottori), Some(yamanashi)) = (
        real("31_tottori_todokede_juri_meibo_r0607.xlsx"),
        real("19_yamanashi_todokede_juri_meibo_ika_r0608.xlsx"),
    ) else {
        return;
    };
    let out = uketsuke(
        &tmp,
        &["import", "--registry", "--json", &tottori, &yamanashi],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(
        v["files"][0]["written"],
        serde_json::json!({"entries": 918, "combined": 14, "added": 932, "already_present": 0,
            "confirmed": 0, "already_confirmed": 0}),
        "鳥取's 名簿 names 14 歯科 numbers as 併設医療機関番号: taken too"
    );
    assert_eq!(
        v["files"][1]["written"],
        serde_json::json!({"entries": 626, "combined": 0, "added": 626, "already_present": 0,
            "confirmed": 0, "already_confirmed": 0})
    );
    let again = json(&uketsuke(
        &tmp,
        &["import", "--registry", "--json", &tottori],
    ));
    assert_eq!(
        again["files"][0]["written"],
        serde_json::json!({"entries": 918, "combined": 14, "added": 0, "already_present": 932,
            "confirmed": 0, "already_confirmed": 0})
    );
    // Issuance now steps over the imported codes: the next number is valid and free.
    let next = json(&uketsuke(
        &tmp,
        &[
            "code",
            "next",
            "--prefecture",
            "31",
            "--fee-schedule",
            "1",
            "--district",
            "1",
            "--dry-run",
        ],
    ));
    let code = next["code"].as_str().unwrap();
    assert_eq!(
        uketsuke(&tmp, &["code", "check", code]).status.code(),
        Some(0)
    );
}

#[test]
fn form_blank_writes_our_form_and_importing_it_unfilled_says_it_is_not_filled_in() {
    let tmp = TempDir::new();
    let out_path = tmp.path().join("blank.xlsx");
    let out = uketsuke(
        &tmp,
        &["form", "blank", "--out", out_path.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = std::fs::read(&out_path).unwrap();
    assert!(bytes.starts_with(b"PK"), "an .xlsx (zip) file");
    let out = uketsuke(
        &tmp,
        &["import", "--dry-run", "--json", out_path.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let errors = json(&out)["files"][0]["errors"].as_array().unwrap().clone();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["sheet"], "別紙1");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("記入されていません")
    );
}

#[test]
fn an_unknown_office_is_an_error_and_nothing_is_written() {
    let tmp = TempDir::new();
    let file = compact_form(tmp.path(), "ok.xlsx", &[]);
    let out = uketsuke(
        &tmp,
        &["import", "--office", "nosuchoffice", file.to_str().unwrap()],
    );
    assert_ne!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("事務所「nosuchoffice」"),
        "{}",
        stderr(&out)
    );
    let again = uketsuke(&tmp, &["import", "--json", file.to_str().unwrap()]);
    assert_eq!(
        json(&again)["files"][0]["written"],
        serde_json::json!({"created": 1, "already_present": 0}),
        "the failed import wrote nothing"
    );
}

#[test]
fn an_endless_device_is_refused_at_the_size_limit_not_read_to_the_end() {
    let tmp = TempDir::new();
    let out = uketsuke(&tmp, &["import", "--dry-run", "/dev/zero"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("大きすぎます") || stdout(&out).contains("大きすぎます"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
}

/// A 届出受理医療機関名簿 as the bureaus publish it (title on row 2 unless `title` is
/// `None`, header on row 4, one row per code): `rows` are (区分, 医療機関番号,
/// 併設医療機関番号, 名称), all in 北海道.
fn meibo(dir: &Path, file: &str, title: Option<&str>, rows: &[(&str, &str, &str, &str)]) -> String {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    if let Some(title) = title {
        sheet.write_string(1, 0, title).unwrap();
    }
    let header = [
        "項番",
        "都道府県コード",
        "都道府県名",
        "区分",
        "医療機関番号",
        "併設医療機関番号",
        "医療機関記号番号",
        "医療機関名称",
        "医療機関所在地（郵便番号）",
        "医療機関所在地（住所）",
    ];
    for (col, h) in header.iter().enumerate() {
        sheet
            .write_string(3, u16::try_from(col).unwrap(), *h)
            .unwrap();
    }
    for (i, (kind, code, combined, name)) in rows.iter().enumerate() {
        let row = u32::try_from(i).unwrap() + 4;
        let cells = [
            (i + 1).to_string(),
            "01".to_owned(),
            "北海道".to_owned(),
            kind.to_string(),
            code.to_string(),
            combined.to_string(),
            String::new(),
            name.to_string(),
            "060-0001".to_owned(),
            "札幌市中央区北1条西1丁目".to_owned(),
        ];
        for (col, text) in cells.iter().enumerate() {
            sheet
                .write_string(row, u16::try_from(col).unwrap(), text)
                .unwrap();
        }
    }
    let path = dir.join(file);
    book.save(&path).unwrap();
    path.to_string_lossy().into_owned()
}

/// `code next` in 北海道 district 01 of `fee` (`1` 医科, `3` 歯科): the 10-digit code.
fn next_code(tmp: &TempDir, fee: &str, dry_run: bool) -> String {
    let mut args = vec![
        "code",
        "next",
        "--prefecture",
        "01",
        "--fee-schedule",
        fee,
        "--district",
        "1",
    ];
    if dry_run {
        args.push("--dry-run");
    }
    let out = uketsuke(tmp, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    json(&out)["code"].as_str().unwrap().to_owned()
}

#[test]
fn a_meibo_rows_combined_number_is_taken_as_the_other_kind_and_linked() {
    let tmp = TempDir::new();
    // The next free 歯科 number is named by a 医科 row as its 併設医療機関番号.
    let dental = next_code(&tmp, "3", true);
    let medical = next_code(&tmp, "1", true);
    let file = meibo(
        tmp.path(),
        "hokkaido.xlsx",
        Some("[令和８年１０月１日 現在 ]令和８年１０月２３日作成"),
        &[
            (
                "医科",
                &medical[3..],
                &dental[3..],
                "併設医科歯科クリニック",
            ),
            (
                "医科",
                &medical[3..],
                &dental[3..],
                "併設医科歯科クリニック",
            ),
        ],
    );
    let out = uketsuke(&tmp, &["import", "--registry", "--json", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report = &json(&out)["files"][0];
    assert_eq!(report["as_of"], "2026-10-01");
    assert_eq!(report["as_of_from"], "title");
    assert_eq!(
        report["written"],
        serde_json::json!({"entries": 1, "combined": 1, "added": 2, "already_present": 0,
            "confirmed": 0, "already_confirmed": 0})
    );
    // Both are taken, each linked to the other.
    let linked = query_texts(
        tmp.database_url(),
        &format!(
            "SELECT code || '>' || combined_code FROM registry_codes WHERE code IN ('{dental}', '{medical}') ORDER BY code"
        ),
    );
    assert_eq!(
        linked,
        vec![format!("{medical}>{dental}"), format!("{dental}>{medical}")]
    );
    // A new 歯科 number steps over the 併設 one; the 医科 one over the row's own.
    assert_ne!(next_code(&tmp, "3", true), dental);
    assert_ne!(next_code(&tmp, "1", true), medical);
}

#[test]
fn the_real_tottori_meibo_links_its_fourteen_combined_dental_numbers() {
    let tmp = TempDir::new();
    let Some(tottori) = real("31_tottori_todokede_juri_meibo_r0607.xlsx") else {
        return;
    };
    let out = uketsuke(&tmp, &["import", "--registry", "--json", &tottori]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        json(&out)["files"][0]["as_of"],
        "2024-07-01",
        "from 「[令和６年７月１日 現在」"
    );
    // Every 歯科 code named as 併設 is taken and points back to its 医科 code, which
    // points to it.
    let pairs = query_texts(
        tmp.database_url(),
        "SELECT d.code FROM registry_codes d JOIN registry_codes m ON m.code = d.combined_code \
         WHERE d.fee_schedule = '3' AND m.combined_code = d.code",
    );
    assert!(pairs.len() >= 14, "{pairs:?}");
}

fn confirmed_on(tmp: &TempDir, code: &str) -> Vec<String> {
    query_texts(
        tmp.database_url(),
        &format!(
            "SELECT COALESCE(CAST(designation_confirmed_on AS TEXT), '-') || ' ' || COALESCE(designation_confirmed_source, '-') \
             FROM issued_numbers WHERE code = '{code}'"
        ),
    )
}

#[test]
fn importing_a_list_confirms_our_numbers_in_it_idempotently_and_a_later_list_moves_the_date() {
    let tmp = TempDir::new();
    let ours = next_code(&tmp, "1", false);
    let other = next_code(&tmp, "1", false);
    assert_eq!(confirmed_on(&tmp, &ours), vec!["- -"]);
    let row = ("医科", &ours[3..], "", "新規開設クリニック");
    let october = meibo(
        tmp.path(),
        "r0810.xlsx",
        Some("[令和８年１０月１日 現在 ]"),
        &[row],
    );
    let written = |out: &std::process::Output| json(out)["files"][0]["written"].clone();
    let out = uketsuke(&tmp, &["import", "--registry", "--json", &october]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(written(&out)["confirmed"], 1);
    assert_eq!(confirmed_on(&tmp, &ours), vec!["2026-10-01 r0810.xlsx"]);
    assert_eq!(confirmed_on(&tmp, &other), vec!["- -"], "not in the list");

    // The same list again: nothing changes, nothing more is audited.
    let out = uketsuke(&tmp, &["import", "--registry", "--json", &october]);
    assert_eq!(written(&out)["confirmed"], 0);
    assert_eq!(written(&out)["already_confirmed"], 1);
    let audited = |tmp: &TempDir| {
        query_texts(
            tmp.database_url(),
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE action = 'number.designation_confirmed'",
        )
    };
    assert_eq!(audited(&tmp), vec!["1"]);

    // A list without a title takes --as-of; a later one moves the date forward.
    let november = meibo(tmp.path(), "november.xlsx", None, &[row]);
    let out = uketsuke(
        &tmp,
        &[
            "import",
            "--registry",
            "--json",
            "--as-of",
            "2026-11-01",
            &november,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["files"][0]["as_of_from"], "option");
    assert_eq!(written(&out)["confirmed"], 1);
    assert_eq!(confirmed_on(&tmp, &ours), vec!["2026-11-01 november.xlsx"]);
    assert_eq!(audited(&tmp), vec!["2"]);

    // An earlier list imported late never moves it back.
    let september = meibo(
        tmp.path(),
        "r0809.xlsx",
        Some("[令和８年９月１日 現在 ]"),
        &[row],
    );
    let out = uketsuke(&tmp, &["import", "--registry", "--json", &september]);
    assert_eq!(written(&out)["already_confirmed"], 1);
    assert_eq!(confirmed_on(&tmp, &ours), vec!["2026-11-01 november.xlsx"]);

    // --as-of that contradicts the title: refused, nothing written.
    let out = uketsuke(
        &tmp,
        &[
            "import",
            "--registry",
            "--json",
            "--as-of",
            "2026-12-01",
            &october,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let report = &json(&out)["files"][0];
    assert!(report["written"].is_null());
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("--as-of（2026-12-01）が異なります"),
        "{report}"
    );
    // No date anywhere: today (in Japan).
    let untitled = meibo(tmp.path(), "untitled.xlsx", None, &[row]);
    let out = uketsuke(
        &tmp,
        &["import", "--registry", "--json", "--dry-run", &untitled],
    );
    assert_eq!(json(&out)["files"][0]["as_of_from"], "today");
    // A bad --as-of is refused before anything is read.
    let out = uketsuke(
        &tmp,
        &["import", "--registry", "--as-of", "11/01", &untitled],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("--as-of「11/01」は日付ではありません"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn an_office_that_does_not_cover_the_facilitys_prefecture_is_refused_and_nothing_is_written() {
    let tmp = TempDir::new();
    let file = compact_form(tmp.path(), "tokyo.xlsx", &[]);
    let out = uketsuke(
        &tmp,
        &[
            "import",
            "--json",
            "--office",
            "kanagawa",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = &json(&out)["files"][0];
    assert!(report["written"].is_null(), "{report}");
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("神奈川事務所の管轄ではありません")
            && message.contains("東京事務所で受け付けてください"),
        "{message}"
    );
    let out = uketsuke(
        &tmp,
        &[
            "import",
            "--json",
            "--office",
            "tokyo",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["files"][0]["written"]["created"], 1);
}
