//! The dashboard's figures (ダッシュボード): a bureau's cases counted by status, the
//! answers due soon or overdue, the next council session, and the cases awaiting one.

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::Result;
use crate::entities::{council_session, reception_request};
use crate::lifecycle::{CaseStatus, Scope};

/// What the dashboard shows, for one bureau.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Every status with its number of cases, in [`CaseStatus::ALL`]'s order.
    pub counts: Vec<(CaseStatus, u64)>,
    /// Of the 指定済 count, the cases recommended (答申) whose 指定年月日 is still ahead:
    /// staff read them as 「答申済」 ([`crate::council::status_label`]).
    pub recommended_not_yet_designated: u64,
    /// Answers still owed, due from today up to the limit, soonest first.
    pub due_soon: Vec<reception_request::Model>,
    /// Answers still owed and past their due date, by computed due date.
    pub overdue: Vec<reception_request::Model>,
    /// The bureau's next council session (today or later).
    pub next_council: Option<council_session::Model>,
    /// Cases awaiting a council whose designation date is today or later.
    pub awaiting_council: usize,
    /// Cases awaiting a council whose designation date has passed, earliest first.
    pub past_designation: Vec<reception_request::Model>,
}

/// The answer due date in force: staff's override, else the computed one.
pub fn effective_answer_due(r: &reception_request::Model) -> NaiveDate {
    r.answer_due_override.unwrap_or(r.answer_due)
}

/// Whether the answer to `r` is late (回答期限超過) on `today`: still unanswered, its
/// 回答期限 passed, and received on or before it — a request that arrived after its
/// 回答期限 was late itself, not our answer.
pub fn is_overdue(r: &reception_request::Model, today: NaiveDate) -> bool {
    let due = effective_answer_due(r);
    CaseStatus::AWAITING_ANSWER.contains(&r.status) && due < today && r.received_on <= due
}

/// The dashboard of `scope`: its bureau's cases, only its office's when the account
/// is limited to one (council sessions are the bureau's).
/// `soon_limit` is the last day that counts as "due soon".
pub async fn summary<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    today: NaiveDate,
    soon_limit: NaiveDate,
) -> Result<Summary> {
    let bureau = &scope.bureau_id;
    let cases = scope.condition();
    let grouped: Vec<(CaseStatus, i64)> = reception_request::Entity::find()
        .select_only()
        .column(reception_request::Column::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(cases.clone())
        .group_by(reception_request::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let counts = CaseStatus::ALL
        .iter()
        .map(|s| {
            let n = grouped
                .iter()
                .find(|(g, _)| g == s)
                .map_or(0, |(_, n)| u64::try_from(*n).unwrap_or(0));
            (*s, n)
        })
        .collect();

    let recommended_not_yet_designated = {
        use sea_orm::PaginatorTrait;
        reception_request::Entity::find()
            .filter(cases.clone())
            .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
            .filter(reception_request::Column::DesignatedOn.gt(today))
            .count(db)
            .await?
    };

    let open = reception_request::Entity::find()
        .filter(cases.clone())
        .filter(reception_request::Column::Status.is_in(CaseStatus::AWAITING_ANSWER))
        .order_by_asc(reception_request::Column::AnswerDue)
        .all(db)
        .await?;
    let mut due_soon = Vec::new();
    let mut overdue = Vec::new();
    for r in open {
        let due = effective_answer_due(&r);
        if is_overdue(&r, today) {
            overdue.push(r);
        } else if due >= today && due <= soon_limit {
            due_soon.push(r);
        }
    }

    let next_council = council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(bureau))
        .filter(council_session::Column::HeldOn.gte(today))
        .order_by_asc(council_session::Column::HeldOn)
        .one(db)
        .await?;
    let answered = reception_request::Entity::find()
        .filter(cases)
        .filter(reception_request::Column::Status.is_in(CaseStatus::AWAITING_COUNCIL))
        .order_by_asc(reception_request::Column::DesignationDate)
        .all(db)
        .await?;
    let awaiting_council = answered
        .iter()
        .filter(|r| r.designation_date >= today)
        .count();
    let past_designation = answered
        .into_iter()
        .filter(|r| r.designation_date < today)
        .collect();
    Ok(Summary {
        counts,
        recommended_not_yet_designated,
        due_soon,
        overdue,
        next_council,
        awaiting_council,
        past_designation,
    })
}

/// Cases awaiting a council whose designation date is before `today`, earliest first
/// (the 未指定 review, 未指定の確認).
pub async fn past_designation<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Vec<reception_request::Model>> {
    Ok(reception_request::Entity::find()
        .filter(scope.condition())
        .filter(reception_request::Column::Status.is_in(CaseStatus::AWAITING_COUNCIL))
        .filter(reception_request::Column::DesignationDate.lt(today))
        .order_by_asc(reception_request::Column::DesignationDate)
        .all(db)
        .await?)
}

/// How many requests and numbers `scope` holds (the start page, はじめに).
pub async fn totals<C: ConnectionTrait>(db: &C, scope: &Scope) -> Result<(u64, u64)> {
    use sea_orm::PaginatorTrait;
    use sea_orm::sea_query::Query;
    let requests = reception_request::Entity::find()
        .filter(scope.condition())
        .count(db)
        .await?;
    let ids = Query::select()
        .column(reception_request::Column::Id)
        .from(reception_request::Entity)
        .cond_where(scope.condition())
        .to_owned();
    let numbers = crate::entities::issued_number::Entity::find()
        .filter(crate::entities::issued_number::Column::RequestId.in_subquery(ids))
        .count(db)
        .await?;
    Ok((requests, numbers))
}
