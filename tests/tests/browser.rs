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
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("browser-clerk")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(&password)
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
    screenshot(&c, "03-cases").await;

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
