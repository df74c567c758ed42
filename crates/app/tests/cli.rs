//! The command line, run as a user runs it: the real binary, its exit codes and output.

mod common;

use common::{TempDir, json, query_texts, stderr, stdout, uketsuke, uketsuke_stdin, uketsuke_with};

#[test]
fn code_check_accepts_the_worked_examples() {
    let tmp = TempDir::new();
    for (code, rule) in [
        ("3410712362", "9-digit"),
        ("1310110049", "6-digit"),
        ("2730303241", "9-digit"),
    ] {
        let out = uketsuke(&tmp, &["code", "check", code]);
        assert_eq!(out.status.code(), Some(0), "{code}: {}", stderr(&out));
        let v = json(&out);
        assert_eq!(v["code"], code);
        assert_eq!(v["valid"], true);
        assert_eq!(v["rule"], rule);
    }
}

#[test]
fn code_check_prints_the_documented_json_for_a_tokyo_code() {
    let tmp = TempDir::new();
    let out = uketsuke(&tmp, &["code", "check", "1310110049"]);
    assert_eq!(
        stdout(&out).trim(),
        r#"{"code":"1310110049","valid":true,"prefecture":"13","fee_schedule":"1","expected_check_digit":9,"rule":"6-digit"}"#
    );
}

#[test]
fn code_check_exits_1_on_a_wrong_check_digit() {
    let tmp = TempDir::new();
    let out = uketsuke(&tmp, &["code", "check", "3410712363"]);
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["valid"], false);
    assert_eq!(v["expected_check_digit"], 2);
    assert!(stderr(&out).contains("検証番号"));
}

#[test]
fn code_check_exits_2_when_the_input_cannot_be_a_code() {
    let tmp = TempDir::new();
    for input in ["abc", "123", "9910110049"] {
        let out = uketsuke(&tmp, &["code", "check", input]);
        assert_eq!(out.status.code(), Some(2), "{input}");
        assert!(out.stdout.is_empty());
        assert!(
            !stderr(&out).trim().is_empty(),
            "a message on stderr for {input}"
        );
    }
}

