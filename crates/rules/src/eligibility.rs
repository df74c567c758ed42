//! Whether a 受付番号情報提供依頼書 can be answered, or must be returned (返戻).
//!
//! [`assess`] looks at the facts of one request ([`RequestFacts`]) against the dates
//! of its designation date ([`Deadlines`]) and gives a decision with the reasons, in
//! Japanese, ready to quote in the return letter. The rules:
//!
//! | rule | outcome |
//! |---|---|
//! | no kind, or more than one kind (医科・歯科・薬局) marked | return: one form per facility and kind |
//! | 遡及指定 (designation backdated) | return: not covered (procedure, 第1 1 ※2) |
//! | received on or after the designation date itself | return: the number exists to prepare *before* designation, so such a request is treated like a 遡及指定 (not given when the request is already marked retroactive) |
//! | received after the 提出期限 | return, naming both dates (not given when the request came on or after the designation date: the reason above says more) |
//! | received earlier than [`EligibilityPolicy::earliest_months_before`] months before designation | return: too early for the code-issuing schedule |
//! | designation date not the 1st of a month | warning |
//! | another request of the same facility and kind for the same designation date ([`RequestFacts::duplicate_of`]) | warning |
//!
//! A **warning** does not make the request ineligible: staff read it and settle it
//! before issuing a number. The duplicate warning in particular must be resolved —
//! keep one request, withdraw the other — so that a facility never receives two
//! numbers for one designation; the earlier request may have been withdrawn or
//! entered by mistake, which only staff can tell, so it does not block by itself.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use uketsuke_domain::{RequestKind, format_wareki};

use crate::deadlines::Deadlines;

/// The facts of one request that the rules look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFacts {
    /// The kinds marked on the form (exactly one is expected).
    pub kinds: Vec<RequestKind>,
    /// 指定希望日 (予定).
    pub designation: NaiveDate,
    /// The day the bureau received the form (受付日).
    pub received: NaiveDate,
    /// 遡及指定: the facility asks to be designated from a past date.
    pub retroactive: bool,
    /// Set by the caller when the same facility and kind already asked for this
    /// designation date: how to identify that request (its 受付 id, for instance).
    pub duplicate_of: Option<String>,
}

/// The bureau's settings for [`assess`]:
///
/// ```toml
/// [eligibility]
/// earliest_months_before = 6
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EligibilityPolicy {
    /// A request received earlier than this many months before the designation
    /// date is returned as too early (default 6; 0 turns the check off).
    pub earliest_months_before: u32,
}

impl Default for EligibilityPolicy {
    fn default() -> Self {
        EligibilityPolicy {
            earliest_months_before: 6,
        }
    }
}

/// Answer the request, or return it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Issue a 受付番号.
    Accept,
    /// 返戻: send the form back with the reasons.
    Return,
}

/// The outcome of [`assess`]. As JSON:
/// `{"eligible": false, "decision": "return", "reasons": ["…"], "warnings": []}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// No rule forbids answering (`reasons` is empty).
    pub eligible: bool,
    /// [`Decision::Accept`] when eligible, else [`Decision::Return`].
    pub decision: Decision,
    /// Why the request is returned, one sentence group per rule, for the letter.
    pub reasons: Vec<String>,
    /// What staff must look at (and settle) before answering.
    pub warnings: Vec<String>,
}

