//! The pages in a real headless Chromium (Debian's `chromium` and `chromium-driver`),
//! at 1366×768: a clerk signs in, enters a request through the form, and lands on the
//! case with its deadlines; each input has its label; the dashboard and the list work
//! without JavaScript. Screenshots go to `target/screenshots/` (copied to
//! `docs/screenshots/` for the README).

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use uketsuke_tests::TestApp;

struct Driver {
    child: Child,
    profile: std::path::PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn browser() -> (Driver, Client) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is needed (Debian: chromium-driver; scripts/test installs it)");
    let profile = std::env::temp_dir().join(format!(
        "uketsuke-chromium-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let driver = Driver {
        child,
        profile: profile.clone(),
    };
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--window-size=1366,768", format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    for _ in 0..100 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => return (driver, client),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("chromedriver did not start on port {port}");
}

async fn screenshot(client: &Client, name: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = client.screenshot().await.unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

/// Signs in on the open sign-in page and waits for the dashboard.
async fn sign_in(c: &Client, username: &str, password: &str) {
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::XPath("//h1[text()='ダッシュボード']"))
        .await
        .unwrap();
}

/// Every visible input, select and textarea has a label tied to it (WCAG 1.3.1).
async fn assert_labelled(client: &Client, page: &str) {
    let unlabelled = client
        .execute(
            r#"return Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
                .filter(e => !(e.labels && e.labels.length) && !e.closest('label'))
                .map(e => e.name || e.id);"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        unlabelled,
        serde_json::json!([]),
        "{page}: inputs without a label"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clerk_signs_in_enters_a_request_and_sees_its_deadlines_in_chromium() {
    let app = TestApp::spawn_with(true).await;
    let password = app
        .create_user("browser-clerk", "clerk", "kanto-shinetsu")
        .await;
    let (_driver, c) = browser().await;

    c.goto(&format!("{}/login", app.base_url)).await.unwrap();
    assert_labelled(&c, "login").await;
    screenshot(&c, "01-login").await;
    sign_in(&c, "browser-clerk", &password).await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .path()
            .ends_with("/dashboard")
    );
    let h1 = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "ダッシュボード");
    screenshot(&c, "02-dashboard").await;

    c.goto(&format!("{}/cases", app.base_url)).await.unwrap();
    assert_labelled(&c, "cases").await;
    let body = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("やまなみ内科クリニック"),
        "the demo's cases are listed"
    );
    let first_row_top = c
        .execute(
            "return document.querySelector('table.cases tbody tr').getBoundingClientRect().bottom <= window.innerHeight;",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&c, "03-cases").await;
    assert_eq!(
        first_row_top,
        serde_json::json!(true),
        "a result shows without scrolling at 1366×768"
    );

    // A work queue with every row checked, as the dashboard's tile opens it.
    c.goto(&format!("{}/cases?queue=approval&select=all", app.base_url))
        .await
        .unwrap();
    assert_labelled(&c, "cases?queue=approval").await;
    let h1 = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(h1.starts_with("決裁待ち"), "{h1}");
    screenshot(&c, "06-queue").await;