#[test]
fn code_check_accepts_fullwidth_digits_and_printed_separators() {
    let tmp = TempDir::new();
    let out = uketsuke(&tmp, &["code", "check", "１３-１-０１１００４９"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json(&out)["code"], "1310110049");
}

#[test]
fn help_describes_every_command_in_plain_words() {
    let tmp = TempDir::new();
    let out = uketsuke(&tmp, &["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for command in ["serve", "migrate", "code", "calendar", "due", "rules"] {
        assert!(text.contains(command), "--help lists {command}");
    }
    let out = uketsuke(&tmp, &["code", "check", "--help"]);
    assert!(stdout(&out).contains("Exit 0 valid, 1 wrong check digit, 2 not a code"));
}

#[test]
fn migrate_status_up_and_down_work_on_a_fresh_database() {
    let tmp = TempDir::new();
    let out = uketsuke(&tmp, &["migrate", "status"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let pending = stdout(&out).lines().count();
    assert!(pending >= 7, "every migration is listed, got {pending}");
    assert!(stdout(&out).lines().all(|l| l.starts_with("pending")));
    let out = uketsuke(&tmp, &["migrate", "up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = stdout(&uketsuke(&tmp, &["migrate", "status"]));
    assert_eq!(status.lines().count(), pending);
    assert!(status.lines().all(|l| l.starts_with("applied")));
    let out = uketsuke(&tmp, &["migrate", "down", "--steps", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = stdout(&uketsuke(&tmp, &["migrate", "status"]));
    assert_eq!(
        status.lines().count(),
        pending,
        "still every migration: {status}"
    );
    assert!(status.lines().all(|l| l.starts_with("pending")));
}

#[test]
fn a_misspelt_environment_override_stops_with_the_key_named() {
    let tmp = TempDir::new();
    let out = uketsuke_with(
        &tmp,
        &["due", "--designation", "2024-04-01"],
        &[("UKETSUKE_SERVER__BIDN", "x")],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("server.bidn") || err.contains("bidn"), "{err}");
}

#[test]
fn an_environment_override_changes_a_setting() {
    let tmp = TempDir::new();
    let out = uketsuke_with(
        &tmp,
        &["due", "--designation", "2025-03-01"],
        &[("UKETSUKE_APP__DEFAULT_BUREAU", "shikoku")],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json(&out)["bureau"], "shikoku");
}

#[test]
fn calendar_closed_prints_each_closed_day_with_its_reason() {
    let tmp = TempDir::new();
    let out = uketsuke(
        &tmp,
        &[
            "calendar",
            "closed",
            "--from",
            "2024-01-01",
            "--to",
            "2024-02-29",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "2024-01-01\t元日");
    assert_eq!(lines[1], "2024-01-02\t年末年始");
    assert!(lines.contains(&"2024-01-06\t土曜日"));
    assert!(lines.contains(&"2024-01-07\t日曜日"));
    assert!(lines.contains(&"2024-01-08\t成人の日"));
    assert!(lines.contains(&"2024-02-12\t振替休日"));
    assert!(lines.contains(&"2024-02-23\t天皇誕生日"));
    assert!(!text.contains("2024-01-04"), "an open day is not listed");
}

#[test]
fn calendar_closed_includes_a_bureaus_extra_closed_day() {
    let tmp = TempDir::new();
    let dir = tmp.path().join("config");
    std::fs::create_dir_all(dir.join("bureaus")).unwrap();
    std::fs::copy(
        common::config_dir().join("default.toml"),
        dir.join("default.toml"),
    )
    .unwrap();
    let text = std::fs::read_to_string(common::config_dir().join("bureaus/kyushu.toml"))
        .unwrap()
        .replace(
            "extra_closed = []",
            "extra_closed = [{ date = 2031-05-07, reason = \"新しい祝日\" }]",
        );
    std::fs::write(dir.join("bureaus/kyushu.toml"), text).unwrap();
    std::fs::write(
        dir.join("default.toml"),
        std::fs::read_to_string(dir.join("default.toml"))
            .unwrap()
            .replace("kanto-shinetsu", "kyushu"),
    )
    .unwrap();
    let out = uketsuke_with(
        &tmp,
        &[
            "calendar",
            "closed",
            "--from",
            "2031-05-07",
            "--to",
            "2031-05-07",
            "--bureau",
            "kyushu",
        ],
        &[("UKETSUKE_CONFIG_DIR", dir.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "2031-05-07\t新しい祝日\n");
}

#[test]
fn due_gives_the_published_dates_for_2024_04_01() {
    let tmp = TempDir::new();
    let out = uketsuke(&tmp, &["due", "--designation", "2024-04-01"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        r#"{"designation":"2024-04-01","bureau":"kanto-shinetsu","submission_deadline":"2024-02-01","answer_due":"2024-02-13","implementing_body_due":"2024-02-15"}"#
    );
}

#[test]
fn due_follows_each_bureaus_rule_over_the_new_year() {
    let tmp = TempDir::new();
    let tokai = json(&uketsuke(
        &tmp,
        &[
            "due",
            "--bureau",
            "tokai-hokuriku",
            "--designation",
            "2025-03-01",
        ],
    ));
    assert_eq!(tokai["submission_deadline"], "2024-12-27");
    let shikoku = json(&uketsuke(
        &tmp,
        &["due", "--bureau", "shikoku", "--designation", "2025-03-01"],
    ));
    assert_eq!(shikoku["submission_deadline"], "2025-01-06");
}

#[test]
fn due_accepts_a_wareki_date_and_refuses_an_unknown_bureau() {
    let tmp = TempDir::new();
    let v = json(&uketsuke(
        &tmp,
        &["due", "--designation", "令和６年４月１日"],
    ));
    assert_eq!(v["designation"], "2024-04-01");
    let out = uketsuke(
        &tmp,
        &["due", "--designation", "2024-04-01", "--bureau", "okinawa"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("okinawa"));
    let out = uketsuke(&tmp, &["due", "--designation", "令和6年2月30日"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--designation"));
}

#[test]
fn rules_check_accepts_a_request_in_time() {
    let tmp = TempDir::new();
    let out = uketsuke(
        &tmp,
        &[
            "rules",
            "check",
            "--kind",
            "medical",
            "--designation",
            "2024-04-01",
            "--received",
            "2024-01-15",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["eligible"], true);
    assert_eq!(v["decision"], "accept");
    assert_eq!(v["reasons"], serde_json::json!([]));
    assert_eq!(v["warnings"], serde_json::json!([]));
}

#[test]
fn rules_check_returns_a_late_or_retroactive_request_with_reasons_and_exits_0() {
    let tmp = TempDir::new();
    let out = uketsuke(
        &tmp,
        &[
            "rules",
            "check",
            "--kind",
            "pharmacy",
            "--designation",
            "2024-04-01",
            "--received",
            "2024-02-02",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let v = json(&out);
    assert_eq!(v["decision"], "return");
    assert!(v["reasons"][0].as_str().unwrap().contains("提出期限"));
    let out = uketsuke(
        &tmp,
        &[
            "rules",
            "check",
            "--kind",
            "dental",
            "--designation",
            "2024-04-15",
            "--received",
            "2024-01-10",
            "--retroactive",
        ],
    );
    let v = json(&out);
    assert_eq!(v["eligible"], false);
    assert!(v["reasons"][0].as_str().unwrap().contains("遡及"));
    assert!(v["warnings"][0].as_str().unwrap().contains("月の初日"));
}

#[test]
fn code_next_dry_run_issues_nothing_and_a_real_run_takes_the_number() {
    let tmp = TempDir::new();
    let args = [
        "code",
        "next",
        "--prefecture",
        "13",
        "--fee-schedule",
        "1",
        "--district",
        "10",
    ];
    let dry: Vec<&str> = args.iter().copied().chain(["--dry-run"]).collect();
    let first = json(&uketsuke(&tmp, &dry));
    assert_eq!(first["issued"], false);
    assert_eq!(
        json(&uketsuke(&tmp, &dry))["code"],
        first["code"],
        "a dry run takes nothing"
    );
    let issued = json(&uketsuke(&tmp, &args));
    assert_eq!(issued["code"], first["code"]);
    assert_eq!(issued["issued"], true);
    let next = json(&uketsuke(&tmp, &dry));
    assert_ne!(next["code"], first["code"]);
    let code = next["code"].as_str().unwrap();
    assert_eq!(
        uketsuke(&tmp, &["code", "check", code]).status.code(),
        Some(0)
    );
}

#[test]
fn code_next_refuses_a_bad_prefecture_or_fee_schedule() {
    let tmp = TempDir::new();
    let out = uketsuke(
        &tmp,
        &[
            "code",
            "next",
            "--prefecture",
            "48",
            "--fee-schedule",
            "1",
            "--district",
            "1",
            "--dry-run",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("48"));
    let out = uketsuke(
        &tmp,
        &[
            "code",
            "next",
            "--prefecture",
            "13",
            "--fee-schedule",
            "2",
            "--district",
            "1",
            "--dry-run",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn user_add_reads_the_password_from_stdin_and_refuses_a_taken_name() {
    let tmp = TempDir::new();
    let run = |args: &[&str], stdin: &str| uketsuke_stdin(&tmp, args, stdin);
    let out = run(
        &["user", "add", "--admin", "kanri"],
        "a-long-enough-password\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("管理"));
    assert!(
        out.stdout.is_empty(),
        "a password read from stdin is never printed"
    );
    let out = run(&["user", "add", "kanri"], "another-long-password\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("既に使われています"));
    let out = run(&["user", "add", "short"], "short\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("12文字以上"));
    let users = query_texts(tmp.database_url(), "SELECT username FROM users");
    assert_eq!(
        users,
        ["kanri"],
        "one account, in the database the binary was given"
    );
}

#[test]
fn the_binary_writes_to_the_database_it_is_given() {
    let tmp = TempDir::new();
    let out = uketsuke(
        &tmp,
        &[
            "code",
            "next",
            "--prefecture",
            "13",
            "--fee-schedule",
            "1",
            "--district",
            "10",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let code = json(&out)["code"].as_str().unwrap().to_owned();
    assert_eq!(
        tmp.database_url().starts_with("postgres"),
        tmp.is_postgres(),
        "{}",
        tmp.database_url()
    );
    let codes = query_texts(tmp.database_url(), "SELECT code FROM issued_numbers");
    assert_eq!(codes, [code]);
}
