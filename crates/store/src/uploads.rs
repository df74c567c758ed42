//! Uploads awaiting confirmation: kept for a day at most, visible only to their uploader.

use chrono::{TimeDelta, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::Result;
use crate::entities::upload;

/// How long an unconfirmed upload is kept.
pub const KEEP: TimeDelta = TimeDelta::days(1);

/// Keeps an upload under `id` (a random token), purging old ones.
pub async fn put<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    user_id: i32,
    file_name: &str,
    bytes: Vec<u8>,
) -> Result<()> {
    let now = Utc::now();
    upload::Entity::delete_many()
        .filter(upload::Column::CreatedAt.lt(now - KEEP))
        .exec(conn)
        .await?;
    upload::ActiveModel {
        id: Set(id.to_owned()),
        user_id: Set(user_id),
        file_name: Set(file_name.to_owned()),
        bytes: Set(bytes),
        created_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The upload `id` of `user_id`, if it is still kept.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    user_id: i32,
) -> Result<Option<upload::Model>> {
    Ok(upload::Entity::find_by_id(id.to_owned())
        .filter(upload::Column::UserId.eq(user_id))
        .filter(upload::Column::CreatedAt.gte(Utc::now() - KEEP))
        .one(conn)
        .await?)
}

/// Takes an upload for confirmation: of two confirmations at once, exactly one gets it
/// (the row is deleted by the one that takes it); the other gets `None`.
pub async fn take<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    user_id: i32,
) -> Result<Option<upload::Model>> {
    let Some(found) = get(conn, id, user_id).await? else {
        return Ok(None);
    };
    let taken = upload::Entity::delete_many()
        .filter(upload::Column::Id.eq(id.to_owned()))
        .filter(upload::Column::UserId.eq(user_id))
        .exec(conn)
        .await?
        .rows_affected
        == 1;
    Ok(taken.then_some(found))
}

/// Forgets an upload.
pub async fn delete<C: ConnectionTrait>(conn: &C, id: &str) -> Result<()> {
    upload::Entity::delete_by_id(id.to_owned())
        .exec(conn)
        .await?;
    Ok(())
}
