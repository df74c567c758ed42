//! Account commands (職員アカウントの管理) for the bureau's IT staff:
//! `uketsuke user add | list | unlock | reset-password | disable | enable`.
//!
//! Each change goes through the store's account functions, in one transaction with its
//! audit entry (the actor is `cli:<OS user>`). A reset password is generated, printed
//! once on stdout and never stored in clear; disabling an account ends its sessions and
//! stops its API tokens.

use anyhow::{Context, bail};
use clap::Subcommand;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::json;
use uketsuke_store::audit::Actor;
use uketsuke_store::entities::user;
use uketsuke_store::users::{self, NewUser, Role};

use crate::settings::Settings;

/// `uketsuke user …`.
#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account. The password is read from standard input, or generated and
    /// printed once when standard input is a terminal.
    Add {
        /// The login name.
        username: String,
        /// Make it an administrator (管理); the same as --role admin.
        #[arg(long)]
        admin: bool,
        /// viewer (閲覧), clerk (担当), approver (決裁) or admin (管理).
        #[arg(long, default_value = "clerk")]
        role: String,
        /// The name shown on screens (default: the login name).
        #[arg(long)]
        display_name: Option<String>,
        /// Bureau id (default: app.default_bureau).
        #[arg(long)]
        bureau: Option<String>,
        /// Limit the account to one office (its code in the bureau's file).
        #[arg(long)]
        office: Option<String>,
    },
    /// List the accounts as JSON lines (never a password or its hash).
    List {
        /// Only this bureau's accounts.
        #[arg(long)]
        bureau: Option<String>,
    },
    /// Lift an account's lock (after too many failed logins) and reset its failures.
    Unlock {
        /// The login name.
        username: String,
    },
    /// Give an account a new generated password, printed once; the lock is lifted and
    /// every session of the account ends.
    ResetPassword {
        /// The login name.
        username: String,
    },
    /// Disable an account: it cannot sign in, its sessions end, its API tokens stop.
    Disable {
        /// The login name.
        username: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The login name.
        username: String,
    },
}

/// Runs a `user` command on `db`.
pub async fn run(
    settings: &Settings,
    db: &DatabaseConnection,
    action: UserAction,
    actor: &Actor,
) -> anyhow::Result<()> {
    match action {
        UserAction::Add {
            username,
            admin,
            role,
            display_name,
            bureau,
            office,
        } => {
            let role = if admin { "admin".to_owned() } else { role };
            add(
                settings,
                db,
                &username,
                &role,
                display_name,
                bureau,
                office,
                actor,
            )
            .await
        }
        UserAction::List { bureau } => list(db, bureau.as_deref()).await,
        UserAction::Unlock { username } => {
            let account = find(db, &username).await?;
            let txn = db.begin().await?;
            users::unlock(&txn, account, actor).await?;
            txn.commit().await?;
            eprintln!("ユーザー「{username}」のロックを解除しました");
            Ok(())
        }
        UserAction::ResetPassword { username } => {
            let account = find(db, &username).await?;
            let password = generate_password();
            let hash = hash_off_thread(password.clone()).await?;
            let txn = db.begin().await?;
            users::reset_password(&txn, account, hash, actor).await?;
            txn.commit().await?;
            eprintln!(
                "ユーザー「{username}」のパスワードを再設定しました（ロック解除・ログイン中のセッションは終了）。"
            );
            println!("{password}");
            eprintln!(
                "↑ 新しいパスワードです。この表示は一度だけです。ログイン後に変更してください。"
            );
            Ok(())
        }
        UserAction::Disable { username } => set_active(db, &username, false, actor).await,
        UserAction::Enable { username } => set_active(db, &username, true, actor).await,
    }
}

async fn find(db: &DatabaseConnection, username: &str) -> anyhow::Result<user::Model> {
    users::find_by_username(db, username)
        .await?
        .with_context(|| {
            format!("ユーザー「{username}」はいません（uketsuke user list で確認できます）")
        })
}

async fn set_active(
    db: &DatabaseConnection,
    username: &str,
    active: bool,
    actor: &Actor,
) -> anyhow::Result<()> {
    let account = find(db, username).await?;
    if account.active == active {
        eprintln!(
            "ユーザー「{username}」は既に{}です",
            if active { "有効" } else { "無効" }
        );
        return Ok(());
    }
    let txn = db.begin().await?;
    users::set_active(&txn, account, active, actor).await?;
    txn.commit().await?;
    if active {
        eprintln!("ユーザー「{username}」を有効にしました");
    } else {
        eprintln!(
            "ユーザー「{username}」を無効にしました（ログインできず、セッションは終了し、APIトークンも使えません）"
        );
    }
    Ok(())
}

async fn list(db: &DatabaseConnection, bureau: Option<&str>) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    for u in users::all(db).await? {
        if bureau.is_some_and(|b| b != u.bureau_id) {
            continue;
        }
        let office = match u.office_id {
            Some(id) => uketsuke_store::bureaus::find_office(db, id)
                .await?
                .map(|o| o.code),
            None => None,
        };
        println!(
            "{}",
            json!({
                "id": u.id,
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "bureau": u.bureau_id,
                "office": office,
                "active": u.active,
                "locked": users::is_locked(&u, now),
                "locked_until": u.locked_until,
                "failed_logins": u.failed_logins,
                "password_changed_at": u.password_changed_at,
            })
        );
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn add(
    settings: &Settings,
    db: &DatabaseConnection,
    username: &str,
    role: &str,
    display_name: Option<String>,
    bureau: Option<String>,
    office: Option<String>,
    actor: &Actor,
) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal};

    let role = Role::parse(role)?;
    let bureau = settings
        .bureau(bureau.as_deref().unwrap_or(&settings.app.default_bureau))?
        .id
        .clone();
    let office_id = match office {
        Some(code) => Some(
            uketsuke_store::bureaus::office_id(db, &bureau, &code)
                .await?
                .with_context(|| format!("事務所 '{code}' は局 {bureau} の設定にありません"))?,
        ),
        None => None,
    };
    let stdin = std::io::stdin();
    let (password, generated) = if stdin.is_terminal() {
        (generate_password(), true)
    } else {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("標準入力からパスワードを読めません")?;
        (line.trim_end_matches(['\r', '\n']).to_owned(), false)
    };
    if let Some(problem) = uketsuke_web::auth::password_problem(&password, username) {
        bail!("{problem}");
    }
    let new = NewUser {
        username: username.to_owned(),
        display_name: display_name.unwrap_or_else(|| username.to_owned()),
        password_hash: hash_off_thread(password.clone()).await?,
        role,
        bureau_id: bureau.clone(),
        office_id,
    };
    let txn = db.begin().await?;
    let user = users::create(&txn, &new, actor).await?;
    txn.commit().await?;
    eprintln!(
        "ユーザー「{}」（{}・{}）を作成しました",
        user.username,
        role.label(),
        bureau
    );
    if generated {
        println!("{password}");
        eprintln!("↑ 初期パスワードです。この表示は一度だけです。ログイン後に変更してください。");
    }
    Ok(())
}

/// A random password of 20 characters.
fn generate_password() -> String {
    uketsuke_web::auth::random_token()[..20].to_owned()
}

async fn hash_off_thread(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || users::hash_password(&password))
        .await
        .context("パスワードのハッシュ化に失敗しました")
}
