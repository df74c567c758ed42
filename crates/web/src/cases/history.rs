//! A case's history (履歴) in words: the audit entries of the request, its facility and
//! its numbers, each with who, when, what and the fields that changed.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;
use uketsuke_domain::{RequestKind, format_wareki};
use uketsuke_store::cases::{HistoryEntry, HistoryNames};
use uketsuke_store::lifecycle::{CaseStatus, Decision, FounderKind};

use super::show::{number_status_label, texts};
use crate::view::jst;

/// One changed field in the history.
pub struct Change {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// One entry of the history.
pub struct HistoryLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: &'static str,
    pub note: String,
    pub changes: Vec<Change>,
}

// ───────────────────────────── the history ─────────────────────────────

/// The history in words: who did what, when, and which fields changed.
pub(super) fn history_lines(entries: &[HistoryEntry], names: &HistoryNames) -> Vec<HistoryLine> {
    entries
        .iter()
        .map(
            |HistoryEntry {
                 entry: e,
                 actor_name,
             }| {
                let actor = match actor_name {
                    Some(name) => format!("{name}（{}）", e.actor),
                    None if e.actor_user_id.is_none() => format!("{}（システム）", e.actor),
                    None => e.actor.clone(),
                };
                let (note, changes) = diff(&e.entity, e.before.as_ref(), e.after.as_ref(), names);
                HistoryLine {
                    at: jst(e.at),
                    actor,
                    action: action_label(&e.action),
                    target: match e.entity.as_str() {
                        "reception_request" => "依頼",
                        "facility" => "医療機関",
                        "issued_number" => "受付番号",
                        _ => "その他",
                    },
                    note,
                    changes,
                }
            },
        )
        .collect()
}

/// The action in words (an action this page does not know is shown as recorded).
fn action_label(action: &str) -> String {
    let label = match action {
        "request.create" => "依頼を登録",
        "facility.create" => "医療機関を登録",
        "facility.update" => "医療機関の情報を変更",
        "request.update" => "依頼の内容を変更",
        "request.status" => "状態を変更",
        "request.link_sibling" => "医科・歯科の併設を関連付け",
        "request.unlink_sibling" => "医科・歯科の併設の関連付けを解除",
        "request.correct" => "記載を訂正",
        "request.propose" => "受付番号を起案",
        "request.approve" => "受付番号を決裁",
        "request.void_number" => "受付番号を無効化",
        "request.reflected" => "管理システムへの反映を記録",
        "request.withdraw_after_answer" => "取下げ（回答後のため「8. 未指定」）",
        "facility.correct" => "医療機関の記載を訂正",
        "request.override_answer_due" => "回答期限を変更",
        "request.not_designated" => "8. 未指定として記録",
        "request.return" => "返戻",
        "request.withdraw" => "取下げ",
        "request.answer" => "回答",
        "request.plan_submit" => "導入計画書の提出を記録",
        "request.plan_confirm" => "導入計画書を確認済にした",
        "request.transitional_record" => "経過措置の届出を記録",
        "request.transitional_clear" => "経過措置の届出の記録を取消し",
        "request.memo" => "メモを追加",
        "request.attach" => "依頼書の写しを添付",
        "request.attach_replace" => "依頼書の写しを差替え（前の版は保存）",
        "request.designate" | "request.council_approval" => "答申（指定）を記録",
        "number.issue" => "受付番号を採番",
        "number.propose" => "受付番号を起案",
        "number.approve" => "受付番号を決裁",
        "number.void" => "受付番号を無効化",
        "number.designation_confirmed" => "公表名簿で指定を確認",
        _ => "",
    };
    if label.is_empty() {
        action.to_owned()
    } else {
        label.to_owned()
    }
}

