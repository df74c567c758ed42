//! The case lifecycle (案件の流れ): the typed states of a case, one table of the
//! transitions between them, and the one guarded function through which every change of
//! a case goes — the pages and the JSON API are two doors onto it, with no rule of
//! their own.
//!
//! [`apply`] runs one [`Command`] on one case in a single transaction: it reads the case
//! (locking its row on PostgreSQL), checks that the caller may see it (bureau and office),
//! that their role allows the action, that the case is still at the version they saw,
//! and that the [`TRANSITIONS`] table allows the action from its status; then it claims
//! the case by bumping its version with a compare-and-swap, does the work (issuing or
//! voiding numbers included), writes the audit entries, and commits. Of two people
//! acting on the same version at once exactly one wins; the other gets
//! [`Error::Conflict`] (「他の職員が先に処理しました」).

mod states;

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use uketsuke_domain::{Prefecture, RequestKind};
use uketsuke_rules::numbering::NumberingPolicy;

pub use states::{CaseStatus, Decision, FounderKind, NumberStatus, PlanStatus, plan_label};

use crate::audit::Actor;
use crate::entities::{council_session, facility, issued_number, reception_request};
use crate::error::is_retryable;
use crate::issuance::{self, District, IssueOptions};
use crate::users::Role;
use crate::{Error, Result};

/// What can be done to a case (処理).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// 番号の起案
    Propose,
    /// 決裁
    Approve,
    /// 回答
    Answer,
    /// 返戻
    Return,
    /// 取下げ
    Withdraw,
    /// 番号の無効化
    Void,
    /// 8. 未指定
    NotDesignated,
    /// 答申（指定）
    Designate,
    /// 記載の訂正・期限の変更
    Edit,
    /// 医科・歯科併設の関連付け
    Link,
    /// 導入計画書 (別紙2): 提出, 確認済, 経過措置 届出
    Plan,
}

impl Action {
    /// Every action, in the order of the table.
    pub const ALL: [Action; 11] = [
        Action::Propose,
        Action::Approve,
        Action::Answer,
        Action::Return,
        Action::Withdraw,
        Action::Void,
        Action::NotDesignated,
        Action::Designate,
        Action::Edit,
        Action::Link,
        Action::Plan,
    ];

    /// The id in URLs and the audit trail (`propose`, `not-designated`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Propose => "propose",
            Action::Approve => "approve",
            Action::Answer => "answer",
            Action::Return => "return",
            Action::Withdraw => "withdraw",
            Action::Void => "void",
            Action::NotDesignated => "not-designated",
            Action::Designate => "designate",
            Action::Edit => "edit",
            Action::Link => "link",
            Action::Plan => "plan",
        }
    }

    /// The label staff read.
    pub fn label(self) -> &'static str {
        match self {
            Action::Propose => "番号の起案",
            Action::Approve => "決裁",
            Action::Answer => "回答",
            Action::Return => "返戻",
            Action::Withdraw => "取下げ",
            Action::Void => "番号の無効化",
            Action::NotDesignated => "8. 未指定",
            Action::Designate => "答申（指定）",
            Action::Edit => "訂正",
            Action::Link => "併設の関連付け",
            Action::Plan => "導入計画書",
        }
    }

    /// Reads an id (`propose`, …).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// This action's row of [`TRANSITIONS`].
    pub fn rule(self) -> &'static Transition {
        TRANSITIONS
            .iter()
            .find(|t| t.action == self)
            .unwrap_or(&TRANSITIONS[0])
    }
}

/// A condition beyond status and role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    None,
    /// The approver is not the clerk who proposed the number (決裁は別の職員).
    AnotherPerson,
    /// A case judged 返戻相当 needs the clerk to acknowledge the reasons.
    AcknowledgedReturn,
    /// A reason must be given.
    Reason,
}

/// One row of the transition table.
#[derive(Debug, Clone, Copy)]
pub struct Transition {
    pub action: Action,
    /// The statuses it may start from.
    pub from: &'static [CaseStatus],
    /// Where it leads; `None` when the status stays (訂正, 関連付け). 無効化 leads back to
    /// 受付済 only when no live number is left.
    pub to: Option<CaseStatus>,
    /// The least role it needs.
    pub role: Role,
    pub condition: Condition,
}

use CaseStatus as S;

/// The lifecycle, in one place.
pub const TRANSITIONS: [Transition; 11] = [
    Transition {
        action: Action::Propose,
        from: &[S::Received],
        to: Some(S::Proposed),
        role: Role::Clerk,
        condition: Condition::AcknowledgedReturn,
    },
    Transition {
        action: Action::Approve,
        from: &[S::Proposed],
        to: Some(S::Issued),
        role: Role::Approver,
        condition: Condition::AnotherPerson,
    },
    Transition {
        action: Action::Answer,
        from: &[S::Issued],
        to: Some(S::Answered),
        role: Role::Clerk,
        condition: Condition::None,
    },
    Transition {
        action: Action::Return,
        from: &[S::Received, S::Proposed],
        to: Some(S::Returned),
        role: Role::Approver,
        condition: Condition::Reason,
    },
    // 取下げ after 回答 leads to 8. 未指定 instead: the facility keeps its number.
    Transition {
        action: Action::Withdraw,
        from: &[S::Received, S::Proposed, S::Issued, S::Answered],
        to: Some(S::Withdrawn),
        role: Role::Clerk,
        condition: Condition::None,
    },
    Transition {
        action: Action::Void,
        from: &[S::Proposed, S::Issued, S::Answered],
        to: Some(S::Received),
        role: Role::Approver,
        condition: Condition::Reason,
    },
    Transition {
        action: Action::NotDesignated,
        from: &[S::Issued, S::Answered],
        to: Some(S::NotDesignated),
        role: Role::Approver,
        condition: Condition::Reason,
    },
    Transition {
        action: Action::Designate,
        from: &[S::Issued, S::Answered],
        to: Some(S::Designated),
        role: Role::Approver,
        condition: Condition::None,
    },
    Transition {
        action: Action::Edit,
        from: &[S::Received, S::Proposed, S::Issued, S::Answered],
        to: None,
        role: Role::Clerk,
        condition: Condition::None,
    },
    Transition {
        action: Action::Link,
        from: &[S::Received, S::Proposed, S::Issued, S::Answered],
        to: None,
        role: Role::Clerk,
        condition: Condition::None,
    },
    // The plan is attached to the 指定申請, checked before the council.
    Transition {
        action: Action::Plan,
        from: &[S::Received, S::Proposed, S::Issued, S::Answered],
        to: None,
        role: Role::Clerk,
        condition: Condition::None,
    },
];

