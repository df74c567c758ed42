//! Finding cases and the case page, end to end through the real pages with the demo
//! data and a signed-in user: filters, the name search that ignores width and kana,
//! paging, bureau and office isolation, the downloads (.xlsx, CSV in UTF-8 with a BOM
//! and in Shift_JIS) and the case page with its 和暦 dates and history.

use std::collections::BTreeSet;

use chrono::{Months, NaiveDate, TimeDelta};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};
use uketsuke_domain::{RequestKind, format_wareki};
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::{issued_number, office, reception_request, user};
use uketsuke_store::lifecycle::CaseStatus;
use uketsuke_store::requests::{self, NewFacility};
use uketsuke_tests::TestApp;

const BUREAU: &str = "kanto-shinetsu";

/// The demo's nine cases (crates/app/src/demo.rs).
const DEMO_NAMES: [&str; 9] = [
    "やまなみ内科クリニック",
    "ひだまり小児科",
    "さくら薬局 新宿御苑前店",
    "みなと歯科医院",
    "ひかり眼科",
    "かえで皮ふ科クリニック",
    "こもれび内科",
    "つばさ薬局",
    "すずらん整形外科",
];

/// The demo app with a signed-in clerk of 関東信越厚生局.
async fn signed_in() -> TestApp {
    let app = TestApp::spawn_with(true).await;
    let password = app.create_user("clerk", "clerk", BUREAU).await;
    app.login("clerk", &password).await;
    app
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn get(app: &TestApp, path: &str, query: &[(&str, &str)]) -> reqwest::Response {
    let query: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    app.get(&format!("{path}?{}", query.join("&"))).await
}

async fn list_html(app: &TestApp, query: &[(&str, &str)]) -> String {
    let response = get(app, "/cases", query).await;
    assert_eq!(response.status(), 200, "GET /cases {query:?}");
    response.text().await.unwrap()
}

/// The facility names of the list's rows, in order.
/// `count` cases named by `name(i)`, all wanting designation in three months.
async fn add_numbered_cases(app: &TestApp, count: usize, name: impl Fn(usize) -> String) {
    let names: Vec<String> = (0..count).map(name).collect();
    let designation = today() + Months::new(3);
    let cases: Vec<NewCase<'_>> = names.iter().map(|n| NewCase::new(n, designation)).collect();
    add_cases(app, &cases).await;
}

fn row_names(html: &str) -> Vec<String> {
    let Some(start) = html.find("<tbody>") else {
        // No table: only a list page that says it found nothing counts as empty.
        assert!(
            html.contains("条件に合う案件はありません。"),
            "neither a table of cases nor the empty-list message: not a list page"
        );
        return Vec::new();
    };
    let end = html[start..]
        .find("</tbody>")
        .map_or(html.len(), |e| start + e);
    let body = &html[start..end];
    body.split("<th scope=\"row\"><a href=\"/cases/")
        .skip(1)
        .filter_map(|part| {
            let name = part.split_once("\">")?.1;
            Some(name.split("</a>").next()?.to_owned())
        })
        .collect()
}

fn names(html: &str) -> BTreeSet<String> {
    row_names(html).into_iter().collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

async fn demo_request(app: &TestApp, name: &str) -> reception_request::Model {
    reception_request::Entity::find()
        .filter(reception_request::Column::FacilityName.eq(name))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the demo has {name}"))
}

/// What a test request looks like.
struct NewCase<'a> {
    name: &'a str,
    kind: RequestKind,
    address: &'a str,
    phone: &'a str,
    designation: NaiveDate,
    status: CaseStatus,
    answer_due: Option<NaiveDate>,
    answer_due_override: Option<NaiveDate>,
}

impl<'a> NewCase<'a> {
    fn new(name: &'a str, designation: NaiveDate) -> Self {
        Self {
            name,
            kind: RequestKind::Medical,
            address: "東京都千代田区千代田1番1号",
            phone: "03-1234-5678",
            designation,
            status: CaseStatus::Received,
            answer_due: None,
            answer_due_override: None,
        }
    }
}

/// Records requests through the store, as the entry form will (with their audit rows).
async fn add_cases(app: &TestApp, cases: &[NewCase<'_>]) -> Vec<reception_request::Model> {
    let bureau = app.settings.bureau(BUREAU).unwrap();
    let calendar = bureau.calendar().unwrap();
    let actor = Actor::system("test");
    let txn = app.db.begin().await.unwrap();
    let mut out = Vec::new();
    for c in cases {
        let d = uketsuke_rules::deadlines::deadlines(&calendar, &bureau.deadlines, c.designation);
        let facility = requests::insert_facility(
            &txn,
            &NewFacility {
                bureau_id: BUREAU.into(),
                prefecture: "13".into(),
                name: c.name.into(),
                name_search: uketsuke_domain::search_key(c.name),
                postal_code: Some("100-0001".into()),
                address: c.address.into(),
                municipality: None,
                phone: None,
            },
            &actor,
        )
        .await
        .unwrap();
        let row = requests::insert_request(
            &txn,
            reception_request::ActiveModel {
                bureau_id: Set(BUREAU.into()),
                facility_id: Set(facility.id),
                kind: Set(c.kind),
                status: Set(c.status),
                designation_date: Set(c.designation),
                received_on: Set(d.submission_deadline),
                reply_address: Set(c.address.into()),
                reply_name: Set(c.name.into()),
                facility_name: Set(c.name.into()),
                facility_address: Set(c.address.into()),
                founder_kind: Set(uketsuke_store::lifecycle::FounderKind::Corporation),
                corporation_name: Set(Some("医療法人社団 試験会".into())),
                representative_title: Set(Some("理事長".into())),
                representative_name: Set(Some("試験 一郎".into())),
                contact_phone: Set(c.phone.into()),
                retroactive: Set(false),
                submission_deadline: Set(d.submission_deadline),
                answer_due: Set(c.answer_due.unwrap_or(d.answer_due)),
                answer_due_override: Set(c.answer_due_override),
                answer_due_override_reason: Set(c
                    .answer_due_override
                    .map(|_| "試験のための変更".to_owned())),
                implementing_body_due: Set(d.implementing_body_due),
                decision: Set(uketsuke_store::lifecycle::Decision::Accept),
                reasons: Set(serde_json::json!([])),
                warnings: Set(serde_json::json!(["試験用の確認事項"])),
                ..Default::default()
            },
            &actor,
        )
        .await
        .unwrap();
        out.push(row);
    }
    txn.commit().await.unwrap();
    out
}

fn today() -> NaiveDate {
    uketsuke_domain::today_in_japan()
}

#[tokio::test]
async fn the_list_needs_a_signed_in_user() {
    let app = TestApp::spawn_with(true).await;
    for path in ["/cases", "/cases.csv", "/cases.xlsx", "/cases/1"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/login");
    }
}

#[tokio::test]
async fn the_list_shows_every_demo_case_of_the_bureau_with_wareki_dates() {
    let app = signed_in().await;
    let html = list_html(&app, &[]).await;
    assert_eq!(names(&html), set(&DEMO_NAMES));
    assert!(html.contains("9 件中 1〜9 件目を表示"), "{html}");
    assert!(html.contains("<th scope=\"col\""));
    assert!(html.contains("<label for=\"f-name\">名称</label>"));
    // Dates in 和暦 with the 西暦 beside.
    let r = demo_request(&app, "ひだまり小児科").await;
    assert!(html.contains(&format!(
        "{}<span class=\"seireki\">（{}）</span>",
        format_wareki(r.designation_date),
        r.designation_date.format("%Y-%m-%d")
    )));
    assert!(html.contains("番号起案中"), "status labels in Japanese");
    // The nav links to the list, with the conditions last used in the session.
    assert!(html.contains("<a href=\"/cases?restore=1\">案件一覧</a>"));
}

#[tokio::test]
async fn a_name_search_ignores_width_kana_and_spaces() {
    let app = signed_in().await;
    for query in [
        "ﾋﾀﾞﾏﾘ",
        "ひだまり",
        "ヒダマリ 小児科",
        "ひ だ ま り",
        "ＨＩＤＡ",
    ] {
        let html = list_html(&app, &[("name", query)]).await;
        if query == "ＨＩＤＡ" {
            assert!(row_names(&html).is_empty(), "no latin name in the demo");
        } else {
            assert_eq!(names(&html), set(&["ひだまり小児科"]), "query {query}");
        }
    }
    // ｸﾘﾆｯｸ = クリニック = くりにっく.
    let clinics = set(&["やまなみ内科クリニック", "かえで皮ふ科クリニック"]);
    for query in ["ｸﾘﾆｯｸ", "クリニック", "くりにっく"] {
        assert_eq!(names(&list_html(&app, &[("name", query)]).await), clinics);
    }
    // A LIKE wildcard is taken literally.
    assert!(row_names(&list_html(&app, &[("name", "%")]).await).is_empty());
    assert!(row_names(&list_html(&app, &[("name", "_")]).await).is_empty());
}

#[tokio::test]
async fn status_kind_and_month_filters_narrow_the_list() {
    let app = signed_in().await;
    let html = list_html(&app, &[("status", "returned")]).await;
    assert_eq!(names(&html), set(&["ひかり眼科"]));
    let html = list_html(&app, &[("kind", "pharmacy")]).await;
    assert_eq!(
        names(&html),
        set(&["さくら薬局 新宿御苑前店", "つばさ薬局"])
    );
    let html = list_html(&app, &[("kind", "dental"), ("status", "issued")]).await;
    assert_eq!(names(&html), set(&["みなと歯科医院"]));

    let r = demo_request(&app, "ひだまり小児科").await;
    let month = r.designation_date.format("%Y-%m").to_string();
    let html = list_html(&app, &[("month", month.as_str())]).await;
    let all = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    let expected: BTreeSet<String> = all
        .iter()
        .filter(|x| x.designation_date.format("%Y-%m").to_string() == month)
        .map(|x| x.facility_name.clone())
        .collect();
    assert!(expected.contains("ひだまり小児科"));
    assert_eq!(names(&html), expected);

    let html = list_html(&app, &[("month", "2026-13")]).await;
    assert!(html.contains("指定希望月は「2026-07」のように"));
    assert!(html.contains("aria-invalid=\"true\""));
    assert_eq!(
        names(&html),
        set(&DEMO_NAMES),
        "a bad filter is not applied"
    );
}

#[tokio::test]
async fn the_overdue_filter_uses_the_answer_due_override_and_open_statuses() {
    let app = signed_in().await;
    let long_ago = NaiveDate::from_ymd_opt(2024, 4, 1).unwrap();
    let far = today() + Months::new(14);
    let mut late = NewCase::new("期限切れ試験医院", long_ago);
    late.phone = "03-1111-2222";
    let mut extended = NewCase::new("延長試験医院", long_ago);
    extended.answer_due_override = Some(today() + TimeDelta::days(30));
    let mut answered = NewCase::new("回答済試験医院", long_ago);
    answered.status = CaseStatus::Answered;
    let future = NewCase::new("未来試験医院", far);
    add_cases(&app, &[late, extended, answered, future]).await;

    let html = list_html(&app, &[("overdue", "1")]).await;
    let shown = names(&html);
    assert!(shown.contains("期限切れ試験医院"));
    assert!(
        !shown.contains("延長試験医院"),
        "the override moves the due date"
    );
    assert!(
        !shown.contains("回答済試験医院"),
        "answered cases are not overdue"
    );
    assert!(!shown.contains("未来試験医院"));
    // Exactly the cases whose effective due date has passed while an answer is owed.
    let expected: BTreeSet<String> = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| {
            r.answer_due_override.unwrap_or(r.answer_due) < today()
                && [
                    CaseStatus::Received,
                    CaseStatus::Proposed,
                    CaseStatus::Issued,
                ]
                .contains(&r.status)
        })
        .map(|r| r.facility_name)
        .collect();
    assert_eq!(shown, expected);
    assert!(html.contains("期限超過"));
}

#[tokio::test]
async fn answer_due_within_n_open_days_counts_open_days_of_the_bureau() {
    let app = signed_in().await;
    let calendar = app.settings.bureau(BUREAU).unwrap().calendar().unwrap();
    let in_three = calendar.add_open_days(today(), 3);
    let mut soon = NewCase::new("三開庁日後試験医院", today() + Months::new(14));
    soon.answer_due_override = Some(in_three);
    add_cases(&app, &[soon]).await;

    let html = list_html(&app, &[("due_within", "3"), ("name", "試験")]).await;
    assert_eq!(names(&html), set(&["三開庁日後試験医院"]));
    let html = list_html(&app, &[("due_within", "2"), ("name", "試験")]).await;
    assert!(row_names(&html).is_empty());
    let html = list_html(&app, &[("due_within", "x")]).await;
    assert!(html.contains("開庁日数は0から250までの数字で入力してください"));
}

#[tokio::test]
async fn code_and_phone_searches_compare_digits() {
    let app = signed_in().await;
    let minato = demo_request(&app, "みなと歯科医院").await;
    let number = issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(minato.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("the demo issued a number to みなと歯科医院");
    let code = number.code.clone();
    // Full-width digits with separators, as staff may type it.
    let typed: String = code
        .chars()
        .enumerate()
        .map(|(i, c)| {
            let wide = char::from_u32(u32::from(c) + 0xFEE0).unwrap();
            if i == 2 || i == 3 {
                format!("－{wide}")
            } else {
                wide.to_string()
            }
        })
        .collect();
    let html = list_html(&app, &[("code", typed.as_str())]).await;
    assert_eq!(names(&html), set(&["みなと歯科医院"]));
    assert!(html.contains(&code), "the list shows the number");
    // A prefix: every number of the demo is Tokyo's (13).
    let html = list_html(&app, &[("code", "13")]).await;
    let numbered: BTreeSet<String> = {
        let mut out = BTreeSet::new();
        for n in issued_number::Entity::find().all(&app.db).await.unwrap() {
            let r = reception_request::Entity::find_by_id(n.request_id.unwrap())
                .one(&app.db)
                .await
                .unwrap()
                .unwrap();
            out.insert(r.facility_name);
        }
        out
    };
    assert_eq!(names(&html), numbered);
    assert!(row_names(&list_html(&app, &[("code", "99")]).await).is_empty());

    for phone in [
        "0353211111",
        "03-5321-1111",
        "０３（５３２１）１１１１",
        "5321",
    ] {
        let html = list_html(&app, &[("phone", phone)]).await;
        assert_eq!(
            names(&html),
            set(&["やまなみ内科クリニック"]),
            "phone {phone}"
        );
    }
}

#[tokio::test]
async fn paging_shows_fifty_a_page_with_the_total_and_page_links() {
    let app = signed_in().await;
    add_numbered_cases(&app, 60, |i| format!("頁送り試験医院{i:02}")).await;

    let query = [("name", "頁送り"), ("sort", "name"), ("order", "asc")];
    let html = list_html(&app, &query).await;
    let rows = row_names(&html);
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[0], "頁送り試験医院00");
    assert_eq!(rows[49], "頁送り試験医院49");
    assert!(
        html.contains("60 件中 1〜50 件目を表示（1 / 2 ページ）"),
        "{html}"
    );
    assert!(html.contains("aria-current=\"page\""));
    assert!(html.contains("rel=\"next\""));
    assert!(html.contains("page=2"));

    let mut second = query.to_vec();
    second.push(("page", "2"));
    let html = list_html(&app, &second).await;
    let rows = row_names(&html);
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[0], "頁送り試験医院50");
    assert!(html.contains("60 件中 51〜60 件目を表示（2 / 2 ページ）"));
    assert!(html.contains("rel=\"prev\""));

    // Reversed order, and a page past the end shows the last page.
    let html = list_html(
        &app,
        &[
            ("name", "頁送り"),
            ("sort", "name"),
            ("order", "desc"),
            ("page", "9"),
        ],
    )
    .await;
    let rows = row_names(&html);
    assert_eq!(rows.len(), 10);
    assert_eq!(rows[9], "頁送り試験医院00");
}

