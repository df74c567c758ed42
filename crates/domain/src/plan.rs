//! 「オンライン資格確認の導入計画書」 (別紙2 of seed 002): the plan a facility attaches
//! to its 指定申請, items ①–⑬, and its JSON with the items by their number
//! (`"1"` … `"13"`), the one shape the CLI, the API and the store share.
//!
//! | item | what | type |
//! |---|---|---|
//! | ① | 医療機関・薬局: 名称, 所在地 (〒) | [`PlanFacility`] |
//! | ② | 開設者: 氏名, 登録の記号及び番号, 住所, 電話番号, Email (任意) | [`PlanFounder`] |
//! | ③ | アカウント作成 (済み/未実施) | [`Done`] |
//! | ④ | 利用申請・電子証明書の発行申請 (済み/未実施) | [`Done`] |
//! | ⑤ | カードリーダーの調達状況 (ア 整備済み / イ 契約済み (月) / ウ 見積もり中) | [`Readiness`] |
//! | ⑥ | カードリーダーのメーカー名 | text |
//! | ⑦ | ネットワークの整備状況 (ア/イ/ウ) | [`Readiness`] |
//! | ⑧ | ネットワーク導入事業者名 | text |
//! | ⑨ | ネットワーク種類 (IP-VPN / IPsec+IKE) | [`NetworkType`] |
//! | ⑩ | 導入作業開始(予定)日 | date |
//! | ⑪ | システム導入事業者名 | text |
//! | ⑫ | 運用開始(予定)日 | date |
//! | ⑬ | 診療・調剤開始(予定)日 | date |
//!
//! Every item is optional here: a plan as submitted may lack some, and saying which
//! is the check's job (`uketsuke_rules::plan`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::width::normalize_width;

/// ③ and ④: 済み or 未実施.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Done {
    Done,
    NotYet,
}

impl Done {
    pub fn as_str(self) -> &'static str {
        match self {
            Done::Done => "done",
            Done::NotYet => "not_yet",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Done::Done => "済み",
            Done::NotYet => "未実施",
        }
    }

    /// `済み`, `済`, `実施済み`, `done`; `未実施`, `未`, `not_yet`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let t = compact(input);
        match t.as_str() {
            "済み" | "済" | "実施済み" | "実施済" | "完了" | "done" | "DONE" => {
                Ok(Done::Done)
            }
            "未実施" | "未" | "未済" | "not_yet" | "NOT_YET" => Ok(Done::NotYet),
            _ => Err(format!(
                "「{}」は読み取れません。「済み」か「未実施」を記入してください。",
                input.trim()
            )),
        }
    }
}

/// ⑤ and ⑦: ア 整備済み / イ 契約済み (○月整備予定) / ウ 見積もり中.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Readiness {
    /// ア 整備済み
    Ready,
    /// イ 契約済み, with the month it is to be ready (整備予定月) when given.
    Contracted { month: Option<u8> },
    /// ウ 見積もり中
    Quoting,
}