impl Transition {
    /// Whether a caller with `role` may take this action from `status` (ignoring the
    /// version and the other conditions): what the pages use to show a button.
    pub fn permits(&self, status: CaseStatus, role: Role) -> bool {
        role >= self.role && self.from.contains(&status)
    }

    fn check(&self, status: CaseStatus, role: Role) -> Result<()> {
        if role < self.role {
            return Err(Error::Forbidden(format!(
                "「{}」には「{}」以上の権限が必要です",
                self.action.label(),
                self.role.label()
            )));
        }
        if !self.from.contains(&status) {
            return Err(Error::NotAllowed(format!(
                "「{}」の案件には「{}」はできません",
                status.label(),
                self.action.label()
            )));
        }
        Ok(())
    }
}

/// The cases a caller may see and touch: their bureau's, and only their office's when
/// the account is limited to one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub bureau_id: String,
    pub office_id: Option<i32>,
}

impl Scope {
    /// The cases of this scope, as a query condition on `reception_requests`.
    pub fn condition(&self) -> sea_orm::Condition {
        let mut c = sea_orm::Condition::all()
            .add(reception_request::Column::BureauId.eq(self.bureau_id.as_str()));
        if let Some(office) = self.office_id {
            c = c.add(reception_request::Column::OfficeId.eq(office));
        }
        c
    }

    /// Whether the case is within this scope.
    pub fn permits(&self, case: &reception_request::Model) -> bool {
        case.bureau_id == self.bureau_id && self.office_id.is_none_or(|o| case.office_id == Some(o))
    }
}

/// Who acts: for the audit trail, the role check and the scope.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub role: Role,
    pub scope: Scope,
}

/// A change of a case, with what it needs.
#[derive(Debug, Clone)]
pub enum Command {
    /// 起案: the next free number in 郡市区番号 `district`. A 医科/歯科 sibling still at
    /// 受付済 is proposed with it, each kind with its own number.
    Propose {
        district: u8,
        /// The clerk read the reasons of a case judged 返戻相当.
        acknowledge_return: bool,
        policy: NumberingPolicy,
    },
    /// 決裁: the case's proposed numbers (and its sibling's) become final.
    Approve,
    /// 回答: the answer was sent on `on`.
    Answer { on: NaiveDate },
    /// 返戻 on `on`; without a reason, the verdict's reasons are used.
    Return { reason: String, on: NaiveDate },
    /// 取下げ on `on`, with the reason if one was given (the pages require one): its
    /// numbers become void (never reused).
    Withdraw { on: NaiveDate, reason: String },
    /// 無効化 of one of the case's numbers.
    Void { number_id: i32, reason: String },
    /// 8. 未指定, with the reason.
    NotDesignated { reason: String },
    /// 答申: designated by council session `session_id`, on `designation_date` (指定年月日;
    /// `None`: the 指定希望日). The case reads 答申済 until that day, 指定済 from it.
    Designate {
        session_id: i32,
        designation_date: Option<NaiveDate>,
    },
    /// 回答期限の変更, with the reason.
    OverrideAnswerDue {
        date: NaiveDate,
        reason: String,
        calendar: uketsuke_rules::calendar::Calendar,
    },
    /// 訂正: the case's fields as corrected, with the reason; deadlines and verdict are
    /// computed again.
    Correct(Box<Correction>),
    /// 医科・歯科併設の関連付け: `sibling_id` is the other kind's case of the same facility.
    Link { sibling_id: i32 },
    /// 併設の関連付けの解除.
    Unlink,
    /// 導入計画書 (別紙2) の提出: kept as the latest submission; the case's plan status
    /// follows the check's findings (see [`crate::plans`]).
    SubmitPlan(Box<crate::plans::PlanSubmission>),
    /// 計画書を確認済にする: only when the latest plan, checked now, has no findings.
    ConfirmPlan,
    /// 経過措置 届出, filed on `on` (`today`: in Japan, a later day is refused).
    RecordTransitional { on: NaiveDate, today: NaiveDate },
    /// 経過措置 届出の記録を取り消す.
    ClearTransitional,
}

/// A correction (訂正) of a case: the whole 別紙1 as it should read, the intake facts,
/// and what is needed to judge it again.
#[derive(Debug, Clone)]
pub struct Correction {
    pub form: uketsuke_domain::RequestForm,
    /// 受付日: the day the paper arrived.
    pub received_on: NaiveDate,
    /// 遡及指定.
    pub retroactive: bool,
    /// The receiving office (受付事務所); `None` keeps the bureau's choice by prefecture.
    pub office_id: Option<i32>,
    /// Why (訂正の理由); required.
    pub reason: String,
    /// The bureau's rules (calendar, deadlines, jurisdiction) and the eligibility policy.
    pub bureau: crate::bureaus::BureauRules,
    pub policy: uketsuke_rules::eligibility::EligibilityPolicy,
    /// Today, in Japan: a 受付日 after it is refused.
    pub today: NaiveDate,
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Propose { .. } => Action::Propose,
            Command::Approve => Action::Approve,
            Command::Answer { .. } => Action::Answer,
            Command::Return { .. } => Action::Return,
            Command::Withdraw { .. } => Action::Withdraw,
            Command::Void { .. } => Action::Void,
            Command::NotDesignated { .. } => Action::NotDesignated,
            Command::Designate { .. } => Action::Designate,
            Command::OverrideAnswerDue { .. } | Command::Correct(_) => Action::Edit,
            Command::Link { .. } | Command::Unlink => Action::Link,
            Command::SubmitPlan(_)
            | Command::ConfirmPlan
            | Command::RecordTransitional { .. }
            | Command::ClearTransitional => Action::Plan,
        }
    }
}

/// How often a transaction that collided with another writer (SQLite's busy snapshot,
/// a serialisation failure, a number taken meanwhile) is run again from the start.
const MAX_ATTEMPTS: u32 = 50;

