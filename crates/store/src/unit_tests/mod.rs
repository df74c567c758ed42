//! Fast tests of the store's own functions on a real database: an in-memory SQLite by
//! default, a fresh PostgreSQL database when `TEST_DATABASE_URL` is set (as in the
//! end-to-end tests). They pin down the lines that mutation testing (`scripts/mutants`,
//! `docs/mutants.md`) showed only the end-to-end tests reached, at minutes per mutant.

mod issuance;
mod lifecycle;
mod tokens;
mod users;

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::audit::Actor;
use crate::bureaus::{self, BureauSeed, OfficeSeed};
use crate::entities::audit_log;
use crate::users::{NewUser, Role};

pub(crate) const BUREAU: &str = "kanto-shinetsu";

/// A migrated database with one bureau (two offices), dropped with the value.
pub(crate) struct TestDb {
    pub db: DatabaseConnection,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn new() -> Self {
        let (db, postgres) = match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("uketsuke_unit_{}", uuid::Uuid::new_v4().simple());
                let admin = sea_orm::Database::connect(&admin_url).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap();
                let _ = admin.close().await;
                let url = match admin_url.rsplit_once('/') {
                    Some((base, _)) if base.contains("://") && base.len() > "postgres://".len() => {
                        format!("{base}/{name}")
                    }
                    _ => panic!("TEST_DATABASE_URL must name a database: {admin_url}"),
                };
                (
                    crate::db::connect(&url, 4).await.unwrap(),
                    Some((admin_url, name)),
                )
            }
            // One connection: an in-memory database lives as long as its connection.
            None => (
                crate::db::connect("sqlite::memory:", 1).await.unwrap(),
                None,
            ),
        };
        crate::db::migrate_up(&db).await.unwrap();
        bureaus::sync(
            &db,
            &[BureauSeed {
                id: BUREAU.into(),
                name: "関東信越厚生局".into(),
                offices: vec![
                    OfficeSeed {
                        code: "tokyo".into(),
                        name: "東京事務所".into(),
                        prefectures: vec!["13".into()],
                    },
                    OfficeSeed {
                        code: "gunma".into(),
                        name: "群馬事務所".into(),
                        prefectures: vec!["10".into()],
                    },
                ],
            }],
        )
        .await
        .unwrap();
        Self { db, postgres }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// A fresh active account (its password hash is not a real one).
    pub async fn user(&self, username: &str, role: Role) -> crate::entities::user::Model {
        crate::users::create(
            &self.db,
            &NewUser {
                username: username.into(),
                display_name: format!("{username} さん"),
                password_hash: format!("hash-of-{username}"),
                role,
                bureau_id: BUREAU.into(),
                office_id: None,
            },
            &Actor::system("test"),
        )
        .await
        .unwrap()
    }

    /// The audit entries of one action, oldest first.
    pub async fn audit(&self, action: &str) -> Vec<audit_log::Model> {
        use sea_orm::QueryOrder;
        audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq(action))
            .order_by_asc(audit_log::Column::Id)
            .all(&self.db)
            .await
            .unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which it must not block on: a thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(admin) = sea_orm::Database::connect(&admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}
