//! The check of an 「オンライン資格確認の導入計画書」 (別紙2, seed 002 第2): the bureau
//! 「必要な記載事項が記入されていることを確認し、不備等がある場合には必要な補正を求める」.
//! Each finding names its item (①–⑬) and says in plain Japanese what to correct, so
//! that it can go as it is into the 補正 request.
//!
//! | rule | finding when |
//! |---|---|
//! | required | ①名称・所在地, ②氏名・住所・電話番号, ③, ④, ⑤, ⑦, ⑨, ⑩, ⑪, ⑫, ⑬ blank; ⑥ blank unless ⑤ is ウ; ⑧ blank unless ⑦ is ウ; イ without its month |
//! | well-formed | a 郵便番号 or 電話番号 that is not one |
//! | order | ⑩ after ⑫, ⑫ after ⑬ |
//! | case: date | ⑬ after the case's 指定希望日 |
//! | case: facility | ① 名称 or 所在地 not the case's (compared without width, spaces or kana case) |
//! | case: number | ④ 済み while the case has no answered 受付番号 (the application needs it) |
//!
//! Without a case ([`check`] with `None`) only the first three rows apply: what the
//! CLI can say of a file alone.

use chrono::NaiveDate;
use serde::Serialize;
use uketsuke_domain::{
    Done, PhoneNumber, Plan, PostalCode, Readiness, format_wareki, plan_item_label, search_key,
};

/// What the check knows of the case the plan belongs to.
#[derive(Debug, Clone)]
pub struct PlanCase<'a> {
    pub facility_name: &'a str,
    pub facility_address: &'a str,
    /// 指定希望日 (or the designation date recorded).
    pub designation_date: NaiveDate,
    /// The case holds a 受付番号 that was answered (回答済 or later).
    pub answered: bool,
}

/// One thing to correct in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The item, 1–13.
    pub item: u8,
    /// The part of ① or ② at fault (`name`, `address`, `postal_code`, `phone`), to place
    /// the finding on its cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<&'static str>,
    /// Plain Japanese, starting with the item's printed name.
    pub message: String,
}

impl Finding {
    fn new(item: u8, message: impl AsRef<str>) -> Self {
        Self {
            item,
            part: None,
            message: format!("{}：{}", plan_item_label(item), message.as_ref()),
        }
    }

    fn part(mut self, part: &'static str) -> Self {
        self.part = Some(part);
        self
    }
}