    c.goto(&format!("{}/requests/new", app.base_url))
        .await
        .unwrap();
    assert_labelled(&c, "requests/new").await;
    screenshot(&c, "04-new-request").await;
    // 「所在地と同じ」 is ticked for a new request and hides the 送付先; untick to give one.
    let reply_address = c.find(Locator::Id("reply_address")).await.unwrap();
    assert!(
        !reply_address.is_displayed().await.unwrap(),
        "the 送付先 is hidden while 「所在地と同じ」 is ticked"
    );
    c.find(Locator::Id("reply_same"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(reply_address.is_displayed().await.unwrap());
    for (id, value) in [
        ("reply_address", "東京都新宿区西新宿２－８－１"),
        ("reply_name", "開設準備室"),
        ("facility_name", "ブラウザ内科クリニック"),
        ("facility_postal_code", "１６３－８００１"),
        ("facility_address", "東京都新宿区西新宿2-8-1"),
        ("designation_date", "R9.4.1"),
        ("founder_name", "厚生 太郎"),
        ("contact_phone", "03-5321-1111"),
    ] {
        c.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    c.find(Locator::Css("input[name=kind][value=medical]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css("button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::XPath(
            "//h1[contains(., 'ブラウザ内科クリニック')]",
        ))
        .await
        .unwrap();
    assert!(c.current_url().await.unwrap().path().starts_with("/cases/"));
    let body = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("ブラウザ内科クリニック"));
    assert!(
        body.contains("令和9年2月10日"),
        "the answer due in 和暦 is shown at once"
    );
    screenshot(&c, "05-case").await;
    assert_labelled(&c, "case").await;

    // 起案 from the case page: the district is suggested from the registry's 新宿区 codes.
    let district = c.find(Locator::Id("district")).await.unwrap();
    assert_eq!(
        district.prop("value").await.unwrap().as_deref(),
        Some("04"),
        "suggested from the demo registry"
    );
    let offered = c
        .execute(
            "return Array.from(document.querySelectorAll('#district-options option')).map(o => o.value);",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        offered
            .as_array()
            .is_some_and(|o| o.contains(&serde_json::json!("04"))),
        "the registry's districts are offered to choose from: {offered}"
    );
    c.find(Locator::Css("form[action$='/propose'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::XPath("//*[contains(text(), '番号起案中')]"))
        .await
        .unwrap();
    let body = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("番号起案中"), "the case moved on");

    c.close().await.unwrap();
}

/// Menu items, table headers, codes, tags and dates keep to one line: no
/// 「種／別」 or a date split over two lines at 1366×768.
async fn assert_no_broken_labels(client: &Client, page: &str) {
    let broken = client
        .execute(
            r#"const sel = '.site-nav a, table thead th, td.code, span.code, .tag, .seireki, .req, .counts .label';
               // A text node that the browser wrapped shows as rects on more than one line
               // (a <br> written on purpose starts a new text node, so it does not count).
               const wrapped = node => {
                 const range = document.createRange(); range.selectNodeContents(node);
                 const rects = Array.from(range.getClientRects()).filter(r => r.width > 1).sort((a, b) => a.top - b.top);
                 let lines = 0, bottom = -Infinity;
                 for (const r of rects) { if (r.top >= bottom - 2) { lines++; bottom = r.bottom; } else { bottom = Math.max(bottom, r.bottom); } }
                 return lines > 1;
               };
               const visible = el => el.offsetParent && el.getBoundingClientRect().width > 1 && getComputedStyle(el).clip === 'auto';
               return Array.from(document.querySelectorAll(sel)).filter(el => {
                 if (!visible(el)) return false;
                 const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
                 for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                   if (n.textContent.trim() && visible(n.parentElement) && wrapped(n)) return true;
                 }
                 return false;
               }).map(el => el.tagName.toLowerCase() + '.' + el.className + ': ' + el.textContent.trim().slice(0, 30));"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        broken,
        serde_json::json!([]),
        "{page}: labels broken over lines"
    );
}

/// axe-core (from the npm registry; `scripts/test` installs it under `target/axe`).
fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/axe/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is needed at {} ({e}); scripts/test installs it with npm",
            path.display()
        )
    })
}

/// The page has no WCAG 2.0/2.1 A or AA violation that axe-core finds.
async fn assert_axe_clean(client: &Client, axe: &str, page: &str) {
    client.execute(axe, vec![]).await.unwrap();
    let result = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                 .then(r => done({ passes: r.passes.length, violations: r.violations.map(v => ({
                     id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' :: ' + n.failureSummary) })) }))
                 .catch(e => done({ error: String(e) }));"#,
            vec![],
        )
        .await
        .unwrap();
    assert!(
        result.get("error").is_none(),
        "{page}: axe failed: {result}"
    );
    assert!(
        result["passes"].as_u64().unwrap_or(0) > 0,
        "{page}: axe checked nothing: {result}"
    );
    assert_eq!(
        result["violations"],
        serde_json::json!([]),
        "{page}: accessibility violations"
    );
}

