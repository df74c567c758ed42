//! What every page's frame shows: the bureau, and who is signed in (with the CSRF
//! token for the logout button).

use crate::auth::{CurrentUser, Session};
use crate::state::AppState;

/// The frame of a page.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub bureau_name: String,
    pub user_name: Option<String>,
    pub role_label: String,
    pub csrf: String,
    /// Whether to show the administration link.
    pub admin: bool,
}

impl Layout {
    /// For a page anyone may see.
    pub fn public(state: &AppState, session: Option<&Session>) -> Self {
        let user = session.and_then(|s| s.user.as_ref());
        Self {
            bureau_name: state.site.bureau_name.clone(),
            user_name: user.map(|u| u.display_name.clone()),
            role_label: user
                .and_then(|u| uketsuke_store::users::Role::parse(&u.role).ok())
                .map(|r| r.label().to_owned())
                .unwrap_or_default(),
            csrf: session
                .map(|s| s.row.csrf_token.clone())
                .unwrap_or_default(),
            admin: false,
        }
    }

    /// For a signed-in page.
    pub fn signed_in(state: &AppState, user: &CurrentUser) -> Self {
        Self {
            bureau_name: state.site.bureau_name.clone(),
            user_name: Some(user.user.display_name.clone()),
            role_label: user.role.label().to_owned(),
            csrf: user.session.csrf_token.clone(),
            admin: user.role >= uketsuke_store::users::Role::Admin,
        }
    }
}
