//! Input that no field may hold (入力の検査): a NUL character in a query string, a form
//! or a JSON body is refused with a plain 422 before any handler runs — PostgreSQL
//! cannot store it, and no 別紙1 field has a use for it. Uploaded files (multipart) are
//! left to the ingest checks, which read them as workbooks.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The largest form or JSON body read here (the upload route has its own limit).
const BODY_LIMIT: usize = 2 * 1024 * 1024;

const MESSAGE: &str = "入力に使えない文字（NUL）が含まれています。入力内容を確認してください。";

/// A NUL in URL-encoded text (a query string or a form): raw or as `%00`.
fn has_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(3).any(|w| w == b"%00")
}

/// A NUL in JSON: raw or as the escape `\u0000`.
fn has_nul_json(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000"))
}

fn refuse(api: bool) -> Response {
    if api {
        let body = serde_json::json!({ "error": { "message": MESSAGE } });
        (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(body)).into_response()
    } else {
        crate::error::Error::Unprocessable(MESSAGE.to_owned()).into_response()
    }
}

/// The middleware.
pub async fn reject_nul(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    if request.uri().query().is_some_and(|q| has_nul(q.as_bytes())) {
        return refuse(api);
    }
    let kind = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let check: fn(&[u8]) -> bool = if kind.starts_with("application/x-www-form-urlencoded") {
        has_nul
    } else if kind.starts_with("application/json") {
        has_nul_json
    } else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "入力が大きすぎます").into_response();
    };
    if check(&bytes) {
        return refuse(api);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::{has_nul, has_nul_json};

    #[test]
    fn nul_is_found_raw_percent_encoded_and_json_escaped() {
        assert!(has_nul(b"name=a\0b"));
        assert!(has_nul(b"name=a%00b"));
        assert!(!has_nul(b"name=%E3%81%82&n=100&x=%20&p=100%2500"));
        assert!(has_nul_json(br#"{"facility_name":"a\u0000b"}"#));
        assert!(has_nul_json(br#"{"facility_name":"a\U0000b"}"#));
        assert!(has_nul_json(b"{\"a\":\"\0\"}"));
        assert!(!has_nul_json(br#"{"n":"1000","p":"100%00"}"#));
    }
}