/// Runs `command` on case `case_id`, guarded as the module says. `seen_version` is the
/// version the caller saw (the API requires it; a page always sends it); a different
/// current version is [`Error::Conflict`]. Returns the case as it is afterwards.
pub async fn apply(
    db: &DatabaseConnection,
    caller: &Caller,
    case_id: i32,
    seen_version: Option<i32>,
    command: &Command,
) -> Result<reception_request::Model> {
    for attempt in 1..=MAX_ATTEMPTS {
        match attempt_once(db, caller, case_id, seen_version, command).await {
            Err(Error::Db(e)) if is_retryable(&e) => {
                tracing::debug!(attempt, "case change collided; trying again");
                tokio::time::sleep(std::time::Duration::from_millis(u64::from(
                    attempt.min(10) * 3,
                )))
                .await;
            }
            other => return other,
        }
    }
    Err(Error::Conflict)
}

async fn attempt_once(
    db: &DatabaseConnection,
    caller: &Caller,
    case_id: i32,
    seen_version: Option<i32>,
    command: &Command,
) -> Result<reception_request::Model> {
    let txn = db.begin().await?;
    let case = lock_case(&txn, case_id)
        .await?
        .filter(|c| caller.scope.permits(c))
        .ok_or(Error::NotFound)?;
    let rule = command.action().rule();
    if caller.role < rule.role {
        rule.check(case.status, caller.role)?;
    }
    if seen_version.is_some_and(|v| v != case.lock_version) {
        return Err(Error::Conflict);
    }
    rule.check(case.status, caller.role)?;
    claim(&txn, &case).await?;
    let after = execute(&txn, caller, case, command).await?;
    txn.commit().await?;
    Ok(after)
}

/// Reads a case for change: `SELECT … FOR UPDATE` on PostgreSQL (SQLite has one writer
/// and the claim below decides there).
async fn lock_case(txn: &DatabaseTransaction, id: i32) -> Result<Option<reception_request::Model>> {
    Ok(reception_request::Entity::find_by_id(id)
        .lock_exclusive()
        .one(txn)
        .await?)
}

/// Bumps the version if it is still the one read: the compare-and-swap that makes one
/// of two racing changes lose even where rows are not locked.
pub(crate) async fn claim(
    txn: &DatabaseTransaction,
    case: &reception_request::Model,
) -> Result<()> {
    let done = reception_request::Entity::update_many()
        .col_expr(
            reception_request::Column::LockVersion,
            Expr::value(case.lock_version + 1),
        )
        .filter(reception_request::Column::Id.eq(case.id))
        .filter(reception_request::Column::LockVersion.eq(case.lock_version))
        .exec(txn)
        .await?;
    if done.rows_affected == 1 {
        Ok(())
    } else {
        Err(Error::Conflict)
    }
}

/// Writes `change` to a case already claimed (its version becomes the claimed one) with
/// its audit entry.
async fn write<C: ConnectionTrait>(
    conn: &C,
    before: reception_request::Model,
    action: &str,
    change: impl FnOnce(&mut reception_request::ActiveModel),
    actor: &Actor,
) -> Result<reception_request::Model> {
    crate::requests::update_request(conn, before, action, change, actor).await
}

/// The numbers of a case, oldest first.
pub async fn numbers_of<C: ConnectionTrait>(
    conn: &C,
    case_id: i32,
) -> Result<Vec<issued_number::Model>> {
    Ok(issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.eq(case_id))
        .order_by_asc(issued_number::Column::Id)
        .all(conn)
        .await?)
}

