//! Races: every lifecycle action fired twice at once on one case (the same user twice,
//! and two different users; through the API and through the pages), and submissions
//! repeated at once (the entry form, the API, confirming one upload).

use std::sync::Arc;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use tokio::sync::Barrier;
use uketsuke_store::entities::{issued_number, reception_request};

use super::client::{Api, Browser, new_case};
use super::{Ctx, Tally};

/// The actions, the state each starts from, and who (by role) takes it.
const ACTIONS: [(&str, &str, bool); 7] = [
    // (action, state to bring the case to, approver's action)
    ("propose", "received", false),
    ("approve", "proposed", true),
    ("answer", "issued", false),
    ("return", "received", true),
    ("withdraw", "issued", false),
    ("void", "issued", true),
    ("not-designated", "issued", true),
];

async fn case_row(ctx: &Ctx, id: i32) -> anyhow::Result<reception_request::Model> {
    reception_request::Entity::find_by_id(id)
        .one(&ctx.pool)
        .await?
        .ok_or_else(|| anyhow::anyhow!("case {id} is gone"))
}

async fn live_numbers(ctx: &Ctx, id: i32) -> anyhow::Result<usize> {
    let numbers = issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(id))
        .all(&ctx.pool)
        .await?;
    Ok(numbers.iter().filter(|n| n.status.is_live()).count())
}

/// A new case brought to `state` through the API.
async fn prepared(ctx: &Ctx, name: &str, state: &str) -> anyhow::Result<i32> {
    let (admin, clerk, approver) = (ctx.api("kanri"), ctx.api("tanto-a"), ctx.api("kessai-a"));
    let id = admin
        .create_case(&new_case(name, "東京都新宿区西新宿2-8-1"))
        .await?;
    if matches!(state, "proposed" | "issued") {
        clerk
            .act_ok(id, "propose", json!({"district": "01"}))
            .await?;
    }
    if state == "issued" {
        approver.act_ok(id, "approve", json!({})).await?;
    }
    Ok(id)
}

fn body_for(action: &str, version: i32) -> serde_json::Value {
    let mut b = json!({"version": version});
    match action {
        "propose" => b["district"] = json!("01"),
        "return" | "void" | "not-designated" => b["reason"] = json!("同時処理の試験"),
        _ => {}
    }
    b
}

/// Checks one race's outcome: exactly one success, the other a plain refusal, the case
/// changed once, and never two live numbers.
async fn judge(
    ctx: &Ctx,
    t: &mut Tally,
    what: &str,
    id: i32,
    version: i32,
    statuses: &[StatusCode],
    success: StatusCode,
) -> anyhow::Result<()> {
    let wins = statuses.iter().filter(|s| **s == success).count();
    let plain = statuses
        .iter()
        .filter(|s| **s != success)
        .all(|s| matches!(*s, StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY));
    t.check(wins == 1 && plain, || format!("{what}: {statuses:?}"));
    let case = case_row(ctx, id).await?;
    t.check(case.lock_version == version + 1, || {
        format!(
            "{what}: version {version} → {} (changed more than once)",
            case.lock_version
        )
    });
    let live = live_numbers(ctx, id).await?;
    t.check(live <= 1, || format!("{what}: {live} live numbers"));
    Ok(())
}

/// Each action twice at once through the API: the same token twice, and two users.
pub async fn lifecycle_api(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let rounds = if ctx.fast { 1 } else { 4 };
    for round in 0..rounds {
        for (action, state, approver) in ACTIONS {
            for pair in ["same user", "two users"] {
                let (a, b) = match (approver, pair) {
                    (true, "same user") => ("kessai-b", "kessai-b"),
                    (true, _) => ("kessai-a", "kessai-b"),
                    (false, "same user") => ("tanto-b", "tanto-b"),
                    (false, _) => ("tanto-a", "tanto-b"),
                };
                let id = prepared(ctx, &format!("API競合{action}{round}{pair}"), state).await?;
                let version = case_row(ctx, id).await?.lock_version;
                let barrier = Arc::new(Barrier::new(2));
                let mut tasks = Vec::new();
                for user in [a, b] {
                    let (api, barrier): (Api, _) = (ctx.api(user), barrier.clone());
                    let body = body_for(action, version);
                    let path = format!("/api/v1/requests/{id}/{action}");
                    tasks.push(tokio::spawn(async move {
                        barrier.wait().await;
                        api.post(&path, &body).await.map(|r| r.0)
                    }));
                }
                let mut statuses = Vec::new();
                for task in tasks {
                    statuses.push(task.await??);
                }
                let what = format!("API {action} twice at once ({pair})");
                judge(ctx, &mut t, &what, id, version, &statuses, StatusCode::OK).await?;
            }
        }
    }
    Ok(t)
}