impl Readiness {
    pub fn as_str(self) -> &'static str {
        match self {
            Readiness::Ready => "ready",
            Readiness::Contracted { .. } => "contracted",
            Readiness::Quoting => "quoting",
        }
    }

    /// `ア 整備済み`, `イ 契約済み（5月整備予定）`, `ウ 見積もり中`.
    pub fn label(self) -> String {
        match self {
            Readiness::Ready => "ア 整備済み".to_owned(),
            Readiness::Contracted { month: Some(m) } => format!("イ 契約済み（{m}月整備予定）"),
            Readiness::Contracted { month: None } => "イ 契約済み".to_owned(),
            Readiness::Quoting => "ウ 見積もり中".to_owned(),
        }
    }

    /// The choice as written: its letter (ア・イ・ウ), its words, or the id; for イ a
    /// month anywhere in the text (`イ（5月整備予定）`, `契約済み 5`).
    pub fn parse(input: &str) -> Result<Self, String> {
        let t = compact(input);
        let bad = || {
            format!(
                "「{}」は読み取れません。ア（整備済み）・イ（契約済み、○月整備予定）・ウ（見積もり中）から1つ選んでください。",
                input.trim()
            )
        };
        let has = |w: &str| t.contains(w);
        let first = t.chars().find(|c| matches!(c, 'ア' | 'イ' | 'ウ'));
        let ready = has("整備済") || has("ready") || (first == Some('ア') && !has("見積"));
        let contracted = has("契約") || has("contracted") || first == Some('イ');
        let quoting = has("見積") || has("quoting") || first == Some('ウ');
        match (ready, contracted, quoting) {
            (true, false, false) => Ok(Readiness::Ready),
            (false, true, false) => Ok(Readiness::Contracted {
                month: month_in(&t).map_err(|_| bad())?,
            }),
            (false, false, true) => Ok(Readiness::Quoting),
            _ => Err(bad()),
        }
    }

    fn to_json(self) -> Value {
        match self {
            Readiness::Contracted { month } => json!({"status": "contracted", "month": month}),
            other => json!({"status": other.as_str(), "month": null}),
        }
    }

    fn from_json(v: &Value) -> Result<Self, String> {
        match v {
            Value::String(s) => Self::parse(s),
            Value::Object(o) => {
                let status = o.get("status").and_then(Value::as_str).unwrap_or("");
                let month = match o.get("month") {
                    None | Some(Value::Null) => None,
                    Some(Value::Number(n)) => Some(
                        n.as_u64()
                            .and_then(|m| u8::try_from(m).ok())
                            .filter(|m| (1..=12).contains(m))
                            .ok_or_else(|| format!("整備予定月「{n}」は1〜12の数字です。"))?,
                    ),
                    Some(other) => month_in(&compact(&text_of(other)))?,
                };
                match Self::parse(status)? {
                    Readiness::Contracted { month: m } => {
                        Ok(Readiness::Contracted { month: month.or(m) })
                    }
                    other => Ok(other),
                }
            }
            _ => Err("ア・イ・ウのいずれかを記入してください。".to_owned()),
        }
    }
}

/// A month 1–12 in `t` (the first number), if any.
fn month_in(t: &str) -> Result<Option<u8>, String> {
    let digits: String = t
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    if digits.is_empty() {
        return Ok(None);
    }
    digits
        .parse::<u8>()
        .ok()
        .filter(|m| (1..=12).contains(m))
        .map(Some)
        .ok_or_else(|| format!("整備予定月「{digits}」は1〜12の数字です。"))
}

/// ⑨ ネットワーク種類.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkType {
    /// IP-VPN 接続方式
    IpVpn,
    /// IPsec+IKE 接続方式
    IpsecIke,
}

impl NetworkType {
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkType::IpVpn => "ip_vpn",
            NetworkType::IpsecIke => "ipsec_ike",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            NetworkType::IpVpn => "IP-VPN",
            NetworkType::IpsecIke => "IPsec+IKE",
        }
    }

    /// `IP-VPN`, `ＩＰ－ＶＰＮ`, `IPsec+IKE`, `IPsec＋IKE`, `ip_vpn`, `ipsec_ike`.
    pub fn parse(input: &str) -> Result<Self, String> {
        let t: String = compact(input)
            .to_ascii_uppercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect();
        match t.as_str() {
            "IPVPN" | "IPVPN接続" | "IPVPN方式" => Ok(NetworkType::IpVpn),
            "IPSECIKE" | "IPSEC" | "IPSECIKE方式" => Ok(NetworkType::IpsecIke),
            _ => Err(format!(
                "「{}」は読み取れません。「IP-VPN」か「IPsec+IKE」を記入してください。",
                input.trim()
            )),
        }
    }
}

/// ① 医療機関・薬局.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFacility {
    pub name: Option<String>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
}

/// ② 開設者 (法人の場合は代表者).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanFounder {
    pub name: Option<String>,
    /// 保険医又は保険薬剤師の登録の記号及び番号 (only when the opener is one).
    pub registration: Option<String>,
    pub postal_code: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// Email (任意).
    pub email: Option<String>,
}

/// The plan, items ①–⑬ (see the module doc).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub facility: PlanFacility,
    pub founder: PlanFounder,
    pub account: Option<Done>,
    pub application: Option<Done>,
    pub card_reader: Option<Readiness>,
    pub card_reader_maker: Option<String>,
    pub network: Option<Readiness>,
    pub network_company: Option<String>,
    pub network_type: Option<NetworkType>,
    pub work_start: Option<NaiveDate>,
    pub system_company: Option<String>,
    pub operation_start: Option<NaiveDate>,
    pub practice_start: Option<NaiveDate>,
}

impl Serialize for Plan {
    /// As [`Plan::to_json`]: the items by number.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

/// One item of a plan that could not be read from JSON or a form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlanError {
    /// 1–13.
    pub item: u8,
    /// The part of the item (`name`, `month`, …), when it has parts.
    pub part: Option<&'static str>,
    pub message: String,
}