async fn execute(
    txn: &DatabaseTransaction,
    caller: &Caller,
    case: reception_request::Model,
    command: &Command,
) -> Result<reception_request::Model> {
    let actor = &caller.actor;
    match command {
        Command::Propose {
            district,
            acknowledge_return,
            policy,
        } => propose(txn, caller, case, *district, *acknowledge_return, policy).await,
        Command::Approve => approve(txn, caller, case).await,
        Command::Answer { on } => {
            let on = *on;
            write(
                txn,
                case,
                "request.answer",
                |r| {
                    r.status = Set(S::Answered);
                    r.answered_on = Set(Some(on));
                },
                actor,
            )
            .await
        }
        Command::Return { reason, on } => {
            let stored: Vec<String> =
                serde_json::from_value(case.reasons.clone()).unwrap_or_default();
            let reason = match reason.trim() {
                "" if stored.is_empty() => {
                    return Err(Error::Field {
                        field: "reason",
                        message: "返戻の理由を入力してください".to_owned(),
                    });
                }
                "" => stored.join("\n"),
                typed => typed.to_owned(),
            };
            void_live_numbers(txn, case.id, "返戻のため", actor).await?;
            let on = *on;
            write(
                txn,
                case,
                "request.return",
                |r| {
                    r.status = Set(S::Returned);
                    r.returned_on = Set(Some(on));
                    r.return_reason = Set(Some(reason));
                },
                actor,
            )
            .await
        }
        // 取下げ after 回答: the facility already holds its number (and may have tied
        // its 電子証明書 to it), so the number stays and the case ends as 8. 未指定 —
        // what the 管理システム must record for a number never designated.
        Command::Withdraw { on, reason: why } if case.status == S::Answered => {
            let on = *on;
            let why = Some(why.trim().to_owned()).filter(|w| !w.is_empty());
            let reason = match &why {
                Some(w) => format!(
                    "取下げ（{}、回答後）: {w}",
                    uketsuke_domain::format_wareki(on)
                ),
                None => format!("取下げ（{}、回答後）", uketsuke_domain::format_wareki(on)),
            };
            write(
                txn,
                case,
                "request.withdraw_after_answer",
                |r| {
                    r.status = Set(S::NotDesignated);
                    r.withdrawn_on = Set(Some(on));
                    r.withdraw_reason = Set(why);
                    r.not_designated_reason = Set(Some(reason));
                },
                actor,
            )
            .await
        }
        Command::Withdraw { on, reason: why } => {
            void_live_numbers(txn, case.id, "取下げのため", actor).await?;
            let on = *on;
            let why = Some(why.trim().to_owned()).filter(|w| !w.is_empty());
            write(
                txn,
                case,
                "request.withdraw",
                |r| {
                    r.status = Set(S::Withdrawn);
                    r.withdrawn_on = Set(Some(on));
                    r.withdraw_reason = Set(why);
                },
                actor,
            )
            .await
        }
        Command::Void { number_id, reason } => {
            let number = issued_number::Entity::find_by_id(*number_id)
                .one(txn)
                .await?
                .filter(|n| n.request_id == Some(case.id))
                .ok_or(Error::NotFound)?;
            if !number.status.is_live() {
                return Err(Error::NotAllowed(format!(
                    "受付番号 {} は既に無効です",
                    number.code
                )));
            }
            let reason = match reason.trim() {
                "" => "記載誤り等のため".to_owned(),
                r => r.to_owned(),
            };
            issuance::void_in(txn, number.id, &reason, actor).await?;
            let live_left = numbers_of(txn, case.id)
                .await?
                .iter()
                .any(|n| n.status.is_live());
            // With no live number left, the case waits for a new one (受付済), to be
            // proposed, approved and answered again.
            let back_to_received =
                !live_left && matches!(case.status, S::Proposed | S::Issued | S::Answered);
            write(
                txn,
                case,
                "request.void_number",
                |r| {
                    if back_to_received {
                        r.status = Set(S::Received);
                    }
                },
                actor,
            )
            .await
        }
        Command::NotDesignated { reason } => {
            let reason = reason.trim().to_owned();
            if reason.is_empty() {
                return Err(Error::Field {
                    field: "reason",
                    message: "「8. 未指定」にする理由を入力してください".to_owned(),
                });
            }
            write(
                txn,
                case,
                "request.not_designated",
                |r| {
                    r.status = Set(S::NotDesignated);
                    r.not_designated_reason = Set(Some(reason));
                },
                actor,
            )
            .await
        }
        Command::Designate {
            session_id,
            designation_date,
        } => {
            let session = council_session::Entity::find_by_id(*session_id)
                .one(txn)
                .await?
                .filter(|s| s.bureau_id == case.bureau_id)
                .ok_or(Error::NotFound)?;
            // A council session belongs to one prefecture's 地医協.
            let at = facility::Entity::find_by_id(case.facility_id)
                .one(txn)
                .await?
                .map(|f| f.prefecture)
                .unwrap_or_default();
            if at != session.prefecture {
                let name = |code: &str| {
                    Prefecture::parse(code)
                        .map_or_else(|_| code.to_owned(), |p| p.name().to_owned())
                };
                return Err(Error::NotAllowed(format!(
                    "{}の地医協では、{}の医療機関（{}）の答申は記録できません",
                    name(&session.prefecture),
                    name(&at),
                    case.facility_name
                )));
            }
            let (session_id, designated_on) = (
                session.id,
                designation_date.unwrap_or(case.designation_date),
            );
            write(
                txn,
                case,
                "request.designate",
                |r| {
                    r.status = Set(S::Designated);
                    r.council_session_id = Set(Some(session_id));
                    r.designated_on = Set(Some(designated_on));
                },
                actor,
            )
            .await
        }
        Command::OverrideAnswerDue {
            date,
            reason,
            calendar,
        } => {
            // Moving a deadline is the approver's (決裁) decision, though other
            // corrections (訂正) are the clerk's.
            if caller.role < Role::Approver {
                return Err(Error::Forbidden(
                    "回答期限の変更は「決裁」の権限で行います".to_owned(),
                ));
            }
            let reason = reason.trim().to_owned();
            uketsuke_rules::deadlines::AnswerDue::computed(calendar, case.designation_date)
                .with_override(*date, &reason)
                .map_err(|e| Error::Field {
                    field: "answer_due",
                    message: e.to_string(),
                })?;
            let date = *date;
            write(
                txn,
                case,
                "request.override_answer_due",
                |r| {
                    r.answer_due_override = Set(Some(date));
                    r.answer_due_override_reason = Set(Some(reason));
                },
                actor,
            )
            .await
        }
        Command::Correct(correction) => correct(txn, caller, case, correction).await,
        Command::Link { sibling_id } => link(txn, caller, case, *sibling_id).await,
        Command::Unlink => unlink(txn, caller, case).await,
        Command::SubmitPlan(submission) => crate::plans::submit(txn, case, submission, actor).await,
        Command::ConfirmPlan => crate::plans::confirm(txn, case, actor).await,
        Command::RecordTransitional { on, today } => {
            crate::plans::record_transitional(txn, case, *on, *today, actor).await
        }
        Command::ClearTransitional => crate::plans::clear_transitional(txn, case, actor).await,
    }
}

