//! The accounts and tokens every attack starts from, created in the target's database
//! (the server itself has migrated it and mirrored the bureaus), and the cases made
//! through the API: a 東京 case and a 千葉 case of 関東信越, and a case of 近畿.

use std::collections::BTreeMap;

use anyhow::Context;
use sea_orm::DatabaseConnection;
use uketsuke_store::audit::Actor;
use uketsuke_store::users::{self, NewUser, Role};

use super::client::{Api, new_case};

pub const BUREAU: &str = "kanto-shinetsu";
pub const OTHER_BUREAU: &str = "kinki";

/// The accounts: (username, role, bureau, office code).
pub const ACCOUNTS: [(&str, &str, &str, Option<&str>); 9] = [
    ("kanri", "admin", BUREAU, None),
    ("kessai-a", "approver", BUREAU, None),
    ("kessai-b", "approver", BUREAU, None),
    ("tanto-a", "clerk", BUREAU, None),
    ("tanto-b", "clerk", BUREAU, None),
    ("etsuran", "viewer", BUREAU, None),
    ("tokyo-kessai", "approver", BUREAU, Some("tokyo")),
    ("tokyo-tanto", "clerk", BUREAU, Some("tokyo")),
    ("kinki-kanri", "admin", OTHER_BUREAU, None),
];

/// The password of a world account.
pub fn password(username: &str) -> String {
    format!("pw-{username}-0123456789")
}

/// What the attacks share.
pub struct World {
    tokens: BTreeMap<String, String>,
    /// A case of 千葉事務所 with a number issued (every document exists).
    pub chiba_case: i32,
    /// Its live number's id.
    pub chiba_number: i32,
    /// A case of 東京事務所.
    pub tokyo_case: i32,
    /// A case of 近畿厚生局 with a number issued.
    pub kinki_case: i32,
    pub kinki_number: i32,
}

impl World {
    pub fn token(&self, username: &str) -> String {
        self.tokens.get(username).cloned().unwrap_or_default()
    }

    /// Creates the accounts and tokens, then the cases through the API.
    pub async fn create(db: &DatabaseConnection, base: &str) -> anyhow::Result<Self> {
        let actor = Actor::system("attack");
        let mut tokens = BTreeMap::new();
        for (username, role, bureau, office) in ACCOUNTS {
            let office_id = match office {
                Some(code) => Some(
                    uketsuke_store::bureaus::office_id(db, bureau, code)
                        .await?
                        .with_context(|| format!("office {code}"))?,
                ),
                None => None,
            };
            let new = NewUser {
                username: username.to_owned(),
                display_name: format!("{username} さん"),
                password_hash: users::hash_password(&password(username)),
                role: Role::parse(role)?,
                bureau_id: bureau.to_owned(),
                office_id,
            };
            users::create(db, &new, &actor).await?;
            let (token, _) = uketsuke_store::tokens::create(db, username, "attack", &actor).await?;
            tokens.insert(username.to_owned(), token);
        }
        let api = |u: &str| Api::new(base, tokens.get(u).cloned().unwrap_or_default());
        let (admin, clerk, approver) = (api("kanri"), api("tanto-a"), api("kessai-a"));

        let mut chiba = new_case("千葉の医院", "千葉県千葉市中央区市場町1-1");
        chiba["office"] = "chiba".into();
        let chiba_case = admin.create_case(&chiba).await.context("千葉 case")?;
        clerk
            .act_ok(chiba_case, "propose", serde_json::json!({"district": "01"}))
            .await?;
        let approved = approver
            .act_ok(chiba_case, "approve", serde_json::json!({}))
            .await?;
        let chiba_number = live_number(&approved)?;

        let mut tokyo = new_case("東京の医院", "東京都新宿区西新宿2-8-1");
        tokyo["office"] = "tokyo".into();
        let tokyo_case = admin.create_case(&tokyo).await.context("東京 case")?;

        let kinki_admin = api("kinki-kanri");
        let kinki_case = kinki_admin
            .create_case(&new_case("大阪の医院", "大阪府大阪市中央区大手前1-1"))
            .await
            .context("近畿 case")?;
        // One person may not both propose and approve: an approver of 近畿 is made here.
        let kinki_approver = {
            let new = NewUser {
                username: "kinki-kessai".into(),
                display_name: "近畿 決裁".into(),
                password_hash: users::hash_password(&password("kinki-kessai")),
                role: Role::Approver,
                bureau_id: OTHER_BUREAU.into(),
                office_id: None,
            };
            users::create(db, &new, &actor).await?;
            let (token, _) =
                uketsuke_store::tokens::create(db, "kinki-kessai", "attack", &actor).await?;
            tokens.insert("kinki-kessai".into(), token.clone());
            Api::new(base, token)
        };
        kinki_admin
            .act_ok(kinki_case, "propose", serde_json::json!({"district": "01"}))
            .await?;
        let approved = kinki_approver
            .act_ok(kinki_case, "approve", serde_json::json!({}))
            .await?;
        let kinki_number = live_number(&approved)?;
        Ok(Self {
            tokens,
            chiba_case,
            chiba_number,
            tokyo_case,
            kinki_case,
            kinki_number,
        })
    }
}

/// The id of the one live number of a case (API JSON).
pub fn live_number(case: &serde_json::Value) -> anyhow::Result<i32> {
    case["numbers"]
        .as_array()
        .and_then(|ns| ns.iter().find(|n| n["status"] != "void"))
        .and_then(|n| n["id"].as_i64())
        .map(|i| i as i32)
        .with_context(|| format!("no live number in {case}"))
}
