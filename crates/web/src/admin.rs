//! Account administration (職員の管理), for the 管理 role: the bureau's accounts, adding
//! one (the first password is generated and shown once), unlocking a locked account.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Redirect;
use chrono::Utc;
use serde::Deserialize;
use uketsuke_store::bureaus;
use uketsuke_store::entities::office;
use uketsuke_store::users::{self, NewUser, Role};

use crate::auth::{self, CurrentUser};
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;

/// One account in the list.
pub struct Account {
    pub id: i32,
    pub username: String,
    pub display_name: String,
    pub role: &'static str,
    pub office: String,
    pub locked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_users.html")]
pub struct UsersPage {
    layout: Layout,
    accounts: Vec<Account>,
    offices: Vec<(i32, String)>,
    created: Option<(String, String)>,
    error: Option<String>,
}

async fn page(
    state: &AppState,
    admin: &CurrentUser,
    created: Option<(String, String)>,
    error: Option<String>,
) -> Result<UsersPage, Error> {
    let bureau = &admin.user.bureau_id;
    let offices: Vec<office::Model> = bureaus::offices_of(&state.db, bureau).await?;
    let rows = users::in_bureau(&state.db, bureau).await?;
    let now = Utc::now();
    Ok(UsersPage {
        layout: Layout::signed_in(state, admin),
        accounts: rows
            .iter()
            .map(|u| Account {
                id: u.id,
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                role: Role::parse(&u.role).map(|r| r.label()).unwrap_or("不明"),
                office: u
                    .office_id
                    .and_then(|id| offices.iter().find(|o| o.id == id))
                    .map(|o| o.name.clone())
                    .unwrap_or_else(|| "（局全体）".to_owned()),
                locked: users::is_locked(u, now),
            })
            .collect(),
        offices: offices.iter().map(|o| (o.id, o.name.clone())).collect(),
        created,
        error,
    })
}

/// `GET /admin/users` (管理).
pub async fn list(State(state): State<AppState>, admin: CurrentUser) -> Result<UsersPage, Error> {
    admin.require(Role::Admin)?;
    page(&state, &admin, None, None).await
}

#[derive(Deserialize)]
pub struct NewAccountForm {
    csrf: String,
    username: String,
    display_name: String,
    role: String,
    #[serde(default)]
    office_id: String,
}

/// `POST /admin/users` (管理): adds an account; its first password is shown once.
#[tracing::instrument(skip_all, fields(user_id = admin.user.id))]
pub async fn create(
    State(state): State<AppState>,
    admin: CurrentUser,
    Form(form): Form<NewAccountForm>,
) -> Result<UsersPage, Error> {
    admin.check_csrf(&form.csrf)?;
    admin.require(Role::Admin)?;
    let role = match Role::parse(&form.role) {
        Ok(r) => r,
        Err(e) => return page(&state, &admin, None, Some(e.to_string())).await,
    };
    let office_id = form.office_id.parse::<i32>().ok();
    if let Some(id) = office_id {
        let ok = bureaus::find_office(&state.db, id)
            .await?
            .is_some_and(|o| o.bureau_id == admin.user.bureau_id);
        if !ok {
            return Err(Error::NotFound);
        }
    }
    let password = auth::random_token()[..20].to_owned();
    let new = NewUser {
        username: form.username.trim().to_owned(),
        display_name: if form.display_name.trim().is_empty() {
            form.username.trim().to_owned()
        } else {
            form.display_name.trim().to_owned()
        },
        password_hash: auth::hash_password_async(password.clone()).await?,
        role,
        bureau_id: admin.user.bureau_id.clone(),
        office_id,
    };
    match users::create(&state.db, &new, &admin.actor()).await {
        Ok(created) => page(&state, &admin, Some((created.username, password)), None).await,
        Err(uketsuke_store::Error::Invalid(message)) => {
            page(&state, &admin, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /admin/users/{id}/unlock` (管理).
#[tracing::instrument(skip_all, fields(user_id = admin.user.id, target = id))]
pub async fn unlock(
    State(state): State<AppState>,
    admin: CurrentUser,
    Path(id): Path<i32>,
    Form(form): Form<CsrfForm>,
) -> Result<Redirect, Error> {
    admin.check_csrf(&form.csrf)?;
    admin.require(Role::Admin)?;
    let account = users::find_by_id(&state.db, id)
        .await?
        .ok_or(Error::NotFound)?;
    admin.require_bureau(&account.bureau_id)?;
    users::unlock(&state.db, account, &admin.actor()).await?;
    Ok(Redirect::to("/admin/users"))
}
