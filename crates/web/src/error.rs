//! The web layer's error: a 500 is logged once with its cause chain and the user sees
//! a plain Japanese page without internals; 403, 404, 409, 422 and a failed CSRF check
//! get pages of their own — all in the site's frame, with the ways back (the case list,
//! the dashboard, the start page).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] uketsuke_store::Error),
    #[error(transparent)]
    Template(#[from] askama::Error),
    #[error("{0}")]
    Internal(String),
    /// The user lacks the role (権限).
    #[error("{0}")]
    Forbidden(String),
    /// Not found — also what another bureau's record looks like.
    #[error("見つかりません")]
    NotFound,
    /// An upload over the size limit (413).
    #[error("{0}")]
    TooLarge(String),
    /// The input cannot be taken (422), with what to fix.
    #[error("{0}")]
    Unprocessable(String),
    /// The form's CSRF token did not match the session's.
    #[error("フォームの有効期限が切れました")]
    Csrf,
}

/// An error page in the site's frame, with the ways back.
#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    layout: crate::layout::Layout,
    title: &'a str,
    message: &'a str,
    links: &'a [(&'static str, &'static str)],
}

/// Where a user can go from an error page.
const WAYS_BACK: [(&str, &str); 3] = [
    ("/cases", "案件一覧に戻る"),
    ("/dashboard", "ダッシュボード"),
    ("/", "はじめに戻る"),
];

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    use askama::Template;
    let rendered = ErrorPage {
        layout: crate::layout::Layout::default(),
        title,
        message,
        links: &WAYS_BACK,
    }
    .render();
    let body = match rendered {
        Ok(html) => html,
        // The template is compiled in; should it fail anyway, a bare page still says it.
        Err(_) => format!(
            "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{title}</title>\
             <link rel=\"stylesheet\" href=\"/static/site.css\"></head><body><main id=\"main\" class=\"wrap\">\
             <h1>{title}</h1><p>{message}</p><p><a href=\"/\">はじめに戻る</a></p></main></body></html>",
            title = escape(title),
            message = escape(message)
        ),
    };
    (status, Html(body)).into_response()
}

/// Minimal HTML escaping for the fallback page.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Store(uketsuke_store::Error::NotFound) => Error::NotFound.into_response(),
            Error::Store(uketsuke_store::Error::Forbidden(message)) => {
                Error::Forbidden(message).into_response()
            }
            Error::Store(e @ uketsuke_store::Error::Conflict) => page(
                StatusCode::CONFLICT,
                "他の職員が先に処理しました",
                &e.to_string(),
            ),
            Error::Store(
                e @ (uketsuke_store::Error::NotAllowed(_)
                | uketsuke_store::Error::Field { .. }
                | uketsuke_store::Error::Invalid(_)),
            ) => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "処理できませんでした",
                &e.to_string(),
            ),
            Error::Forbidden(message) => page(StatusCode::FORBIDDEN, "権限がありません", &message),
            Error::TooLarge(message) => page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "ファイルが大きすぎます",
                &message,
            ),
            Error::Unprocessable(message) => page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "入力を確認してください",
                &message,
            ),
            Error::NotFound => page(
                StatusCode::NOT_FOUND,
                "ページが見つかりません",
                "指定されたページまたは案件は見つかりません。",
            ),
            Error::Csrf => page(
                StatusCode::FORBIDDEN,
                "フォームの有効期限が切れました",
                "画面を開き直してから、もう一度操作してください。",
            ),
            other => {
                let chain =
                    std::iter::successors(Some(&other as &dyn std::error::Error), |e| e.source())
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join(": ");
                tracing::error!(error = %chain, "request failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "システムエラー",
                    "システムエラーが発生しました。時間をおいて再度お試しください。解決しない場合はシステム担当者に連絡してください。",
                )
            }
        }
    }
}
