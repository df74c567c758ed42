//! Who works here: the bureaus (地方厚生(支)局), their offices (事務所・分室), the staff
//! accounts and their server-side sessions.
//!
//! Bureaus and offices are defined in `config/bureaus/*.toml`; these tables mirror that
//! configuration so that every row elsewhere can point at them.

use crate::{drop_tables, fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A bureau is known by its configuration id, e.g. `kanto-shinetsu`.
        manager
            .create_table(
                Table::create()
                    .table("bureaus")
                    .col(string_len("id", 32).primary_key())
                    .col(string("name"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;

        // An office receives the paper requests: the bureau itself, a 都府県事務所 or a 分室.
        manager
            .create_table(
                Table::create()
                    .table("offices")
                    .col(pk_auto("id"))
                    .col(string_len("bureau_id", 32))
                    .col(string_len("code", 32))
                    .col(string("name"))
                    // Two-digit prefecture codes the office handles, comma separated.
                    .col(string("prefectures"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("offices", "bureau_id", "bureaus"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "offices",
                "offices_bureau_code",
                &["bureau_id", "code"],
                true,
            ))
            .await?;

        // Staff. The password is an argon2 PHC string; the role is one of
        // viewer (閲覧), clerk (担当), approver (決裁), admin (管理).
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(pk_auto("id"))
                    .col(string_len_uniq("username", 64))
                    .col(string("display_name"))
                    .col(string("password_hash"))
                    .col(string_len("role", 16))
                    .col(string_len("bureau_id", 32))
                    .col(integer_null("office_id"))
                    .col(integer("failed_logins").default(0))
                    .col(timestamp_with_time_zone_null("locked_until"))
                    .col(boolean("active").default(true))
                    .col(timestamp_with_time_zone("password_changed_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(&mut fk("users", "bureau_id", "bureaus"))
                    .foreign_key(&mut fk("users", "office_id", "offices"))
                    .to_owned(),
            )
            .await?;

        // Server-side sessions: the cookie carries only the id; `id` stores its hash.
        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(string_len("id", 128).primary_key())
                    .col(integer_null("user_id"))
                    .col(string_len("csrf_token", 128))
                    .col(json_null("data"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        fk("sessions", "user_id", "users").on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "sessions",
                "sessions_expires_at",
                &["expires_at"],
                false,
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_tables(manager, &["sessions", "users", "offices", "bureaus"]).await
    }
}
