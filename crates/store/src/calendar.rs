//! What falls due in a span of days (the calendar page, カレンダー): each case of a
//! scope with its 提出期限, 回答期限 (staff's override when set) and 実施機関への提出期限
//! on the days they fall, and the bureau's 地医協 sessions.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::Result;
use crate::dashboard::effective_answer_due;
use crate::entities::{council_session, reception_request};
use crate::lifecycle::{CaseStatus, Scope};

/// What is due on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DueKind {
    /// 提出期限: the last day the bureau takes the request.
    Submission,
    /// 回答期限: the day the answer is due (前々月の10日, or staff's override).
    Answer,
    /// 実施機関への提出期限: the facility passes its number on by this day (the 15th).
    ImplementingBody,
}

impl DueKind {
    pub fn label(self) -> &'static str {
        match self {
            DueKind::Submission => "提出期限",
            DueKind::Answer => "回答期限",
            DueKind::ImplementingBody => "実施機関への提出期限",
        }
    }

    /// The CSS class of its line.
    pub fn class(self) -> &'static str {
        match self {
            DueKind::Submission => "due-submission",
            DueKind::Answer => "due-answer",
            DueKind::ImplementingBody => "due-implementing",
        }
    }
}

/// One case due on one day.
#[derive(Debug, Clone)]
pub struct Due {
    pub on: NaiveDate,
    pub kind: DueKind,
    pub case: reception_request::Model,
}

/// The statuses whose deadlines still matter: a case returned or withdrawn has none.
const ENDED: [CaseStatus; 2] = [CaseStatus::Returned, CaseStatus::Withdrawn];

/// Every deadline of `scope`'s live cases from `from` to `to` (inclusive), by day, then
/// kind, then case id.
pub async fn dues<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Due>> {
    use reception_request::Column as R;
    let within = |c: R| c.between(from, to);
    let cases = reception_request::Entity::find()
        .filter(scope.condition())
        .filter(R::Status.is_not_in(ENDED))
        .filter(
            Condition::any()
                .add(within(R::SubmissionDeadline))
                .add(within(R::AnswerDue))
                .add(within(R::AnswerDueOverride))
                .add(within(R::ImplementingBodyDue)),
        )
        .order_by_asc(R::Id)
        .all(conn)
        .await?;
    let mut out = Vec::new();
    for case in cases {
        let days = [
            (case.submission_deadline, DueKind::Submission),
            (effective_answer_due(&case), DueKind::Answer),
            (case.implementing_body_due, DueKind::ImplementingBody),
        ];
        for (on, kind) in days {
            if on >= from && on <= to {
                out.push(Due {
                    on,
                    kind,
                    case: case.clone(),
                });
            }
        }
    }
    out.sort_by_key(|a| (a.on, a.kind, a.case.id));
    Ok(out)
}

/// The bureau's 地医協 sessions from `from` to `to`, by day (`prefectures`: only these,
/// for an account limited to one office).
pub async fn sessions<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    prefectures: Option<&[String]>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<council_session::Model>> {
    let mut query = council_session::Entity::find()
        .filter(council_session::Column::BureauId.eq(bureau_id))
        .filter(council_session::Column::HeldOn.between(from, to));
    if let Some(p) = prefectures {
        query = query.filter(council_session::Column::Prefecture.is_in(p.iter().cloned()));
    }
    Ok(query
        .order_by_asc(council_session::Column::HeldOn)
        .order_by_asc(council_session::Column::Prefecture)
        .all(conn)
        .await?)
}
