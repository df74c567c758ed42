//! Clients of the running server: a browser (cookies, the CSRF token of the pages) and
//! the JSON API with a bearer token. Both follow no redirects, so a redirect to the
//! login page is seen as such.

use std::net::IpAddr;

use anyhow::{Context, bail};
use reqwest::StatusCode;

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    pub location: String,
    pub body: Vec<u8>,
}

impl Page {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Whether the response is a redirect to the login page.
    pub fn to_login(&self) -> bool {
        self.status.is_redirection() && self.location.starts_with("/login")
    }

    async fn read(r: reqwest::Response) -> anyhow::Result<Self> {
        let status = r.status();
        let header = |name: reqwest::header::HeaderName| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let location = header(reqwest::header::LOCATION);
        let body = r.bytes().await?.to_vec();
        Ok(Self {
            status,
            location,
            body,
        })
    }
}

/// A browser: its own cookies.
#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(120))
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self::from_address(base, None)
    }

    /// A browser whose connections come from `local` (another loopback address is
    /// another client for the server's per-address login throttle).
    pub fn from_address(base: &str, local: Option<IpAddr>) -> Self {
        let client = builder()
            .cookie_store(true)
            .local_address(local)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            base: base.to_owned(),
            client,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Page> {
        let r = self
            .client
            .get(self.url(path))
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        Page::read(r).await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Page> {
        let r = self
            .client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        Page::read(r).await
    }

    /// The CSRF token on a page.
    pub async fn csrf(&self, path: &str) -> anyhow::Result<String> {
        let page = self.get(path).await?;
        let token = uketsuke_tests::csrf_of(&page.text());
        if token.is_empty() {
            bail!("no CSRF token on {path} ({})", page.status);
        }
        Ok(token)
    }

    /// Posts the login form (with the login page's token).
    pub async fn try_login(&self, username: &str, password: &str) -> anyhow::Result<Page> {
        let csrf = self.csrf("/login").await?;
        self.post_form(
            "/login",
            &[
                ("csrf", csrf.as_str()),
                ("username", username),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs in; an error unless the login lands on the dashboard.
    pub async fn login_ok(&self, username: &str, password: &str) -> anyhow::Result<()> {
        let page = self.try_login(username, password).await?;
        if page.status != StatusCode::SEE_OTHER || page.location != "/dashboard" {
            bail!("login of {username} failed: {}", page.status);
        }
        Ok(())
    }

    /// A multipart upload of `bytes` as `name` to `/requests/upload`.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> anyhow::Result<Page> {
        let csrf = self.csrf("/requests/upload").await?;
        let form = reqwest::multipart::Form::new().text("csrf", csrf).part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
        let r = self
            .client
            .post(self.url("/requests/upload"))
            .multipart(form)
            .send()
            .await
            .context("POST /requests/upload")?;
        Page::read(r).await
    }
}

/// The JSON API with a bearer token.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub client: reqwest::Client,
}

impl Api {
    pub fn new(base: &str, token: String) -> Self {
        Self {
            base: base.to_owned(),
            token,
            client: builder().build().unwrap_or_else(|_| reqwest::Client::new()),
        }
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<(StatusCode, serde_json::Value)> {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .with_context(|| format!("GET {path}"))?;
        let status = r.status();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        Ok((status, body))
    }

    pub async fn post(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<(StatusCode, serde_json::Value)> {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {path}"))?;
        let status = r.status();
        let body = r.json().await.unwrap_or(serde_json::Value::Null);
        Ok((status, body))
    }

    /// Creates a request; returns its id.
    pub async fn create_case(&self, body: &serde_json::Value) -> anyhow::Result<i32> {
        let (status, json) = self.post("/api/v1/requests", body).await?;
        if status != StatusCode::CREATED && status != StatusCode::OK {
            bail!("POST /api/v1/requests: {status} {json}");
        }
        json["id"]
            .as_i64()
            .map(|i| i as i32)
            .with_context(|| format!("no id in {json}"))
    }

    /// The case's current version.
    pub async fn version(&self, id: i32) -> anyhow::Result<i64> {
        let (status, json) = self.get(&format!("/api/v1/requests/{id}")).await?;
        json["version"]
            .as_i64()
            .with_context(|| format!("GET /api/v1/requests/{id}: {status} {json}"))
    }

    /// One action with the current version; an error unless 200.
    pub async fn act_ok(
        &self,
        id: i32,
        action: &str,
        extra: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let version = self.version(id).await?;
        let mut body = serde_json::json!({ "version": version });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let (status, json) = self
            .post(&format!("/api/v1/requests/{id}/{action}"), &body)
            .await?;
        if status != StatusCode::OK {
            bail!("{action} on case {id}: {status} {json}");
        }
        Ok(json)
    }
}

/// A request body for the API, with a facility name and an address.
pub fn new_case(name: &str, address: &str) -> serde_json::Value {
    serde_json::json!({
        "kind": "medical",
        "facility_name": name,
        "facility_address": address,
        "designation_date": "令和9年4月1日",
        "founder_name": "攻撃 太郎",
        "contact_phone": "03-5321-1111",
    })
}
