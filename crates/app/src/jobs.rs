//! Scheduled jobs (定時処理), each run once per period thanks to the store's
//! (job, period) record:
//!
//! - `council-export` (period: the council session's id): after a 地医協 session, the
//!   「新規指定医療機関一覧表」 of the facilities it approved and no sent list holds yet
//!   (the first list, then 追加分N), as .xlsx, queued for the 実施機関 — the export, its
//!   outbox row and the run (`ID:seq`) in one transaction. Never before the session's
//!   day, and a run with nothing to send records nothing, so a planned session's list
//!   still goes once its 答申 is recorded;
//! - `digest` (period: `BUREAU:YYYY-MM-DD`): to staff, the answers due within three open
//!   days and those overdue;
//! - `not-designated-review` (period: `BUREAU:YYYY-MM-DD`): to staff, facilities whose
//!   designation date has passed with no approval, to confirm as 「8. 未指定」 on the web
//!   page (a person confirms; nothing is marked silently).
//!
//! [`tick`] is what `serve` calls every minute: it works out which periods are due now
//! (Japan time) for the bureaus in use (`app.bureaus`, or those with an active account)
//! and runs them; running a period that already ran does nothing.

use anyhow::{Context, bail};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta, Utc};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;
use uketsuke_domain::format_wareki;
use uketsuke_export::{ListRow, XLSX_MIME};
use uketsuke_store::council::part_label;
use uketsuke_store::entities::{council_session, reception_request};
use uketsuke_store::lifecycle::CaseStatus;
use uketsuke_store::outbox::{self, NewAttachment, NewMessage};

use crate::settings::{BureauSettings, Settings};

/// The jobs, by name.
pub const JOBS: [(&str, &str); 3] = [
    (
        "council-export",
        "地医協の答申後、新規指定医療機関一覧表を実施機関へ送る（期間: 地医協の回のID）",
    ),
    (
        "digest",
        "回答期限が3開庁日以内・超過の依頼を職員へ通知する（期間: 局ID:日付）",
    ),
    (
        "not-designated-review",
        "指定希望日を過ぎて答申のない依頼を、未指定の確認のため職員へ通知する（期間: 局ID:日付）",
    ),
];

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub job: String,
    pub period: String,
    /// `done`, `already-done` or `nothing-to-send`.
    pub outcome: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox_id: Option<i64>,
}

/// Now in Japan (JST).
pub fn now_in_japan() -> NaiveDateTime {
    (Utc::now() + TimeDelta::hours(9)).naive_utc()
}

/// Runs `job` for `period`, now.
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    job: &str,
    period: &str,
) -> anyhow::Result<RunReport> {
    run_at(db, settings, job, period, now_in_japan()).await
}

