//! The audit trail (監査記録): every change is written here in the same transaction as
//! the change itself, with who did it, when, and the row before and after.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use serde_json::Value;

use crate::Result;
use crate::entities::audit_log;

/// Who is acting: a signed-in user, or the command line / a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i32>,
    pub name: String,
}

impl Actor {
    /// A staff member signed in to the web UI.
    pub fn user(id: i32, username: &str) -> Self {
        Self {
            user_id: Some(id),
            name: username.to_owned(),
        }
    }

    /// The system itself: the command line, a scheduled job, the demo loader.
    pub fn system(name: &str) -> Self {
        Self {
            user_id: None,
            name: name.to_owned(),
        }
    }
}

/// Writes one entry. Call it on the transaction that makes the change.
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<()> {
    entry(Utc::now(), actor, action, entity, entity_id, before, after)
        .insert(conn)
        .await?;
    Ok(())
}

/// Writes many entries in one statement (nothing when there are none). Call it on the
/// transaction that made the changes.
pub async fn insert_all<C: ConnectionTrait>(
    conn: &C,
    entries: Vec<audit_log::ActiveModel>,
) -> Result<()> {
    if !entries.is_empty() {
        audit_log::Entity::insert_many(entries).exec(conn).await?;
    }
    Ok(())
}

/// One entry as a row, for writers that insert many at once (the scale generator).
pub fn entry(
    at: DateTime<Utc>,
    actor: &Actor,
    action: &str,
    entity: &str,
    entity_id: impl ToString,
    before: Option<Value>,
    after: Option<Value>,
) -> audit_log::ActiveModel {
    audit_log::ActiveModel {
        at: Set(at),
        actor_user_id: Set(actor.user_id),
        actor: Set(actor.name.clone()),
        action: Set(action.to_owned()),
        entity: Set(entity.to_owned()),
        entity_id: Set(entity_id.to_string()),
        before: Set(before),
        after: Set(after),
        ..Default::default()
    }
}