/// 訂正: every field of the 別紙1 as it should read. The deadlines and the verdict are
/// computed again from the corrected 指定希望日 and 受付日; the issued number stays
/// (a later 指定希望日 only moves the 回答期限), unless the change would make it wrong —
/// another 種別 or 都道府県 — which must be voided first.
async fn correct(
    txn: &DatabaseTransaction,
    caller: &Caller,
    case: reception_request::Model,
    c: &Correction,
) -> Result<reception_request::Model> {
    use crate::intake;
    let actor = &caller.actor;
    let reason = c.reason.trim().to_owned();
    if reason.is_empty() {
        return Err(Error::Field {
            field: "reason",
            message: "訂正の理由を入力してください".to_owned(),
        });
    }
    intake::check_received(c.received_on, c.today).map_err(|message| Error::Field {
        field: "received_on",
        message,
    })?;
    let prefecture =
        intake::place(&c.form.facility_address, &c.bureau).map_err(|message| Error::Field {
            field: "facility_address",
            message,
        })?;
    let facility = facility::Entity::find_by_id(case.facility_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound)?;
    let live: Vec<String> = numbers_of(txn, case.id)
        .await?
        .into_iter()
        .filter(|n| n.status.is_live())
        .map(|n| n.code)
        .collect();
    let new_kind = c.form.kind != case.kind;
    let new_prefecture = prefecture.code_str() != facility.prefecture;
    if !live.is_empty() && (new_kind || new_prefecture) {
        return Err(Error::NotAllowed(format!(
            "{}を変えると受付番号 {} が使えなくなります。先にその番号を無効化してから訂正してください",
            if new_kind {
                "種別"
            } else {
                "所在地の都道府県"
            },
            live.join("・")
        )));
    }
    if new_kind && case.sibling_id.is_some() {
        return Err(Error::NotAllowed(
            "医科・歯科の併設として関連付けられた依頼です。種別を変える前に関連付けを解除してください"
                .to_owned(),
        ));
    }
    let office_id = correct_office(txn, caller, &case, c, &prefecture, new_prefecture).await?;
    let key = crate::requests::dedupe_key(&c.form.facility_name, &c.form.facility_address);
    let probe = crate::requests::DuplicateProbe {
        bureau_id: &case.bureau_id,
        facility_name: &c.form.facility_name,
        facility_address: &c.form.facility_address,
        kind: c.form.kind,
        designation: c.form.designation_date,
        exclude_id: Some(case.id),
    };
    if let Some(other) = crate::requests::find_duplicate(txn, &probe).await? {
        return Err(Error::Field {
            field: "facility_name",
            message: format!(
                "訂正後の内容（同じ医療機関・種別・指定希望日）の依頼が既にあります（受付ID {}）",
                other.id
            ),
        });
    }
    let intake = intake::Intake {
        bureau: &c.bureau,
        policy: &c.policy,
        office_id,
        received: c.received_on,
        retroactive: c.retroactive,
        retroactive_forms: &[],
    };
    let (deadlines, verdict) = intake::assess(&intake, &c.form);
    // Facility data lives in the facility row as well: corrected with its own entry.
    let facility_before = serde_json::to_value(&facility).ok();
    let mut f: facility::ActiveModel = facility.clone().into();
    f.prefecture = Set(prefecture.code_str());
    f.name = Set(c.form.facility_name.clone());
    f.name_search = Set(uketsuke_domain::search_key(&c.form.facility_name));
    f.postal_code = Set(c.form.facility_postal_code.as_ref().map(|p| p.to_string()));
    f.address = Set(c.form.facility_address.clone());
    f.municipality = Set(uketsuke_rules::numbering::municipality_of(
        &c.form.facility_address,
    ));
    f.phone = Set(Some(c.form.contact_phone.to_string()));
    // `Set` marks a field changed even when the value is the same: compare the rows.
    let facility_changed = sea_orm::TryIntoModel::try_into_model(f.clone())
        .map(|after| after != facility)
        .unwrap_or(true);
    let keeps_override = c.form.designation_date == case.designation_date;
    let set = |r: &mut reception_request::ActiveModel| {
        intake::set_form_fields(r, &c.form);
        r.office_id = Set(office_id);
        r.received_on = Set(c.received_on);
        r.retroactive = Set(c.retroactive);
        r.dedupe_key = Set(Some(key.clone()));
        r.submission_deadline = Set(deadlines.submission_deadline);
        r.answer_due = Set(deadlines.answer_due);
        r.implementing_body_due = Set(deadlines.implementing_body_due);
        r.decision = Set(verdict.decision.into());
        r.reasons = Set(crate::requests::texts(&verdict.reasons));
        r.warnings = Set(crate::requests::texts(&verdict.warnings));
        // An override was decided for the old 指定希望日: it goes with it.
        if !keeps_override {
            r.answer_due_override = Set(None);
            r.answer_due_override_reason = Set(None);
        }
    };
    let mut probe: reception_request::ActiveModel = case.clone().into();
    set(&mut probe);
    let request_changed = sea_orm::TryIntoModel::try_into_model(probe)
        .map(|after| after != case)
        .unwrap_or(true);
    if !facility_changed && !request_changed {
        return Err(Error::NotAllowed(
            "訂正前と同じ内容です。訂正する項目を直してから保存してください（履歴には残していません）"
                .to_owned(),
        ));
    }
    if facility_changed {
        f.updated_at = Set(chrono::Utc::now());
        let after = sea_orm::ActiveModelTrait::update(f, txn).await?;
        crate::audit::record(
            txn,
            actor,
            "facility.correct",
            "facility",
            after.id,
            facility_before,
            serde_json::to_value(&after).ok(),
        )
        .await?;
    }
    write(
        txn,
        case,
        "request.correct",
        |r| {
            set(r);
            r.correction_reason = Set(Some(reason));
        },
        actor,
    )
    .await
}

/// The office of a corrected case: the one chosen (of the bureau, and covering the
/// facility's prefecture), else the current one — or, when the prefecture changed, the
/// office that covers the new one. A caller limited to an office cannot move a case to
/// another office.
async fn correct_office(
    txn: &DatabaseTransaction,
    caller: &Caller,
    case: &reception_request::Model,
    c: &Correction,
    prefecture: &Prefecture,
    new_prefecture: bool,
) -> Result<Option<i32>> {
    use crate::entities::office;
    let offices = office::Entity::find()
        .filter(office::Column::BureauId.eq(case.bureau_id.as_str()))
        .all(txn)
        .await?;
    let code = prefecture.code_str();
    let covers = |o: &office::Model| o.prefectures.split(',').any(|p| p.trim() == code);
    let chosen = match c.office_id {
        Some(id) => {
            let o = offices
                .iter()
                .find(|o| o.id == id)
                .ok_or_else(|| Error::Field {
                    field: "office_id",
                    message: "選んだ事務所はこの局の事務所ではありません".to_owned(),
                })?;
            if !covers(o) {
                return Err(Error::Field {
                    field: "office_id",
                    message: format!(
                        "{}は{}を担当していません。所在地の都道府県を担当する事務所を選んでください",
                        o.name,
                        prefecture.name()
                    ),
                });
            }
            Some(id)
        }
        None if new_prefecture => {
            let mut covering = offices.iter().filter(|o| covers(o));
            match (covering.next(), covering.next()) {
                (Some(only), None) => Some(only.id),
                _ => None,
            }
        }
        None => case.office_id,
    };
    if let Some(own) = caller.scope.office_id
        && chosen != Some(own)
    {
        return Err(Error::Field {
            field: "office_id",
            message: "自分の事務所以外へ案件を移すことはできません（局の職員に依頼してください）"
                .to_owned(),
        });
    }
    Ok(chosen)
}

