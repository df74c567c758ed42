//! `GET /registry`: reconciliation with the published registries (公表名簿との照合). The
//! latest list imported for each of the bureau's prefectures and 点数表
//! (`uketsuke import --registry`), and the numbers of the user's bureau (and office)
//! whose 指定年月日 has passed and that this list does not hold — candidates for
//! 「8. 未指定」, each linked to its case. Read only; any signed-in role.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use uketsuke_domain::{FeeSchedule, Prefecture, format_wareki, today_in_japan};

use crate::auth::CurrentUser;
use crate::error::Error;
use crate::layout::Layout;
use crate::state::AppState;

/// A list imported.
pub struct ListLine {
    pub prefecture: String,
    pub fee_schedule: String,
    pub as_of: String,
    pub source: String,
    pub entries: i32,
}

/// A number absent from the latest list.
pub struct UnconfirmedLine {
    pub id: i32,
    pub code: String,
    pub facility_name: String,
    pub kind_label: &'static str,
    pub status_label: &'static str,
    pub designation: String,
    pub office: String,
    pub latest_list: String,
    pub earlier: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "registry.html")]
pub struct RegistryPage {
    layout: Layout,
    lists: Vec<ListLine>,
    rows: Vec<UnconfirmedLine>,
}

fn prefecture_name(code: &str) -> String {
    Prefecture::parse(code).map_or_else(|_| code.to_owned(), |p| p.name().to_owned())
}

fn fee_name(digit: &str) -> String {
    FeeSchedule::parse(digit).map_or_else(|_| digit.to_owned(), |f| f.name().to_owned())
}

/// `GET /registry`.
#[tracing::instrument(skip_all, fields(user_id = user.user.id))]
pub async fn page(State(state): State<AppState>, user: CurrentUser) -> Result<RegistryPage, Error> {
    let scope = user.scope();
    let prefectures = state
        .bureau(&scope.bureau_id)
        .map(|b| b.prefectures.clone())
        .unwrap_or_default();
    let lists = uketsuke_store::registry::latest_lists(&state.db, &prefectures)
        .await?
        .into_iter()
        .map(|l| ListLine {
            prefecture: prefecture_name(&l.prefecture),
            fee_schedule: fee_name(&l.fee_schedule),
            as_of: format_wareki(l.as_of),
            source: l.source,
            entries: l.entries,
        })
        .collect();
    let rows = uketsuke_store::registry::unconfirmed(&state.db, &scope, today_in_japan())
        .await?
        .into_iter()
        .map(|u| UnconfirmedLine {
            id: u.request_id,
            code: u.code,
            facility_name: u.facility_name,
            kind_label: u.kind.label(),
            status_label: u.status.label(),
            designation: format_wareki(u.designation_date),
            office: u.office.unwrap_or_default(),
            latest_list: format!(
                "{}現在（{}）",
                format_wareki(u.latest_list_on),
                u.latest_list_source
            ),
            earlier: u
                .designation_confirmed_on
                .map(|d| format!("{}現在の名簿には掲載", format_wareki(d)))
                .unwrap_or_default(),
        })
        .collect();
    Ok(RegistryPage {
        layout: Layout::signed_in(&state, &user),
        lists,
        rows,
    })
}
