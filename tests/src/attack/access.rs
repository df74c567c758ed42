//! Access across the boundaries: nobody signed in, a role too low, another bureau,
//! another office; and forms posted without the session's CSRF token. After each
//! attack the cases it aimed at are unchanged (their version), so a refusal that still
//! wrote something does not count as held.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use uketsuke_store::entities::{reception_request, user};

use super::client::{Api, Browser, Page};
use super::{Ctx, Tally};

/// Every page a signed-in user may GET, for case `id`.
fn pages(id: i32) -> Vec<String> {
    let mut p: Vec<String> = [
        "/dashboard",
        "/cases",
        "/cases.xlsx",
        "/cases.csv",
        "/council",
        "/admin/users",
        "/deliveries",
        "/not-designated",
        "/forms/blank.xlsx",
        "/requests/new",
        "/requests/upload",
        "/password",
    ]
    .map(str::to_owned)
    .to_vec();
    p.extend(case_documents(id));
    p
}

/// The pages and downloads of one case.
fn case_documents(id: i32) -> Vec<String> {
    vec![
        format!("/cases/{id}"),
        format!("/cases/{id}/answer"),
        format!("/cases/{id}/answer.xlsx"),
        format!("/cases/{id}/return-letter"),
    ]
}

/// Every action on case `id` as (path, extra fields).
fn case_actions(id: i32, number: i32) -> Vec<(String, Vec<(&'static str, String)>)> {
    vec![
        (
            format!("/cases/{id}/propose"),
            vec![("district", "1".into())],
        ),
        (format!("/cases/{id}/approve"), vec![]),
        (format!("/cases/{id}/answer"), vec![]),
        (
            format!("/cases/{id}/return"),
            vec![("reason", "攻撃".into())],
        ),
        (
            format!("/cases/{id}/withdraw"),
            vec![("reason", "攻撃".into())],
        ),
        (
            format!("/cases/{id}/void-number"),
            vec![("number_id", number.to_string()), ("reason", "攻撃".into())],
        ),
        (
            format!("/not-designated/{id}"),
            vec![("reason", "攻撃".into())],
        ),
    ]
}

/// Every other POST of the site, as (path, fields).
fn other_posts() -> Vec<(String, Vec<(&'static str, String)>)> {
    vec![
        (
            "/admin/users".into(),
            vec![
                ("username", "evil-admin".into()),
                ("display_name", "evil".into()),
                ("role", "admin".into()),
            ],
        ),
        ("/admin/users/1/unlock".into(), vec![]),
        ("/deliveries/1/resend".into(), vec![]),
        (
            "/council".into(),
            vec![
                ("prefecture", "13".into()),
                ("held_on", "2026-12-01".into()),
            ],
        ),
        (
            "/council/1/approvals".into(),
            vec![("request", "1".into()), ("date-1", "2027-04-01".into())],
        ),
        (
            "/requests/new".into(),
            vec![
                ("kind", "medical".into()),
                ("facility_name", "不正な依頼".into()),
                ("facility_address", "東京都新宿区西新宿2-8-1".into()),
                ("designation_date", "令和9年4月1日".into()),
                ("founder_kind", "person".into()),
                ("founder_name", "厚生 太郎".into()),
                ("contact_phone", "03-5321-1111".into()),
            ],
        ),
        (
            "/requests/upload/abcdef".into(),
            vec![("scope", "all".into())],
        ),
        (
            "/password".into(),
            vec![
                ("current", "x".into()),
                ("new", "new-password-0123456789".into()),
                ("confirm", "new-password-0123456789".into()),
            ],
        ),
    ]
}

/// The API's routes for case `id`: (method, path, body).
fn api_routes(id: i32) -> Vec<(&'static str, String, serde_json::Value)> {
    let mut r = vec![
        ("GET", "/api/v1/requests".to_owned(), json!(null)),
        ("GET", format!("/api/v1/requests/{id}"), json!(null)),
        ("GET", "/api/v1/council-sessions/1".to_owned(), json!(null)),
        (
            "GET",
            "/api/v1/council-sessions/1/list.xlsx".to_owned(),
            json!(null),
        ),
        (
            "GET",
            "/api/v1/council-sessions/1/lists/1".to_owned(),
            json!(null),
        ),
        (
            "POST",
            "/api/v1/council-sessions/1/approvals".to_owned(),
            json!({"approvals": [{"request_id": id, "designation_date": "2027-04-01"}]}),
        ),
        ("GET", "/api/v1/deliveries".to_owned(), json!(null)),
        (
            "POST",
            "/api/v1/requests".to_owned(),
            super::client::new_case("不正な依頼", "東京都新宿区西新宿2-8-1"),
        ),
        (
            "POST",
            "/api/v1/council-sessions".to_owned(),
            json!({"prefecture": "13", "held_on": "2026-12-01", "request_ids": [id]}),
        ),
    ];
    for action in [
        "propose",
        "approve",
        "answer",
        "return",
        "withdraw",
        "void",
        "not-designated",
    ] {
        r.push((
            "POST",
            format!("/api/v1/requests/{id}/{action}"),
            json!({"version": 1, "reason": "攻撃", "district": "01"}),
        ));
    }
    r
}

async fn version(ctx: &Ctx, id: i32) -> anyhow::Result<i32> {
    Ok(reception_request::Entity::find_by_id(id)
        .one(&ctx.pool)
        .await?
        .map(|c| c.lock_version)
        .unwrap_or(-1))
}

async fn counts(ctx: &Ctx) -> anyhow::Result<(u64, u64)> {
    Ok((
        reception_request::Entity::find().count(&ctx.pool).await?,
        user::Entity::find().count(&ctx.pool).await?,
    ))
}

/// Whether nothing changed: the cases' versions and the numbers of requests and users.
struct Snapshot {
    versions: Vec<(i32, i32)>,
    counts: (u64, u64),
}

impl Snapshot {
    async fn take(ctx: &Ctx, ids: &[i32]) -> anyhow::Result<Self> {
        let mut versions = Vec::new();
        for id in ids {
            versions.push((*id, version(ctx, *id).await?));
        }
        Ok(Self {
            versions,
            counts: counts(ctx).await?,
        })
    }

    async fn check_unchanged(&self, ctx: &Ctx, t: &mut Tally) -> anyhow::Result<()> {
        let after = Self::take(ctx, &self.versions.iter().map(|v| v.0).collect::<Vec<_>>()).await?;
        t.check(after.versions == self.versions, || {
            format!("a case changed: {:?} → {:?}", self.versions, after.versions)
        });
        t.check(after.counts == self.counts, || {
            format!(
                "rows were added (requests, users): {:?} → {:?}",
                self.counts, after.counts
            )
        });
        Ok(())
    }
}

async fn api_call(
    api: &Api,
    method: &str,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<StatusCode> {
    Ok(if method == "GET" {
        api.get(path).await?.0
    } else {
        api.post(path, body).await?.0
    })
}

async fn post_with_csrf(
    b: &Browser,
    path: &str,
    extra: &[(&'static str, String)],
) -> anyhow::Result<Page> {
    let csrf = b.csrf("/dashboard").await.unwrap_or_default();
    let mut fields: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    fields.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
    b.post_form(path, &fields).await
}

/// Nobody signed in: every page redirects to the login, every POST is refused, every
/// API route answers 401 (no token, a made-up token, a cookie instead of a token).
pub async fn unauthenticated(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let w = &ctx.world;
    let snapshot = Snapshot::take(ctx, &[w.chiba_case, w.tokyo_case]).await?;
    let anon = ctx.browser();
    for path in pages(w.chiba_case) {
        let page = anon.get(&path).await?;
        t.check(
            page.to_login() || page.status == StatusCode::UNAUTHORIZED,
            || format!("GET {path} without a session: {}", page.status),
        );
    }
    let mut posts = case_actions(w.chiba_case, w.chiba_number);
    posts.extend(other_posts());
    posts.push(("/logout".into(), vec![]));
    for (path, fields) in &posts {
        let page = post_with_csrf(&anon, path, fields).await?;
        let refused = page.to_login()
            || matches!(
                page.status,
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
            )
            || (path == "/logout" && page.status.is_redirection());
        t.check(refused, || {
            format!("POST {path} without a session: {}", page.status)
        });
    }
    let signed_in = ctx.signed_in("kanri").await?;
    for (method, path, body) in api_routes(w.chiba_case) {
        for token in ["", "uk_madeup0000000000000000000000", "Bearer"] {
            let api = Api::new(&ctx.server.base_url, token.to_owned());
            let status = api_call(&api, method, &path, &body).await?;
            t.check(status == StatusCode::UNAUTHORIZED, || {
                format!("{method} {path} with token {token:?}: {status}")
            });
        }
        // A browser's session cookie is no API credential.
        let r = if method == "GET" {
            signed_in.client.get(signed_in.url(&path)).send().await?
        } else {
            signed_in
                .client
                .post(signed_in.url(&path))
                .json(&body)
                .send()
                .await?
        };
        t.check(r.status() == StatusCode::UNAUTHORIZED, || {
            format!("{method} {path} with only a session cookie: {}", r.status())
        });
    }
    snapshot.check_unchanged(ctx, &mut t).await?;
    Ok(t)
}

/// A viewer and a clerk post what only an approver or an administrator may.
pub async fn role_escalation(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let w = &ctx.world;
    let snapshot = Snapshot::take(ctx, &[w.chiba_case, w.tokyo_case]).await?;
    let viewer = ctx.signed_in("etsuran").await?;
    // A viewer: no action of any kind, no entry, no upload, no account.
    let mut forbidden = case_actions(w.tokyo_case, w.chiba_number);
    forbidden.extend(case_actions(w.chiba_case, w.chiba_number));
    forbidden.extend(other_posts().into_iter().filter(|(p, _)| p != "/password"));
    for (path, fields) in &forbidden {
        let page = post_with_csrf(&viewer, path, fields).await?;
        let refused = matches!(
            page.status,
            StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY
        );
        t.check(refused, || format!("viewer POST {path}: {}", page.status));
    }
    for path in ["/admin/users", "/requests/upload", "/requests/new"] {
        let page = viewer.get(path).await?;
        t.check(page.status == StatusCode::FORBIDDEN, || {
            format!("viewer GET {path}: {}", page.status)
        });
    }
    // A clerk: none of an approver's or an administrator's actions.
    let clerk = ctx.signed_in("tanto-b").await?;
    let id = w.chiba_case;
    let approver_only: Vec<(String, Vec<(&'static str, String)>)> = vec![
        (format!("/cases/{id}/approve"), vec![]),
        (
            format!("/cases/{id}/return"),
            vec![("reason", "攻撃".into())],
        ),
        (
            format!("/cases/{id}/void-number"),
            vec![
                ("number_id", w.chiba_number.to_string()),
                ("reason", "攻撃".into()),
            ],
        ),
        (
            format!("/not-designated/{id}"),
            vec![("reason", "攻撃".into())],
        ),
        (
            "/admin/users".into(),
            vec![
                ("username", "evil-admin2".into()),
                ("display_name", "evil".into()),
                ("role", "admin".into()),
            ],
        ),
        ("/admin/users/1/unlock".into(), vec![]),
        ("/deliveries/1/resend".into(), vec![]),
        (
            "/council".into(),
            vec![
                ("prefecture", "13".into()),
                ("held_on", "2026-12-01".into()),
            ],
        ),
        (
            "/council/1/approvals".into(),
            vec![("request", "1".into()), ("date-1", "2027-04-01".into())],
        ),
    ];
    for (path, fields) in &approver_only {
        let page = post_with_csrf(&clerk, path, fields).await?;
        t.check(
            matches!(
                page.status,
                StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
            ),
            || format!("clerk POST {path}: {}", page.status),
        );
    }
    let page = clerk.get("/admin/users").await?;
    t.check(page.status == StatusCode::FORBIDDEN, || {
        format!("clerk GET /admin/users: {}", page.status)
    });
    // The same through the API.
    let viewer_api = ctx.api("etsuran");
    for (method, path, body) in api_routes(w.chiba_case)
        .into_iter()
        .filter(|(m, _, _)| *m == "POST")
    {
        let status = api_call(&viewer_api, method, &path, &body).await?;
        t.check(matches!(status, StatusCode::FORBIDDEN), || {
            format!("viewer token {method} {path}: {status}")
        });
    }
    let clerk_api = ctx.api("tanto-b");
    for action in ["approve", "return", "void", "not-designated"] {
        let path = format!("/api/v1/requests/{id}/{action}");
        let body = json!({"version": version(ctx, id).await?, "reason": "攻撃"});
        let status = clerk_api.post(&path, &body).await?.0;
        t.check(status == StatusCode::FORBIDDEN, || {
            format!("clerk token POST {path}: {status}")
        });
    }
    let status = clerk_api
        .post(
            "/api/v1/council-sessions",
            &json!({"prefecture": "12", "held_on": "2026-12-01", "request_ids": [id]}),
        )
        .await?
        .0;
    t.check(status == StatusCode::FORBIDDEN, || {
        format!("clerk token POST /api/v1/council-sessions: {status}")
    });
    // Tampering with one's own role through the account form is not a thing: the role
    // field of the admin form is only for administrators (above). The users table
    // still has the world's accounts only.
    snapshot.check_unchanged(ctx, &mut t).await?;
    Ok(t)
}

/// Staff of one bureau aim at another bureau's case (both directions, pages, downloads,
/// actions, API): 404, and the lists do not show it.
pub async fn cross_bureau(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let w = &ctx.world;
    let snapshot = Snapshot::take(ctx, &[w.chiba_case, w.kinki_case]).await?;
    for (user, id, number, foreign_name) in [
        ("kinki-kanri", w.chiba_case, w.chiba_number, "千葉の医院"),
        ("kanri", w.kinki_case, w.kinki_number, "大阪の医院"),
    ] {
        let b = ctx.signed_in(user).await?;
        for path in case_documents(id) {
            let page = b.get(&path).await?;
            t.check(page.status == StatusCode::NOT_FOUND, || {
                format!("{user} GET {path}: {}", page.status)
            });
        }
        for (path, fields) in case_actions(id, number) {
            let page = post_with_csrf(&b, &path, &fields).await?;
            t.check(page.status == StatusCode::NOT_FOUND, || {
                format!("{user} POST {path}: {}", page.status)
            });
        }
        for list in ["/cases", "/dashboard", "/cases.csv", "/not-designated"] {
            let page = b.get(list).await?;
            t.check(!page.text().contains(foreign_name), || {
                format!("{user} sees {foreign_name} on {list}")
            });
        }
        let api = ctx.api(user);
        for (method, path, body) in api_routes(id)
            .into_iter()
            .filter(|(_, p, _)| p.contains(&format!("/requests/{id}")))
        {
            let status = api_call(&api, method, &path, &body).await?;
            t.check(status == StatusCode::NOT_FOUND, || {
                format!("{user} token {method} {path}: {status}")
            });
        }
        let (_, list) = api.get("/api/v1/requests").await?;
        t.check(!list.to_string().contains(foreign_name), || {
            format!("{user} token sees {foreign_name} in /api/v1/requests")
        });
        // Numbering another bureau's case into one's own council session.
        let status = api
            .post(
                "/api/v1/council-sessions",
                &json!({"prefecture": if user == "kanri" {"13"} else {"27"}, "held_on": "2026-12-02", "request_ids": [id]}),
            )
            .await?;
        t.check(
            !status
                .1
                .to_string()
                .contains(&format!("\"approved\":[{id}]")),
            || format!("{user} designated another bureau's case {id}: {}", status.1),
        );
    }
    snapshot.check_unchanged(ctx, &mut t).await?;
    Ok(t)
}

/// An account limited to 東京事務所 aims at a 千葉事務所 case: 404 on every page,
/// document, download and action (pages and API); its start page and dashboard count
/// only its office's cases.
pub async fn office_boundary(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let w = &ctx.world;
    let snapshot = Snapshot::take(ctx, &[w.chiba_case]).await?;
    for user in ["tokyo-kessai", "tokyo-tanto"] {
        let b = ctx.signed_in(user).await?;
        for path in case_documents(w.chiba_case) {
            let page = b.get(&path).await?;
            t.check(page.status == StatusCode::NOT_FOUND, || {
                format!("{user} GET {path}: {}", page.status)
            });
        }
        for (path, fields) in case_actions(w.chiba_case, w.chiba_number) {
            let page = post_with_csrf(&b, &path, &fields).await?;
            t.check(page.status == StatusCode::NOT_FOUND, || {
                format!("{user} POST {path}: {}", page.status)
            });
        }
        for list in ["/cases", "/dashboard", "/cases.csv", "/not-designated"] {
            let page = b.get(list).await?;
            t.check(!page.text().contains("千葉の医院"), || {
                format!("{user} sees the 千葉 case on {list}")
            });
        }
        let api = ctx.api(user);
        for (method, path, body) in api_routes(w.chiba_case)
            .into_iter()
            .filter(|(_, p, _)| p.contains(&format!("/requests/{}", w.chiba_case)))
        {
            let status = api_call(&api, method, &path, &body).await?;
            t.check(status == StatusCode::NOT_FOUND, || {
                format!("{user} token {method} {path}: {status}")
            });
        }
        let (_, list) = api.get("/api/v1/requests").await?;
        t.check(!list.to_string().contains("千葉の医院"), || {
            format!("{user} token sees the 千葉 case in /api/v1/requests")
        });
        // The counts of the start page and the dashboard are the office's.
        let tokyo = uketsuke_store::bureaus::office_id(&ctx.pool, super::world::BUREAU, "tokyo")
            .await?
            .unwrap_or_default();
        let own = reception_request::Entity::find()
            .filter(reception_request::Column::OfficeId.eq(tokyo))
            .count(&ctx.pool)
            .await?;
        let start = b.get("/").await?.text();
        t.check(start.contains(&format!("<dd>{own} 件</dd>")), || {
            format!("{user}'s start page does not count {own} cases of its office")
        });
        let dashboard = b.get("/dashboard").await?.text();
        let total: u64 = dashboard
            .split("<span class=\"count\">")
            .skip(1)
            .filter_map(|s| s.split('<').next()?.trim().parse::<u64>().ok())
            .sum();
        t.check(total == own, || {
            format!("{user}'s dashboard counts {total} cases, its office has {own}")
        });
    }
    snapshot.check_unchanged(ctx, &mut t).await?;
    Ok(t)
}

/// Every POST of a signed-in administrator without the CSRF token, with a forged one,
/// and with another session's token: 403, nothing changes; the login form too.
pub async fn csrf(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let w = &ctx.world;
    let snapshot = Snapshot::take(ctx, &[w.chiba_case, w.tokyo_case]).await?;
    let admin = ctx.signed_in("kanri").await?;
    let other = ctx.signed_in("kessai-b").await?;
    let foreign_token = other.csrf("/dashboard").await?;
    let mut posts = case_actions(w.tokyo_case, w.chiba_number);
    posts.extend(case_actions(w.chiba_case, w.chiba_number));
    posts.extend(other_posts());
    posts.push(("/logout".into(), vec![]));
    for (path, fields) in &posts {
        for token in [None, Some("forged"), Some(""), Some(foreign_token.as_str())] {
            let mut form: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            if let Some(tok) = token {
                form.push(("csrf", tok));
            }
            let page = admin.post_form(path, &form).await?;
            t.check(
                matches!(
                    page.status,
                    StatusCode::FORBIDDEN
                        | StatusCode::UNPROCESSABLE_ENTITY
                        | StatusCode::BAD_REQUEST
                ),
                || format!("POST {path} with csrf {token:?}: {}", page.status),
            );
        }
    }
    // Still signed in: the forged logout did nothing.
    let page = admin.get("/dashboard").await?;
    t.check(page.status == StatusCode::OK, || {
        format!("the forged logout signed the admin out ({})", page.status)
    });
    // Login CSRF: a login form posted with a forged token.
    let anon = ctx.browser();
    let _ = anon.get("/login").await?;
    let password = super::world::password("kanri");
    let page = anon
        .post_form(
            "/login",
            &[
                ("csrf", "forged"),
                ("username", "kanri"),
                ("password", password.as_str()),
            ],
        )
        .await?;
    t.check(page.status == StatusCode::FORBIDDEN, || {
        format!("login with a forged token: {}", page.status)
    });
    // A multipart upload without a token.
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"PK".to_vec()).file_name("x.xlsx"),
    );
    let r = admin
        .client
        .post(admin.url("/requests/upload"))
        .multipart(form)
        .send()
        .await?;
    t.check(r.status() == StatusCode::FORBIDDEN, || {
        format!("upload without a token: {}", r.status())
    });
    snapshot.check_unchanged(ctx, &mut t).await?;
    Ok(t)
}
