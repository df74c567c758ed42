//! `uketsuke import` on 別紙2 「オンライン資格確認の導入計画書」: the seed's form typed into
//! two layouts by openpyxl (an independent writer), one complete, one with missing and
//! contradictory items; the JSON gives each plan's items by number and each problem by
//! sheet, cell and item; and `uketsuke form blank --plan` writes a 別紙2 that reads back.

mod common;

use std::path::Path;
use std::process::Command;

use chrono::{Datelike, Months, NaiveDate};
use common::{TempDir, json, stderr, uketsuke};
use serde_json::json;

/// The 1st of the month four months from today in Japan: a designation date ahead.
fn designation() -> NaiveDate {
    let today = uketsuke_domain::today_in_japan();
    NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap() + Months::new(4)
}

/// Writes complete.xlsx and deficient.xlsx into `dir` with openpyxl.
fn write_workbooks(dir: &Path, designation: NaiveDate) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/plan_workbooks.py"
    );
    let out = Command::new("python3")
        .arg(script)
        .arg(dir)
        .arg(designation.to_string())
        .output()
        .expect("python3 with openpyxl (scripts/test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

#[test]
fn import_reads_a_complete_plan_in_the_seed_layout_item_by_item() {
    let tmp = TempDir::new();
    let d = designation();
    write_workbooks(tmp.path(), d);
    let file = tmp.path().join("complete.xlsx");
    let out = uketsuke(
        &tmp,
        &["import", "--dry-run", "--json", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v = json(&out);
    let report = &v["files"][0];
    assert_eq!(report["errors"], json!([]));
    assert_eq!(report["requests"], json!([]));
    let plans = report["plans"].as_array().unwrap();
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0]["sheet"], "別紙2");
    assert_eq!(
        plans[0]["items"],
        json!({
            "1": {"name": "オン資クリニック", "postal_code": "100-0013", "address": "東京都千代田区霞が関1-2-2"},
            "2": {"name": "資格 花子", "registration": "医 第123456号", "postal_code": "100-0013",
                  "address": "東京都千代田区霞が関1-2-2", "phone": "03-1234-5678", "email": "info@example.jp"},
            "3": "done",
            "4": "not_yet",
            "5": {"status": "contracted", "month": 3},
            "6": "カードリーダー製作所",
            "7": {"status": "ready", "month": null},
            "8": "ネット回線株式会社",
            "9": "ip_vpn",
            // 全角 digits split over cells, a bare Excel serial, 和暦 text.
            "10": iso(d - chrono::Days::new(45)),
            "11": "医療システム株式会社",
            "12": iso(d - chrono::Days::new(10)),
            "13": iso(d),
        })
    );
}

#[test]
fn import_names_each_missing_or_contradictory_item_by_sheet_and_cell() {
    let tmp = TempDir::new();
    let d = designation();
    write_workbooks(tmp.path(), d);
    let file = tmp.path().join("deficient.xlsx");
    let out = uketsuke(
        &tmp,
        &["import", "--dry-run", "--json", file.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    let report = &v["files"][0];
    let items = &report["plans"][0]["items"];
    assert_eq!(items["4"], "done");
    assert_eq!(items["5"], json!({"status": "contracted", "month": null}));
    // ⑦ marked on the printed choices below its label.
    assert_eq!(items["7"], json!({"status": "contracted", "month": 2}));
    assert_eq!(items["9"], "ipsec_ike");
    assert_eq!(items["10"], iso(d - chrono::Days::new(5)));
    assert_eq!(items["12"], iso(d - chrono::Days::new(20)));
    let errors: Vec<(String, String, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["sheet"], "計画書");
            (
                e["field"].as_str().unwrap().to_owned(),
                e["cell"].as_str().unwrap_or_default().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let places: Vec<(&str, &str)> = errors
        .iter()
        .map(|(f, c, _)| (f.as_str(), c.as_str()))
        .collect();
    assert_eq!(
        places,
        [
            // ② 開設者: its 住所 row, left blank.
            ("plan_2", "B7"),
            ("plan_5", "C12"),
            ("plan_6", "B13"),
            ("plan_11", "B19"),
            ("plan_12", "C20"),
        ]
    );
    assert!(errors[0].2.contains("開設者の住所が記入されていません"));
    assert!(errors[1].2.contains("整備予定月が記入されていません"));
    assert!(errors[2].2.starts_with("⑥ カードリーダーのメーカー名："));
    assert!(
        errors[4].2.contains("⑩ 導入作業開始（予定）日"),
        "{}",
        errors[4].2
    );
    assert!(errors[4].2.contains("より前になっています"));
}

#[test]
fn the_blank_plan_form_is_written_and_reads_back_as_an_empty_plan() {
    let tmp = TempDir::new();
    let out_file = tmp.path().join("別紙2.xlsx");
    let out = uketsuke(
        &tmp,
        &[
            "form",
            "blank",
            "--plan",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = uketsuke(
        &tmp,
        &["import", "--dry-run", "--json", out_file.to_str().unwrap()],
    );
    let v = json(&out);
    let report = &v["files"][0];
    assert_eq!(report["plans"].as_array().unwrap().len(), 1);
    // Every required item is reported blank, at its label.
    let fields: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for n in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13] {
        assert!(
            fields.contains(&format!("plan_{n}").as_str()),
            "{n}: {fields:?}"
        );
    }
    assert!(
        report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["cell"].is_string())
    );
}