/// Each action twice at once through the pages (two browsers of two users, and one
/// user's two tabs), with the version the page showed, and without any version.
pub async fn lifecycle_pages(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let browsers = [
        ("kessai-a", ctx.signed_in("kessai-a").await?),
        ("kessai-b", ctx.signed_in("kessai-b").await?),
        ("tanto-a", ctx.signed_in("tanto-a").await?),
        ("tanto-b", ctx.signed_in("tanto-b").await?),
    ];
    let by = |name: &str| -> Browser {
        browsers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| b.clone())
            .unwrap_or_else(|| ctx.browser())
    };
    let rounds = if ctx.fast { 1 } else { 2 };
    for round in 0..rounds {
        for (action, state, approver) in ACTIONS {
            for variant in ["two users", "two tabs", "no version"] {
                let (a, b) = match (approver, variant) {
                    (true, "two tabs") => ("kessai-b", "kessai-b"),
                    (true, _) => ("kessai-a", "kessai-b"),
                    (false, "two tabs") => ("tanto-b", "tanto-b"),
                    (false, _) => ("tanto-a", "tanto-b"),
                };
                let id = prepared(ctx, &format!("画面競合{action}{round}{variant}"), state).await?;
                let version = case_row(ctx, id).await?.lock_version;
                let number = ctx
                    .api("kanri")
                    .get(&format!("/api/v1/requests/{id}"))
                    .await?
                    .1;
                let number = super::world::live_number(&number).unwrap_or(0);
                let (path, extra): (String, Vec<(&str, String)>) = match action {
                    "propose" => (
                        format!("/cases/{id}/propose"),
                        vec![("district", "01".into())],
                    ),
                    "void" => (
                        format!("/cases/{id}/void-number"),
                        vec![("number_id", number.to_string()), ("reason", "試験".into())],
                    ),
                    "not-designated" => (
                        format!("/not-designated/{id}"),
                        vec![("reason", "試験".into())],
                    ),
                    "return" => (
                        format!("/cases/{id}/return"),
                        vec![("reason", "試験".into())],
                    ),
                    "withdraw" => (
                        format!("/cases/{id}/withdraw"),
                        vec![("reason", "試験".into())],
                    ),
                    other => (format!("/cases/{id}/{other}"), vec![]),
                };
                let barrier = Arc::new(Barrier::new(2));
                let mut tasks = Vec::new();
                for user in [a, b] {
                    let browser = by(user);
                    let csrf = browser.csrf(&format!("/cases/{id}")).await?;
                    let (barrier, path) = (barrier.clone(), path.clone());
                    let mut fields: Vec<(&'static str, String)> = vec![("csrf", csrf)];
                    if variant != "no version" {
                        fields.push(("version", version.to_string()));
                    }
                    fields.extend(extra.iter().cloned());
                    tasks.push(tokio::spawn(async move {
                        let form: Vec<(&str, &str)> =
                            fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                        barrier.wait().await;
                        browser.post_form(&path, &form).await.map(|p| p.status)
                    }));
                }
                let mut statuses = Vec::new();
                for task in tasks {
                    statuses.push(task.await??);
                }
                let what = format!("page {action} twice at once ({variant})");
                if action == "not-designated" {
                    // The 未指定 confirmation answers with the list again (a redirect).
                    let changed = case_row(ctx, id).await?.lock_version - version;
                    t.check(
                        changed == 1
                            && statuses
                                .iter()
                                .all(|s| *s != StatusCode::INTERNAL_SERVER_ERROR),
                        || format!("{what}: {statuses:?}, changed {changed} times"),
                    );
                } else {
                    judge(
                        ctx,
                        &mut t,
                        &what,
                        id,
                        version,
                        &statuses,
                        StatusCode::SEE_OTHER,
                    )
                    .await?;
                }
            }
        }
    }
    Ok(t)
}

