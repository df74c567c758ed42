//! The configuration: layered, typed, and a bad file stops start-up with the file, the
//! key and the reason.

mod common;

use std::path::Path;

use common::{TempDir, config_dir};
use uketsuke::settings::Settings;

fn copy_config(to: &Path) {
    let from = config_dir();
    std::fs::create_dir_all(to.join("bureaus")).unwrap();
    std::fs::copy(from.join("default.toml"), to.join("default.toml")).unwrap();
    for entry in std::fs::read_dir(from.join("bureaus")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join("bureaus").join(path.file_name().unwrap())).unwrap();
    }
}

#[test]
fn the_shipped_configuration_loads_all_eight_bureaus() {
    let settings = Settings::load(&config_dir()).unwrap();
    let mut ids: Vec<&str> = settings.bureaus.iter().map(|b| b.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "chugoku-shikoku",
            "hokkaido",
            "kanto-shinetsu",
            "kinki",
            "kyushu",
            "shikoku",
            "tohoku",
            "tokai-hokuriku"
        ]
    );
    assert_eq!(settings.server.bind, "127.0.0.1:8080");
}

#[test]
fn the_production_recipient_is_only_in_the_example_file() {
    let settings = Settings::load(&config_dir()).unwrap();
    for b in &settings.bureaus {
        for r in b
            .recipients
            .implementing_body
            .iter()
            .chain(&b.recipients.staff)
        {
            assert!(
                !r.ends_with("ssk.or.jp"),
                "{}: production address in shipped config",
                b.id
            );
        }
    }
    let example =
        std::fs::read_to_string(config_dir().join("examples/production-recipients.toml.example"))
            .unwrap();
    assert!(example.contains("onsnew48@ssk.or.jp"));
}

#[test]
fn an_unknown_key_in_a_bureau_file_names_the_file_and_the_key() {
    let tmp = TempDir::new();
    copy_config(tmp.path());
    let file = tmp.path().join("bureaus/shikoku.toml");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("[deadlines]", "[deadlines]\nrulez = \"x\"");
    std::fs::write(&file, text).unwrap();
    let err = format!("{:#}", Settings::load(tmp.path()).unwrap_err());
    assert!(err.contains("shikoku.toml"), "{err}");
    assert!(err.contains("rulez"), "{err}");
}

#[test]
fn a_bad_value_in_default_toml_names_the_key_and_the_reason() {
    let tmp = TempDir::new();
    copy_config(tmp.path());
    let file = tmp.path().join("default.toml");
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("max_connections = 8", "max_connections = \"many\"");
    std::fs::write(&file, text).unwrap();
    let err = format!("{:#}", Settings::load(tmp.path()).unwrap_err());
    assert!(err.contains("default.toml"), "{err}");
    assert!(err.contains("database.max_connections"), "{err}");
}

#[test]
fn a_prefecture_outside_the_bureaus_jurisdiction_is_refused() {
    let tmp = TempDir::new();
    copy_config(tmp.path());
    let file = tmp.path().join("bureaus/shikoku.toml");
    let text = std::fs::read_to_string(&file).unwrap().replace(
        "prefectures = [\"36\", \"37\", \"38\", \"39\"]",
        "prefectures = [\"36\", \"13\"]",
    );
    std::fs::write(&file, text).unwrap();
    let err = format!("{:#}", Settings::load(tmp.path()).unwrap_err());
    assert!(
        err.contains("shikoku.toml") && err.contains("管轄ではありません"),
        "{err}"
    );
}

#[test]
fn an_environment_file_layers_over_the_defaults() {
    let tmp = TempDir::new();
    copy_config(tmp.path());
    std::fs::write(
        tmp.path().join("staging.toml"),
        "[server]\nbind = \"127.0.0.1:9999\"\n",
    )
    .unwrap();
    // Settings::load reads UKETSUKE_ENV; set it only for this process's child to stay
    // safe from parallel tests: run the binary instead.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["--config", tmp.path().to_str().unwrap(), "config", "check"])
        .env("UKETSUKE_ENV", "staging")
        .env_remove("UKETSUKE_CONFIG_DIR")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["server"]["bind"], "127.0.0.1:9999");
    assert_eq!(
        v["database"]["url"],
        "sqlite://data/uketsuke.sqlite?mode=rwc"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["--config", tmp.path().to_str().unwrap(), "config", "check"])
        .env("UKETSUKE_ENV", "missing")
        .env_remove("UKETSUKE_CONFIG_DIR")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}