/// 併設の関連付け: the 医科 and the 歯科 case of one facility become each other's
/// sibling (both claimed, both audited). Each keeps its own number.
async fn link(
    txn: &DatabaseTransaction,
    caller: &Caller,
    case: reception_request::Model,
    sibling_id: i32,
) -> Result<reception_request::Model> {
    let actor = &caller.actor;
    if sibling_id == case.id {
        return Err(Error::Field {
            field: "sibling_id",
            message: "同じ依頼どうしは関連付けられません".to_owned(),
        });
    }
    let sibling = lock_case(txn, sibling_id)
        .await?
        .filter(|s| caller.scope.permits(s))
        .ok_or_else(|| Error::Field {
            field: "sibling_id",
            message: format!("関連付ける依頼（受付ID {sibling_id}）が見つかりません"),
        })?;
    let mut kinds = [case.kind, sibling.kind];
    kinds.sort_unstable();
    if kinds != [RequestKind::Medical, RequestKind::Dental] {
        return Err(Error::Field {
            field: "sibling_id",
            message: "併設として関連付けられるのは、医科と歯科の依頼の組だけです".to_owned(),
        });
    }
    if !Action::Link.rule().from.contains(&sibling.status) {
        return Err(Error::NotAllowed(format!(
            "関連付ける依頼（受付ID {}）は「{}」のため関連付けられません",
            sibling.id,
            sibling.status.label()
        )));
    }
    for (one, other) in [(&case, &sibling), (&sibling, &case)] {
        match one.sibling_id {
            Some(s) if s == other.id => {
                return Err(Error::NotAllowed(
                    "この2件は既に併設として関連付けられています".to_owned(),
                ));
            }
            Some(s) => {
                return Err(Error::NotAllowed(format!(
                    "受付ID {} は既に別の依頼（受付ID {s}）と関連付けられています。先に解除してください",
                    one.id
                )));
            }
            None => {}
        }
    }
    let prefecture_of = |facility_id: i32| async move {
        Ok::<_, Error>(
            facility::Entity::find_by_id(facility_id)
                .one(txn)
                .await?
                .map(|f| f.prefecture),
        )
    };
    if prefecture_of(case.facility_id).await? != prefecture_of(sibling.facility_id).await? {
        return Err(Error::Field {
            field: "sibling_id",
            message: "所在地の都道府県が異なる依頼は併設として関連付けられません".to_owned(),
        });
    }
    claim(txn, &sibling).await?;
    let (case_id, sibling_id) = (case.id, sibling.id);
    write(
        txn,
        sibling,
        "request.link_sibling",
        |r| r.sibling_id = Set(Some(case_id)),
        actor,
    )
    .await?;
    write(
        txn,
        case,
        "request.link_sibling",
        |r| r.sibling_id = Set(Some(sibling_id)),
        actor,
    )
    .await
}

/// 関連付けの解除: both cases forget each other (both claimed, both audited).
async fn unlink(
    txn: &DatabaseTransaction,
    caller: &Caller,
    case: reception_request::Model,
) -> Result<reception_request::Model> {
    let actor = &caller.actor;
    let Some(sibling_id) = case.sibling_id else {
        return Err(Error::NotAllowed(
            "この依頼は併設として関連付けられていません".to_owned(),
        ));
    };
    if let Some(sibling) = lock_case(txn, sibling_id).await? {
        if !caller.scope.permits(&sibling) {
            return Err(Error::Forbidden(
                "関連付けの相手の依頼は別の事務所の案件です。局の職員に解除を依頼してください"
                    .to_owned(),
            ));
        }
        if sibling.sibling_id == Some(case.id) {
            claim(txn, &sibling).await?;
            write(
                txn,
                sibling,
                "request.unlink_sibling",
                |r| r.sibling_id = Set(None),
                actor,
            )
            .await?;
        }
    }
    write(
        txn,
        case,
        "request.unlink_sibling",
        |r| r.sibling_id = Set(None),
        actor,
    )
    .await
}

async fn propose(
    txn: &DatabaseTransaction,
    caller: &Caller,
    case: reception_request::Model,
    district: u8,
    acknowledge_return: bool,
    policy: &NumberingPolicy,
) -> Result<reception_request::Model> {
    let actor = &caller.actor;
    if case.decision == Decision::Return && !acknowledge_return {
        return Err(Error::Field {
            field: "acknowledge",
            message:
                "判定が「返戻相当」の依頼です。返戻の理由を確認したことを示してから起案してください"
                    .to_owned(),
        });
    }
    if district > 99 {
        return Err(Error::Field {
            field: "district",
            message: format!("郡市区番号は 00〜99 の数字です（{district}）"),
        });
    }
    if numbers_of(txn, case.id)
        .await?
        .iter()
        .any(|n| n.status.is_live())
    {
        return Err(Error::NotAllowed(
            "この案件には有効な受付番号が既にあります".to_owned(),
        ));
    }
    let facility = facility::Entity::find_by_id(case.facility_id)
        .one(txn)
        .await?
        .ok_or(Error::NotFound)?;
    let prefecture = Prefecture::parse(&facility.prefecture)?;
    let proposed = |request_id| IssueOptions {
        request_id: Some(request_id),
        status: NumberStatus::Proposed,
    };
    // A 医科/歯科 sibling at 受付済 with no live number is proposed in the same change.
    let sibling = match case.sibling_id {
        Some(s) if matches!(case.kind, RequestKind::Medical | RequestKind::Dental) => {
            match lock_case(txn, s).await? {
                Some(sib)
                    if sib.status == S::Received
                        && caller.scope.permits(&sib)
                        && !numbers_of(txn, sib.id)
                            .await?
                            .iter()
                            .any(|n| n.status.is_live()) =>
                {
                    claim(txn, &sib).await?;
                    Some(sib)
                }
                _ => None,
            }
        }
        _ => None,
    };
    // Each kind has its own number from its own range (the bureaus' 名簿 list the other
    // kind's number as 併設医療機関番号); the pair is only proposed together.
    let district_of = |kind: RequestKind| District {
        prefecture,
        fee_schedule: kind.fee_schedule(),
        number: district,
    };
    issuance::issue_in(
        txn,
        district_of(case.kind),
        policy,
        &proposed(case.id),
        actor,
    )
    .await?;
    if let Some(sibling) = sibling {
        issuance::issue_in(
            txn,
            district_of(sibling.kind),
            policy,
            &proposed(sibling.id),
            actor,
        )
        .await?;
        write(
            txn,
            sibling,
            "request.propose",
            |r| r.status = Set(S::Proposed),
            actor,
        )
        .await?;
    }
    write(
        txn,
        case,
        "request.propose",
        |r| r.status = Set(S::Proposed),
        actor,
    )
    .await
}

