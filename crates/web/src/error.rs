//! The web layer's error: a 500 is logged once with its cause chain, and the user sees
//! a plain Japanese message without internals.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] uketsuke_store::Error),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Template(#[from] askama::Error),
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let chain = std::iter::successors(Some(&self as &dyn std::error::Error), |e| e.source())
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        tracing::error!(error = %chain, "request failed");
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            Html(
                "<!doctype html><html lang=\"ja\"><meta charset=\"utf-8\"><title>エラー</title>\
                 <p>システムエラーが発生しました。時間をおいて再度お試しください。\
                 解決しない場合はシステム担当者に連絡してください。</p></html>",
            ),
        )
            .into_response()
    }
}
