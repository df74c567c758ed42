//! Serial ranges, the "90" rule, 医科歯科併設 pairs, municipalities and districts.

use std::collections::BTreeSet;

use figment::Figment;
use figment::providers::{Format, Toml};
use proptest::prelude::*;
use uketsuke_domain::FeeSchedule;
use uketsuke_rules::Error;
use uketsuke_rules::numbering::{
    NumberingPolicy, SerialRange, has_90, is_usable_new_serial, municipality_of,
    next_free_pair_serial, next_free_serial, suggest_district, suggest_district_counted,
};

fn set(serials: impl IntoIterator<Item = u16>) -> BTreeSet<u16> {
    serials.into_iter().collect()
}

#[test]
fn default_ranges_follow_the_guidance() {
    let p = NumberingPolicy::default();
    assert_eq!((p.medical.first(), p.medical.last()), (1000, 2999));
    assert_eq!((p.dental.first(), p.dental.last()), (3000, 3999));
    assert_eq!((p.pharmacy.first(), p.pharmacy.last()), (4000, 4999));
    assert_eq!(
        (p.visiting_nursing.first(), p.visiting_nursing.last()),
        (9000, 9999)
    );
    assert!(p.skip_90);
}

#[test]
fn numbers_with_90_in_the_middle_or_last_two_digits_are_not_used() {
    let p = NumberingPolicy::default();
    for serial in [1090, 1900, 1905, 1909, 2090, 2190, 2900] {
        assert!(has_90(serial), "{serial}");
        assert!(
            !is_usable_new_serial(FeeSchedule::Medical, serial, &p),
            "{serial}"
        );
    }
    for serial in [1009, 1089, 1091, 1899, 1910, 2009, 2099] {
        assert!(!has_90(serial), "{serial}");
        assert!(
            is_usable_new_serial(FeeSchedule::Medical, serial, &p),
            "{serial}"
        );
    }
}

#[test]
fn the_90_rule_can_be_switched_off() {
    let p = NumberingPolicy {
        skip_90: false,
        ..NumberingPolicy::default()
    };
    assert!(is_usable_new_serial(FeeSchedule::Medical, 1090, &p));
}

#[test]
fn a_serial_outside_the_range_of_its_fee_schedule_is_not_usable() {
    let p = NumberingPolicy::default();
    assert!(!is_usable_new_serial(FeeSchedule::Medical, 3000, &p));
    assert!(!is_usable_new_serial(FeeSchedule::Dental, 2999, &p));
    assert!(is_usable_new_serial(FeeSchedule::Dental, 3000, &p));
    assert!(is_usable_new_serial(FeeSchedule::Pharmacy, 4999, &p));
    assert!(!is_usable_new_serial(FeeSchedule::Pharmacy, 5000, &p));
    assert!(is_usable_new_serial(FeeSchedule::VisitingNursing, 9001, &p));
}

#[test]
fn next_free_serial_is_the_smallest_untaken_usable_one() {
    let p = NumberingPolicy::default();
    assert_eq!(
        next_free_serial(FeeSchedule::Medical, &set([]), &p),
        Some(1000)
    );
    assert_eq!(
        next_free_serial(FeeSchedule::Medical, &set([1000, 1001, 1003]), &p),
        Some(1002)
    );
    assert_eq!(
        next_free_serial(FeeSchedule::Pharmacy, &set([4000]), &p),
        Some(4001)
    );
}

#[test]
fn next_free_serial_skips_the_90_numbers() {
    let p = NumberingPolicy::default();
    let taken = set(1000..=1089);
    assert_eq!(
        next_free_serial(FeeSchedule::Medical, &taken, &p),
        Some(1091)
    );
    let taken = set((1000..=1899).chain(1910..=1911));
    // 1900–1909 all have "90" in the middle.
    assert_eq!(
        next_free_serial(FeeSchedule::Medical, &taken, &p),
        Some(1912)
    );
}

#[test]
fn next_free_serial_is_none_when_the_range_is_exhausted() {
    let p = NumberingPolicy::default();
    assert_eq!(
        next_free_serial(FeeSchedule::Dental, &set(3000..=3999), &p),
        None
    );
}

#[test]
fn pair_serial_is_free_in_both_medical_and_dental() {
    let p = NumberingPolicy::default();
    let medical = set([1000, 1001]);
    let dental = set([1002, 3000]);
    assert_eq!(next_free_pair_serial(&medical, &dental, &p), Some(1003));
}

#[test]
fn pair_serial_uses_the_medical_range() {
    let p = NumberingPolicy::default();
    assert_eq!(next_free_pair_serial(&set([]), &set([]), &p), Some(1000));
    assert_eq!(next_free_pair_serial(&set(1000..=2999), &set([]), &p), None);
}

#[test]
fn serial_range_refuses_empty_or_five_digit_ranges() {
    assert_eq!(
        SerialRange::new(3000, 2999),
        Err(Error::InvalidSerialRange {
            first: 3000,
            last: 2999
        })
    );
    assert!(SerialRange::new(9000, 10000).is_err());
    assert!(SerialRange::new(5, 5).is_ok());
}