async fn approve(
    txn: &DatabaseTransaction,
    caller: &Caller,
    case: reception_request::Model,
) -> Result<reception_request::Model> {
    let actor = &caller.actor;
    let own: Vec<_> = numbers_of(txn, case.id)
        .await?
        .into_iter()
        .filter(|n| n.status == NumberStatus::Proposed)
        .collect();
    if own.is_empty() {
        return Err(Error::NotAllowed("決裁を待つ番号がありません".to_owned()));
    }
    if actor.user_id.is_some() && own.iter().any(|n| n.proposed_by == actor.user_id) {
        return Err(Error::NotAllowed(
            "起案した職員は、同じ番号を決裁できません".to_owned(),
        ));
    }
    for n in own {
        issuance::approve_in(txn, n, actor).await?;
    }
    // A 医科/歯科 sibling proposed with it is approved with it.
    if let Some(s) = case.sibling_id
        && let Some(sib) = lock_case(txn, s).await?
        && sib.status == S::Proposed
        && caller.scope.permits(&sib)
    {
        let theirs: Vec<_> = numbers_of(txn, sib.id)
            .await?
            .into_iter()
            .filter(|n| n.status == NumberStatus::Proposed)
            .collect();
        if !theirs.is_empty() && !theirs.iter().any(|n| n.proposed_by == actor.user_id) {
            claim(txn, &sib).await?;
            for n in theirs {
                issuance::approve_in(txn, n, actor).await?;
            }
            write(
                txn,
                sib,
                "request.approve",
                |r| r.status = Set(S::Issued),
                actor,
            )
            .await?;
        }
    }
    write(
        txn,
        case,
        "request.approve",
        |r| r.status = Set(S::Issued),
        actor,
    )
    .await
}