/// Tabs through the page: every element that takes the focus shows an outline with a
/// contrast of at least 3:1 against the background it is drawn on (WCAG 2.4.7, 1.4.11).
/// Returns how many elements were checked.
async fn assert_focus_visible(client: &Client, page: &str) -> usize {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let tab = '\u{E004}';
    let mut seen = std::collections::HashSet::new();
    for _ in 0..80 {
        let keys = KeyActions::new("keyboard".to_owned())
            .then(KeyAction::Down { value: tab })
            .then(KeyAction::Up { value: tab });
        client.perform_actions(keys).await.unwrap();
        let focus = client
            .execute(
                r#"const el = document.activeElement;
                   if (!el || el === document.body) return null;
                   const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
                   const lum = c => { const [r, g, b] = rgb(c).slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
                   let bg = 'rgb(255, 255, 255)';
                   for (let e = el.parentElement; e; e = e.parentElement) {
                     const c = getComputedStyle(e).backgroundColor; const v = rgb(c);
                     if (v.length === 3 || (v.length === 4 && v[3] > 0)) { bg = c; break; }
                   }
                   const s = getComputedStyle(el);
                   const a = lum(s.outlineColor), b = lum(bg);
                   const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
                   const path = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '') + ' ' + (el.textContent || '').trim().slice(0, 20);
                   return { path, style: s.outlineStyle, width: parseFloat(s.outlineWidth), color: s.outlineColor, bg, ratio };"#,
                vec![],
            )
            .await
            .unwrap();
        if focus.is_null() {
            continue;
        }
        let path = focus["path"].as_str().unwrap_or_default().to_owned();
        if !seen.insert(path.clone()) {
            break;
        }
        assert!(
            focus["style"] == "solid" && focus["width"].as_f64().unwrap_or(0.0) >= 2.0,
            "{page}: {path} shows no solid focus outline: {focus}"
        );
        assert!(
            focus["ratio"].as_f64().unwrap_or(0.0) >= 3.0,
            "{page}: the focus outline of {path} has a contrast under 3:1: {focus}"
        );
    }
    seen.len()
}

/// Every page a signed-in administrator reaches from the demo data, and the sign-in
/// page: axe-core finds no WCAG 2.1 A/AA violation, and the focus is visible at 3:1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_core_and_shows_the_focus() {
    let app = TestApp::spawn_with(true).await;
    let axe = axe_source();
    let password = app
        .create_user("browser-admin", "admin", "kanto-shinetsu")
        .await;
    let (_driver, c) = browser().await;
    let url = |path: &str| format!("{}{path}", app.base_url);

    c.goto(&url("/login")).await.unwrap();
    assert_axe_clean(&c, &axe, "/login").await;
    assert!(
        assert_focus_visible(&c, "/login").await >= 3,
        "the sign-in form takes the focus"
    );
    sign_in(&c, "browser-admin", &password).await;

    let mut pages: Vec<String> = [
        "/dashboard",
        "/cases",
        "/cases?q=%E5%86%85%E7%A7%91",
        "/requests/new",
        "/requests/upload",
        "/council",
        "/deliveries",
        "/not-designated",
        "/registry",
        "/admin/users",
        "/password",
        "/cases/999999",
        "/cases?queue=approval",
        "/cases?queue=answer",
        "/cases?queue=due-soon",
        "/cases?queue=registry",
        "/cases?queue=reflection",
        "/schedule/kanto-shinetsu/2027",
        "/calendar",
        "/reports/monthly",
        "/admin/council-dates",
    ]
    .iter()
    .map(|p| (*p).to_owned())
    .collect();
    // Every case of the demo, and the letters and forms its page links to.
    c.goto(&url("/cases")).await.unwrap();
    let links = c
        .execute(
            r#"return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))
                 .filter(h => /^\/cases\/\d+$/.test(h));"#,
            vec![],
        )
        .await
        .unwrap();
    let cases: Vec<String> = serde_json::from_value(links).unwrap();
    assert!(cases.len() >= 5, "the demo lists its cases: {cases:?}");
    let mut seen = std::collections::HashSet::new();
    for case in cases.iter().filter(|c| seen.insert((*c).clone())) {
        pages.push(case.clone());
    }
    let mut from_cases = Vec::new();
    for case in &pages[pages.len() - seen.len()..] {
        c.goto(&url(case)).await.unwrap();
        let links = c
            .execute(
                r#"return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'))
                     .filter(h => /^\/(cases|council)\/\d+(\/(answer|return-letter|edit|plan|plan\/correction))?$/.test(h));"#,
                vec![],
            )
            .await
            .unwrap();
        let links: Vec<String> = serde_json::from_value(links).unwrap();
        from_cases.extend(links);
    }
    for link in from_cases {
        if seen.insert(link.clone()) {
            pages.push(link);
        }
    }
    assert!(
        pages.iter().any(|p| p.ends_with("/answer")) && pages.iter().any(|p| p.ends_with("/edit")),
        "the letters and the correction form are among the pages: {pages:?}"
    );
    let mut focused = 0;
    for page in &pages {
        c.goto(&url(page)).await.unwrap();
        // The README's screenshots of the clerk's day.
        let shot = match page.as_str() {
            "/cases?queue=approval" => Some("06-queue"),
            "/calendar" => Some("07-calendar"),
            "/reports/monthly" => Some("08-report"),
            _ => None,
        };
        if let Some(name) = shot {
            screenshot(&c, name).await;
        }
        assert_axe_clean(&c, &axe, page).await;
        assert_no_broken_labels(&c, page).await;
        focused += assert_focus_visible(&c, page).await;
    }
    assert!(
        focused > pages.len(),
        "the pages were tabbed through ({focused} stops)"
    );
    c.close().await.unwrap();
}