#[test]
fn a_serial_range_is_written_as_it_is_configured() {
    let range = SerialRange::new(3000, 3999).unwrap();
    assert_eq!(<(u16, u16)>::from(range), (3000, 3999));
    assert_eq!(serde_json::to_string(&range).unwrap(), "[3000,3999]");
    let back: SerialRange = serde_json::from_str("[3000,3999]").unwrap();
    assert_eq!(back, range);
}

#[test]
fn numbering_policy_reads_from_toml_with_defaults() {
    let p: NumberingPolicy = Figment::from(Toml::string(
        "visiting_nursing = [5000, 5999]\nskip_90 = false\n",
    ))
    .extract()
    .unwrap();
    assert_eq!(p.visiting_nursing, SerialRange::new(5000, 5999).unwrap());
    assert!(!p.skip_90);
    assert_eq!(p.medical, NumberingPolicy::default().medical);
    assert!(
        Figment::from(Toml::string("medcal = [1, 2]"))
            .extract::<NumberingPolicy>()
            .is_err()
    );
    let bad = Figment::from(Toml::string("medical = [2999, 1000]")).extract::<NumberingPolicy>();
    assert!(bad.unwrap_err().to_string().contains("医療機関番号の範囲"));
}

#[test]
fn municipality_of_the_examples_of_the_brief() {
    let cases = [
        ("鳥取県鳥取市富安2丁目", "鳥取市"),
        ("山梨県南都留郡富士河口湖町船津1234", "南都留郡富士河口湖町"),
        ("大阪府大阪市北区梅田1-1", "大阪市北区"),
        ("東京都千代田区霞が関1-2-2", "千代田区"),
        ("鳥取市富安2丁目", "鳥取市"),
        ("南都留郡富士河口湖町船津1234", "南都留郡富士河口湖町"),
        ("大阪市北区梅田1-1", "大阪市北区"),
        ("千代田区霞が関1-2-2", "千代田区"),
    ];
    for (address, expected) in cases {
        assert_eq!(
            municipality_of(address).as_deref(),
            Some(expected),
            "{address}"
        );
    }
}

#[test]
fn municipality_of_names_that_contain_city_town_village_or_county_characters() {
    // Real addresses from the bureaus' published lists (August 2025).
    let cases = [
        ("四日市市三栄町４番１０号", "四日市市"),
        ("廿日市市地御前１丁目３－３", "廿日市市"),
        ("野々市市中林４－１２３", "野々市市"),
        ("大町市大町４１１８", "大町市"),
        ("十日町市高田町三丁目南３２番地９", "十日町市"),
        ("東村山市青葉町三丁目２９番地１", "東村山市"),
        ("武蔵村山市学園四丁目１０番地１", "武蔵村山市"),
        ("羽村市五ノ神四丁目３番地７", "羽村市"),
        ("大村市東本町５３７", "大村市"),
        ("田村市都路町古道字寺下５０", "田村市"),
        ("大和郡山市南郡山５３９－９", "大和郡山市"),
        ("蒲郡市平田町向田１－１", "蒲郡市"),
        ("小郡市美鈴の杜１丁目１番１号１Ｆ", "小郡市"),
        ("余市郡余市町黒川町１９丁目１番地１", "余市郡余市町"),
        ("佐波郡玉村町大字上新田１６４８", "佐波郡玉村町"),
        ("杵島郡大町町大字福母２５６１番地４", "杵島郡大町町"),
        ("高市郡高取町寺崎７９３", "高市郡高取町"),
        ("北村山郡大石田町大字大石田乙９４", "北村山郡大石田町"),
        ("西村山郡朝日町大字宮宿８４３", "西村山郡朝日町"),
        ("東村山郡中山町長崎３０３０－１", "東村山郡中山町"),
        ("田村郡三春町字中町２８", "田村郡三春町"),
        ("市川市八幡２‐８‐１３", "市川市"),
        ("町田市南町田三丁目８番１号", "町田市"),
        ("村上市瀬波中町１２番１８号", "村上市"),
        ("郡山市清水台２－７－４", "郡山市"),
        ("郡上市美並町大原１－１", "郡上市"),
        ("芳賀郡市貝町大字赤羽２６５８－１１", "芳賀郡市貝町"),
        ("西八代郡市川三郷町高田２４５８", "西八代郡市川三郷町"),
        ("柴田郡村田町村田字西 ４６", "柴田郡村田町"),
        ("富山県中新川郡上市町横法音寺４０", "中新川郡上市町"),
        ("いちき串木野市元町１９０", "いちき串木野市"),
        ("北九州市八幡西区熊手三丁目１－４", "北九州市八幡西区"),
        (
            "京都府京都市右京区太秦帷子ケ辻町３０番地の４",
            "京都市右京区",
        ),
        ("さいたま市西区島根６５", "さいたま市西区"),
        ("名古屋市中村区道下町３－３５", "名古屋市中村区"),
        ("東京都三宅島三宅村神着９３７番地", "三宅村"),
        ("八丈島八丈町三根２６番地１１", "八丈町"),
        ("北海道札幌市南区川沿１３条２丁目１番３８号", "札幌市南区"),
    ];
    for (address, expected) in cases {
        assert_eq!(
            municipality_of(address).as_deref(),
            Some(expected),
            "{address}"
        );
    }
}

