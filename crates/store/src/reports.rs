//! The monthly report (月報): a scope's requests received (受付日) in a span, counted
//! by office, kind and current status — the figures of the report page and its .xlsx.

use chrono::NaiveDate;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uketsuke_domain::RequestKind;

use crate::Result;
use crate::entities::{office, reception_request};
use crate::lifecycle::{CaseStatus, Scope};

/// One group's count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    pub office_id: Option<i32>,
    pub kind: RequestKind,
    pub status: CaseStatus,
    pub count: u64,
}

/// The requests of `scope` received from `from` to `to` (inclusive), counted by office,
/// kind and status (groups with none are left out).
pub async fn counts<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Count>> {
    use reception_request::Column as R;
    let rows: Vec<(Option<i32>, RequestKind, CaseStatus, i64)> = reception_request::Entity::find()
        .select_only()
        .column(R::OfficeId)
        .column(R::Kind)
        .column(R::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(scope.condition())
        .filter(R::ReceivedOn.between(from, to))
        .group_by(R::OfficeId)
        .group_by(R::Kind)
        .group_by(R::Status)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(office_id, kind, status, n)| Count {
            office_id,
            kind,
            status,
            count: u64::try_from(n).unwrap_or(0),
        })
        .collect())
}

/// The bureau's offices, by id (for naming the report's rows).
pub async fn offices<C: ConnectionTrait>(conn: &C, bureau_id: &str) -> Result<Vec<office::Model>> {
    use sea_orm::QueryOrder;
    Ok(office::Entity::find()
        .filter(office::Column::BureauId.eq(bureau_id))
        .order_by_asc(office::Column::Id)
        .all(conn)
        .await?)
}
