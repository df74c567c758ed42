//! Bulk work (一括処理): one command on many cases, each case through the lifecycle's
//! own guarded change ([`crate::lifecycle::apply`]) with the version the caller saw of
//! *that* case, in a transaction of its own. Nothing is shared between the cases: one
//! that someone else changed meanwhile, or that the caller may not touch, is reported
//! and the others go ahead. The pages and the JSON API both report per case what
//! happened ([`Outcome`]).

use std::collections::HashSet;

use sea_orm::DatabaseConnection;

use crate::entities::reception_request;
use crate::lifecycle::{self, Caller, CaseStatus, Command, NumberStatus};
use crate::{Error, Result};

/// The most cases one bulk request may name.
pub const MAX_BULK: usize = 500;

/// One case of a bulk request: its id and the version the caller saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub id: i32,
    pub version: Option<i32>,
}

/// What happened to one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 成功
    Done,
    /// 成功: done together with its 医科・歯科 partner, itself earlier in the same request.
    DoneWithPartner,
    /// 他の職員が先に処理: the case changed since the caller saw it.
    Conflict,
    /// 権限なし: the role, or the rule that the proposer may not approve (自己決裁).
    Refused,
    /// 状態が違う: the action is not possible from the case's status.
    WrongState,
    /// 見つかりません: no such case within the caller's bureau and office.
    NotFound,
    /// 入力の誤り (a reason missing, …).
    Invalid,
    /// システムエラー (logged).
    Failed,
}

impl Outcome {
    /// The id in the JSON API.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::DoneWithPartner => "done_with_partner",
            Outcome::Conflict => "conflict",
            Outcome::Refused => "forbidden",
            Outcome::WrongState => "wrong_state",
            Outcome::NotFound => "not_found",
            Outcome::Invalid => "invalid",
            Outcome::Failed => "error",
        }
    }

    /// The word staff read.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Done | Outcome::DoneWithPartner => "成功",
            Outcome::Conflict => "他の職員が先に処理",
            Outcome::Refused => "権限なし",
            Outcome::WrongState => "状態が違う",
            Outcome::NotFound => "見つかりません",
            Outcome::Invalid => "入力の誤り",
            Outcome::Failed => "システムエラー",
        }
    }

    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Done | Outcome::DoneWithPartner)
    }
}

/// The result for one case.
#[derive(Debug, Clone)]
pub struct ItemResult {
    pub id: i32,
    pub outcome: Outcome,
    /// Why, in words (empty on success).
    pub message: String,
    /// The case as it is now, when the caller may see it.
    pub case: Option<reception_request::Model>,
}

/// The ids once each, in the order first named.
pub fn dedupe(items: &[Item]) -> Vec<Item> {
    let mut seen = HashSet::new();
    items
        .iter()
        .copied()
        .filter(|i| seen.insert(i.id))
        .collect()
}

/// Runs `command` on each case of `items` (duplicates once), each its own guarded
/// change; returns what happened to each, in order. Only a database failure that is
/// not about one case stops it (the cases before it stay done, as reported by their
/// own commits).
pub async fn apply_each(
    db: &DatabaseConnection,
    caller: &Caller,
    items: &[Item],
    command: &Command,
) -> Result<Vec<ItemResult>> {
    let mut partners_done: HashSet<i32> = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    for item in dedupe(items) {
        let result = lifecycle::apply(db, caller, item.id, item.version, command).await;
        let (outcome, message, case) = match result {
            Ok(after) => {
                if let Some(partner) = after.sibling_id {
                    partners_done.insert(partner);
                }
                (Outcome::Done, String::new(), Some(after))
            }
            Err(e) => {
                let now = crate::cases::find(db, &caller.scope, item.id).await?;
                let outcome = classify(db, caller, command, &e, now.as_ref()).await?;
                let outcome = match (outcome, &now) {
                    // Its partner, done earlier in this request, took it along.
                    (Outcome::Conflict, Some(c))
                        if partners_done.contains(&c.id) && done_state(command, c.status) =>
                    {
                        Outcome::DoneWithPartner
                    }
                    (o, _) => o,
                };
                let message = match outcome {
                    Outcome::DoneWithPartner => "併設の相手方とともに処理されました".to_owned(),
                    Outcome::Failed => {
                        tracing::error!(case_id = item.id, error = %e, "bulk change failed");
                        "システムエラーが発生しました".to_owned()
                    }
                    Outcome::Refused
                        if self_approval(db, caller, command, now.as_ref()).await? =>
                    {
                        "起案した職員は、同じ番号を決裁できません（別の職員が決裁します）"
                            .to_owned()
                    }
                    _ => e.to_string(),
                };
                (outcome, message, now)
            }
        };
        out.push(ItemResult {
            id: item.id,
            outcome,
            message,
            case,
        });
    }
    Ok(out)
}

/// Whether `status` is where `command` leads (so a case found there was done).
fn done_state(command: &Command, status: CaseStatus) -> bool {
    command.action().rule().to == Some(status)
}

/// Whether the refusal of `command` on `case` is the rule that the proposer may not
/// approve their own number.
async fn self_approval(
    db: &DatabaseConnection,
    caller: &Caller,
    command: &Command,
    case: Option<&reception_request::Model>,
) -> Result<bool> {
    let (Command::Approve, Some(case), Some(me)) = (command, case, caller.actor.user_id) else {
        return Ok(false);
    };
    if case.status != CaseStatus::Proposed {
        return Ok(false);
    }
    Ok(lifecycle::numbers_of(db, case.id)
        .await?
        .iter()
        .any(|n| n.status == NumberStatus::Proposed && n.proposed_by == Some(me)))
}

async fn classify(
    db: &DatabaseConnection,
    caller: &Caller,
    command: &Command,
    e: &Error,
    now: Option<&reception_request::Model>,
) -> Result<Outcome> {
    Ok(match e {
        Error::Conflict => Outcome::Conflict,
        Error::NotFound => Outcome::NotFound,
        Error::Forbidden(_) => Outcome::Refused,
        Error::NotAllowed(_) if self_approval(db, caller, command, now).await? => Outcome::Refused,
        Error::NotAllowed(_) => Outcome::WrongState,
        Error::Field { .. } | Error::Invalid(_) | Error::Domain(_) => Outcome::Invalid,
        _ => Outcome::Failed,
    })
}