/// The printed name of item `n` (1–13): `③ アカウント作成`.
pub fn plan_item_label(n: u8) -> &'static str {
    match n {
        1 => "① 医療機関・薬局",
        2 => "② 開設者",
        3 => "③ アカウント作成",
        4 => "④ 利用申請・電子証明書の発行申請",
        5 => "⑤ カードリーダーの調達状況",
        6 => "⑥ カードリーダーのメーカー名",
        7 => "⑦ ネットワークの整備状況",
        8 => "⑧ ネットワーク導入事業者名",
        9 => "⑨ ネットワーク種類",
        10 => "⑩ 導入作業開始（予定）日",
        11 => "⑪ システム導入事業者名",
        12 => "⑫ 運用開始（予定）日",
        13 => "⑬ 診療・調剤開始（予定）日",
        _ => "導入計画書",
    }
}

/// The Japanese name of a part of ① or ②.
pub fn plan_part_label(part: &str) -> &'static str {
    match part {
        "name" => "名称・氏名",
        "postal_code" => "郵便番号",
        "address" => "所在地・住所",
        "registration" => "登録の記号及び番号",
        "phone" => "電話番号",
        "email" => "Email",
        "month" => "整備予定月",
        _ => "",
    }
}

fn compact(s: &str) -> String {
    normalize_width(s)
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '〔' | '〕' | '[' | ']'))
        .collect()
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A text value as stored: width-normalised, spaces folded; `None` when blank.
pub fn plan_text(s: &str) -> Option<String> {
    let t = normalize_width(s)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!t.is_empty()).then_some(t)
}

impl Plan {
    /// The plan as JSON, items by number; a missing item is `null`.
    pub fn to_json(&self) -> Value {
        let date = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        let mut m = Map::new();
        m.insert("1".into(), json!(self.facility));
        m.insert("2".into(), json!(self.founder));
        m.insert("3".into(), json!(self.account.map(Done::as_str)));
        m.insert("4".into(), json!(self.application.map(Done::as_str)));
        m.insert(
            "5".into(),
            self.card_reader.map_or(Value::Null, Readiness::to_json),
        );
        m.insert("6".into(), json!(self.card_reader_maker));
        m.insert(
            "7".into(),
            self.network.map_or(Value::Null, Readiness::to_json),
        );
        m.insert("8".into(), json!(self.network_company));
        m.insert(
            "9".into(),
            json!(self.network_type.map(NetworkType::as_str)),
        );
        m.insert("10".into(), json!(date(self.work_start)));
        m.insert("11".into(), json!(self.system_company));
        m.insert("12".into(), json!(date(self.operation_start)));
        m.insert("13".into(), json!(date(self.practice_start)));
        Value::Object(m)
    }

    /// Reads the JSON of [`Plan::to_json`]; choices may also be written as printed
    /// (`済み`, `イ 契約済み（5月整備予定）`, `IP-VPN`) and dates in any form
    /// [`crate::parse_date`] reads (和暦, 全角). Every item that cannot be read is
    /// reported, not just the first.
    pub fn from_json(v: &Value) -> Result<Self, Vec<PlanError>> {
        let Some(o) = v.as_object() else {
            return Err(vec![PlanError {
                item: 0,
                part: None,
                message:
                    "計画書は項目番号（\"1\"〜\"13\"）をキーとするオブジェクトで送ってください。"
                        .to_owned(),
            }]);
        };
        let mut errors = Vec::new();
        let mut plan = Plan::default();
        for key in o.keys() {
            if !(1..=13).any(|n| key == &n.to_string()) {
                errors.push(PlanError {
                    item: 0,
                    part: None,
                    message: format!("「{key}」という項目はありません（\"1\"〜\"13\"）。"),
                });
            }
        }
        let get = |n: u8| o.get(&n.to_string()).filter(|v| !v.is_null());
        let text = |n: u8| get(n).and_then(|v| plan_text(&text_of(v)));
        let part = |n: u8, name: &str| {
            get(n)
                .and_then(|v| v.get(name))
                .and_then(|v| plan_text(&text_of(v)))
        };
        plan.facility = PlanFacility {
            name: part(1, "name"),
            postal_code: part(1, "postal_code"),
            address: part(1, "address"),
        };
        plan.founder = PlanFounder {
            name: part(2, "name"),
            registration: part(2, "registration"),
            postal_code: part(2, "postal_code"),
            address: part(2, "address"),
            phone: part(2, "phone"),
            email: part(2, "email"),
        };
        let mut fail = |item: u8, message: String| {
            errors.push(PlanError {
                item,
                part: None,
                message,
            })
        };
        for (n, slot) in [(3u8, &mut plan.account), (4, &mut plan.application)] {
            if let Some(t) = text(n) {
                match Done::parse(&t) {
                    Ok(d) => *slot = Some(d),
                    Err(e) => fail(n, e),
                }
            }
        }
        for (n, slot) in [(5u8, &mut plan.card_reader), (7, &mut plan.network)] {
            if let Some(v) = get(n) {
                match Readiness::from_json(v) {
                    Ok(r) => *slot = Some(r),
                    Err(e) => fail(n, e),
                }
            }
        }
        plan.card_reader_maker = text(6);
        plan.network_company = text(8);
        if let Some(t) = text(9) {
            match NetworkType::parse(&t) {
                Ok(k) => plan.network_type = Some(k),
                Err(e) => fail(9, e),
            }
        }
        plan.system_company = text(11);
        for (n, slot) in [
            (10u8, &mut plan.work_start),
            (12, &mut plan.operation_start),
            (13, &mut plan.practice_start),
        ] {
            if let Some(t) = text(n) {
                match parse_plan_date(&t) {
                    Ok(d) => *slot = Some(d),
                    Err(e) => fail(n, e),
                }
            }
        }
        if errors.is_empty() {
            Ok(plan)
        } else {
            Err(errors)
        }
    }
}