/// The pages of a PDF: its `/Type /Page` objects (not `/Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
        .count()
}

/// The page printed to PDF as a person prints it: A4 portrait with the page's margins.
async fn print_pdf(client: &Client, name: &str) -> Vec<u8> {
    use fantoccini::wd::{PrintConfiguration, PrintMargins, PrintSize};
    let config = PrintConfiguration::builder()
        .size(PrintSize::A4)
        .margins(PrintMargins {
            top: 1.5,
            bottom: 1.5,
            left: 1.8,
            right: 1.8,
        })
        .shrink_to_fit(false)
        .build()
        .unwrap();
    let pdf = client.print(config).await.unwrap();
    assert!(pdf.starts_with(b"%PDF"), "{name}: a PDF");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/letters");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.pdf")), &pdf).unwrap();
    pdf
}

async fn signed_post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> u16 {
    app.post_signed(path, fields).await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_letter_prints_on_one_a4_page_and_bulk_printing_gives_two_pages_a_case() {
    let app = TestApp::spawn_configured(false, |settings| {
        let kanto = settings
            .bureaus
            .iter_mut()
            .find(|b| b.id == "kanto-shinetsu")
            .unwrap();
        kanto.letters.department = Some("保険課 受付番号担当".into());
        kanto.letters.phone = Some("048-000-0001".into());
        kanto.letters.inquiry = Some(
            "関東信越厚生局 保険課 受付番号担当（平日 8:30～17:15、電話 048-000-0001）".into(),
        );
    })
    .await;
    app.switch_to("print-tanto", "clerk", "kanto-shinetsu")
        .await;
    let short = [
        ("reply_address", "東京都新宿区西新宿2-8-1"),
        ("reply_name", "開設準備室"),
        ("kind", "医科"),
        ("facility_name", "印刷内科クリニック"),
        ("facility_address", "東京都新宿区西新宿2-8-1"),
        ("designation_date", "令和9年4月1日"),
        ("founder_kind", "person"),
        ("founder_name", "厚生 太郎"),
        ("contact_phone", "03-5321-1111"),
    ];
    let long_address = "東京都千代田区霞が関一丁目二番二号　中央合同庁舎第五号館別館　医療法人社団オンライン資格確認推進会開設準備事務局内　第一会議室（受付番号担当者宛）";
    let long = [
        ("reply_address", long_address),
        (
            "reply_name",
            "医療法人社団オンライン資格確認推進会　理事長　厚生労働太郎左衛門　開設準備室　ご担当者",
        ),
        ("kind", "医科"),
        (
            "facility_name",
            "医療法人社団オンライン資格確認推進会　霞が関中央合同庁舎前総合内科・循環器内科・消化器内科・呼吸器内科クリニック",
        ),
        ("facility_address", long_address),
        ("designation_date", "令和9年4月1日"),
        ("founder_kind", "corporation"),
        ("corporation_name", "医療法人社団オンライン資格確認推進会"),
        ("representative_title", "理事長"),
        ("representative_name", "厚生労働 太郎左衛門"),
        ("registration_number", "東京医第１２３４５６号"),
        ("contact_phone", "03-5321-1111"),
    ];
    let mut answered = Vec::new();
    for fields in [&short[..], &long[..]] {
        let id = app.enter_request(fields).await;
        assert_eq!(
            signed_post(&app, &format!("/cases/{id}/propose"), &[("district", "1")]).await,
            303
        );
        answered.push(id);
    }
    let mut short = short;
    short[3].1 = "返戻内科クリニック";
    let mut long = long;
    long[3].1 = "医療法人社団オンライン資格確認推進会　霞が関中央合同庁舎前総合内科・循環器内科・消化器内科・呼吸器内科・返戻分院";
    let returned_short = app.enter_request(&short).await;
    let returned_long = app.enter_request(&long).await;
    app.switch_to("print-kessai", "approver", "kanto-shinetsu")
        .await;
    for id in &answered {
        assert_eq!(
            signed_post(&app, &format!("/cases/{id}/approve"), &[]).await,
            303
        );
    }
    let reasons = "提出期限（令和9年2月1日）を過ぎて受け付けました。\n\
                   開設者の保険医登録の記号及び番号の記載が、添付された登録票の写しと一致しません。\n\
                   指定希望日が、開設許可の予定日より前になっています。\n\
                   回答書の送付先の住所に郵便番号の記載がありません。";
    for id in [returned_short, returned_long] {
        assert_eq!(
            signed_post(&app, &format!("/cases/{id}/return"), &[("reason", reasons)]).await,
            303
        );
    }

    let (_driver, c) = browser().await;
    c.goto(&format!("{}/login", app.base_url)).await.unwrap();
    sign_in(&c, "print-kessai", "pw-print-kessai-0123456789").await;

    for (name, path, pages) in [
        ("answer-short", format!("/cases/{}/answer", answered[0]), 2),
        ("answer-long", format!("/cases/{}/answer", answered[1]), 2),
        (
            "return-short",
            format!("/cases/{returned_short}/return-letter"),
            1,
        ),
        (
            "return-long",
            format!("/cases/{returned_long}/return-letter"),
            1,
        ),
    ] {
        c.goto(&format!("{}{path}", app.base_url)).await.unwrap();
        // The print button is on screen, and works (window.print is called).
        let button = c.find(Locator::Css("button[data-print]")).await.unwrap();
        assert!(
            button.is_displayed().await.unwrap(),
            "{name}: a print button"
        );
        c.execute(
            "window.__printed = 0; window.print = function () { window.__printed += 1; };",
            vec![],
        )
        .await
        .unwrap();
        button.click().await.unwrap();
        assert_eq!(
            c.execute("return window.__printed;", vec![]).await.unwrap(),
            serde_json::json!(1),
            "{name}: the button prints"
        );
        screenshot(&c, &format!("letter-{name}")).await;
        let pdf = print_pdf(&c, name).await;
        // 回答書: one page, then its enclosure on one page. 返戻: one page.
        assert_eq!(
            pdf_pages(&pdf),
            pages,
            "{name}: the letter fits on one A4 page (the PDF is in target/letters/)"
        );
    }

    // Bulk printing from a form that posts to /letters/answers, as the case list does.
    c.goto(&format!("{}/dashboard", app.base_url))
        .await
        .unwrap();
    let ids = format!("{},{},{}", answered[0], answered[1], returned_short);
    c.execute(
        r#"const f = document.createElement('form');
           f.method = 'post'; f.action = '/letters/answers';
           const csrf = document.querySelector('input[name=csrf]').value;
           const add = (n, v) => { const i = document.createElement('input'); i.type = 'hidden'; i.name = n; i.value = v; f.appendChild(i); };
           add('csrf', csrf);
           arguments[0].split(',').forEach(id => add('ids', id));
           document.body.appendChild(f); f.submit();"#,
        vec![serde_json::json!(ids)],
    )
    .await
    .unwrap();
    c.wait()
        .for_element(Locator::Css("button[data-print]"))
        .await
        .unwrap();
    let skipped = c
        .find(Locator::Css("ul.skipped"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        skipped.contains(&format!("受付ID {returned_short}")),
        "the returned case is listed as skipped: {skipped}"
    );
    screenshot(&c, "letters-bulk").await;
    let pdf = print_pdf(&c, "answers-bulk").await;
    assert_eq!(
        pdf_pages(&pdf),
        4,
        "two 回答書, each with its enclosure, and nothing else printed"
    );

    // The public schedule: one A4 page.
    c.goto(&format!("{}/schedule/kanto-shinetsu/2027", app.base_url))
        .await
        .unwrap();
    screenshot(&c, "schedule").await;
    let pdf = print_pdf(&c, "schedule-kanto-shinetsu-2027").await;
    assert_eq!(pdf_pages(&pdf), 1, "the year's schedule on one A4 page");
    c.close().await.unwrap();
}