/// Runs `job` for `period` as at `now` (Japan time): a council list is never sent before
/// its session's day, and is dated `now`.
pub async fn run_at(
    db: &DatabaseConnection,
    settings: &Settings,
    job: &str,
    period: &str,
    now: NaiveDateTime,
) -> anyhow::Result<RunReport> {
    match job {
        "council-export" => council_export(db, settings, period, now).await,
        "digest" => digest(db, settings, period).await,
        "not-designated-review" => not_designated_review(db, settings, period).await,
        other => bail!(
            "ジョブ '{other}' はありません（{}）",
            JOBS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// Queues `message` and records the run, in one transaction; a period already run is
/// reported and nothing is queued.
async fn record_and_queue(
    db: &DatabaseConnection,
    job: &str,
    period: &str,
    message: Option<NewMessage>,
    detail: String,
) -> anyhow::Result<RunReport> {
    let txn = db.begin().await?;
    let Some(run) = uketsuke_store::jobs::claim(&txn, job, period).await? else {
        txn.rollback().await?;
        return Ok(RunReport {
            job: job.to_owned(),
            period: period.to_owned(),
            outcome: "already-done",
            detail: "この期間は実行済みです".to_owned(),
            outbox_id: None,
        });
    };
    let outbox_id = match &message {
        Some(m) => Some(outbox::enqueue(&txn, m, Utc::now()).await?.id),
        None => None,
    };
    uketsuke_store::jobs::finish(&txn, run, true, &detail).await?;
    txn.commit().await?;
    Ok(RunReport {
        job: job.to_owned(),
        period: period.to_owned(),
        outcome: if message.is_some() {
            "done"
        } else {
            "nothing-to-send"
        },
        detail,
        outbox_id,
    })
}

/// The rows of the 一覧表 for one council session: its approved facilities and numbers.
pub async fn council_rows(
    db: &DatabaseConnection,
    session: &council_session::Model,
) -> anyhow::Result<Vec<ListRow>> {
    Ok(uketsuke_store::views::council_rows(db, session).await?)
}

/// The rows of the 一覧表 for every council session of `bureau` held from `from` to `to`
/// (both included), in session order.
pub async fn range_rows(
    db: &DatabaseConnection,
    bureau: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Vec<ListRow>> {
    let sessions = council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(bureau))
        .filter(council_session::Column::HeldOn.gte(from))
        .filter(council_session::Column::HeldOn.lte(to))
        .order_by_asc(council_session::Column::HeldOn)
        .order_by_asc(council_session::Column::Id)
        .all(db)
        .await?;
    let mut rows = Vec::new();
    for session in &sessions {
        rows.extend(council_rows(db, session).await?);
    }
    Ok(rows)
}

async fn council_export(
    db: &DatabaseConnection,
    settings: &Settings,
    period: &str,
    now: NaiveDateTime,
) -> anyhow::Result<RunReport> {
    let id: i32 = period.trim().parse().with_context(|| {
        format!("council-export の期間は地医協の回のID（数字）です: '{period}'")
    })?;
    let session = council_session::Entity::find_by_id(id)
        .one(db)
        .await?
        .with_context(|| format!("地医協の回（ID {id}）がありません"))?;
    let bureau = settings.bureau(&session.bureau_id)?;
    let report = |outcome, detail: String, outbox_id| RunReport {
        job: "council-export".to_owned(),
        period: period.to_owned(),
        outcome,
        detail,
        outbox_id,
    };
    // Never before the session's day: a planned session is left as it is (no run is
    // recorded), so its list goes once it is held and its 答申 recorded.
    if session.held_on > now.date() {
        return Ok(report(
            "not-yet",
            format!(
                "{}（{}）はまだ開催されていません。一覧表は開催後に送付します",
                session.name,
                format_wareki(session.held_on)
            ),
            None,
        ));
    }
    if bureau.recipients.implementing_body.is_empty() {
        bail!("局 {} の recipients.implementing_body が空です", bureau.id);
    }
    for attempt in 1..=20u64 {
        match send_list(db, bureau, &session, now.date()).await {
            Err(e) if e.is_retryable() => {
                tokio::time::sleep(std::time::Duration::from_millis(attempt * 5)).await;
            }
            Err(uketsuke_store::Error::Conflict) => {
                return Ok(report(
                    "already-done",
                    "同時に動いた別の処理がこの一覧表を送付しました".to_owned(),
                    None,
                ));
            }
            Err(e) => return Err(e.into()),
            Ok(None) => {
                return Ok(report(
                    "nothing-to-send",
                    format!(
                        "{}（{}）で答申され、まだ送付していない医療機関はありません",
                        session.name,
                        format_wareki(session.held_on)
                    ),
                    None,
                ));
            }
            Ok(Some((list, outbox_id))) => {
                let detail = format!(
                    "{}件を一覧表{}にしました",
                    list.row_count,
                    part_label(list.seq)
                );
                return Ok(report("done", detail, Some(outbox_id)));
            }
        }
    }
    bail!("一覧表の送付が他の処理と衝突し続けました。少し待ってからもう一度実行してください")
}

/// In one transaction: the session's approvals not yet sent, made into the session's
/// next list (marked as listed), its .xlsx queued for the 実施機関, and the run recorded.
/// `None` when every approval was sent already.
async fn send_list(
    db: &DatabaseConnection,
    bureau: &BureauSettings,
    session: &council_session::Model,
    today: NaiveDate,
) -> Result<Option<(uketsuke_store::entities::council_list::Model, i64)>, uketsuke_store::Error> {
    let txn = db.begin().await?;
    let requests = uketsuke_store::council::unlisted(&txn, session.id).await?;
    if requests.is_empty() {
        txn.rollback().await?;
        return Ok(None);
    }
    let rows = uketsuke_store::views::list_rows(&txn, session, &requests).await?;
    let ids: Vec<i32> = requests.iter().map(|r| r.id).collect();
    let list = uketsuke_store::council::record_list(&txn, session.id, &ids).await?;
    let part = part_label(list.seq);
    let (file_name, xlsx) = uketsuke_store::council::list_file(
        &bureau.export,
        &bureau.name,
        session,
        list.seq,
        &rows,
        today,
    )?;
    let body = format!(
        "医療保険情報提供等実施機関 御中\n\n\
         {held}に開催された{council}において保険医療機関・保険薬局の指定について答申がありましたので、\
         新規指定医療機関一覧表{part}（{count}件）を送付します。\n\n\
         添付: {file}\n\n{bureau}\n（このメールは受付番号管理システムから送信しています）\n",
        held = format_wareki(session.held_on),
        council = session.name,
        count = rows.len(),
        file = file_name,
        bureau = bureau.name,
    );
    let message = NewMessage {
        dedupe_key: format!("council-list:{}:{}", session.id, list.seq),
        kind: "council-export".to_owned(),
        bureau_id: Some(bureau.id.clone()),
        recipients: bureau.recipients.implementing_body.clone(),
        subject: format!(
            "【{}】新規指定医療機関一覧表の送付（{}答申分{part}）",
            bureau.name,
            format_wareki(session.held_on)
        ),
        body,
        attachment: Some(NewAttachment {
            name: file_name,
            mime: XLSX_MIME.to_owned(),
            bytes: xlsx,
        }),
    };
    let outbox_id = outbox::enqueue(&txn, &message, Utc::now()).await?.id;
    uketsuke_store::council::set_list_mail(&txn, list.id, outbox_id).await?;
    let period = format!("{}:{}", session.id, list.seq);
    let Some(run) = uketsuke_store::jobs::claim(&txn, "council-export", &period).await? else {
        txn.rollback().await?;
        return Err(uketsuke_store::Error::Conflict);
    };
    let detail = format!("{}件を一覧表{part}にしました", rows.len());
    uketsuke_store::jobs::finish(&txn, run, true, &detail).await?;
    txn.commit().await?;
    Ok(Some((list, outbox_id)))
}

/// `BUREAU:YYYY-MM-DD`.
fn bureau_day<'a>(
    settings: &'a Settings,
    period: &str,
) -> anyhow::Result<(&'a BureauSettings, NaiveDate)> {
    let (bureau, day) = period.split_once(':').with_context(|| {
        format!(
            "期間は「局ID:日付」の形で指定してください（例 kanto-shinetsu:2026-11-24）: '{period}'"
        )
    })?;
    let day = uketsuke_domain::parse_date(day)?;
    Ok((settings.bureau(bureau)?, day))
}

async fn open_requests(
    db: &DatabaseConnection,
    bureau: &str,
    statuses: &[CaseStatus],
) -> anyhow::Result<Vec<reception_request::Model>> {
    Ok(reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(bureau))
        .filter(reception_request::Column::Status.is_in(statuses.iter().copied()))
        .order_by_asc(reception_request::Column::AnswerDue)
        .all(db)
        .await?)
}

fn staff_message(
    bureau: &BureauSettings,
    job: &str,
    period: &str,
    subject: String,
    body: String,
) -> NewMessage {
    NewMessage {
        dedupe_key: format!("{job}:{period}"),
        kind: job.to_owned(),
        bureau_id: Some(bureau.id.clone()),
        recipients: bureau.recipients.staff.clone(),
        subject,
        body,
        attachment: None,
    }
}

async fn digest(
    db: &DatabaseConnection,
    settings: &Settings,
    period: &str,
) -> anyhow::Result<RunReport> {
    let (bureau, day) = bureau_day(settings, period)?;
    let calendar = bureau.calendar()?;
    let limit = calendar.add_open_days(day, 3);
    let open = open_requests(db, &bureau.id, &CaseStatus::AWAITING_ANSWER).await?;
    let mut overdue = Vec::new();
    let mut soon = Vec::new();
    for r in &open {
        let due = r.answer_due_override.unwrap_or(r.answer_due);
        let line = format!(
            "・{}（{}）回答期限 {}",
            r.facility_name,
            r.kind.label(),
            format_wareki(due)
        );
        if uketsuke_store::dashboard::is_overdue(r, day) {
            overdue.push(line);
        } else if due >= day && due <= limit {
            soon.push(line);
        }
    }
    if overdue.is_empty() && soon.is_empty() {
        return record_and_queue(
            db,
            "digest",
            period,
            None,
            "対象の依頼はありません".to_owned(),
        )
        .await;
    }
    let body = format!(
        "{bureau} 受付番号担当各位\n\n{date}時点の回答期限の状況です。\n\n\
         ■ 回答期限を過ぎた依頼（{o}件）\n{overdue}\n\n■ 3開庁日以内に回答期限が来る依頼（{s}件）\n{soon}\n",
        bureau = bureau.name,
        date = format_wareki(day),
        o = overdue.len(),
        overdue = if overdue.is_empty() {
            "なし".to_owned()
        } else {
            overdue.join("\n")
        },
        s = soon.len(),
        soon = if soon.is_empty() {
            "なし".to_owned()
        } else {
            soon.join("\n")
        },
    );
    let subject = format!(
        "【回答期限】超過{}件・3開庁日以内{}件（{}）",
        overdue.len(),
        soon.len(),
        format_wareki(day)
    );
    let detail = format!("超過{}件・3開庁日以内{}件", overdue.len(), soon.len());
    record_and_queue(
        db,
        "digest",
        period,
        Some(staff_message(bureau, "digest", period, subject, body)),
        detail,
    )
    .await
}

async fn not_designated_review(
    db: &DatabaseConnection,
    settings: &Settings,
    period: &str,
) -> anyhow::Result<RunReport> {
    let (bureau, day) = bureau_day(settings, period)?;
    let candidates: Vec<_> = open_requests(db, &bureau.id, &CaseStatus::AWAITING_COUNCIL)
        .await?
        .into_iter()
        .filter(|r| r.designation_date < day)
        .collect();
    // 8. 未指定 not yet entered in the 保険医療機関等管理システム.
    let scope = uketsuke_store::lifecycle::Scope {
        bureau_id: bureau.id.clone(),
        office_id: None,
    };
    let unreflected = uketsuke_store::reflection::pending(db, &scope).await?;
    if candidates.is_empty() && unreflected.is_empty() {
        return record_and_queue(
            db,
            "not-designated-review",
            period,
            None,
            "対象の依頼はありません".to_owned(),
        )
        .await;
    }
    let mut sections = Vec::new();
    if !candidates.is_empty() {
        let lines: Vec<String> = candidates
            .iter()
            .map(|r| {
                format!(
                    "・{}（{}）指定希望日 {}",
                    r.facility_name,
                    r.kind.label(),
                    format_wareki(r.designation_date)
                )
            })
            .collect();
        sections.push(format!(
            "指定希望日を過ぎても答申のない依頼が{n}件あります。\n\
             指定に至らなかったことを確認のうえ、システムの「未指定の確認」画面で「8. 未指定」として記録してください。\n\
             （システムが自動で未指定にすることはありません）\n\n{list}\n",
            n = candidates.len(),
            list = lines.join("\n"),
        ));
    }
    if !unreflected.is_empty() {
        let lines: Vec<String> = unreflected
            .iter()
            .map(|p| {
                format!(
                    "・{} {}（{}）",
                    p.code.as_deref().unwrap_or("（番号なし）"),
                    p.request.facility_name,
                    p.request.kind.label()
                )
            })
            .collect();
        sections.push(format!(
            "「8. 未指定」のうち、保険医療機関等管理システムへの反映が記録されていない受付番号が{n}件あります。\n\
             管理システムで「8. 未指定」に変更し、「未指定の確認」画面で「反映済みにする」を押してください。\n\n{list}\n",
            n = unreflected.len(),
            list = lines.join("\n"),
        ));
    }
    let body = format!(
        "{bureau} 受付番号担当各位\n\n{sections}",
        bureau = bureau.name,
        sections = sections.join("\n"),
    );
    let subject = format!(
        "【未指定の確認】指定希望日を過ぎた依頼 {}件・管理システムへの反映待ち {}件（{}）",
        candidates.len(),
        unreflected.len(),
        format_wareki(day)
    );
    let detail = format!("{}件・反映待ち{}件", candidates.len(), unreflected.len());
    let message = staff_message(bureau, "not-designated-review", period, subject, body);
    record_and_queue(db, "not-designated-review", period, Some(message), detail).await
}

/// The runs due at `now` (Japan time): council exports whose next open day after the
/// session has come (and its time has passed), and each bureau's daily jobs on open days.
pub async fn due_runs(
    db: &DatabaseConnection,
    settings: &Settings,
    now: NaiveDateTime,
) -> anyhow::Result<Vec<(String, String)>> {
    let today = now.date();
    let time = now.time();
    let mut due = Vec::new();
    let in_use = crate::operator::bureaus_in_use(db, settings).await?;
    // Every session with approvals not yet sent, however late it was recorded, and
    // approvals added to a session after its list went (a supplementary list).
    let pending = uketsuke_store::council::sessions_with_unlisted(db).await?;
    for session in pending.into_iter().filter(|s| s.held_on < today) {
        if !in_use.contains(&session.bureau_id) {
            continue;
        }
        let Ok(bureau) = settings.bureau(&session.bureau_id) else {
            continue;
        };
        let calendar = bureau.calendar()?;
        let send_on = calendar.next_open_on_or_after(session.held_on + TimeDelta::days(1));
        if today > send_on || (today == send_on && time >= settings.schedule.council_export_at) {
            due.push(("council-export".to_owned(), session.id.to_string()));
        }
    }
    for bureau in settings.bureaus.iter().filter(|b| in_use.contains(&b.id)) {
        if !bureau.calendar()?.is_open(today) {
            continue;
        }
        let period = format!("{}:{}", bureau.id, today.format("%Y-%m-%d"));
        if time >= settings.schedule.digest_at {
            due.push(("digest".to_owned(), period.clone()));
        }
        if time >= settings.schedule.not_designated_at {
            due.push(("not-designated-review".to_owned(), period));
        }
    }
    Ok(due)
}

/// Runs every due period that has not run yet; one failing job does not stop the others.
pub async fn tick(
    db: &DatabaseConnection,
    settings: &Settings,
    now: NaiveDateTime,
) -> Vec<RunReport> {
    tick_counted(db, settings, now, None).await
}

/// As [`tick`], counting each run that did something (or failed) in `metrics`, and the
/// finished tick in its heartbeat (a tick that cannot even list what is due does not beat,
/// so `/healthz` notices).
pub async fn tick_counted(
    db: &DatabaseConnection,
    settings: &Settings,
    now: NaiveDateTime,
    metrics: Option<&uketsuke_web::metrics::Metrics>,
) -> Vec<RunReport> {
    let due = match due_runs(db, settings, now).await {
        Ok(due) => due,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "cannot compute due jobs");
            return Vec::new();
        }
    };
    let mut reports = Vec::new();
    for (job, period) in due {
        match run_at(db, settings, &job, &period, now).await {
            Ok(report) => {
                if report.outcome != "already-done" {
                    tracing::info!(job, period, outcome = report.outcome, "job ran");
                    if let Some(m) = metrics {
                        m.job_ran(&job, report.outcome);
                    }
                }
                reports.push(report);
            }
            Err(e) => {
                tracing::error!(job, period, error = %format!("{e:#}"), "job failed");
                if let Some(m) = metrics {
                    m.job_ran(&job, "failed");
                }
            }
        }
    }
    if let Some(m) = metrics {
        m.scheduler.ticked();
    }
    reports
}