/// A date of ⑩ ⑫ ⑬ as written: `西暦 2026 年 4 月 1 日`, 和暦, 全角, `2026-04-01` or an
/// Excel serial.
pub fn parse_plan_date(input: &str) -> Result<NaiveDate, String> {
    let t = normalize_width(input);
    let t = t.trim().trim_start_matches("西暦").trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d);
    }
    crate::parse_date(t).map_err(|e| {
        format!("{e}「2026年4月1日」「令和8年4月1日」「2026/4/1」のように記入してください。")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_read_as_printed_and_as_ids() {
        assert_eq!(Done::parse("済み"), Ok(Done::Done));
        assert_eq!(Done::parse(" 未実施 "), Ok(Done::NotYet));
        assert!(Done::parse("たぶん").is_err());
        assert_eq!(Readiness::parse("ア 整備済み"), Ok(Readiness::Ready));
        assert_eq!(Readiness::parse("ア"), Ok(Readiness::Ready));
        assert_eq!(
            Readiness::parse("イ 契約済み（５月整備予定）"),
            Ok(Readiness::Contracted { month: Some(5) })
        );
        assert_eq!(
            Readiness::parse("イ"),
            Ok(Readiness::Contracted { month: None })
        );
        assert_eq!(Readiness::parse("ウ　見積もり中"), Ok(Readiness::Quoting));
        assert!(Readiness::parse("イ 契約済み（13月整備予定）").is_err());
        assert!(Readiness::parse("エ").is_err());
        assert_eq!(NetworkType::parse("ＩＰ－ＶＰＮ"), Ok(NetworkType::IpVpn));
        assert_eq!(NetworkType::parse("IPsec＋IKE"), Ok(NetworkType::IpsecIke));
        assert!(NetworkType::parse("光回線").is_err());
    }

    #[test]
    fn plan_dates_take_seireki_wareki_zenkaku_and_serials() {
        let d = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        assert_eq!(parse_plan_date("西暦 2026 年 4 月 1 日"), Ok(d));
        assert_eq!(parse_plan_date("令和８年４月１日"), Ok(d));
        assert_eq!(parse_plan_date("46113"), Ok(d));
        assert!(parse_plan_date("西暦 年 月 日").is_err());
    }

    #[test]
    fn the_json_goes_round_and_names_every_bad_item() {
        let plan = Plan {
            facility: PlanFacility {
                name: Some("オン資クリニック".into()),
                postal_code: Some("100-0013".into()),
                address: Some("東京都千代田区霞が関1-2-2".into()),
            },
            account: Some(Done::Done),
            card_reader: Some(Readiness::Contracted { month: Some(3) }),
            network_type: Some(NetworkType::IpsecIke),
            practice_start: NaiveDate::from_ymd_opt(2026, 4, 1),
            ..Plan::default()
        };
        let v = plan.to_json();
        assert_eq!(v["5"], json!({"status": "contracted", "month": 3}));
        assert_eq!(v["13"], json!("2026-04-01"));
        assert_eq!(Plan::from_json(&v), Ok(plan));
        let bad = json!({"3": "たぶん", "9": "光", "13": "令和8年13月1日", "14": 1});
        let errors = Plan::from_json(&bad).unwrap_err();
        let items: Vec<u8> = errors.iter().map(|e| e.item).collect();
        assert_eq!(items, vec![0, 3, 9, 13]);
    }

    #[test]
    fn every_choice_has_its_id_and_printed_label() {
        assert_eq!(Done::Done.label(), "済み");
        assert_eq!(Done::NotYet.label(), "未実施");
        assert_eq!(Done::NotYet.as_str(), "not_yet");
        assert_eq!(Readiness::Ready.as_str(), "ready");
        assert_eq!(Readiness::Contracted { month: None }.as_str(), "contracted");
        assert_eq!(Readiness::Quoting.as_str(), "quoting");
        assert_eq!(Readiness::Ready.label(), "ア 整備済み");
        assert_eq!(
            Readiness::Contracted { month: Some(5) }.label(),
            "イ 契約済み（5月整備予定）"
        );
        assert_eq!(Readiness::Contracted { month: None }.label(), "イ 契約済み");
        assert_eq!(Readiness::Quoting.label(), "ウ 見積もり中");
        assert_eq!(NetworkType::IpVpn.label(), "IP-VPN");
        assert_eq!(NetworkType::IpsecIke.label(), "IPsec+IKE");
        assert_eq!(NetworkType::IpsecIke.as_str(), "ipsec_ike");
        let labels: Vec<&str> = (1..=13).map(plan_item_label).collect();
        assert_eq!(
            labels,
            [
                "① 医療機関・薬局",
                "② 開設者",
                "③ アカウント作成",
                "④ 利用申請・電子証明書の発行申請",
                "⑤ カードリーダーの調達状況",
                "⑥ カードリーダーのメーカー名",
                "⑦ ネットワークの整備状況",
                "⑧ ネットワーク導入事業者名",
                "⑨ ネットワーク種類",
                "⑩ 導入作業開始（予定）日",
                "⑪ システム導入事業者名",
                "⑫ 運用開始（予定）日",
                "⑬ 診療・調剤開始（予定）日",
            ]
        );
        assert_eq!(plan_item_label(0), "導入計画書");
        let parts: Vec<&str> = [
            "name",
            "postal_code",
            "address",
            "registration",
            "phone",
            "email",
            "month",
            "other",
        ]
        .into_iter()
        .map(plan_part_label)
        .collect();
        assert_eq!(
            parts,
            [
                "名称・氏名",
                "郵便番号",
                "所在地・住所",
                "登録の記号及び番号",
                "電話番号",
                "Email",
                "整備予定月",
                ""
            ]
        );
    }

    #[test]
    fn a_readiness_is_read_by_any_one_of_its_marks_and_never_by_two() {
        // Each mark alone is enough: the words, the id, or the letter.
        assert_eq!(Readiness::parse("整備済み"), Ok(Readiness::Ready));
        assert_eq!(Readiness::parse("ready"), Ok(Readiness::Ready));
        assert_eq!(
            Readiness::parse("契約済み"),
            Ok(Readiness::Contracted { month: None })
        );
        assert_eq!(
            Readiness::parse("contracted"),
            Ok(Readiness::Contracted { month: None })
        );
        assert_eq!(
            Readiness::parse("イ"),
            Ok(Readiness::Contracted { month: None })
        );
        assert_eq!(Readiness::parse("見積もり中"), Ok(Readiness::Quoting));
        assert_eq!(Readiness::parse("quoting"), Ok(Readiness::Quoting));
        assert_eq!(Readiness::parse("ウ"), Ok(Readiness::Quoting));
        // Two choices marked at once is not an answer.
        assert!(Readiness::parse("整備済み 見積もり中").is_err());
        assert!(Readiness::parse("ア 契約済み").is_err());
        // A choice written as a string in JSON reads as on paper.
        assert_eq!(
            Readiness::from_json(&json!("イ 契約済み（7月整備予定）")),
            Ok(Readiness::Contracted { month: Some(7) })
        );
        assert_eq!(
            Readiness::from_json(&json!({"status": "contracted", "month": "8月"})),
            Ok(Readiness::Contracted { month: Some(8) })
        );
        assert!(Readiness::from_json(&json!({"status": "contracted", "month": 13})).is_err());
        assert!(Readiness::from_json(&json!(3)).is_err());
    }
}