/// Every finding of `plan`, in item order; empty when the plan may be confirmed.
pub fn check(plan: &Plan, case: Option<&PlanCase<'_>>) -> Vec<Finding> {
    let mut out = Vec::new();
    let f = &plan.facility;
    if f.name.is_none() {
        out.push(Finding::new(1, "名称が記入されていません。").part("name"));
    }
    if f.address.is_none() {
        out.push(Finding::new(1, "所在地が記入されていません。").part("address"));
    }
    postal(&mut out, 1, f.postal_code.as_deref());
    let o = &plan.founder;
    if o.name.is_none() {
        out.push(
            Finding::new(
                2,
                "開設者の氏名（法人の場合は代表者の氏名）が記入されていません。",
            )
            .part("name"),
        );
    }
    if o.address.is_none() {
        out.push(Finding::new(2, "開設者の住所が記入されていません。").part("address"));
    }
    postal(&mut out, 2, o.postal_code.as_deref());
    match o.phone.as_deref() {
        None => out.push(Finding::new(2, "開設者の電話番号が記入されていません。").part("phone")),
        Some(p) => {
            if let Err(e) = PhoneNumber::parse(p) {
                out.push(
                    Finding::new(2, format!("電話番号「{p}」が読み取れません。{e}")).part("phone"),
                );
            }
        }
    }
    for (n, v) in [(3u8, plan.account), (4, plan.application)] {
        if v.is_none() {
            out.push(Finding::new(
                n,
                "記入されていません。「済み」か「未実施」を記入してください。",
            ));
        }
    }
    readiness(&mut out, 5, plan.card_reader);
    if plan.card_reader_maker.is_none() && plan.card_reader != Some(Readiness::Quoting) {
        out.push(Finding::new(
            6,
            "カードリーダーのメーカー名が記入されていません。",
        ));
    }
    readiness(&mut out, 7, plan.network);
    if plan.network_company.is_none() && plan.network != Some(Readiness::Quoting) {
        out.push(Finding::new(
            8,
            "ネットワーク導入事業者名が記入されていません。",
        ));
    }
    if plan.network_type.is_none() {
        out.push(Finding::new(
            9,
            "記入されていません。「IP-VPN」か「IPsec+IKE」を記入してください。",
        ));
    }
    let dates = [
        (10u8, plan.work_start),
        (12, plan.operation_start),
        (13, plan.practice_start),
    ];
    for (n, d) in dates {
        if d.is_none() {
            out.push(Finding::new(n, "日付が記入されていません。"));
        }
    }
    if plan.system_company.is_none() {
        out.push(Finding::new(
            11,
            "システム導入事業者名が記入されていません。",
        ));
    }
    for pair in dates.windows(2) {
        if let [(a, Some(da)), (b, Some(db))] = pair
            && da > db
        {
            out.push(Finding::new(
                *b,
                format!(
                    "{}が{}（{}）より前になっています。日付の順序を確認してください。",
                    format_wareki(*db),
                    plan_item_label(*a),
                    format_wareki(*da)
                ),
            ));
        }
    }
    if let Some(case) = case {
        if let Some(start) = plan.practice_start
            && start > case.designation_date
        {
            out.push(Finding::new(
                13,
                format!(
                    "診療・調剤開始（予定）日（{}）が指定希望日（{}）より後になっています。指定の時点でオンライン資格確認を導入している計画としてください。",
                    format_wareki(start),
                    format_wareki(case.designation_date)
                ),
            ));
        }
        if let Some(name) = &f.name
            && search_key(name) != search_key(case.facility_name)
            && search_key(without_reading(name)) != search_key(case.facility_name)
        {
            out.push(
                Finding::new(
                    1,
                    format!(
                        "名称「{name}」が依頼書の名称「{}」と一致しません。",
                        case.facility_name
                    ),
                )
                .part("name"),
            );
        }
        if let Some(address) = &f.address
            && search_key(address) != search_key(case.facility_address)
        {
            out.push(
                Finding::new(
                    1,
                    format!(
                        "所在地「{address}」が依頼書の所在地「{}」と一致しません。",
                        case.facility_address
                    ),
                )
                .part("address"),
            );
        }
        if plan.application == Some(Done::Done) && !case.answered {
            out.push(Finding::new(
                4,
                "「済み」となっていますが、受付番号をまだ回答していません。利用申請・電子証明書の発行申請は受付番号の回答後に行うものです。記載を確認してください。",
            ));
        }
    }
    out.sort_by_key(|f| f.item);
    out
}

fn postal(out: &mut Vec<Finding>, item: u8, code: Option<&str>) {
    if let Some(p) = code
        && let Err(e) = PostalCode::parse(p)
    {
        out.push(
            Finding::new(item, format!("郵便番号「{p}」が読み取れません。{e}")).part("postal_code"),
        );
    }
}

fn readiness(out: &mut Vec<Finding>, item: u8, r: Option<Readiness>) {
    match r {
        None => out.push(Finding::new(
            item,
            "記入されていません。ア（整備済み）・イ（契約済み）・ウ（見積もり中）から1つ選んでください。",
        )),
        Some(Readiness::Contracted { month: None }) => out.push(Finding::new(
            item,
            "「イ 契約済み」の整備予定月が記入されていません。",
        )),
        Some(_) => {}
    }
}

