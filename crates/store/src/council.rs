//! Council sessions (地方社会保険医療協議会, 地医協): a bureau's sessions with how many
//! cases each approved, the cases that may be recorded as approved, and recording a
//! session (once per bureau, prefecture and day) with its audit entry.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};

use crate::Result;
use crate::audit::{self, Actor};
use crate::entities::{council_list, council_session, office, reception_request};
use crate::lifecycle::CaseStatus;

/// A session with the number of cases it approved.
#[derive(Debug, Clone)]
pub struct SessionSummary {
    pub session: council_session::Model,
    pub approved: usize,
    /// Approvals not yet in a sent list.
    pub unsent: usize,
    /// Lists sent for it.
    pub lists: usize,
}

/// The bureau's sessions, latest first, each with the cases it approved.
pub async fn sessions<C: ConnectionTrait>(db: &C, bureau_id: &str) -> Result<Vec<SessionSummary>> {
    let sessions = council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(bureau_id))
        .order_by_desc(council_session::Column::HeldOn)
        .all(db)
        .await?;
    let designated = reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(bureau_id))
        .filter(reception_request::Column::CouncilSessionId.is_not_null())
        .all(db)
        .await?;
    let mut approved: HashMap<i32, usize> = HashMap::new();
    let mut unsent: HashMap<i32, usize> = HashMap::new();
    for r in &designated {
        if let Some(s) = r.council_session_id {
            *approved.entry(s).or_default() += 1;
            if r.status == CaseStatus::Designated && r.council_list_id.is_none() {
                *unsent.entry(s).or_default() += 1;
            }
        }
    }
    let mut lists: HashMap<i32, usize> = HashMap::new();
    let ids: Vec<i32> = sessions.iter().map(|s| s.id).collect();
    for chunk in ids.chunks(500) {
        let sent: Vec<i32> = council_list::Entity::find()
            .select_only()
            .column(council_list::Column::SessionId)
            .filter(council_list::Column::SessionId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for s in sent {
            *lists.entry(s).or_default() += 1;
        }
    }
    Ok(sessions
        .into_iter()
        .map(|session| SessionSummary {
            approved: approved.get(&session.id).copied().unwrap_or(0),
            unsent: unsent.get(&session.id).copied().unwrap_or(0),
            lists: lists.get(&session.id).copied().unwrap_or(0),
            session,
        })
        .collect())
}

/// The bureau's cases that a council may approve now, by designation date.
pub async fn candidates<C: ConnectionTrait>(
    db: &C,
    bureau_id: &str,
) -> Result<Vec<reception_request::Model>> {
    Ok(reception_request::Entity::find()
        .filter(reception_request::Column::BureauId.eq(bureau_id))
        .filter(reception_request::Column::Status.is_in(CaseStatus::AWAITING_COUNCIL))
        .order_by_asc(reception_request::Column::DesignationDate)
        .all(db)
        .await?)
}

/// The first prefecture code of an office ("" when the office or its list is empty).
pub async fn office_prefecture<C: ConnectionTrait>(db: &C, office_id: i32) -> Result<String> {
    Ok(office::Entity::find_by_id(office_id)
        .one(db)
        .await?
        .and_then(|o| o.prefectures.split(',').next().map(str::to_owned))
        .unwrap_or_default())
}

/// A session to record.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub bureau_id: String,
    /// Two-digit prefecture code.
    pub prefecture: String,
    pub held_on: NaiveDate,
    pub name: String,
}

