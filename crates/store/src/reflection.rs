//! Setting 「8. 未指定」 in the 保険医療機関等管理システム (管理システムへの反映): seed 002
//! has the bureau set a number never designated so in the ministry's own system. That system
//! is outside ours, so staff do it by hand from a list, and record here, per case, who
//! did it and when. Recording is a guarded change: within the caller's bureau and office,
//! only for a case that ended as 8. 未指定, and only once (of two at once, one records it
//! and the other is told it was done).

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    TransactionTrait,
};

use crate::audit;
use crate::entities::{issued_number, reception_request};
use crate::lifecycle::{Caller, CaseStatus, NumberStatus, Scope};
use crate::users::Role;
use crate::{Error, Result};

/// A case to set to 8. 未指定 in the 管理システム, with its number.
#[derive(Debug, Clone)]
pub struct Pending {
    pub request: reception_request::Model,
    /// The number the facility was given (its live number; the last one if none is live).
    pub code: Option<String>,
}

/// The cases of `scope` that ended as 8. 未指定 and are not yet recorded as entered in
/// the 管理システム, oldest designation date first.
pub async fn pending<C: ConnectionTrait>(conn: &C, scope: &Scope) -> Result<Vec<Pending>> {
    let requests = reception_request::Entity::find()
        .filter(scope.condition())
        .filter(reception_request::Column::Status.eq(CaseStatus::NotDesignated))
        .filter(reception_request::Column::ReflectedAt.is_null())
        .order_by_asc(reception_request::Column::DesignationDate)
        .order_by_asc(reception_request::Column::Id)
        .all(conn)
        .await?;
    let numbers = issued_number::Entity::find()
        .filter(issued_number::Column::RequestId.is_in(requests.iter().map(|r| r.id)))
        .order_by_asc(issued_number::Column::Id)
        .all(conn)
        .await?;
    Ok(requests
        .into_iter()
        .map(|request| {
            let of_case: Vec<&issued_number::Model> = numbers
                .iter()
                .filter(|n| n.request_id == Some(request.id))
                .collect();
            let code = of_case
                .iter()
                .rev()
                .find(|n| n.status != NumberStatus::Void)
                .or(of_case.last())
                .map(|n| n.code.clone());
            Pending { request, code }
        })
        .collect())
}

/// Records that case `id`'s 8. 未指定 was entered in the 管理システム by the caller. A
/// transaction that collided with another writer (SQLite's busy snapshot) runs again, and
/// then finds the case recorded: [`Error::Conflict`].
pub async fn record(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i32,
) -> Result<reception_request::Model> {
    crate::issuance::retrying(|| record_once(db, caller, id)).await
}

async fn record_once(
    db: &DatabaseConnection,
    caller: &Caller,
    id: i32,
) -> Result<reception_request::Model> {
    if caller.role < Role::Clerk {
        return Err(Error::Forbidden(
            "管理システムへの反映の記録は「担当」以上の権限で行います".to_owned(),
        ));
    }
    let txn = db.begin().await?;
    let case = reception_request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|c| caller.scope.permits(c))
        .ok_or(Error::NotFound)?;
    if case.status != CaseStatus::NotDesignated {
        return Err(Error::NotAllowed(format!(
            "「8. 未指定」でない案件（{}）は反映の対象ではありません",
            case.status.label()
        )));
    }
    let now = Utc::now();
    let claimed = reception_request::Entity::update_many()
        .col_expr(
            reception_request::Column::ReflectedAt,
            Expr::value(Some(now)),
        )
        .col_expr(
            reception_request::Column::ReflectedBy,
            Expr::value(caller.actor.user_id),
        )
        .filter(reception_request::Column::Id.eq(id))
        .filter(reception_request::Column::ReflectedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    if !claimed {
        return Err(Error::Conflict);
    }
    let after = reception_request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &txn,
        &caller.actor,
        "request.reflected",
        "reception_request",
        id,
        Some(serde_json::json!({ "reflected_at": null })),
        Some(serde_json::json!({ "reflected_at": now, "reflected_by": caller.actor.user_id })),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
