//! Views for the JSON API (`/api/v1`): a case with its facility, numbers and history;
//! a page of cases; council sessions with the facilities they approved and the rows of
//! their 一覧表; the delivery log. Every read is limited to the caller's [`Scope`].

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uketsuke_domain::InstitutionCode;
use uketsuke_export::ListRow;

use crate::entities::{
    audit_log, council_session, facility, issued_number, outbox, reception_request,
};
use crate::lifecycle::{CaseStatus, NumberStatus, Scope, numbers_of};
use crate::{Error, Result};

/// A case as the API shows it.
#[derive(Debug, Clone)]
pub struct CaseView {
    pub case: reception_request::Model,
    pub prefecture: String,
    pub numbers: Vec<issued_number::Model>,
    /// The audit entries of the case and its numbers, oldest first.
    pub history: Vec<audit_log::Model>,
}

impl CaseView {
    /// The number in use: the approved one, else the proposed one.
    pub fn number(&self) -> Option<&issued_number::Model> {
        self.numbers
            .iter()
            .find(|n| n.status == NumberStatus::Approved)
            .or_else(|| {
                self.numbers
                    .iter()
                    .find(|n| n.status == NumberStatus::Proposed)
            })
    }
}

/// One case within `scope`, or `None`.
pub async fn case<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    id: i32,
) -> Result<Option<CaseView>> {
    let Some(case) = reception_request::Entity::find_by_id(id)
        .one(conn)
        .await?
        .filter(|c| scope.permits(c))
    else {
        return Ok(None);
    };
    let prefecture = facility::Entity::find_by_id(case.facility_id)
        .one(conn)
        .await?
        .map(|f| f.prefecture)
        .unwrap_or_default();
    let numbers = numbers_of(conn, case.id).await?;
    let mut targets = Condition::any().add(
        Condition::all()
            .add(audit_log::Column::Entity.eq("reception_request"))
            .add(audit_log::Column::EntityId.eq(case.id.to_string())),
    );
    if !numbers.is_empty() {
        targets = targets.add(
            Condition::all()
                .add(audit_log::Column::Entity.eq("issued_number"))
                .add(audit_log::Column::EntityId.is_in(numbers.iter().map(|n| n.id.to_string()))),
        );
    }
    let history = audit_log::Entity::find()
        .filter(targets)
        .order_by_asc(audit_log::Column::Id)
        .all(conn)
        .await?;
    Ok(Some(CaseView {
        case,
        prefecture,
        numbers,
        history,
    }))
}

/// The numbers of several cases at once, by case id, oldest first.
pub async fn numbers_by_case<C: ConnectionTrait>(
    conn: &C,
    ids: &[i32],
) -> Result<std::collections::HashMap<i32, Vec<issued_number::Model>>> {
    let mut out: std::collections::HashMap<i32, Vec<issued_number::Model>> =
        std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let rows = issued_number::Entity::find()
            .filter(issued_number::Column::RequestId.is_in(chunk.iter().copied()))
            .order_by_asc(issued_number::Column::Id)
            .all(conn)
            .await?;
        for n in rows {
            if let Some(id) = n.request_id {
                out.entry(id).or_default().push(n);
            }
        }
    }
    Ok(out)
}

/// A council session of `bureau_id` with the cases it approved.
pub async fn council_session<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    id: i32,
) -> Result<Option<(council_session::Model, Vec<reception_request::Model>)>> {
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
    Ok(Some((session, approved)))
}

/// The rows of the 一覧表 for one council session: its designated facilities and their
/// approved numbers (with the 併設 sibling's number).
pub async fn council_rows<C: ConnectionTrait>(
    conn: &C,
    session: &council_session::Model,
) -> Result<Vec<ListRow>> {
    let requests = reception_request::Entity::find()
        .filter(reception_request::Column::CouncilSessionId.eq(session.id))
        .filter(reception_request::Column::Status.eq(CaseStatus::Designated))
        .order_by_asc(reception_request::Column::Id)
        .all(conn)
        .await?;
    list_rows(conn, session, &requests).await
}

/// The rows of the 一覧表 for `requests`, approved in `session`.
pub async fn list_rows<C: ConnectionTrait>(
    conn: &C,
    session: &council_session::Model,
    requests: &[reception_request::Model],
) -> Result<Vec<ListRow>> {
    let approved = |request_id: i32| {
        issued_number::Entity::find()
            .filter(issued_number::Column::RequestId.eq(request_id))
            .filter(issued_number::Column::Status.eq(NumberStatus::Approved))
            .one(conn)
    };
    let mut rows = Vec::with_capacity(requests.len());
    for r in requests {
        let number = approved(r.id).await?.ok_or_else(|| {
            Error::Invalid(format!(
                "指定済みの依頼（ID {}）に決裁済みの受付番号がありません",
                r.id
            ))
        })?;
        let code = InstitutionCode::parse(&number.code)?;
        let founder = match (&r.founder_name, &r.corporation_name) {
            (Some(name), _) => name.clone(),
            (None, Some(corp)) => [
                Some(corp.as_str()),
                r.representative_title.as_deref(),
                r.representative_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
            (None, None) => String::new(),
        };
        let sibling_code = match r.sibling_id {
            Some(sibling) => approved(sibling).await?.map(|n| n.code[3..].to_owned()),
            None => None,
        };
        rows.push(ListRow {
            prefecture: code.prefecture(),
            kind: r.kind,
            institution_code: code.clone(),
            reception_number: code.to_string(),
            medical_code: code.medical_code().to_string(),
            combined_code: sibling_code,
            facility_name: r.facility_name.clone(),
            postal_code: r.facility_postal_code.clone(),
            address: r.facility_address.clone(),
            phone: Some(r.contact_phone.clone()),
            founder,
            designation_date: r.designated_on.unwrap_or(r.designation_date),
            council_date: Some(session.held_on),
            note: None,
        });
    }
    Ok(rows)
}

/// The delivery log of `bureau_id`, newest first.
pub async fn deliveries<C: ConnectionTrait>(
    conn: &C,
    bureau_id: &str,
    limit: u64,
) -> Result<Vec<outbox::Model>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::BureauId.eq(bureau_id))
        .order_by_desc(outbox::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}