/// Voids every live number of a case, in `txn`.
async fn void_live_numbers(
    txn: &DatabaseTransaction,
    case_id: i32,
    reason: &str,
    actor: &Actor,
) -> Result<()> {
    for n in numbers_of(txn, case_id).await? {
        if n.status.is_live() {
            issuance::void_in(txn, n.id, reason, actor).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_has_exactly_one_row() {
        for a in Action::ALL {
            assert_eq!(TRANSITIONS.iter().filter(|t| t.action == a).count(), 1);
            assert_eq!(a.rule().action, a);
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }

    #[test]
    fn no_action_leaves_a_final_status() {
        for t in TRANSITIONS {
            for end in [S::Designated, S::NotDesignated, S::Returned, S::Withdrawn] {
                assert!(!t.from.contains(&end), "{:?} from {end:?}", t.action);
            }
        }
    }

    #[test]
    fn roles_and_statuses_are_checked() {
        let approve = Action::Approve.rule();
        assert!(approve.permits(S::Proposed, Role::Approver));
        assert!(approve.permits(S::Proposed, Role::Admin));
        assert!(!approve.permits(S::Proposed, Role::Clerk));
        assert!(!approve.permits(S::Received, Role::Approver));
        assert!(matches!(
            approve.check(S::Proposed, Role::Clerk),
            Err(Error::Forbidden(_))
        ));
        assert!(matches!(
            approve.check(S::Returned, Role::Approver),
            Err(Error::NotAllowed(_))
        ));
        assert!(Action::Propose.rule().permits(S::Received, Role::Clerk));
        assert!(!Action::Propose.rule().permits(S::Received, Role::Viewer));
        // The least role itself is enough, and so is a stronger one.
        assert!(approve.check(S::Proposed, Role::Approver).is_ok());
        assert!(approve.check(S::Proposed, Role::Admin).is_ok());
        let Err(Error::Forbidden(message)) = approve.check(S::Proposed, Role::Viewer) else {
            panic!("a viewer cannot approve");
        };
        assert_eq!(message, "「決裁」には「決裁」以上の権限が必要です");
        let Err(Error::NotAllowed(message)) = approve.check(S::Issued, Role::Admin) else {
            panic!("an issued case cannot be approved again");
        };
        assert_eq!(message, "「番号交付済」の案件には「決裁」はできません");
    }

    /// The table of the module comment, written out again independently: for every
    /// action, status and role, whether the action may be taken.
    #[test]
    fn every_action_status_and_role_is_permitted_exactly_as_the_table_says() {
        use Role::*;
        let live = [S::Received, S::Proposed, S::Issued, S::Answered];
        let expected: [(Action, &[CaseStatus], Role, Option<CaseStatus>); 11] = [
            (Action::Propose, &[S::Received], Clerk, Some(S::Proposed)),
            (Action::Approve, &[S::Proposed], Approver, Some(S::Issued)),
            (Action::Answer, &[S::Issued], Clerk, Some(S::Answered)),
            (
                Action::Return,
                &[S::Received, S::Proposed],
                Approver,
                Some(S::Returned),
            ),
            (Action::Withdraw, &live, Clerk, Some(S::Withdrawn)),
            (Action::Void, &live[1..], Approver, Some(S::Received)),
            (
                Action::NotDesignated,
                &[S::Issued, S::Answered],
                Approver,
                Some(S::NotDesignated),
            ),
            (
                Action::Designate,
                &[S::Issued, S::Answered],
                Approver,
                Some(S::Designated),
            ),
            (Action::Edit, &live, Clerk, None),
            (Action::Link, &live, Clerk, None),
            (Action::Plan, &live, Clerk, None),
        ];
        for (action, from, least, to) in expected {
            let rule = action.rule();
            assert_eq!(rule.to, to, "{action:?}");
            for status in S::ALL {
                for role in [Viewer, Clerk, Approver, Admin] {
                    let allowed = from.contains(&status) && role >= least;
                    assert_eq!(
                        rule.permits(status, role),
                        allowed,
                        "{action:?} from {status:?} by {role:?}"
                    );
                    assert_eq!(rule.check(status, role).is_ok(), allowed);
                }
            }
        }
    }

    #[test]
    fn actions_and_statuses_have_their_ids_and_labels() {
        let actions: Vec<(&str, &str)> = Action::ALL
            .iter()
            .map(|a| (a.as_str(), a.label()))
            .collect();
        assert_eq!(
            actions,
            [
                ("propose", "番号の起案"),
                ("approve", "決裁"),
                ("answer", "回答"),
                ("return", "返戻"),
                ("withdraw", "取下げ"),
                ("void", "番号の無効化"),
                ("not-designated", "8. 未指定"),
                ("designate", "答申（指定）"),
                ("edit", "訂正"),
                ("link", "併設の関連付け"),
                ("plan", "導入計画書"),
            ]
        );
        assert_eq!(Action::parse("approve"), Some(Action::Approve));
        assert_eq!(Action::parse("Approve"), None);
        assert_eq!(Action::parse(""), None);

        let statuses: Vec<(&str, &str)> = S::ALL.iter().map(|s| (s.as_str(), s.label())).collect();
        assert_eq!(
            statuses,
            [
                ("received", "受付済"),
                ("proposed", "番号起案中"),
                ("issued", "番号交付済"),
                ("answered", "回答済"),
                ("designated", "指定済"),
                ("not_designated", "8. 未指定"),
                ("returned", "返戻"),
                ("withdrawn", "取下げ"),
            ]
        );
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
            assert_eq!(s.to_string(), s.label());
        }
        assert_eq!(S::parse("issued "), None);

        let numbers: Vec<(&str, &str, bool)> = [
            NumberStatus::Proposed,
            NumberStatus::Approved,
            NumberStatus::Void,
        ]
        .iter()
        .map(|n| (n.as_str(), n.label(), n.is_live()))
        .collect();
        assert_eq!(
            numbers,
            [
                ("proposed", "起案中", true),
                ("approved", "決裁済", true),
                ("void", "無効", false),
            ]
        );
        assert_eq!(
            [Decision::Accept.as_str(), Decision::Return.as_str()],
            ["accept", "return"]
        );
        assert_eq!(
            [Decision::Accept.label(), Decision::Return.label()],
            [
                "受付可（受付番号を交付できる）",
                "返戻相当（返戻の理由あり）"
            ]
        );
        assert_eq!(
            Decision::from(uketsuke_rules::eligibility::Decision::Return),
            Decision::Return
        );
        assert_eq!(
            Decision::from(uketsuke_rules::eligibility::Decision::Accept),
            Decision::Accept
        );
        assert_eq!(
            [
                FounderKind::Person.as_str(),
                FounderKind::Corporation.as_str()
            ],
            ["person", "corporation"]
        );
        assert_eq!(
            [
                FounderKind::Person.label(),
                FounderKind::Corporation.label()
            ],
            ["個人", "法人"]
        );
    }

    #[test]
    fn plan_statuses_have_their_ids_and_labels_and_transitional_shows_over_them() {
        let all = [
            PlanStatus::None,
            PlanStatus::Deficient,
            PlanStatus::Submitted,
            PlanStatus::Confirmed,
        ];
        let ids: Vec<_> = all.iter().map(|s| s.as_str()).collect();
        assert_eq!(ids, ["none", "deficient", "submitted", "confirmed"]);
        let labels: Vec<_> = all.iter().map(|s| s.label()).collect();
        assert_eq!(labels, ["未提出", "不備あり", "確認待ち", "確認済"]);
        for s in all {
            // The id is what the database stores.
            assert_eq!(sea_orm::ActiveEnum::to_value(&s), s.as_str());
            assert_eq!(plan_label(s, false), (s.as_str(), s.label()));
            assert_eq!(plan_label(s, true), ("transitional", "経過措置"));
        }
    }

    #[test]
    fn each_command_names_its_action() {
        let on = NaiveDate::MIN;
        let commands = [
            (
                Command::Propose {
                    district: 1,
                    acknowledge_return: false,
                    policy: NumberingPolicy::default(),
                },
                Action::Propose,
            ),
            (Command::Approve, Action::Approve),
            (Command::Answer { on }, Action::Answer),
            (
                Command::Return {
                    reason: String::new(),
                    on,
                },
                Action::Return,
            ),
            (
                Command::Withdraw {
                    on,
                    reason: String::new(),
                },
                Action::Withdraw,
            ),
            (
                Command::Void {
                    number_id: 1,
                    reason: String::new(),
                },
                Action::Void,
            ),
            (
                Command::NotDesignated {
                    reason: String::new(),
                },
                Action::NotDesignated,
            ),
            (
                Command::Designate {
                    session_id: 1,
                    designation_date: None,
                },
                Action::Designate,
            ),
            (Command::Link { sibling_id: 2 }, Action::Link),
            (Command::Unlink, Action::Link),
        ];
        for (command, action) in commands {
            assert_eq!(command.action(), action);
        }
    }

    #[test]
    fn scope_limits_bureau_and_office() {
        let mut case = reception_request::Model {
            id: 1,
            bureau_id: "kanto-shinetsu".into(),
            office_id: Some(3),
            facility_id: 1,
            kind: RequestKind::Medical,
            sibling_id: None,
            status: S::Received,
            designation_date: NaiveDate::MIN,
            request_date: None,
            received_on: NaiveDate::MIN,
            reply_postal_code: None,
            reply_address: String::new(),
            reply_name: String::new(),
            facility_name: String::new(),
            facility_postal_code: None,
            facility_address: String::new(),
            founder_kind: FounderKind::Person,
            founder_name: None,
            corporation_name: None,
            representative_title: None,
            representative_name: None,
            registration_number: None,
            contact_name: None,
            contact_phone: String::new(),
            retroactive: false,
            submission_deadline: NaiveDate::MIN,
            answer_due: NaiveDate::MIN,
            answer_due_override: None,
            answer_due_override_reason: None,
            implementing_body_due: NaiveDate::MIN,
            decision: Decision::Accept,
            reasons: serde_json::json!([]),
            warnings: serde_json::json!([]),
            answered_on: None,
            returned_on: None,
            return_reason: None,
            withdrawn_on: None,
            council_session_id: None,
            council_list_id: None,
            reflected_at: None,
            reflected_by: None,
            designated_on: None,
            not_designated_reason: None,
            correction_reason: None,
            withdraw_reason: None,
            plan_status: PlanStatus::None,
            transitional_filed_on: None,
            created_by: None,
            lock_version: 0,
            dedupe_key: None,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let bureau = Scope {
            bureau_id: "kanto-shinetsu".into(),
            office_id: None,
        };
        let office = Scope {
            office_id: Some(3),
            ..bureau.clone()
        };
        let other_office = Scope {
            office_id: Some(4),
            ..bureau.clone()
        };
        assert!(bureau.permits(&case) && office.permits(&case));
        assert!(!other_office.permits(&case));
        case.bureau_id = "kinki".into();
        assert!(!bureau.permits(&case) && !office.permits(&case));
    }
}