/// The entry form posted N times at once (one browser, one token), the same request
/// posted N times at once through the API, one upload confirmed N times at once: each
/// saves once.
pub async fn duplicates(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let n = if ctx.fast { 4 } else { 8 };
    let rounds = if ctx.fast { 2 } else { 5 };
    let clerk = ctx.signed_in("tanto-a").await?;
    let count = |name: String| async move {
        anyhow::Ok(
            reception_request::Entity::find()
                .filter(reception_request::Column::FacilityName.eq(name))
                .count(&ctx.pool)
                .await?,
        )
    };
    for round in 0..rounds {
        let name = format!("二重送信医院{round}");
        let csrf = clerk.csrf("/requests/new").await?;
        let barrier = Arc::new(Barrier::new(n));
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (b, csrf, name, barrier) =
                (clerk.clone(), csrf.clone(), name.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                b.post_form(
                    "/requests/new",
                    &[
                        ("csrf", csrf.as_str()),
                        ("kind", "medical"),
                        ("facility_name", name.as_str()),
                        ("facility_address", "東京都新宿区西新宿2-8-1"),
                        ("designation_date", "令和9年4月1日"),
                        ("founder_kind", "person"),
                        ("founder_name", "厚生 太郎"),
                        ("contact_phone", "03-5321-1111"),
                    ],
                )
                .await
                .map(|p| p.status)
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await??);
        }
        t.check(
            statuses
                .iter()
                .all(|s| *s != StatusCode::INTERNAL_SERVER_ERROR),
            || format!("entry form ×{n}: {statuses:?}"),
        );
        let saved = count(name.clone()).await?;
        t.check(saved == 1, || {
            format!("entry form ×{n} at once saved {saved} times")
        });

        let name = format!("API二重送信医院{round}");
        let barrier = Arc::new(Barrier::new(n));
        let mut tasks = Vec::new();
        for i in 0..n {
            let api = ctx.api(if i % 2 == 0 { "tanto-a" } else { "tanto-b" });
            let (name, barrier) = (name.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                api.post(
                    "/api/v1/requests",
                    &new_case(&name, "東京都新宿区西新宿2-8-1"),
                )
                .await
                .map(|r| r.0)
            }));
        }
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await??);
        }
        let created = statuses.iter().filter(|s| s.is_success()).count();
        t.check(
            created == 1
                && statuses
                    .iter()
                    .all(|s| s.is_success() || *s == StatusCode::CONFLICT),
            || format!("API create ×{n}: {statuses:?}"),
        );
        let saved = count(name.clone()).await?;
        t.check(saved == 1, || {
            format!("API create ×{n} at once saved {saved} times")
        });

        // One upload (three requests), confirmed N times at once.
        let tag = format!("確定{round}");
        let file = super::files::monthly_list(3, &tag)?;
        let preview = clerk.upload("list.xlsx", file).await?;
        let html = preview.text();
        let marker = "action=\"/requests/upload/";
        let action = html
            .find(marker)
            .map(|i| &html[i + "action=\"".len()..])
            .and_then(|s| s.split('"').next())
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no preview for the upload: {}", preview.status))?;
        let csrf = clerk.csrf("/requests/upload").await?;
        let barrier = Arc::new(Barrier::new(n));
        let mut tasks = Vec::new();
        for _ in 0..n {
            let (b, csrf, action, barrier) =
                (clerk.clone(), csrf.clone(), action.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                b.post_form(&action, &[("csrf", csrf.as_str()), ("scope", "all")])
                    .await
                    .map(|p| (p.status, p.location))
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await??);
        }
        // Every confirmation is sent to the one import job that saves the file.
        t.check(
            answers.iter().all(|(status, location)| {
                *status == StatusCode::SEE_OTHER
                    && location.starts_with("/requests/upload/jobs/")
                    && *location == answers[0].1
            }),
            || format!("confirm ×{n}: {answers:?}"),
        );
        let job = clerk.get(&answers[0].1).await?;
        t.check(job.text().contains("3件を登録しました"), || {
            format!("the import job's page after confirm ×{n}: {}", job.status)
        });
        let mut saved = 0;
        for i in 0..3 {
            saved += count(format!("{tag}医院{i:05}")).await?;
        }
        t.check(saved == 3, || {
            format!("confirming one upload ×{n} at once saved {saved} of its 3 requests")
        });
    }
    Ok(t)
}
