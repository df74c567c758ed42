//! The command line, run as a user runs it: the real binary, its exit codes and output.

mod common;

use common::{TempDir, json, stderr, stdout, uketsuke, uketsuke_with};

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
    assert!(stdout(&out).lines().all(|l| l.starts_with("pending")));
    let out = uketsuke(&tmp, &["migrate", "up"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let status = stdout(&uketsuke(&tmp, &["migrate", "status"]));
    assert_eq!(status.lines().count(), 4);
    assert!(status.lines().all(|l| l.starts_with("applied")));
    let out = uketsuke(&tmp, &["migrate", "down", "--steps", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&uketsuke(&tmp, &["migrate", "status"]))
            .lines()
            .all(|l| l.starts_with("pending"))
    );
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
