//! For tests: the bureaus' published data (97,024 real codes, two real 名簿) that lives
//! beside a checkout in `../shared/fixtures/real/` and is never copied into the
//! repository. A clone without it still passes its tests: each test that needs a file
//! says, in one line that `cargo test` does not hide, which file is missing and where it
//! was looked for, and returns. CI sets `REQUIRE_REAL_FIXTURES=1`, which makes a
//! missing file a failure instead. `REAL_FIXTURES_DIR` may point at another folder.
//! (Neither starts with `UKETSUKE_`: that prefix is the application's settings.)

use std::io::Write;
use std::path::PathBuf;

/// The variable that points at the folder of real data.
pub const DIR_VAR: &str = "REAL_FIXTURES_DIR";
/// The variable that makes the real data required (CI).
pub const REQUIRE_VAR: &str = "REQUIRE_REAL_FIXTURES";

/// The folder of real data: `$REAL_FIXTURES_DIR`, else `shared/fixtures/real`
/// beside the workspace (`workspace` is the workspace's root folder).
pub fn dir(workspace: &str) -> PathBuf {
    dir_from(std::env::var_os(DIR_VAR), workspace)
}

/// [`dir`] for a given value of `$REAL_FIXTURES_DIR` (an empty one counts as unset).
fn dir_from(var: Option<std::ffi::OsString>, workspace: &str) -> PathBuf {
    match var.filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(workspace).join("../shared/fixtures/real"),
    }
}

/// The path of the real file `name`, or `None` after saying that the test that asked
/// is skipped (a panic instead when the data is required).
pub fn real(workspace: &str, name: &str) -> Option<PathBuf> {
    let folder = dir(workspace);
    let path = folder.join(name);
    if path.is_file() {
        return Some(path);
    }
    let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
    let message = format!(
        "real data {name} not found in {} (set {DIR_VAR} to its folder)",
        folder.display()
    );
    if required {
        panic!("{message}; {REQUIRE_VAR}=1 makes it required");
    }
    // Written to the process's stderr directly: the test harness captures only the
    // print macros, so this line shows even when the test passes.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {message}");
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

    #[test]
    fn the_folder_is_the_variables_or_beside_the_workspace() {
        assert_eq!(
            dir_from(None, "/w"),
            PathBuf::from("/w/../shared/fixtures/real")
        );
        assert_eq!(
            dir_from(Some("".into()), "/w"),
            PathBuf::from("/w/../shared/fixtures/real")
        );
        assert_eq!(dir_from(Some("/data".into()), "/w"), PathBuf::from("/data"));
        assert_eq!(dir(ROOT), dir_from(std::env::var_os(DIR_VAR), ROOT));
    }

    #[test]
    fn a_present_file_is_found_and_a_missing_one_skipped_or_required() {
        let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
        let known = "31_tottori_todokede_juri_meibo_r0607.xlsx";
        if dir(ROOT).join(known).is_file() {
            assert_eq!(real(ROOT, known), Some(dir(ROOT).join(known)));
        } else {
            assert!(!required, "{known} is required but missing");
        }
        let missing = std::panic::catch_unwind(|| real(ROOT, "no-such-file.xlsx"));
        if required {
            assert!(missing.is_err(), "a required missing file is a failure");
        } else {
            assert_eq!(missing.ok(), Some(None));
        }
    }
}
