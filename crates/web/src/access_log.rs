//! The access log (アクセスログ): one line per request at `info` — method, the matched
//! route (its template, e.g. `/cases/{id}`, never the query string, which may carry a
//! facility's or a person's name), status, latency and the client's address.
//!
//! Behind a reverse proxy the connection comes from the proxy: [`client_address`]
//! takes the client from `X-Forwarded-For` when, and only when, the connection comes
//! from a configured trusted proxy (`server.trusted_proxies`), so the access log, the
//! login log and the per-address login throttle see the staff member's address and a
//! client cannot forge one.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
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

/// Replaces the connection's address with the client's from `X-Forwarded-For` when the
/// connection comes from a trusted proxy: the right-most address that is not itself a
/// trusted proxy (addresses further left may be forged by the client).
pub async fn client_address(
    State(trusted): State<Arc<Vec<ipnet::IpNet>>>,
    mut request: Request,
    next: Next,
) -> Response {
    if !trusted.is_empty()
        && let Some(peer) = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
        && trusted.iter().any(|n| n.contains(&peer.ip()))
    {
        let forwarded: Vec<IpAddr> = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .collect();
        if let Some(client) = forwarded
            .iter()
            .rev()
            .find(|ip| !trusted.iter().any(|n| n.contains(*ip)))
        {
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(*client, 0)));
        }
    }
    next.run(request).await
}
