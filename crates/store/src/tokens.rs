//! API tokens (APIトークン): a bearer token acts as its user — the same role, bureau and
//! office — in the JSON API. Only the SHA-256 of the token is stored, so a copy of the
//! database gives nobody a working token; the token is shown once, when created.
//! Creating and revoking are audited; each use is stamped (`last_used_at`), and the
//! API's changes are audited under the user's name with the token's label.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sha2::{Digest, Sha256};

use crate::audit::{self, Actor};
use crate::entities::{api_token, user};
use crate::{Error, Result};

/// The prefix of every token, so that one found in a log or a file is recognised.
pub const PREFIX: &str = "uk_";

/// A new random token: the prefix and 256 random bits, hex-encoded.
fn generate() -> String {
    format!(
        "{PREFIX}{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The stored form of a token.
pub fn hash(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Creates a token for `username`; returns the token (to show once) and its row.
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    username: &str,
    label: &str,
    actor: &Actor,
) -> Result<(String, api_token::Model)> {
    let user = crate::users::find_by_username(conn, username)
        .await?
        .ok_or_else(|| Error::Invalid(format!("職員「{username}」は登録されていません")))?;
    if !user.active {
        return Err(Error::Invalid(format!(
            "職員「{username}」は無効になっています"
        )));
    }
    let label = label.trim();
    if label.chars().count() > 200 {
        return Err(Error::Invalid("ラベルは200文字以内にしてください".into()));
    }
    let token = generate();
    let row = api_token::ActiveModel {
        user_id: Set(user.id),
        label: Set(label.to_owned()),
        token_hash: Set(hash(&token)),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    audit::record(
        conn,
        actor,
        "api_token.create",
        "api_token",
        row.id,
        None,
        serde_json::to_value(&row).ok(),
    )
    .await?;
    Ok((token, row))
}

/// Every token with its user's name, newest first.
pub async fn list<C: ConnectionTrait>(conn: &C) -> Result<Vec<(api_token::Model, String)>> {
    let tokens = api_token::Entity::find()
        .order_by_desc(api_token::Column::Id)
        .all(conn)
        .await?;
    let users = user::Entity::find().all(conn).await?;
    Ok(tokens
        .into_iter()
        .map(|t| {
            let name = users
                .iter()
                .find(|u| u.id == t.user_id)
                .map(|u| u.username.clone())
                .unwrap_or_default();
            (t, name)
        })
        .collect())
}

/// Revokes a token; it stops working at once.
pub async fn revoke<C: ConnectionTrait>(
    conn: &C,
    id: i32,
    actor: &Actor,
) -> Result<api_token::Model> {
    let row = api_token::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::Invalid(format!("トークン（ID {id}）はありません")))?;
    if row.revoked_at.is_some() {
        return Err(Error::Invalid(format!("トークン（ID {id}）は失効済みです")));
    }
    let before = serde_json::to_value(&row).ok();
    // Revoked once: of two revocations at once, the second finds it done.
    let done = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Some(Utc::now())),
        )
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    if done.rows_affected != 1 {
        return Err(Error::Invalid(format!("トークン（ID {id}）は失効済みです")));
    }
    let row = api_token::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        conn,
        actor,
        "api_token.revoke",
        "api_token",
        row.id,
        before,
        serde_json::to_value(&row).ok(),
    )
    .await?;
    Ok(row)
}

/// The live token and its active user for a presented token, stamping its use.
pub async fn authenticate<C: ConnectionTrait>(
    conn: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(api_token::Model, user::Model)>> {
    // One query for both (every API call starts here).
    let Some((row, Some(user))) = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash(token)))
        .filter(api_token::Column::RevokedAt.is_null())
        .select_also(user::Entity)
        .join(
            sea_orm::JoinType::InnerJoin,
            api_token::Entity::belongs_to(user::Entity)
                .from(api_token::Column::UserId)
                .to(user::Column::Id)
                .into(),
        )
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if !user.active {
        return Ok(None);
    }
    // Stamped at most once a minute, so that reads do not write on every request.
    if row
        .last_used_at
        .is_none_or(|t| now - t > chrono::TimeDelta::minutes(1))
    {
        api_token::Entity::update_many()
            .col_expr(
                api_token::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(api_token::Column::Id.eq(row.id))
            .exec(conn)
            .await?;
    }
    Ok(Some((row, user)))
}