/// Applies the rules of this module to `facts`. `deadlines` must be those of
/// `facts.designation` (a mismatch is reported as a warning).
pub fn assess(
    facts: &RequestFacts,
    deadlines: &Deadlines,
    policy: &EligibilityPolicy,
) -> Assessment {
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();
    let designation = facts.designation;
    let received = facts.received;

    if let Some(reason) = kinds_reason(&facts.kinds) {
        reasons.push(reason);
    }

    if facts.retroactive {
        reasons.push(
            "遡及して指定を受ける医療機関・薬局（遡及指定）は、受付番号の情報提供の対象外です。"
                .to_owned(),
        );
    }

    if received >= designation {
        if !facts.retroactive {
            reasons.push(format!(
                "指定希望日（{}）当日以降に受け付けた依頼です（受付日 {}）。受付番号は、指定を受ける前にオンライン資格確認の準備を行うためのものであり、指定希望日を過ぎてからの依頼は遡及指定と同様に対象外です。",
                format_wareki(designation),
                format_wareki(received),
            ));
        }
    } else if received > deadlines.submission_deadline {
        reasons.push(format!(
            "提出期限（{}）を過ぎて受け付けた依頼です（受付日 {}）。指定希望日 {} に向けた受付番号は交付できません。指定希望日を見直したうえで、改めて提出してください。",
            format_wareki(deadlines.submission_deadline),
            format_wareki(received),
            format_wareki(designation),
        ));
    }

    if let Some(earliest) = earliest_acceptable(designation, policy)
        && received < earliest
    {
        reasons.push(format!(
            "指定希望日（{}）の{}か月前（{}）より前に受け付けた依頼です（受付日 {}）。受付番号の交付時期に合わないため、{}以降に改めて提出してください。",
            format_wareki(designation),
            policy.earliest_months_before,
            format_wareki(earliest),
            format_wareki(received),
            format_wareki(earliest),
        ));
    }

    if designation.day() != 1 {
        warnings.push(format!(
            "指定希望日（{}）が月の初日ではありません。保険医療機関・保険薬局の指定日は通常毎月1日ですので、指定希望日を確認してください。",
            format_wareki(designation),
        ));
    }

    if let Some(other) = &facts.duplicate_of {
        warnings.push(format!(
            "同一の医療機関・種別で同じ指定日の依頼が既にあります（{other}）。受付番号を重複して交付しないよう、どちらの依頼を有効とするか確認し、もう一方を取り下げてください。"
        ));
    }

    if deadlines.designation != designation {
        warnings.push(format!(
            "提出期限の計算に用いた指定日（{}）が依頼書の指定希望日（{}）と異なります。期限を計算し直してください。",
            format_wareki(deadlines.designation),
            format_wareki(designation),
        ));
    }

    let eligible = reasons.is_empty();
    Assessment {
        eligible,
        decision: if eligible {
            Decision::Accept
        } else {
            Decision::Return
        },
        reasons,
        warnings,
    }
}

/// The earliest receipt date `policy` accepts for `designation` (the same day of
/// the month `earliest_months_before` months earlier, or that month's last day),
/// or `None` when the check is off.
pub fn earliest_acceptable(
    designation: NaiveDate,
    policy: &EligibilityPolicy,
) -> Option<NaiveDate> {
    match policy.earliest_months_before {
        0 => None,
        months => designation.checked_sub_months(Months::new(months)),
    }
}

/// The reason to return a form whose kinds are not exactly one, if so.
fn kinds_reason(kinds: &[RequestKind]) -> Option<String> {
    let marked: Vec<RequestKind> = RequestKind::ALL
        .into_iter()
        .filter(|k| kinds.contains(k))
        .collect();
    match marked.as_slice() {
        [_] => None,
        [] => Some(
            "依頼書の種別（医科・歯科・薬局）が選択されていません。いずれか一つを選択してください。"
                .to_owned(),
        ),
        several => {
            let labels: Vec<&str> = several.iter().map(|k| k.label()).collect();
            let mut reason = format!(
                "依頼書の種別が複数選択されています（{}）。受付番号は種別ごとに交付しますので、依頼書1枚につき種別は一つだけ選択してください。",
                labels.join("・")
            );
            if marked.contains(&RequestKind::Medical) && marked.contains(&RequestKind::Dental) {
                reason.push_str(
                    "医科と歯科を併設する場合は、医科・歯科それぞれ別の依頼書を提出してください。",
                );
            }
            Some(reason)
        }
    }
}
