//! `uketsuke schedule`, run as a user runs it: for every bureau and a whole year, its
//! rows are exactly what `uketsuke due` prints for each month's designation date; the
//! .xlsx and the HTML are written; a year outside the calendar and an unknown bureau
//! are refused plainly.

mod common;

use common::{TempDir, json, stderr, stdout, uketsuke};

const BUREAUS: [&str; 8] = [
    "hokkaido",
    "tohoku",
    "kanto-shinetsu",
    "tokai-hokuriku",
    "kinki",
    "chugoku-shikoku",
    "shikoku",
    "kyushu",
];

#[test]
fn the_schedule_equals_due_for_every_month_of_a_year_and_every_bureau() {
    let tmp = TempDir::new();
    for year in ["2027", "2024"] {
        for bureau in BUREAUS {
            let out = uketsuke(
                &tmp,
                &[
                    "schedule", "--bureau", bureau, "--year", year, "--format", "json",
                ],
            );
            assert_eq!(out.status.code(), Some(0), "{bureau}: {}", stderr(&out));
            let rows = json(&out);
            let rows = rows
                .as_array()
                .unwrap_or_else(|| panic!("{bureau}: an array"));
            assert_eq!(rows.len(), 12, "{bureau} {year}: one row per month");
            for (month, row) in (1..=12).zip(rows) {
                let designation = format!("{year}-{month:02}-01");
                let due = uketsuke(
                    &tmp,
                    &["due", "--bureau", bureau, "--designation", &designation],
                );
                assert_eq!(due.status.code(), Some(0), "{}", stderr(&due));
                assert_eq!(
                    row,
                    &json(&due),
                    "{bureau} {designation}: schedule and due agree"
                );
            }
        }
    }
}

#[test]
fn the_schedule_is_written_as_xlsx_and_html_and_a_bad_year_or_bureau_is_refused() {
    let tmp = TempDir::new();
    let xlsx = tmp.path().join("schedule.xlsx");
    let out = uketsuke(
        &tmp,
        &[
            "schedule",
            "--bureau",
            "shikoku",
            "--year",
            "2027",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(std::fs::read(&xlsx).unwrap().starts_with(b"PK"));

    let out = uketsuke(
        &tmp,
        &[
            "schedule", "--bureau", "shikoku", "--year", "2027", "--format", "xlsx",
        ],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("--out"), "{}", stderr(&out));

    let out = uketsuke(
        &tmp,
        &[
            "schedule", "--bureau", "shikoku", "--year", "2027", "--format", "html",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let html = stdout(&out);
    assert!(html.contains("四国厚生支局"), "{html}");
    assert!(
        html.contains("指定を受けようとする月の前々月の最初の開庁日まで"),
        "the bureau's published wording"
    );
    assert!(
        html.contains("令和9年3月1日"),
        "2027-05-01's deadline in 和暦"
    );

    let out = uketsuke(&tmp, &["schedule", "--bureau", "shikoku", "--year", "2200"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("2200年の日程表は作成できません")
            && stderr(&out).contains("2024年から2099年"),
        "{}",
        stderr(&out)
    );
    assert!(out.stdout.is_empty());

    let out = uketsuke(&tmp, &["schedule", "--bureau", "nowhere", "--year", "2027"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("'nowhere'"), "{}", stderr(&out));
}
