//! The access log (アクセスログ): one line per request at `info` — method, the matched
//! route (its template, e.g. `/cases/{id}`, never the query string, which may carry a
//! facility's or a person's name), status, latency and the client's address.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Logs the request once its response is ready (target `uketsuke::access`).
pub async fn log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "-".to_owned(), |p| p.as_str().to_owned());
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "-".to_owned(), |c| c.0.ip().to_string());
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        target: "uketsuke::access",
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = format!("{latency_ms:.1}"),
        client = %client,
        "request"
    );
    response
}