#[tokio::test]
async fn past_a_thousand_cases_the_list_shows_the_first_thousand_and_downloads_all() {
    let app = signed_in().await;
    add_numbered_cases(&app, 1_005, |i| format!("上限試験医院{i:04}")).await;

    let query = [("name", "上限試験"), ("sort", "name"), ("order", "asc")];
    let html = list_html(&app, &query).await;
    assert!(
        html.contains("1000 件以上のうち 1〜50 件目を表示（1 / 20 ページ）"),
        "{html}"
    );
    assert!(html.contains("1000 件を超えるため"), "the page says why");
    // Page 20 is the last: cases 951–1000 in this order; a later page shows page 20.
    for page in ["20", "25"] {
        let mut last = query.to_vec();
        last.push(("page", page));
        let html = list_html(&app, &last).await;
        let rows = row_names(&html);
        assert_eq!(rows.len(), 50);
        assert_eq!(rows[0], "上限試験医院0950");
        assert_eq!(rows[49], "上限試験医院0999");
    }
    // The reverse order reaches the other end.
    let html = list_html(
        &app,
        &[("name", "上限試験"), ("sort", "name"), ("order", "desc")],
    )
    .await;
    assert_eq!(row_names(&html)[0], "上限試験医院1004");
    // Below the limit the count is exact.
    let html = list_html(&app, &[("name", "上限試験医院100")]).await;
    assert!(html.contains("5 件中 1〜5 件目を表示"), "{html}");
    // The download holds every case.
    let csv = get(&app, "/cases.csv", &[("name", "上限試験")])
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.matches("上限試験医院").count(), 1_005);
}

