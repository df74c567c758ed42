//! The end-to-end test kit. [`TestApp::spawn`] starts the real application — the same
//! settings, migrations and router as `uketsuke serve` — on port 0 with a database of
//! its own: a fresh SQLite file, or, when `TEST_DATABASE_URL` names a PostgreSQL
//! server, a fresh database named by a UUID that is dropped afterwards.

pub mod smtp;

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use uketsuke::settings::Settings;
use uketsuke::startup::{self, Application};

/// The workspace's `config/` folder.
pub fn config_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../config"))
}

/// The settings of `config/`, unchanged.
pub fn settings() -> Settings {
    match Settings::load(&config_dir()) {
        Ok(s) => s,
        Err(e) => panic!("config/ must load: {e:#}"),
    }
}

/// A database of a test's own, removed when dropped.
pub struct TestDatabase {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh, empty database: PostgreSQL if `TEST_DATABASE_URL` is set, else SQLite.
    pub async fn create() -> Self {
        let id = uuid::Uuid::new_v4().simple().to_string();
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(admin_url) => {
                let name = format!("uketsuke_test_{id}");
                let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("TEST_DATABASE_URL ({admin_url}) must be reachable: {e}")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
                let _ = admin.close().await;
                let url = replace_database(&admin_url, &name);
                Self {
                    url,
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            None => {
                let path = std::env::temp_dir().join(format!("uketsuke-test-{id}.sqlite"));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                Self {
                    url,
                    cleanup: Cleanup::File(path),
                }
            }
        }
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm", ".lock"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let (admin_url, name) = (admin_url.clone(), name.clone());
                // Drop runs outside any async context we may block: use a thread of its own.
                let _ = std::thread::spawn(move || {
                    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    else {
                        return;
                    };
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            let _ = admin
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                                ))
                                .await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// `postgres://user@host:port/db?x` with its database replaced by `name`.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The running application, its database and an HTTP client.
pub struct TestApp {
    pub base_url: String,
    pub db: DatabaseConnection,
    pub settings: Settings,
    pub client: reqwest::Client,
    pub database: TestDatabase,
    /// The app's counters and scheduler heartbeat (what `/metrics` and `/healthz` read).
    pub metrics: std::sync::Arc<uketsuke_web::metrics::Metrics>,
}

impl TestApp {
    /// Starts the app without demo data.
    pub async fn spawn() -> Self {
        Self::spawn_with(false).await
    }

    /// Starts the app, with demo data when `demo` is true (as `serve --demo`).
    pub async fn spawn_with(demo: bool) -> Self {
        Self::spawn_configured(demo, |_| {}).await
    }

    /// Starts the app with the settings of `config/` changed by `configure` first (e.g. a
    /// bureau's letterhead), with demo data when `demo` is true.
    pub async fn spawn_configured(demo: bool, configure: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase::create().await;
        let mut settings = settings();
        configure(&mut settings);
        settings.database.url = database.url.clone();
        settings.database.max_connections = 8;
        let db = startup::prepare_database(&settings)
            .await
            .unwrap_or_else(|e| panic!("database must prepare: {e:#}"));
        if demo {
            uketsuke::demo::load(&db, &settings)
                .await
                .unwrap_or_else(|e| panic!("demo must load: {e:#}"));
        }
        let app = Application::build(&settings, db.clone(), "127.0.0.1:0", demo)
            .await
            .unwrap_or_else(|e| panic!("app must build: {e:#}"));
        let addr = app.local_addr().unwrap_or_else(|e| panic!("{e}"));
        let metrics = app.metrics();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        Self {
            base_url: format!("http://{addr}"),
            db,
            settings,
            client,
            database,
            metrics,
        }
    }

    /// Creates an account directly in the database; returns its password.
    pub async fn create_user(&self, username: &str, role: &str, bureau: &str) -> String {
        let password = format!("pw-{username}-0123456789");
        let new = uketsuke_store::users::NewUser {
            username: username.to_owned(),
            display_name: format!("{username} さん"),
            password_hash: uketsuke_store::users::hash_password(&password),
            role: uketsuke_store::users::Role::parse(role).unwrap_or_else(|e| panic!("{e}")),
            bureau_id: bureau.to_owned(),
            office_id: None,
        };
        uketsuke_store::users::create(
            &self.db,
            &new,
            &uketsuke_store::audit::Actor::system("test"),
        )
        .await
        .unwrap_or_else(|e| panic!("create user: {e}"));
        password
    }

    /// Signs out whoever is signed in and signs in as `username` of `bureau`, creating
    /// the account with `role` the first time.
    pub async fn switch_to(&self, username: &str, role: &str, bureau: &str) {
        let csrf = self.csrf("/dashboard").await;
        if !csrf.is_empty() {
            self.post_form("/logout", &[("csrf", csrf.as_str())]).await;
        }
        if uketsuke_store::users::find_by_username(&self.db, username)
            .await
            .unwrap()
            .is_none()
        {
            self.create_user(username, role, bureau).await;
        }
        self.login(username, &format!("pw-{username}-0123456789"))
            .await;
    }

    /// Posts a form with the signed-in session's CSRF token.
    pub async fn post_signed(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let csrf = self.csrf("/dashboard").await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(path, &all).await
    }

    /// Enters a request through the form as whoever is signed in: a 医科 request in
    /// 新宿区 for 令和9年4月1日, with `fields` replacing or adding to those; returns its
    /// id (and names the form's errors if it was not saved).
    pub async fn enter_request(&self, fields: &[(&str, &str)]) -> i32 {
        let mut all: Vec<(&str, &str)> = vec![
            ("reply_address", "東京都新宿区西新宿2-8-1"),
            ("reply_name", "開設準備室"),
            ("kind", "medical"),
            ("facility_name", "入力試験クリニック"),
            ("facility_address", "東京都新宿区西新宿2-8-1"),
            ("designation_date", "令和9年4月1日"),
            ("founder_kind", "person"),
            ("founder_name", "厚生 太郎"),
            ("contact_phone", "03-5321-1111"),
        ];
        for (key, value) in fields {
            all.retain(|(k, _)| k != key);
            all.push((key, value));
        }
        let response = self.post_signed("/requests/new", &all).await;
        let status = response.status();
        if status != 303 {
            let page = response.text().await.unwrap();
            let errors: Vec<&str> = page.lines().filter(|l| l.contains("error")).collect();
            panic!("entry: {status}: {errors:?}");
        }
        response.headers()["location"]
            .to_str()
            .unwrap()
            .trim_start_matches("/cases/")
            .parse()
            .unwrap()
    }

    /// The request (case) `id` as stored.
    pub async fn request(&self, id: i32) -> uketsuke_store::entities::reception_request::Model {
        use sea_orm::EntityTrait;
        uketsuke_store::entities::reception_request::Entity::find_by_id(id)
            .one(&self.db)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("request {id}"))
    }

    /// Calls the JSON API with a bearer token: the status and the JSON answer (null
    /// when the answer is not JSON).
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base_url))
            .bearer_auth(token);
        if let Some(b) = body {
            request = request.json(&b);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// Signs in through the login form; panics unless it lands on the dashboard.
    pub async fn login(&self, username: &str, password: &str) {
        let response = self.try_login(username, password).await;
        assert_eq!(response.status(), 303, "login of {username} must redirect");
        assert_eq!(response.headers()["location"], "/dashboard");
    }

    /// Posts the login form and returns the response.
    pub async fn try_login(&self, username: &str, password: &str) -> reqwest::Response {
        let page = self.get("/login").await.text().await.unwrap_or_default();
        let csrf = csrf_of(&page);
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

    /// Follows a 303 (See Other) to the page it names; panics on any other answer.
    pub async fn follow(&self, response: reqwest::Response) -> reqwest::Response {
        assert_eq!(
            response.status(),
            303,
            "a redirect to follow: {}",
            response.url()
        );
        let location = response.headers()["location"]
            .to_str()
            .unwrap_or_default()
            .to_owned();
        self.get(&location).await
    }

    /// The CSRF token of a page the client fetches.
    pub async fn csrf(&self, path: &str) -> String {
        csrf_of(&self.get(path).await.text().await.unwrap_or_default())
    }

    /// POST a form.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base_url))
            .form(fields)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    /// A copy of `config/` pointing at this app's database and at an SMTP server on
    /// `smtp_port`, for running the command line in-process. Removed on drop.
    pub fn cli_config(&self, smtp_port: u16) -> CliConfig {
        let dir =
            std::env::temp_dir().join(format!("uketsuke-config-{}", uuid::Uuid::new_v4().simple()));
        let source = config_dir();
        std::fs::create_dir_all(dir.join("bureaus")).unwrap_or_else(|e| panic!("{e}"));
        for entry in std::fs::read_dir(source.join("bureaus")).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if let Some(name) = path.file_name() {
                std::fs::copy(&path, dir.join("bureaus").join(name))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
        let default =
            std::fs::read_to_string(source.join("default.toml")).unwrap_or_else(|e| panic!("{e}"));
        let default = default
            .replace("sqlite://data/uketsuke.sqlite?mode=rwc", &self.database.url)
            .replace("port = 1025", &format!("port = {smtp_port}"))
            .replace("timeout_secs = 60", "timeout_secs = 5");
        std::fs::write(dir.join("default.toml"), default).unwrap_or_else(|e| panic!("{e}"));
        CliConfig(dir)
    }

    /// A second, independent browser (its own cookies).
    pub fn client_for(_app: &TestApp) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// A second browser signed in as `username`: panics unless the login redirects to the
    /// dashboard.
    pub async fn browser_signed_in(&self, username: &str, password: &str) -> reqwest::Client {
        let client = Self::client_for(self);
        let page = client
            .get(format!("{}/login", self.base_url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET /login: {e}"))
            .text()
            .await
            .unwrap_or_default();
        let csrf = csrf_of(&page);
        let response = client
            .post(format!("{}/login", self.base_url))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /login: {e}"));
        assert_eq!(
            response.status(),
            303,
            "login of {username} in a second browser"
        );
        client
    }

    /// GET a path of the app.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}

/// A temporary configuration folder (see [`TestApp::cli_config`]).
pub struct CliConfig(pub PathBuf);

impl CliConfig {
    /// Runs `uketsuke ARGS` in-process, exactly as the binary parses and runs them.
    pub async fn run(&self, args: &[&str]) -> anyhow::Result<std::process::ExitCode> {
        use clap::Parser;
        let dir = self.0.to_string_lossy().into_owned();
        let argv = ["uketsuke", "--config", dir.as_str()]
            .into_iter()
            .chain(args.iter().copied());
        uketsuke::cli::run(uketsuke::cli::Cli::try_parse_from(argv)?).await
    }
}

impl Drop for CliConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a refusal (403) says, so that a role refusal, a CSRF refusal and a refusal for
/// the case's status (a 422) can be told apart.
pub mod refusal {
    /// The page of a form whose CSRF token is not the session's.
    pub const CSRF: &str = "フォームの有効期限が切れました";

    /// The words of a refusal for a role weaker than `label` (閲覧, 担当, 決裁, 管理).
    pub fn role(label: &str) -> String {
        format!("「{label}」以上の権限が必要です")
    }
}

/// Asserts that `response` is a 403 whose page says `says`; returns the page.
pub async fn assert_refused(response: reqwest::Response, says: &str) -> String {
    let status = response.status();
    let page = response.text().await.unwrap_or_default();
    assert_eq!(status, 403, "a refusal saying {says}: {page}");
    assert!(page.contains(says), "the refusal says {says}: {page}");
    page
}

/// The value of the first `name="csrf"` hidden field in a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    html.find(marker)
        .map(|i| &html[i + marker.len()..])
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn replace_database_swaps_only_the_database_name() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(replace_database("postgres://h", "x"), "postgres://h/x");
    }
}
