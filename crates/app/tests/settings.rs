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

/// The bytes of every shipped file under `dir`, to show nothing wrote to them.
fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files = vec![(
        dir.join("default.toml"),
        std::fs::read(dir.join("default.toml")).unwrap(),
    )];
    for entry in std::fs::read_dir(dir.join("bureaus")).unwrap() {
        let path = entry.unwrap().path();
        files.push((path.clone(), std::fs::read(&path).unwrap()));
    }
    files.sort();
    files
}

/// A local settings folder for 東海北陸: the bureau in use, its 地医協 dates and its
/// staff's address — the settings an upgrade must not overwrite.
fn write_local(local: &Path) {
    std::fs::create_dir_all(local.join("bureaus")).unwrap();
    std::fs::write(
        local.join("local.toml"),
        "[app]\ndefault_bureau = \"tokai-hokuriku\"\nbureaus = [\"tokai-hokuriku\"]\n\n\
         [server]\nbind = \"127.0.0.1:7777\"\n",
    )
    .unwrap();
    std::fs::write(
        local.join("bureaus/tokai-hokuriku.toml"),
        "[council_dates]\n\"23\" = [2027-01-21, 2027-02-18]\n\"21\" = [2027-01-28]\n\n\
         [recipients]\nstaff = [\"iryo-shido@tokai.example.lg.jp\"]\n",
    )
    .unwrap();
}

#[test]
fn a_local_file_overrides_shipped_keys_and_the_shipped_files_are_untouched() {
    let tmp = TempDir::new();
    let config = tmp.path().join("config");
    copy_config(&config);
    let before = snapshot(&config);
    let local = tmp.path().join("local");
    write_local(&local);

    let settings = Settings::load_with_local(&config, Some(&local)).unwrap();
    // local.toml wins over default.toml …
    assert_eq!(settings.server.bind, "127.0.0.1:7777");
    assert_eq!(settings.app.default_bureau, "tokai-hokuriku");
    assert_eq!(settings.app.bureaus, ["tokai-hokuriku"]);
    // … and keys it does not name keep their shipped values.
    assert_eq!(settings.database.max_connections, 8);
    // The local bureau file overrides key by key.
    let tokai = settings.bureau("tokai-hokuriku").unwrap();
    assert_eq!(
        tokai.council_dates["23"],
        [
            chrono::NaiveDate::from_ymd_opt(2027, 1, 21).unwrap(),
            chrono::NaiveDate::from_ymd_opt(2027, 2, 18).unwrap()
        ]
    );
    assert_eq!(tokai.recipients.staff, ["iryo-shido@tokai.example.lg.jp"]);
    assert_eq!(
        tokai.recipients.implementing_body,
        ["jisshi-kikan@uketsuke.localhost"],
        "a key the local file does not name stays as shipped"
    );
    assert_eq!(tokai.offices.len(), 6, "the shipped offices remain");
    assert_eq!(tokai.name, "東海北陸厚生局");
    assert!(
        settings
            .bureau("kanto-shinetsu")
            .unwrap()
            .council_dates
            .is_empty(),
        "other bureaus are not touched"
    );
    assert!(
        settings
            .origin
            .files
            .contains(&local.join("bureaus/tokai-hokuriku.toml"))
    );
    assert_eq!(snapshot(&config), before, "no shipped file was written");

    // Without the local folder, the shipped values are back.
    let shipped = Settings::load_with_local(&config, None).unwrap();
    assert_eq!(shipped.server.bind, "127.0.0.1:8080");
    assert!(
        shipped
            .bureau("tokai-hokuriku")
            .unwrap()
            .council_dates
            .is_empty()
    );
}

#[test]
fn a_mistake_in_a_local_file_names_that_file_and_the_key() {
    let tmp = TempDir::new();
    let config = tmp.path().join("config");
    copy_config(&config);
    let local = tmp.path().join("local");
    write_local(&local);
    std::fs::write(
        local.join("bureaus/tokai-hokuriku.toml"),
        "[council_dates]\n\"13\" = [2027-01-21]\n",
    )
    .unwrap();
    let err = format!(
        "{:#}",
        Settings::load_with_local(&config, Some(&local)).unwrap_err()
    );
    assert!(err.contains("local/bureaus/tokai-hokuriku.toml"), "{err}");
    assert!(
        err.contains("council_dates") && err.contains("管轄ではありません"),
        "{err}"
    );

    std::fs::write(local.join("bureaus/tokai-hokuriku.toml"), "[recipientz]\n").unwrap();
    let err = format!(
        "{:#}",
        Settings::load_with_local(&config, Some(&local)).unwrap_err()
    );
    assert!(
        err.contains("tokai-hokuriku.toml") && err.contains("recipientz"),
        "{err}"
    );

    let missing = tmp.path().join("nowhere");
    let err = format!(
        "{:#}",
        Settings::load_with_local(&config, Some(&missing)).unwrap_err()
    );
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn the_bureaus_in_use_are_the_setting_or_those_with_accounts_or_all() {
    let tmp = TempDir::new();
    let config = tmp.path().join("config");
    copy_config(&config);
    let all = Settings::load_with_local(&config, None).unwrap();
    let ids = |s: &Settings, with: &[&str]| -> Vec<String> {
        let with: Vec<String> = with.iter().map(|s| (*s).to_owned()).collect();
        s.bureaus_in_use(&with)
            .iter()
            .map(|b| b.id.clone())
            .collect()
    };
    assert_eq!(ids(&all, &[]).len(), 8, "no account anywhere: every bureau");
    assert_eq!(
        ids(&all, &["kinki"]),
        ["kinki"],
        "the bureaus with accounts"
    );

    let local = tmp.path().join("local");
    write_local(&local);
    let chosen = Settings::load_with_local(&config, Some(&local)).unwrap();
    assert_eq!(ids(&chosen, &[]), ["tokai-hokuriku"]);
    assert_eq!(
        ids(&chosen, &["kinki"]),
        ["tokai-hokuriku"],
        "the setting wins over accounts"
    );

    std::fs::write(
        local.join("local.toml"),
        "[app]\nbureaus = [\"tokai-hokuriku\"]\n",
    )
    .unwrap();
    let err = format!(
        "{:#}",
        Settings::load_with_local(&config, Some(&local)).unwrap_err()
    );
    assert!(
        err.contains("app.default_bureau") && err.contains("app.bureaus"),
        "{err}"
    );
    std::fs::write(local.join("local.toml"), "[app]\nbureaus = [\"tokai\"]\n").unwrap();
    let err = format!(
        "{:#}",
        Settings::load_with_local(&config, Some(&local)).unwrap_err()
    );
    assert!(
        err.contains("tokai") && err.contains("app.bureaus"),
        "{err}"
    );
}
