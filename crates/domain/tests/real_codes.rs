//! Every 医科 code the bureaus published in August 2025 (97,024 rows, from
//! `shared/fixtures/real/` beside the checkout, read in place and never copied) must
//! pass the 検証番号 rules. Without that folder the test says so and is skipped (CI
//! requires it: see `uketsuke_domain::fixtures`).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;

use uketsuke_domain::{CheckRule, FeeSchedule, InstitutionCode, MedicalCode7, Prefecture};

/// The CSV inside the published archive, or `None` when the real data is absent.
fn read_csv() -> Option<String> {
    let path = uketsuke_domain::fixtures::real(WORKSPACE, "all_med_inst_cd_202508.zip")?;
    let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut archive = zip::ZipArchive::new(file).expect("fixture is a zip archive");
    let mut entry = archive
        .by_name("all_med_inst_cd.csv")
        .expect("the archive holds all_med_inst_cd.csv");
    let mut csv = String::new();
    entry.read_to_string(&mut csv).expect("the CSV is UTF-8");
    Some(csv)
}

const WORKSPACE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

#[test]
fn every_published_medical_code_passes_the_check_digit_rules() {
    let Some(csv) = read_csv() else { return };
    let mut rows = 0usize;
    let mut invalid: Vec<String> = Vec::new();
    let mut by_rule: BTreeMap<CheckRule, usize> = BTreeMap::new();
    let mut six_digit_prefecture_rows = 0usize;
    let mut prefectures_seen = std::collections::BTreeSet::new();

    for (n, line) in csv.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        rows += 1;
        // Only the first two columns matter; names and addresses come after.
        let mut columns = line.splitn(3, ',');
        let nine = columns.next().unwrap_or_default();
        let seven = columns.next().unwrap_or_default();
        assert_eq!(nine.len(), 9, "line {}: 9-digit code column: {line}", n + 1);
        assert_eq!(
            &nine[2..],
            seven,
            "line {}: the 7-digit column is the tail of the 9-digit one",
            n + 1
        );

        let code = format!("{}1{}", &nine[..2], &nine[2..]);
        let inspection =
            InstitutionCode::inspect(&code).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let prefecture = inspection.prefecture;
        prefectures_seen.insert(prefecture.code());
        if !inspection.valid {
            invalid.push(code);
            continue;
        }
        *by_rule.entry(inspection.rule).or_default() += 1;
        if prefecture.uses_six_digit_check() {
            six_digit_prefecture_rows += 1;
            assert_eq!(
                inspection.rule,
                CheckRule::SixDigit,
                "line {}: {code}",
                n + 1
            );
        } else {
            assert_ne!(
                inspection.rule,
                CheckRule::SixDigit,
                "line {}: {code}",
                n + 1
            );
        }

        // The same code built from its parts agrees with the parsed one.
        let medical_code = MedicalCode7::parse(seven).expect("7 digits");
        let from_parts =
            InstitutionCode::from_parts(prefecture, FeeSchedule::Medical, &medical_code)
                .expect("valid code");
        assert_eq!(from_parts.as_str(), code);
        assert_eq!(from_parts.rule(), inspection.rule);
    }

    assert_eq!(rows, 97_024, "row count of all_med_inst_cd.csv");
    assert!(
        invalid.is_empty(),
        "{} invalid codes, e.g. {:?}",
        invalid.len(),
        &invalid[..invalid.len().min(10)]
    );
    assert_eq!(by_rule.get(&CheckRule::CombinedDental).copied(), Some(27));
    assert!(six_digit_prefecture_rows > 0);
    assert_eq!(
        by_rule.get(&CheckRule::SixDigit).copied(),
        Some(six_digit_prefecture_rows)
    );
    // 01–46 are present (沖縄 47 is missing from the published set).
    let expected: Vec<u8> = Prefecture::all()
        .map(|p| p.code())
        .filter(|&c| c != 47)
        .collect();
    assert_eq!(prefectures_seen.into_iter().collect::<Vec<_>>(), expected);
}