/// The bureau's session for that prefecture and day, created (with its audit entry,
/// in one transaction) when there is none yet.
pub async fn find_or_create(
    db: &DatabaseConnection,
    new: NewSession,
    actor: &Actor,
) -> Result<council_session::Model> {
    let existing = || {
        council_session::Entity::find()
            .filter(council_session::Column::BureauId.eq(&new.bureau_id))
            .filter(council_session::Column::Prefecture.eq(&new.prefecture))
            .filter(council_session::Column::HeldOn.eq(new.held_on))
            .one(db)
    };
    if let Some(found) = existing().await? {
        return Ok(found);
    }
    let txn = db.begin().await?;
    let inserted = council_session::ActiveModel {
        bureau_id: Set(new.bureau_id.clone()),
        prefecture: Set(new.prefecture.clone()),
        held_on: Set(new.held_on),
        name: Set(new.name.clone()),
        notes: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    // Two people recording the same session at once: the unique index keeps one (and
    // its audit entry), and the other gets that one.
    let row = match inserted {
        Ok(row) => row,
        Err(e) if crate::error::is_unique_violation(&e) => {
            txn.rollback().await?;
            return existing().await?.ok_or(crate::Error::Conflict);
        }
        Err(e) => return Err(e.into()),
    };
    audit::record(
        &txn,
        actor,
        "council.create",
        "council_session",
        row.id,
        None,
        serde_json::to_value(&row).ok(),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}

/// The approved requests of `session_id` that no sent list holds yet, oldest first.
pub async fn unlisted<C: ConnectionTrait>(
    conn: &C,
    session_id: i32,
) -> Result<Vec<reception_request::Model>> {
    Ok(reception_request::Entity::find()
        .filter(reception_request::Column::CouncilSessionId.eq(session_id))
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .filter(reception_request::Column::CouncilListId.is_null())
        .order_by_asc(reception_request::Column::Id)
        .all(conn)
        .await?)
}

/// The sessions that approved requests no sent list holds yet.
pub async fn sessions_with_unlisted<C: ConnectionTrait>(
    conn: &C,
) -> Result<Vec<council_session::Model>> {
    let ids: Vec<Option<i32>> = reception_request::Entity::find()
        .select_only()
        .column(reception_request::Column::CouncilSessionId)
        .distinct()
        .filter(reception_request::Column::CouncilSessionId.is_not_null())
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .filter(reception_request::Column::CouncilListId.is_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(council_session::Entity::find()
        .filter(council_session::Column::Id.is_in(ids.into_iter().flatten()))
        .order_by_asc(council_session::Column::HeldOn)
        .order_by_asc(council_session::Column::Id)
        .all(conn)
        .await?)
}

/// How many approved requests of the bureau (and office, when the scope has one) no sent
/// list holds yet, of sessions held before `today`: the dashboard's warning.
pub async fn unlisted_count<C: ConnectionTrait>(
    conn: &C,
    scope: &crate::lifecycle::Scope,
    today: NaiveDate,
) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    let held: Vec<i32> = council_session::Entity::find()
        .select_only()
        .column(council_session::Column::Id)
        .filter(council_session::Column::BureauId.eq(scope.bureau_id.as_str()))
        .filter(council_session::Column::HeldOn.lt(today))
        .into_tuple()
        .all(conn)
        .await?;
    let mut query = reception_request::Entity::find()
        .filter(reception_request::Column::CouncilSessionId.is_in(held))
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .filter(reception_request::Column::CouncilListId.is_null());
    if let Some(office) = scope.office_id {
        query = query.filter(reception_request::Column::OfficeId.eq(office));
    }
    Ok(query.count(conn).await?)
}

/// Records the next list of `session_id` holding `requests` (unlisted approvals read in
/// this transaction): the list's number within its session is unique and each request is
/// marked only while still unlisted, so of two exports at once one makes the list and the
/// other gets [`crate::Error::Conflict`] and must roll back.
pub async fn record_list<C: ConnectionTrait>(
    conn: &C,
    session_id: i32,
    requests: &[i32],
) -> Result<council_list::Model> {
    use sea_orm::sea_query::Expr;
    let last: Option<i32> = council_list::Entity::find()
        .select_only()
        .column_as(council_list::Column::Seq.max(), "seq")
        .filter(council_list::Column::SessionId.eq(session_id))
        .into_tuple()
        .one(conn)
        .await?
        .flatten();
    let list = council_list::ActiveModel {
        session_id: Set(session_id),
        seq: Set(last.unwrap_or(0) + 1),
        row_count: Set(i32::try_from(requests.len()).unwrap_or(i32::MAX)),
        outbox_id: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| {
        if crate::error::is_unique_violation(&e) {
            crate::Error::Conflict
        } else {
            e.into()
        }
    })?;
    let marked = reception_request::Entity::update_many()
        .col_expr(
            reception_request::Column::CouncilListId,
            Expr::value(list.id),
        )
        .filter(reception_request::Column::Id.is_in(requests.iter().copied()))
        .filter(reception_request::Column::CouncilListId.is_null())
        .exec(conn)
        .await?
        .rows_affected;
    if marked != requests.len() as u64 {
        return Err(crate::Error::Conflict);
    }
    Ok(list)
}

/// Records the mail that carries list `list_id`.
pub async fn set_list_mail<C: ConnectionTrait>(
    conn: &C,
    list_id: i32,
    outbox_id: i64,
) -> Result<()> {
    use sea_orm::sea_query::Expr;
    council_list::Entity::update_many()
        .col_expr(council_list::Column::OutboxId, Expr::value(outbox_id))
        .filter(council_list::Column::Id.eq(list_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// The lists of `session_id` sent (or queued) so far, first first.
pub async fn lists<C: ConnectionTrait>(
    conn: &C,
    session_id: i32,
) -> Result<Vec<council_list::Model>> {
    Ok(council_list::Entity::find()
        .filter(council_list::Column::SessionId.eq(session_id))
        .order_by_asc(council_list::Column::Seq)
        .all(conn)
        .await?)
}

/// The number the next list of `session_id` will carry (1 for the first).
pub async fn next_seq<C: ConnectionTrait>(conn: &C, session_id: i32) -> Result<i32> {
    Ok(lists(conn, session_id)
        .await?
        .last()
        .map_or(1, |l| l.seq + 1))
}

/// 「」 for a session's first list, 「（追加分N）」 for the later ones.
pub fn part_label(seq: i32) -> String {
    if seq <= 1 {
        String::new()
    } else {
        format!("（追加分{}）", seq - 1)
    }
}

/// The .xlsx of list `seq` of `session` as it is sent on `as_of`, with its file name:
/// what the export job attaches and what the preview offers, byte for byte (the
/// workbook holds no clock but `as_of`).
pub fn list_file(
    layout: &uketsuke_export::ListLayout,
    bureau_name: &str,
    session: &council_session::Model,
    seq: i32,
    rows: &[uketsuke_export::ListRow],
    as_of: NaiveDate,
) -> Result<(String, Vec<u8>)> {
    let part = part_label(seq);
    let prefecture = uketsuke_domain::Prefecture::parse(&session.prefecture)
        .map_err(|e| crate::Error::Invalid(e.to_string()))?;
    let bytes = uketsuke_export::list_xlsx(
        layout,
        as_of,
        Some(&format!("{bureau_name} {}{part}", session.name)),
        rows,
    )
    .map_err(|e| crate::Error::Invalid(e.to_string()))?;
    let name = format!(
        "新規指定医療機関一覧表_{}_{}{part}.xlsx",
        prefecture.name(),
        uketsuke_domain::format_wareki(session.held_on)
    );
    Ok((name, bytes))
}

/// A session of the bureau with what it approved and what went out: the council page.
#[derive(Debug, Clone)]
pub struct SessionDetail {
    pub session: council_session::Model,
    /// The cases it approved, oldest first.
    pub approved: Vec<reception_request::Model>,
    /// The lists sent for it, first first.
    pub lists: Vec<council_list::Model>,
}

impl SessionDetail {
    /// Approvals not yet in a sent list (they go in the next one).
    pub fn unlisted(&self) -> Vec<&reception_request::Model> {
        self.approved
            .iter()
            .filter(|r| r.status == CaseStatus::Designated && r.council_list_id.is_none())
            .collect()
    }

    /// A planned session: no 答申 recorded in it yet.
    pub fn is_planned(&self) -> bool {
        self.approved.is_empty()
    }
}

/// Session `id` of `bureau_id` with its approvals and lists, or `None`.
pub async fn detail<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    id: i32,
) -> Result<Option<SessionDetail>> {
    let Some(session) = council_session::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|s| s.bureau_id == bureau_id)
    else {
        return Ok(None);
    };
    let approved = reception_request::Entity::find()
        .filter(reception_request::Column::CouncilSessionId.eq(session.id))
        .order_by_asc(reception_request::Column::Id)
        .all(conn)
        .await?;
    let lists = lists(conn, session.id).await?;
    Ok(Some(SessionDetail {
        session,
        approved,
        lists,
    }))
}

/// The bureau's sessions held on or after `today` with no 答申 recorded yet (planned,
/// 開催予定), soonest first.
pub async fn planned<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    today: NaiveDate,
) -> Result<Vec<council_session::Model>> {
    let with_approvals: Vec<Option<i32>> = reception_request::Entity::find()
        .select_only()
        .column(reception_request::Column::CouncilSessionId)
        .distinct()
        .filter(reception_request::Column::BureauId.eq(bureau_id))
        .filter(reception_request::Column::CouncilSessionId.is_not_null())
        .into_tuple()
        .all(conn)
        .await?;
    Ok(council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(bureau_id))
        .filter(council_session::Column::HeldOn.gte(today))
        .filter(council_session::Column::Id.is_not_in(with_approvals.into_iter().flatten()))
        .order_by_asc(council_session::Column::HeldOn)
        .order_by_asc(council_session::Column::Prefecture)
        .all(conn)
        .await?)
}

/// The default name of a prefecture's council (〇〇地方社会保険医療協議会).
pub fn default_name(prefecture: &str) -> String {
    format!(
        "{}地方社会保険医療協議会",
        uketsuke_domain::Prefecture::parse(prefecture)
            .map(|p| p.short_name().to_owned())
            .unwrap_or_default()
    )
}

/// Plans the bureau's published 地医協 dates (`[council_dates]`, by prefecture) from
/// `today` on as sessions, once: a date already planned or recorded is left alone, so
/// running this at every start-up is harmless. Returns how many it added.
pub async fn plan_configured(
    db: &DatabaseConnection,
    bureau_id: &str,
    dates: &std::collections::BTreeMap<String, Vec<NaiveDate>>,
    today: NaiveDate,
) -> Result<usize> {
    let mut added = 0;
    for (prefecture, days) in dates {
        for held_on in days.iter().filter(|d| **d >= today) {
            let exists = council_session::Entity::find()
                .filter(council_session::Column::BureauId.eq(bureau_id))
                .filter(council_session::Column::Prefecture.eq(prefecture))
                .filter(council_session::Column::HeldOn.eq(*held_on))
                .one(db)
                .await?
                .is_some();
            // A date an administrator deleted or moved stays removed.
            if exists
                || crate::council_dates::was_removed(db, bureau_id, prefecture, *held_on).await?
            {
                continue;
            }
            find_or_create(
                db,
                NewSession {
                    bureau_id: bureau_id.to_owned(),
                    prefecture: prefecture.clone(),
                    held_on: *held_on,
                    name: default_name(prefecture),
                },
                &Actor::system("config"),
            )
            .await?;
            added += 1;
        }
    }
    Ok(added)
}

/// The status as staff read it on `today`: a designated case is 「答申済」 until its
/// 指定年月日 and 「指定済」 from that day; any other status its own label.
pub fn status_label(case: &reception_request::Model, today: NaiveDate) -> &'static str {
    status_label_of(case.status, case.designated_on, today)
}

