//! Work queues (作業の待ち行列): the case list narrowed to what one kind of work is
//! waiting on, and how many cases each holds. A queue is a named set of conditions on
//! the case list ([`crate::cases::CaseQuery`]), so its count on the dashboard and the
//! list it links to are the same query and cannot disagree:
//!
//! | queue | id | the cases |
//! |---|---|---|
//! | 決裁待ち | `approval` | 番号起案中: a proposed number awaits an approver |
//! | 回答待ち | `answer` | 番号交付済: the number is approved, the 回答書 not yet sent |
//! | 期限が近い | `due-soon` | unanswered, the 回答期限 (not the 提出期限) within [`DUE_SOON_OPEN_DAYS`] open days from today, today included |
//! | 未指定の確認 | `registry` | an approved number the latest published list does not hold although its 指定年月日 passed ([`crate::registry::unconfirmed`]) |
//! | 反映待ち | `reflection` | ended as 8. 未指定 and not yet recorded as set in the 管理システム ([`crate::reflection`]) |

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use crate::Result;
use crate::cases::CaseQuery;
use crate::lifecycle::{CaseStatus, Scope};

/// Answers due within this many open days (today included) are 「期限が近い」.
pub const DUE_SOON_OPEN_DAYS: u32 = 5;

/// A work queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// 決裁待ち
    Approval,
    /// 回答待ち
    Answer,
    /// 期限が近い (回答期限)
    DueSoon,
    /// 未指定の確認 (公表名簿にない交付済みの番号)
    Unconfirmed,
    /// 反映待ち (管理システムへの「8. 未指定」の反映)
    Reflection,
}

impl Queue {
    /// Every queue, in the order of the dashboard.
    pub const ALL: [Queue; 5] = [
        Queue::Approval,
        Queue::Answer,
        Queue::DueSoon,
        Queue::Unconfirmed,
        Queue::Reflection,
    ];

    /// The id in the list's query string (`/cases?queue=approval`).
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Approval => "approval",
            Queue::Answer => "answer",
            Queue::DueSoon => "due-soon",
            Queue::Unconfirmed => "registry",
            Queue::Reflection => "reflection",
        }
    }

    /// Reads an id; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str() == s)
    }

    /// The name staff read.
    pub fn label(self) -> &'static str {
        match self {
            Queue::Approval => "決裁待ち",
            Queue::Answer => "回答待ち",
            Queue::DueSoon => "期限が近い",
            Queue::Unconfirmed => "未指定の確認",
            Queue::Reflection => "反映待ち",
        }
    }

    /// What the queue holds, in a sentence.
    pub fn description(self) -> String {
        match self {
            Queue::Approval => "番号が起案され、決裁を待っている案件（番号起案中）".to_owned(),
            Queue::Answer => {
                "番号が決裁され、回答書をまだ送っていない案件（番号交付済）".to_owned()
            }
            Queue::DueSoon => format!(
                "回答期限（提出期限ではありません）が本日から{DUE_SOON_OPEN_DAYS}開庁日以内に来る、未回答の案件"
            ),
            Queue::Unconfirmed => "指定年月日を過ぎたのに、最新の公表名簿に受付番号が載っていない案件（「8. 未指定」の候補）".to_owned(),
            Queue::Reflection => "「8. 未指定」となり、保険医療機関等管理システムへの反映をまだ記録していない案件".to_owned(),
        }
    }

    /// The roles that work this queue (for the page's hint), as a word.
    pub fn worked_by(self) -> &'static str {
        match self {
            Queue::Approval | Queue::Unconfirmed | Queue::Reflection => "決裁",
            Queue::Answer | Queue::DueSoon => "担当",
        }
    }
}

/// Narrows `q` to `queue`'s cases. `soon_limit` is the last day that counts as 「期限が
/// 近い」 (today plus [`DUE_SOON_OPEN_DAYS`] open days on the bureau's calendar).
pub async fn narrow<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    queue: Queue,
    today: NaiveDate,
    soon_limit: NaiveDate,
    q: &mut CaseQuery,
) -> Result<()> {
    match queue {
        Queue::Approval => q.statuses = vec![CaseStatus::Proposed],
        Queue::Answer => q.statuses = vec![CaseStatus::Issued],
        Queue::DueSoon => {
            q.due_within_limit = Some(match q.due_within_limit {
                Some(own) => own.min(soon_limit),
                None => soon_limit,
            });
        }
        Queue::Unconfirmed => {
            let mut ids: Vec<i32> = crate::registry::unconfirmed(db, scope, today)
                .await?
                .into_iter()
                .map(|u| u.request_id)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            q.ids = Some(ids);
        }
        Queue::Reflection => {
            q.statuses = vec![CaseStatus::NotDesignated];
            q.unreflected = true;
        }
    }
    Ok(())
}

/// How many cases of `scope` each queue holds, in [`Queue::ALL`]'s order: the same
/// query as the list of the queue, counted.
pub async fn counts<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    today: NaiveDate,
    soon_limit: NaiveDate,
) -> Result<Vec<(Queue, u64)>> {
    let mut out = Vec::with_capacity(Queue::ALL.len());
    for queue in Queue::ALL {
        let mut q = CaseQuery::default();
        narrow(db, scope, queue, today, soon_limit, &mut q).await?;
        out.push((queue, crate::cases::count(db, scope, &q, today).await?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_ids_read_back() {
        for q in Queue::ALL {
            assert_eq!(Queue::parse(q.as_str()), Some(q));
        }
        assert_eq!(Queue::parse("approvals"), None);
    }
}