#[test]
fn municipality_of_ignores_spaces() {
    assert_eq!(
        municipality_of("  東京都　千代田区 丸の内一丁目").as_deref(),
        Some("千代田区")
    );
}

#[test]
fn municipality_of_something_that_is_no_address_is_none() {
    assert_eq!(municipality_of(""), None);
    assert_eq!(municipality_of("東京都"), None);
    assert_eq!(municipality_of("レインボーテラス内"), None);
}

#[test]
fn suggest_district_picks_the_most_common_district_of_the_municipality() {
    let registry = [
        ("鳥取市", 1),
        ("鳥取市", 2),
        ("鳥取市", 2),
        ("米子市", 3),
        ("米子市", 3),
        ("米子市", 3),
    ];
    assert_eq!(suggest_district("鳥取市", registry), Some(2));
    assert_eq!(suggest_district("米子市", registry), Some(3));
}

#[test]
fn suggest_district_breaks_ties_with_the_smallest_district() {
    let registry = [("倉吉市", 5), ("倉吉市", 4), ("倉吉市", 5), ("倉吉市", 4)];
    assert_eq!(suggest_district("倉吉市", registry), Some(4));
}

#[test]
fn suggest_district_is_none_for_a_municipality_without_facilities() {
    assert_eq!(suggest_district("日野郡日南町", [("鳥取市", 1)]), None);
    assert_eq!(suggest_district("鳥取市", []), None);
}

#[test]
fn suggest_district_counted_weighs_each_group_by_its_count() {
    // As the database groups them: (municipality, district, registry codes there).
    let grouped = [("鳥取市", 1, 40), ("鳥取市", 2, 39), ("駒ヶ根市", 7, 1)];
    assert_eq!(suggest_district_counted("鳥取市", grouped), Some(1));
    assert_eq!(suggest_district_counted("駒ケ根市", grouped), Some(7));
    assert_eq!(suggest_district_counted("鳥取市", [("鳥取市", 3, 0)]), None);
}

#[test]
fn suggest_district_treats_small_and_large_ke_alike() {
    assert_eq!(suggest_district("駒ヶ根市", [("駒ケ根市", 7)]), Some(7));
}

proptest! {
    #[test]
    fn next_free_serial_never_returns_a_taken_or_90_number(
        taken in prop::collection::btree_set(900u16..5100, 0..3000),
        fee in prop::sample::select(FeeSchedule::ALL.to_vec()),
    ) {
        let p = NumberingPolicy::default();
        if let Some(serial) = next_free_serial(fee, &taken, &p) {
            prop_assert!(!taken.contains(&serial));
            prop_assert!(!has_90(serial));
            prop_assert!(p.range(fee).contains(serial));
            // Nothing smaller would do.
            prop_assert!(p.range(fee).iter().take_while(|&s| s < serial)
                .all(|s| taken.contains(&s) || has_90(s)));
        } else {
            prop_assert!(p.range(fee).iter().all(|s| taken.contains(&s) || has_90(s)));
        }
    }

    #[test]
    fn pair_serial_is_usable_for_medical_and_taken_in_neither(
        medical in prop::collection::btree_set(1000u16..3000, 0..2000),
        dental in prop::collection::btree_set(1000u16..3000, 0..2000),
    ) {
        let p = NumberingPolicy::default();
        if let Some(serial) = next_free_pair_serial(&medical, &dental, &p) {
            prop_assert!(is_usable_new_serial(FeeSchedule::Medical, serial, &p));
            prop_assert!(!medical.contains(&serial) && !dental.contains(&serial));
        }
    }

    #[test]
    fn has_90_matches_the_decimal_digits(serial in 0u16..=9999) {
        let digits = format!("{serial:04}");
        prop_assert_eq!(has_90(serial), &digits[1..3] == "90" || &digits[2..4] == "90");
    }

    #[test]
    fn municipality_of_is_a_piece_of_the_address_ending_in_a_unit(
        address in prop_oneof!["\\PC{0,30}", "[ 鳥取市区町村郡県都府道東京大阪北南ヶ島余]{0,14}"]
    ) {
        if let Some(m) = municipality_of(&address) {
            let compact: String = address.split_whitespace().collect();
            prop_assert!(compact.contains(&m), "{} not in {}", m, compact);
            prop_assert!(m.ends_with(['市', '区', '町', '村']), "{}", m);
            prop_assert!(m.chars().count() >= 2);
        }
    }
}