/// [`status_label`] of a status and 指定年月日.
pub fn status_label_of(
    status: CaseStatus,
    designated_on: Option<NaiveDate>,
    today: NaiveDate,
) -> &'static str {
    match (status, designated_on) {
        (CaseStatus::Designated, Some(on)) if on > today => "答申済",
        (status, _) => status.label(),
    }
}

/// The list (and its session) that mail `outbox_id` carries, if it carries one.
pub async fn list_by_outbox<C: ConnectionTrait>(
    conn: &C,
    outbox_id: i64,
) -> Result<Option<(council_list::Model, council_session::Model)>> {
    let Some(list) = council_list::Entity::find()
        .filter(council_list::Column::OutboxId.eq(outbox_id))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    Ok(council_session::Entity::find_by_id(list.session_id)
        .one(conn)
        .await?
        .map(|s| (list, s)))
}

/// The prefecture code of each request's facility, by request id.
pub async fn request_prefectures<C: ConnectionTrait>(
    conn: &C,
    requests: &[reception_request::Model],
) -> Result<HashMap<i32, String>> {
    use crate::entities::facility;
    let mut by_facility: HashMap<i32, String> = HashMap::new();
    let ids: Vec<i32> = requests.iter().map(|r| r.facility_id).collect();
    for chunk in ids.chunks(500) {
        let rows: Vec<(i32, String)> = facility::Entity::find()
            .select_only()
            .column(facility::Column::Id)
            .column(facility::Column::Prefecture)
            .filter(facility::Column::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(conn)
            .await?;
        by_facility.extend(rows);
    }
    Ok(requests
        .iter()
        .map(|r| {
            (
                r.id,
                by_facility.get(&r.facility_id).cloned().unwrap_or_default(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_designated_case_reads_toushinzumi_until_its_designation_date() {
        let on = NaiveDate::from_ymd_opt(2027, 4, 1).unwrap();
        let (before, after) = (on.pred_opt().unwrap(), on.succ_opt().unwrap());
        let designated = CaseStatus::Designated;
        assert_eq!(status_label_of(designated, Some(on), before), "答申済");
        assert_eq!(status_label_of(designated, Some(on), on), "指定済");
        assert_eq!(status_label_of(designated, Some(on), after), "指定済");
        assert_eq!(status_label_of(designated, None, before), "指定済");
        assert_eq!(
            status_label_of(CaseStatus::Answered, Some(on), before),
            "回答済"
        );
    }

    #[test]
    fn supplementary_lists_are_numbered_from_the_second() {
        assert_eq!(part_label(1), "");
        assert_eq!(part_label(2), "（追加分1）");
        assert_eq!(part_label(4), "（追加分3）");
    }
}