#[tokio::test]
async fn a_renamed_facility_is_found_by_its_new_name_only() {
    use uketsuke_store::entities::facility;
    let app = signed_in().await;
    let row = add_cases(
        &app,
        &[NewCase::new("旧名称あおぞら医院", today() + Months::new(3))],
    )
    .await
    .remove(0);
    let mut f: facility::ActiveModel = facility::Entity::find_by_id(row.facility_id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap()
        .into();
    f.name = Set("新名称そよかぜ医院".into());
    f.name_search = Set(uketsuke_domain::search_key("新名称そよかぜ医院"));
    f.update(&app.db).await.unwrap();
    // Three characters or more go through the trigram index on both databases.
    assert!(row_names(&list_html(&app, &[("name", "あおぞら")]).await).is_empty());
    assert_eq!(
        row_names(&list_html(&app, &[("name", "そよかぜ")]).await),
        ["旧名称あおぞら医院"],
        "the request keeps the name it was filed under; the search follows the facility"
    );
}

#[tokio::test]
async fn a_request_moved_to_another_facility_is_found_by_that_facilitys_name() {
    let app = signed_in().await;
    let rows = add_cases(
        &app,
        &[
            NewCase::new("移動前みさき医院", today() + Months::new(3)),
            NewCase::new("移動先かもめ医院", today() + Months::new(4)),
        ],
    )
    .await;
    let mut moved: reception_request::ActiveModel = rows[0].clone().into();
    moved.facility_id = Set(rows[1].facility_id);
    moved.update(&app.db).await.unwrap();
    assert!(row_names(&list_html(&app, &[("name", "みさき医院")]).await).is_empty());
    let mut found = row_names(&list_html(&app, &[("name", "かもめ医院")]).await);
    found.sort();
    assert_eq!(
        found,
        ["移動先かもめ医院", "移動前みさき医院"],
        "both requests now belong to the facility searched for"
    );
}

#[tokio::test]
async fn sorting_by_answer_due_puts_the_earliest_first() {
    let app = signed_in().await;
    let html = list_html(&app, &[("sort", "due"), ("order", "asc")]).await;
    let shown = row_names(&html);
    let mut all = reception_request::Entity::find()
        .all(&app.db)
        .await
        .unwrap();
    all.sort_by_key(|r| (r.answer_due_override.unwrap_or(r.answer_due), r.id));
    let expected: Vec<String> = all.into_iter().map(|r| r.facility_name).collect();
    assert_eq!(shown, expected);
    assert!(html.contains("aria-sort=\"ascending\""));
}

#[tokio::test]
async fn another_bureaus_user_sees_no_case_and_gets_404_on_a_case_url() {
    let app = TestApp::spawn_with(true).await;
    let password = app.create_user("osaka", "admin", "kinki").await;
    app.login("osaka", &password).await;
    let html = list_html(&app, &[]).await;
    assert!(row_names(&html).is_empty());
    assert!(html.contains("0 件"));
    let r = demo_request(&app, "ひだまり小児科").await;
    let response = app.get(&format!("/cases/{}", r.id)).await;
    assert_eq!(response.status(), 404);
    assert!(!response.text().await.unwrap().contains("ひだまり"));
    let csv = get(&app, "/cases.csv", &[]).await.bytes().await.unwrap();
    let text = String::from_utf8(csv.to_vec()).unwrap();
    assert_eq!(
        text.trim_end().lines().count(),
        1,
        "only the header: {text}"
    );
}

#[tokio::test]
async fn a_user_limited_to_an_office_sees_only_that_offices_cases() {
    let app = TestApp::spawn_with(true).await;
    let password = app.create_user("gunma", "viewer", BUREAU).await;
    let gunma = office::Entity::find()
        .filter(office::Column::BureauId.eq(BUREAU))
        .filter(office::Column::Code.eq("gunma"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let account = user::Entity::find()
        .filter(user::Column::Username.eq("gunma"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut account: user::ActiveModel = account.into();
    account.office_id = Set(Some(gunma.id));
    account.update(&app.db).await.unwrap();
    app.login("gunma", &password).await;

    let html = list_html(&app, &[]).await;
    assert!(row_names(&html).is_empty(), "the demo's cases are Tokyo's");
    assert!(html.contains("群馬事務所（担当の事務所のみ）"));
    let r = demo_request(&app, "ひだまり小児科").await;
    assert_eq!(app.get(&format!("/cases/{}", r.id)).await.status(), 404);
}

/// The office filter returns that office's cases, and only them.
#[tokio::test]
async fn the_office_filter_returns_that_offices_cases() {
    let app = signed_in().await;
    let office_of = |code: &'static str| {
        let db = app.db.clone();
        async move {
            office::Entity::find()
                .filter(office::Column::BureauId.eq(BUREAU))
                .filter(office::Column::Code.eq(code))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .id
                .to_string()
        }
    };
    let (tokyo, gunma) = (office_of("tokyo").await, office_of("gunma").await);
    let all = names(&list_html(&app, &[]).await);
    assert!(all.len() > 1, "the demo has cases: {all:?}");
    assert_eq!(
        names(&list_html(&app, &[("office", tokyo.as_str())]).await),
        all,
        "the demo's cases are all Tokyo's"
    );
    assert!(names(&list_html(&app, &[("office", gunma.as_str())]).await).is_empty());
    // One case moves to 群馬: the filter follows it.
    let moved = demo_request(&app, "ひだまり小児科").await;
    let mut active: reception_request::ActiveModel = moved.into();
    active.office_id = Set(Some(gunma.parse().unwrap()));
    active.update(&app.db).await.unwrap();
    assert_eq!(
        names(&list_html(&app, &[("office", gunma.as_str())]).await),
        set(&["ひだまり小児科"])
    );
    let tokyo_now = names(&list_html(&app, &[("office", tokyo.as_str())]).await);
    assert!(!tokyo_now.contains("ひだまり小児科"));
    assert_eq!(tokyo_now.len(), all.len() - 1);
}

#[tokio::test]
async fn an_unknown_case_is_404() {
    let app = signed_in().await;
    assert_eq!(app.get("/cases/999999").await.status(), 404);
}

#[tokio::test]
async fn the_case_page_shows_every_field_in_wareki_and_the_history() {
    let app = signed_in().await;
    let r = demo_request(&app, "ひだまり小児科").await;
    // A change by a signed-in user, to see in the history.
    let calendar = app.settings.bureau(BUREAU).unwrap().calendar().unwrap();
    let clerk = user::Entity::find()
        .filter(user::Column::Username.eq("clerk"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let new_due = calendar.next_open_on_or_after(r.answer_due + TimeDelta::days(7));
    requests::override_answer_due(
        &app.db,
        r.clone(),
        new_due,
        "書類の補正を待つため",
        &calendar,
        &Actor::user(clerk.id, "clerk"),
    )
    .await
    .unwrap();

    let response = app.get(&format!("/cases/{}", r.id)).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let wareki = |d: NaiveDate| {
        format!(
            "{}<span class=\"seireki\">（{}）</span>",
            format_wareki(d),
            d.format("%Y-%m-%d")
        )
    };
    for expected in [
        "ひだまり小児科".to_owned(),
        "医科".to_owned(),
        "〒100-8916".to_owned(),
        "東京都千代田区霞が関一丁目2番2号".to_owned(),
        "ひだまり小児科 開設準備室".to_owned(),
        "関東信越厚生局（東京事務所）".to_owned(),
        "厚生 太郎".to_owned(),
        "医 第123456号".to_owned(),
        "開設 花子".to_owned(),
        "03-5253-1111".to_owned(),
        "受付済".to_owned(),
        wareki(r.designation_date),
        wareki(r.request_date.unwrap()),
        wareki(r.received_on),
        wareki(r.submission_deadline),
        wareki(r.answer_due),
        wareki(new_due),
        wareki(r.implementing_body_due),
        "書類の補正を待つため".to_owned(),
        if r.decision == uketsuke_store::lifecycle::Decision::Accept {
            "受付可".to_owned()
        } else {
            "返戻相当".to_owned()
        },
        // The history: the demo's creation, and the clerk's change as a diff.
        "依頼を登録".to_owned(),
        "医療機関を登録".to_owned(),
        "demo（システム）".to_owned(),
        "回答期限を変更".to_owned(),
        "clerk さん（clerk）".to_owned(),
        "回答期限（変更後）".to_owned(),
        format!(
            "（なし）</span> <span aria-hidden=\"true\">→</span><span class=\"sr-only\">から</span> <span class=\"after\">{}（{}）",
            format_wareki(new_due),
            new_due.format("%Y-%m-%d")
        ),
    ] {
        assert!(html.contains(&expected), "the case page shows {expected}");
    }
    assert!(html.contains("<th scope=\"row\">指定希望日（予定）</th>"));
}

#[tokio::test]
async fn the_case_page_lists_numbers_sibling_and_council() {
    let app = signed_in().await;
    // 指定済 case: the council session and an approved number.
    let r = demo_request(&app, "こもれび内科").await;
    let html = app
        .get(&format!("/cases/{}", r.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("東京地方社会保険医療協議会"));
    assert!(html.contains("決裁済"));
    assert!(html.contains("受付番号を採番"));
    let number = issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(r.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(html.contains(&number.code));

    // A 医科歯科併設 pair links each to the other.
    let designation = today() + Months::new(3);
    let mut medical = NewCase::new("併設試験医科歯科", designation);
    medical.address = "東京都港区芝公園1番1号";
    let mut dental = NewCase::new("併設試験医科歯科", designation);
    dental.address = "東京都港区芝公園1番1号";
    dental.kind = RequestKind::Dental;
    let pair = add_cases(&app, &[medical, dental]).await;
    let caller = uketsuke_store::lifecycle::Caller {
        actor: Actor::system("test"),
        role: uketsuke_store::users::Role::Clerk,
        scope: uketsuke_store::lifecycle::Scope {
            bureau_id: pair[0].bureau_id.clone(),
            office_id: None,
        },
    };
    uketsuke_store::lifecycle::apply(
        &app.db,
        &caller,
        pair[0].id,
        None,
        &uketsuke_store::lifecycle::Command::Link {
            sibling_id: pair[1].id,
        },
    )
    .await
    .unwrap();
    let html = app
        .get(&format!("/cases/{}", pair[0].id))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!(
        "<a href=\"/cases/{}\">併設試験医科歯科（歯科）</a>",
        pair[1].id
    )));
    assert!(html.contains("医科・歯科の併設を関連付け"));
    assert!(html.contains("医療法人社団 試験会"), "a corporation opener");
    assert!(html.contains("理事長 試験 一郎"));
    assert!(html.contains("試験用の確認事項"), "the warnings");
}

fn content_disposition(response: &reqwest::Response) -> String {
    response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn the_csv_download_starts_with_a_bom_and_has_the_filtered_rows() {
    let app = signed_in().await;
    let response = get(
        &app,
        "/cases.csv",
        &[("kind", "pharmacy"), ("encoding", "utf8")],
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let disposition = content_disposition(&response);
    assert!(disposition.starts_with("attachment; filename=\"cases-"));
    // 案件一覧 percent-encoded as UTF-8 (RFC 5987).
    assert!(disposition.contains("filename*=UTF-8''%E6%A1%88%E4%BB%B6%E4%B8%80%E8%A6%A7_"));
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a UTF-8 BOM");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(lines[0].starts_with("受付日,名称,種別,状態,指定希望日,回答期限,受付番号"));
    assert_eq!(lines.len(), 3, "{text}");
    let found: BTreeSet<String> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(found, set(&["さくら薬局 新宿御苑前店", "つばさ薬局"]));
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.split(',').nth(2) == Some("薬局"))
    );
}

#[tokio::test]
async fn the_shift_jis_csv_decodes_with_encoding_rs() {
    let app = signed_in().await;
    let response = get(&app, "/cases.csv", &[("encoding", "sjis")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=Shift_JIS"
    );
    let bytes = response.bytes().await.unwrap();
    assert!(!bytes.starts_with(b"\xEF\xBB\xBF"));
    let (text, _, had_errors) = encoding_rs::SHIFT_JIS.decode(&bytes);
    assert!(!had_errors);
    assert!(text.starts_with("受付日,名称,種別"));
    for name in DEMO_NAMES {
        assert!(text.contains(name), "{name}");
    }
    assert_eq!(text.split("\r\n").filter(|l| !l.is_empty()).count(), 10);
}

#[tokio::test]
async fn a_name_shift_jis_cannot_hold_is_reported_not_replaced() {
    let app = signed_in().await;
    add_cases(
        &app,
        &[NewCase::new("𠮷野家試験医院", today() + Months::new(3))],
    )
    .await;
    let response = get(&app, "/cases.csv", &[("encoding", "sjis")]).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(html.contains("Shift_JIS で表せない文字「𠮷」"), "{html}");
    assert!(html.contains("𠮷野家試験医院"));
    // UTF-8 holds it.
    let response = get(&app, "/cases.csv", &[("name", "𠮷野家")]).await;
    assert_eq!(response.status(), 200);
    let text = String::from_utf8(response.bytes().await.unwrap().to_vec()).unwrap();
    assert!(text.contains("𠮷野家試験医院"));
}

#[tokio::test]
async fn the_xlsx_download_opens_with_calamine_and_holds_the_view() {
    use calamine::{Data, Reader, Xlsx};
    let app = signed_in().await;
    let response = get(&app, "/cases.xlsx", &[("status", "received")]).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(content_disposition(&response).contains(".xlsx"));
    let bytes = response.bytes().await.unwrap().to_vec();
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("案件一覧").unwrap();
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect();
    let header = rows
        .iter()
        .position(|r| r.first().map(String::as_str) == Some("受付日"))
        .expect("a header row");
    assert_eq!(
        rows[header][..7],
        [
            "受付日",
            "名称",
            "種別",
            "状態",
            "指定希望日",
            "回答期限",
            "受付番号"
        ]
    );
    let found: BTreeSet<String> = rows[header + 1..].iter().map(|r| r[1].clone()).collect();
    assert_eq!(found, set(&["やまなみ内科クリニック", "ひだまり小児科"]));
    assert!(rows[header + 1..].iter().all(|r| r[3] == "受付済"));
    assert!(
        rows[1][0].contains("状態=受付済"),
        "the conditions: {:?}",
        rows[1]
    );
}

/// 回答期限超過 counts only answers that are late: a request received on or before its
/// 回答期限 and still unanswered after it; one that arrived after its 回答期限 is not our
/// lateness — on the dashboard, in the list's filter and badge, and in the staff digest.
#[tokio::test]
async fn only_requests_received_before_their_answer_due_count_as_overdue() {
    let app = TestApp::spawn().await;
    app.create_user("tanto", "clerk", "kanto-shinetsu").await;
    app.login("tanto", "pw-tanto-0123456789").await;
    // For a designation on 令和9年1月1日 the 回答期限 has passed by 令和8年11月30日.
    for (received, name) in [
        ("令和8年10月1日", "期限内受付医院"),
        ("令和8年11月30日", "期限後受付医院"),
    ] {
        let csrf = app.csrf("/requests/new").await;
        let response = app
            .post_form(
                "/requests/new",
                &[
                    ("csrf", csrf.as_str()),
                    ("received_on", received),
                    ("kind", "medical"),
                    ("facility_name", name),
                    ("facility_address", "東京都新宿区西新宿2-8-1"),
                    ("designation_date", "令和9年1月1日"),
                    ("founder_kind", "person"),
                    ("founder_name", "厚生 太郎"),
                    ("contact_phone", "03-5321-1111"),
                    ("acknowledge", "1"),
                ],
            )
            .await;
        assert_eq!(response.status(), 303, "{name}");
    }
    let late = reception_request::Entity::find()
        .filter(reception_request::Column::FacilityName.eq("期限後受付医院"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let due = late.answer_due_override.unwrap_or(late.answer_due);
    let today = uketsuke_domain::today_in_japan();
    assert!(
        due < today && late.received_on > due,
        "the set-up: arrived after its due day"
    );

    let dashboard = app.get("/dashboard").await.text().await.unwrap();
    assert!(
        dashboard.contains("回答期限を過ぎた依頼（1件）"),
        "{dashboard}"
    );
    assert!(dashboard.contains("期限内受付医院"));
    let overdue = app.get("/cases?overdue=1").await.text().await.unwrap();
    assert!(overdue.contains("期限内受付医院"));
    assert!(!overdue.contains("期限後受付医院"), "not listed as overdue");
    let all = app.get("/cases").await.text().await.unwrap();
    assert_eq!(all.matches("期限超過</span>").count(), 1, "one badge");

    let report = uketsuke::jobs::run(
        &app.db,
        &app.settings,
        "digest",
        &format!("kanto-shinetsu:{}", today.format("%Y-%m-%d")),
    )
    .await
    .unwrap();
    assert_eq!(report.outcome, "done");
    let mail = uketsuke_store::entities::outbox::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(mail.body.contains("期限内受付医院"));
    assert!(!mail.body.contains("期限後受付医院"), "{}", mail.body);
}

/// Beside the 提出期限 the case page says where it comes from: the bureau's published
/// wording (東海北陸) or this system's assumption where a bureau published none (関東信越).
#[tokio::test]
async fn the_case_page_says_whether_the_submission_deadline_is_published_or_assumed() {
    let app = TestApp::spawn().await;
    for (user, bureau, address, expected) in [
        (
            "kanto-tanto",
            "kanto-shinetsu",
            "東京都新宿区西新宿2-8-1",
            "想定（局の公表がないため、指定月の前々月1日（閉庁日の場合は前の開庁日）までとして計算しています）",
        ),
        (
            "tokai-tanto",
            "tokai-hokuriku",
            "愛知県名古屋市中区三の丸2-5-1",
            "局の公表:「指定の2か月前の1日(閉庁日の場合は前の開庁日)まで」",
        ),
    ] {
        let password = app.create_user(user, "clerk", bureau).await;
        let csrf = app.csrf("/dashboard").await;
        if !csrf.is_empty() {
            app.post_form("/logout", &[("csrf", csrf.as_str())]).await;
        }
        app.login(user, &password).await;
        let csrf = app.csrf("/requests/new").await;
        let response = app
            .post_form(
                "/requests/new",
                &[
                    ("csrf", csrf.as_str()),
                    ("kind", "medical"),
                    ("facility_name", "根拠表示医院"),
                    ("facility_address", address),
                    ("designation_date", "令和9年6月1日"),
                    ("founder_kind", "person"),
                    ("founder_name", "厚生 太郎"),
                    ("contact_phone", "03-5321-1111"),
                ],
            )
            .await;
        assert_eq!(response.status(), 303, "{bureau}");
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let page = app.get(&location).await.text().await.unwrap();
        assert!(
            page.contains(&format!("根拠: {expected}")),
            "{bureau}: {page}"
        );
    }
}