/// The Japanese name of a stored field.
fn field_label(field: &str) -> &str {
    match field {
        "status" => "状態",
        "memo_id" => "メモの番号",
        "memo_chars" => "メモの字数",
        "attachment_id" => "添付の番号",
        "attachment_seq" => "添付の版",
        "content_type" => "ファイルの形式",
        "size_bytes" => "大きさ（バイト）",
        "kind" => "種別",
        "office_id" => "事務所",
        "facility_id" => "医療機関",
        "sibling_id" => "医科・歯科の併設先",
        "designation_date" => "指定希望日",
        "request_date" => "依頼日",
        "received_on" => "受付日",
        "reply_postal_code" => "回答書の送付先 郵便番号",
        "reply_address" => "回答書の送付先 住所",
        "reply_name" => "回答書の送付先 氏名",
        "facility_name" | "name" => "名称",
        "facility_postal_code" | "postal_code" => "所在地 郵便番号",
        "facility_address" | "address" => "所在地",
        "municipality" => "市区町村",
        "phone" => "電話番号",
        "prefecture" => "都道府県",
        "founder_kind" => "開設者の区分",
        "founder_name" => "開設者 氏名",
        "corporation_name" => "開設者 法人名",
        "representative_title" => "代表者 職",
        "representative_name" => "代表者 氏名",
        "registration_number" => "登録の記号及び番号",
        "contact_name" => "担当者 氏名",
        "contact_phone" => "担当者 電話番号",
        "retroactive" => "遡及指定",
        "submission_deadline" => "提出期限",
        "answer_due" => "回答期限（計算）",
        "answer_due_override" => "回答期限（変更後）",
        "answer_due_override_reason" => "回答期限の変更理由",
        "implementing_body_due" => "実施機関への提出期限",
        "decision" => "判定",
        "reasons" => "返戻の理由",
        "warnings" => "確認事項",
        "answered_on" => "回答日",
        "returned_on" => "返戻日",
        "return_reason" => "返戻の理由",
        "withdrawn_on" => "取下げ日",
        "council_session_id" => "地方社会保険医療協議会",
        "designated_on" => "指定日",
        "not_designated_reason" => "未指定の理由",
        "correction_reason" => "訂正の理由",
        "withdraw_reason" => "取下げの理由",
        "plan_status" => "導入計画書",
        "transitional_filed_on" => "経過措置の届出日",
        "code" => "受付番号",
        "request_id" => "依頼",
        "combined_dental" => "医科歯科併設",
        "proposed_by" => "起案者",
        "approved_by" => "決裁者",
        "approved_at" => "決裁日時",
        "voided_at" => "無効化日時",
        "void_reason" => "無効化の理由",
        other => other,
    }
}

/// Bookkeeping fields a reader does not need to see change.
const UNINTERESTING: [&str; 5] = [
    "id",
    "created_at",
    "updated_at",
    "lock_version",
    "name_search",
];

/// A stored value in words.
fn show_value(entity: &str, field: &str, v: &Value, names: &HistoryNames) -> String {
    match v {
        Value::Null => "（なし）".to_owned(),
        Value::Bool(b) => if *b { "はい" } else { "いいえ" }.to_owned(),
        Value::Number(n) => {
            let id = n.as_i64().and_then(|n| i32::try_from(n).ok());
            let named = |map: &std::collections::HashMap<i32, String>, what: &str| {
                id.and_then(|i| map.get(&i).cloned())
                    .unwrap_or_else(|| format!("（削除された{what}）"))
            };
            match field {
                "proposed_by" | "approved_by" => named(&names.users, "職員"),
                "office_id" => named(&names.offices, "事務所"),
                "council_session_id" => named(&names.sessions, "回"),
                "sibling_id" | "request_id" => format!("受付ID {n}"),
                "facility_id" => format!("医療機関ID {n}"),
                _ => n.to_string(),
            }
        }
        Value::Array(_) => {
            let items = texts(v);
            if items.is_empty() {
                "（なし）".to_owned()
            } else {
                items.join(" ／ ")
            }
        }
        Value::Object(_) => v.to_string(),
        Value::String(s) => {
            if field == "status" {
                let label = if entity == "issued_number" {
                    serde_json::from_value(Value::String(s.clone()))
                        .map(number_status_label)
                        .ok()
                } else {
                    CaseStatus::parse(s).map(CaseStatus::label)
                };
                return label.unwrap_or("不明").to_owned();
            }
            match field {
                "kind" => {
                    return s
                        .parse::<RequestKind>()
                        .map_or("不明", RequestKind::label)
                        .to_owned();
                }
                "plan_status" => {
                    return serde_json::from_value::<uketsuke_store::lifecycle::PlanStatus>(
                        Value::String(s.clone()),
                    )
                    .map_or("不明", |p| p.label())
                    .to_owned();
                }
                "decision" => {
                    return serde_json::from_value::<Decision>(Value::String(s.clone()))
                        .map_or("未判定", Decision::label)
                        .to_owned();
                }
                "founder_kind" => {
                    return match serde_json::from_value::<FounderKind>(Value::String(s.clone())) {
                        Ok(k) => k.label(),
                        Err(_) => s.as_str(),
                    }
                    .to_owned();
                }
                _ => {}
            }
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                return format!("{}（{s}）", format_wareki(d));
            }
            if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                return jst(t.with_timezone(&Utc));
            }
            if s.is_empty() {
                "（空欄）".to_owned()
            } else {
                s.clone()
            }
        }
    }
}