/// A name as the printed 別紙2 lets it be written, in one cell with its （フリガナ）
/// first: `ケイカクショテストイイン 計画書テスト医院` → `計画書テスト医院`. A name with no
/// reading of katakana alone before a space is returned as it is.
fn without_reading(name: &str) -> &str {
    let t = name.trim();
    let Some((first, rest)) = t.split_once(|c: char| c.is_whitespace()) else {
        return t;
    };
    let reading = first
        .trim_start_matches(['(', '（'])
        .trim_end_matches([')', '）'])
        .chars()
        .all(|c| matches!(c, '\u{30A0}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}'));
    if reading && !first.is_empty() && !rest.trim().is_empty() {
        rest.trim()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uketsuke_domain::{NetworkType, PlanFacility, PlanFounder};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn complete() -> Plan {
        Plan {
            facility: PlanFacility {
                name: Some("オン資クリニック".into()),
                postal_code: Some("100-0013".into()),
                address: Some("東京都千代田区霞が関1-2-2".into()),
            },
            founder: PlanFounder {
                name: Some("資格 花子".into()),
                registration: None,
                postal_code: Some("100-0013".into()),
                address: Some("東京都千代田区霞が関1-2-2".into()),
                phone: Some("03-1234-5678".into()),
                email: None,
            },
            account: Some(Done::Done),
            application: Some(Done::NotYet),
            card_reader: Some(Readiness::Contracted { month: Some(3) }),
            card_reader_maker: Some("メーカーA".into()),
            network: Some(Readiness::Quoting),
            network_company: None,
            network_type: Some(NetworkType::IpVpn),
            work_start: Some(day(2026, 2, 1)),
            system_company: Some("システムB".into()),
            operation_start: Some(day(2026, 3, 15)),
            practice_start: Some(day(2026, 4, 1)),
        }
    }

    fn case() -> PlanCase<'static> {
        PlanCase {
            facility_name: "オン資　クリニック",
            facility_address: "東京都千代田区霞が関１－２－２",
            designation_date: day(2026, 4, 1),
            answered: false,
        }
    }

    #[test]
    fn a_complete_plan_matching_its_case_has_no_findings() {
        assert_eq!(check(&complete(), Some(&case())), vec![]);
    }

    #[test]
    fn missing_items_are_named_by_number() {
        let plan = Plan {
            account: None,
            card_reader: Some(Readiness::Contracted { month: None }),
            card_reader_maker: None,
            network_type: None,
            ..complete()
        };
        let items: Vec<u8> = check(&plan, None).iter().map(|f| f.item).collect();
        assert_eq!(items, vec![3, 5, 6, 9]);
        assert!(
            check(&plan, None)[0]
                .message
                .starts_with("③ アカウント作成：")
        );
    }

    #[test]
    fn dates_out_of_order_or_after_the_designation_are_findings() {
        let plan = Plan {
            operation_start: Some(day(2026, 1, 15)),
            practice_start: Some(day(2026, 5, 1)),
            ..complete()
        };
        let found = check(&plan, Some(&case()));
        let items: Vec<u8> = found.iter().map(|f| f.item).collect();
        assert_eq!(items, vec![12, 13]);
        assert!(
            found[1]
                .message
                .contains("指定希望日（令和8年4月1日）より後")
        );
    }

    #[test]
    fn the_case_must_match_and_have_an_answered_number_for_item_4() {
        let plan = Plan {
            facility: PlanFacility {
                name: Some("別のクリニック".into()),
                ..complete().facility
            },
            application: Some(Done::Done),
            ..complete()
        };
        let items: Vec<u8> = check(&plan, Some(&case())).iter().map(|f| f.item).collect();
        assert_eq!(items, vec![1, 4]);
        let answered = PlanCase {
            answered: true,
            ..case()
        };
        let items: Vec<u8> = check(&plan, Some(&answered))
            .iter()
            .map(|f| f.item)
            .collect();
        assert_eq!(items, vec![1]);
    }

    #[test]
    fn a_name_written_after_its_reading_matches_the_case() {
        assert_eq!(
            without_reading("ケイカクショテストイイン 計画書テスト医院"),
            "計画書テスト医院"
        );
        assert_eq!(
            without_reading("（ケイカクショ）　計画書テスト医院"),
            "計画書テスト医院"
        );
        assert_eq!(without_reading("計画書テスト医院"), "計画書テスト医院");
        // Only a leading word of katakana alone is taken for a reading (the whole name
        // is compared first, so 「サクラ 内科」 written as the case has it still matches).
        assert_eq!(without_reading("サクラ 内科"), "内科");
        assert_eq!(without_reading("さくら 内科"), "さくら 内科");
        assert_eq!(without_reading("アイ"), "アイ");
    }
}