/// A note and the changed fields between `before` and `after`. A creation lists its
/// fields when there are few (a number), else just says it was created.
fn diff(
    entity: &str,
    before: Option<&Value>,
    after: Option<&Value>,
    names: &HistoryNames,
) -> (String, Vec<Change>) {
    let empty = serde_json::Map::new();
    fn obj(v: Option<&Value>) -> Option<&serde_json::Map<String, Value>> {
        v.and_then(Value::as_object)
    }
    match (obj(before), obj(after)) {
        (None, Some(a)) if a.len() > 6 => ("新規登録".to_owned(), Vec::new()),
        (None, None) => (String::new(), Vec::new()),
        (b, a) => {
            let (b, a) = (b.unwrap_or(&empty), a.unwrap_or(&empty));
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.dedup();
            let mut seen = std::collections::HashSet::new();
            let changes = keys
                .into_iter()
                .filter(|k| seen.insert(k.as_str()))
                .filter(|k| !UNINTERESTING.contains(&k.as_str()))
                .filter_map(|k| {
                    let (old, new) = (
                        b.get(k).unwrap_or(&Value::Null),
                        a.get(k).unwrap_or(&Value::Null),
                    );
                    (old != new).then(|| Change {
                        field: field_label(k).to_owned(),
                        before: show_value(entity, k, old, names),
                        after: show_value(entity, k, new, names),
                    })
                })
                .collect();
            let note = if before.is_none() {
                "新規登録".to_owned()
            } else if after.is_none() {
                "削除".to_owned()
            } else {
                String::new()
            };
            (note, changes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_lists_changed_fields_in_words() {
        let before = serde_json::json!({"status": "issued", "updated_at": "x", "not_designated_reason": null});
        let after = serde_json::json!({"status": "not_designated", "updated_at": "y", "not_designated_reason": "延期"});
        let (note, changes) = diff(
            "reception_request",
            Some(&before),
            Some(&after),
            &HistoryNames::default(),
        );
        assert!(note.is_empty());
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].field, "状態");
        assert_eq!(changes[0].before, "番号交付済");
        assert_eq!(changes[0].after, "8. 未指定");
        assert_eq!(changes[1].before, "（なし）");
    }

    #[test]
    fn ids_in_the_history_read_as_names() {
        let mut names = HistoryNames::default();
        names.users.insert(3, "決裁 花子".to_owned());
        names.offices.insert(7, "東京事務所".to_owned());
        let before = serde_json::json!({"approved_by": null, "office_id": 7});
        let after = serde_json::json!({"approved_by": 3, "office_id": 8});
        let (_, changes) = diff("issued_number", Some(&before), Some(&after), &names);
        assert_eq!(changes[0].field, "決裁者");
        assert_eq!(changes[0].before, "（なし）");
        assert_eq!(changes[0].after, "決裁 花子");
        assert_eq!(changes[1].before, "東京事務所");
        assert_eq!(changes[1].after, "（削除された事務所）");
    }
}
