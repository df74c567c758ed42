//! Backup and restore (バックアップと復元), for the bureau's IT staff.
//!
//! - `uketsuke backup --out FILE` copies the configured database while the server runs.
//!   SQLite: `VACUUM INTO`, which reads one snapshot in a read transaction, so writes
//!   going on at the same time are either wholly in the copy or wholly not; the copy is
//!   written beside FILE, checked (`PRAGMA integrity_check`) and only then renamed to
//!   FILE. PostgreSQL: `pg_dump --format=custom` (one snapshot as well), when `pg_dump`
//!   is on `PATH`; otherwise the command prints what to run and exits 3.
//! - `uketsuke restore FILE` puts a backup into an **empty** database (a new one, or one
//!   that `serve` has only started: nothing but the bureaus, offices and migrations).
//!   A database holding work is refused, naming its tables, and left as it was. SQLite:
//!   a database some process has open is refused too; the file is copied beside the
//!   target, checked, and renamed into place. PostgreSQL:
//!   `pg_restore --single-transaction` (or `psql --single-transaction` for a plain SQL
//!   dump), so a failed restore leaves nothing half-written.
//!
//! A backup holds personal data: it is written readable by its owner only (mode 0600).
//! Both print a JSON summary (the tables and their row counts) on stdout and a line for
//! people on stderr. Exit codes: 0 done, 1 refused (the file exists, the target holds
//! data, not a backup of this kind), 2 failed, 3 a PostgreSQL client tool is missing.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::json;
use uketsuke_store::monitor;

use crate::settings::Settings;
use crate::startup::redact;

/// A refusal: nothing was changed (exit code 1).
pub const EXIT_REFUSED: u8 = 1;
/// `pg_dump`, `pg_restore` or `psql` is not on `PATH` (exit code 3).
pub const EXIT_TOOL_MISSING: u8 = 3;

/// The exit codes, as `--help` shows them.
pub const EXIT_CODES_HELP: &str = "Exit codes / 終了コード:\n  \
    0  done (完了)\n  \
    1  refused, nothing changed (拒否: 出力先が既にある・復元先にデータがある・バックアップの種類が違う)\n  \
    2  failed (失敗: 接続できない・コマンドが失敗した)\n  \
    3  pg_dump / pg_restore / psql not on PATH; the command to run is printed (PostgreSQL のクライアントがない)";

/// Which database a URL names.
enum Target {
    Sqlite(PathBuf),
    Postgres,
}

fn target_of(url: &str) -> anyhow::Result<Target> {
    if url.starts_with("sqlite:") {
        let path = uketsuke_store::db::sqlite_file(url).with_context(|| {
            format!(
                "メモリ上の SQLite（{}）はバックアップ・復元できません",
                redact(url)
            )
        })?;
        Ok(Target::Sqlite(PathBuf::from(path)))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Target::Postgres)
    } else {
        bail!(
            "データベースの URL（{}）は sqlite: でも postgres: でもありません",
            redact(url)
        )
    }
}

fn refused(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("拒否: {message}");
    ExitCode::from(EXIT_REFUSED)
}

/// `uketsuke backup --out FILE`.
pub async fn backup(settings: &Settings, out: &Path) -> anyhow::Result<ExitCode> {
    let url = &settings.database.url;
    let target = target_of(url)?;
    if out.exists() {
        return Ok(refused(format!(
            "{} は既にあります。上書きはしません（別のファイル名を指定してください）",
            out.display()
        )));
    }
    // PostgreSQL needs its client; without it, say what to run (before touching anything).
    let pg_dump = find_on_path("pg_dump");
    if matches!(target, Target::Postgres) && pg_dump.is_none() {
        eprintln!(
            "pg_dump が見つかりません（PATH にありません）。PostgreSQL のクライアント\
             （Debian: apt-get install postgresql-client、サーバーと同じか新しい版）を入れるか、\
             データベースに届く端末で次を実行してください（パスワードは環境変数 PGPASSWORD で渡します）:\n  \
             pg_dump --format=custom --no-owner --no-privileges --file {} '{}'",
            shell_word(&out.to_string_lossy()),
            without_password(url).0
        );
        return Ok(ExitCode::from(EXIT_TOOL_MISSING));
    }
    let partial = partial_path(out, "partial");
    let _ = std::fs::remove_file(&partial);
    // Created empty and private first, so the copy is never readable by others, not
    // even while it is being written.
    private_empty_file(&partial)?;
    let summary = match target {
        Target::Sqlite(path) => {
            if !path.is_file() {
                let _ = std::fs::remove_file(&partial);
                bail!(
                    "データベースファイル {} がありません（DATABASE_URL・database.url を確認してください）",
                    path.display()
                );
            }
            let db = match uketsuke_store::db::connect(url, 1).await {
                Ok(db) => db,
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(anyhow::Error::new(e)
                        .context(format!("データベースに接続できません（{}）", redact(url))));
                }
            };
            let sql = format!("VACUUM INTO {}", sql_text(&partial.to_string_lossy()));
            let result = db
                .execute_unprepared(&sql)
                .await
                .with_context(|| format!("{} に書き出せません", partial.display()));
            let _ = db.close().await;
            if let Err(e) = result {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
            match check_sqlite_file(&partial).await {
                Ok(tables) => tables,
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e.context("書き出したバックアップの検査に失敗しました"));
                }
            }
        }
        Target::Postgres => {
            let (dsn, password) = without_password(url);
            let mut cmd =
                std::process::Command::new(pg_dump.unwrap_or_else(|| PathBuf::from("pg_dump")));
            cmd.args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(&partial)
                .arg("--dbname")
                .arg(&dsn);
            if let Some(p) = password {
                cmd.env("PGPASSWORD", p);
            }
            if let Err(e) = run_tool("pg_dump", cmd).await {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
            // The dump must read back: its table of contents lists every table's data.
            let mut list = std::process::Command::new(
                find_on_path("pg_restore").unwrap_or_else(|| PathBuf::from("pg_restore")),
            );
            list.arg("--list").arg(&partial);
            match run_tool("pg_restore --list", list).await {
                Ok(toc) => toc
                    .lines()
                    .filter_map(|l| l.split(" TABLE DATA ").nth(1))
                    .filter_map(|rest| rest.split_whitespace().nth(1))
                    .map(|name| json!({ "table": name }))
                    .collect::<Vec<_>>(),
                Err(e) => {
                    let _ = std::fs::remove_file(&partial);
                    return Err(e.context("書き出したバックアップを読み直せません"));
                }
            }
        }
    };
    // The copy holds personal data (founders, contacts): readable by its owner only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("{} の権限を変えられません", partial.display()))?;
    }
    std::fs::rename(&partial, out)
        .with_context(|| format!("{} に名前を変えられません", out.display()))?;
    let bytes = std::fs::metadata(out).map(|m| m.len()).unwrap_or_default();
    println!(
        "{}",
        json!({
            "file": out.display().to_string(),
            "backend": backend_name(url),
            "bytes": bytes,
            "tables": summary,
        })
    );
    eprintln!(
        "バックアップを {} に書き出しました（{} バイト）",
        out.display(),
        bytes
    );
    Ok(ExitCode::SUCCESS)
}

/// `uketsuke restore FILE`.
pub async fn restore(settings: &Settings, file: &Path) -> anyhow::Result<ExitCode> {
    let url = &settings.database.url;
    let target = target_of(url)?;
    let kind = match backup_kind(file) {
        Ok(kind) => kind,
        Err(message) => return Ok(refused(message)),
    };
    match (&target, kind) {
        (Target::Sqlite(_), BackupKind::Sqlite) => {}
        (Target::Postgres, BackupKind::PgCustom | BackupKind::PgPlain) => {}
        (Target::Sqlite(_), _) => {
            return Ok(refused(format!(
                "{} は PostgreSQL のバックアップです。復元先（{}）は SQLite です",
                file.display(),
                redact(url)
            )));
        }
        (Target::Postgres, BackupKind::Sqlite) => {
            return Ok(refused(format!(
                "{} は SQLite のバックアップです。復元先（{}）は PostgreSQL です",
                file.display(),
                redact(url)
            )));
        }
    }
    match target {
        Target::Sqlite(path) => {
            // SQLite keeps `-shm` beside the file while a connection has it open: a
            // running server would go on writing to the file this restore replaces.
            let shm = partial_path_raw(&path, "-shm");
            if shm.exists() {
                return Ok(refused(format!(
                    "復元先のデータベース {} は使用中です（{} があります）。serve などを止めてから実行してください\
                     （止まっていても残る場合は、異常終了の跡です。uketsuke migrate status を一度実行すると片付きます）",
                    path.display(),
                    shm.display()
                )));
            }
            if path.is_file() && std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) > 0 {
                let db = uketsuke_store::db::connect(url, 1).await.with_context(|| {
                    format!("復元先のデータベースに接続できません（{}）", redact(url))
                })?;
                let data = monitor::tables_with_data(&db).await;
                let _ = db.close().await;
                let data = data?;
                if !data.is_empty() {
                    return Ok(refused(not_empty_message(url, &data)));
                }
            }
            let staged = partial_path(&path, "restoring");
            let _ = std::fs::remove_file(&staged);
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("{} を作成できません", parent.display()))?;
            }
            std::fs::copy(file, &staged).with_context(|| {
                format!("{} を {} に写せません", file.display(), staged.display())
            })?;
            if let Err(e) = check_sqlite_file(&staged).await {
                let _ = std::fs::remove_file(&staged);
                return Err(e.context(format!("{} は壊れています", file.display())));
            }
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(partial_path_raw(&path, suffix));
            }
            std::fs::rename(&staged, &path)
                .with_context(|| format!("{} に置けません", path.display()))?;
        }
        Target::Postgres => {
            let tool = match kind {
                BackupKind::PgCustom => "pg_restore",
                _ => "psql",
            };
            let (dsn, password) = without_password(url);
            let Some(program) = find_on_path(tool) else {
                let command = match kind {
                    BackupKind::PgCustom => format!(
                        "pg_restore --no-owner --no-privileges --single-transaction --exit-on-error --dbname '{dsn}' {}",
                        shell_word(&file.to_string_lossy())
                    ),
                    _ => format!(
                        "psql --no-psqlrc -v ON_ERROR_STOP=1 --single-transaction --dbname '{dsn}' --file {}",
                        shell_word(&file.to_string_lossy())
                    ),
                };
                eprintln!(
                    "{tool} が見つかりません（PATH にありません）。PostgreSQL のクライアント\
                     （Debian: apt-get install postgresql-client）を入れるか、空のデータベースに対して\
                     次を実行してください（パスワードは環境変数 PGPASSWORD で渡します）:\n  {command}"
                );
                return Ok(ExitCode::from(EXIT_TOOL_MISSING));
            };
            let db = Database::connect(url.as_str()).await.with_context(|| {
                format!("復元先のデータベースに接続できません（{}）", redact(url))
            })?;
            let data = monitor::tables_with_data(&db).await?;
            if !data.is_empty() {
                let _ = db.close().await;
                return Ok(refused(not_empty_message(url, &data)));
            }
            // What start-up created (the schema, filled only with the configuration)
            // makes way for the backup's own.
            clear_schema(&db)
                .await
                .context("復元先の空のスキーマを削除できません")?;
            let _ = db.close().await;
            let mut cmd = std::process::Command::new(program);
            match kind {
                BackupKind::PgCustom => {
                    cmd.args([
                        "--no-owner",
                        "--no-privileges",
                        "--single-transaction",
                        "--exit-on-error",
                        "--dbname",
                    ])
                    .arg(&dsn)
                    .arg(file);
                }
                _ => {
                    cmd.args([
                        "--no-psqlrc",
                        "--quiet",
                        "-v",
                        "ON_ERROR_STOP=1",
                        "--single-transaction",
                        "--dbname",
                    ])
                    .arg(&dsn)
                    .arg("--file")
                    .arg(file);
                }
            }
            if let Some(p) = password {
                cmd.env("PGPASSWORD", p);
            }
            run_tool(tool, cmd).await?;
        }
    }
    let db = Database::connect(url.as_str())
        .await
        .with_context(|| format!("復元したデータベースに接続できません（{}）", redact(url)))?;
    let counts = monitor::row_counts(&db).await;
    let _ = db.close().await;
    let counts = counts.context("復元したデータベースを読めません")?;
    println!(
        "{}",
        json!({
            "file": file.display().to_string(),
            "backend": backend_name(url),
            "tables": counts.iter().map(|(t, n)| json!({ "table": t, "rows": n })).collect::<Vec<_>>(),
        })
    );
    eprintln!(
        "{} を {} に復元しました（{} 表）。次に serve を起動すると、必要な移行（migrate up）が適用されます",
        file.display(),
        redact(url),
        counts.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// Drops, in one transaction, the tables (with their indexes, triggers and sequences),
/// the remaining sequences and the functions of the current schema — what migrations
/// create — leaving extensions alone (the backup re-creates them only if missing).
async fn clear_schema(db: &DatabaseConnection) -> anyhow::Result<()> {
    use sea_orm::TransactionTrait;
    let txn = db.begin().await?;
    let tables = monitor::table_names(&txn).await?;
    if !tables.is_empty() {
        let list: Vec<String> = tables.iter().map(|t| monitor::quote_ident(t)).collect();
        txn.execute_unprepared(&format!("DROP TABLE IF EXISTS {} CASCADE", list.join(", ")))
            .await?;
    }
    let sequences = first_column(
        &txn,
        "SELECT quote_ident(sequence_name) FROM information_schema.sequences \
         WHERE sequence_schema = current_schema()",
    )
    .await?;
    for sequence in sequences {
        txn.execute_unprepared(&format!("DROP SEQUENCE IF EXISTS {sequence} CASCADE"))
            .await?;
    }
    let functions = first_column(
        &txn,
        "SELECT p.oid::regprocedure::text FROM pg_proc p \
         JOIN pg_namespace n ON n.oid = p.pronamespace \
         WHERE n.nspname = current_schema() AND NOT EXISTS \
         (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
    )
    .await?;
    for function in functions {
        txn.execute_unprepared(&format!("DROP FUNCTION IF EXISTS {function} CASCADE"))
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The first column of every row of `sql`, as text.
async fn first_column<C: ConnectionTrait>(conn: &C, sql: &str) -> anyhow::Result<Vec<String>> {
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<Result<Vec<_>, _>>()?)
}

fn not_empty_message(url: &str, data: &[(String, u64)]) -> String {
    format!(
        "復元先のデータベース（{}）にはデータがあります（{}）。上書きはしません。\
         新しい空のデータベースを用意して DATABASE_URL で指定してください",
        redact(url),
        data.iter()
            .map(|(t, n)| format!("{t} {n} 件"))
            .collect::<Vec<_>>()
            .join("、")
    )
}

/// What a backup file holds, by its first bytes.
#[derive(Debug, Clone, Copy)]
enum BackupKind {
    Sqlite,
    /// `pg_dump --format=custom`.
    PgCustom,
    /// `pg_dump` as plain SQL.
    PgPlain,
}

fn backup_kind(file: &Path) -> Result<BackupKind, String> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f =
        std::fs::File::open(file).map_err(|e| format!("{} を開けません: {e}", file.display()))?;
    let n = f
        .read(&mut head)
        .map_err(|e| format!("{} を読めません: {e}", file.display()))?;
    let head = &head[..n];
    if head.starts_with(b"SQLite format 3\0") {
        Ok(BackupKind::Sqlite)
    } else if head.starts_with(b"PGDMP") {
        Ok(BackupKind::PgCustom)
    } else if head.starts_with(b"--") {
        Ok(BackupKind::PgPlain)
    } else {
        Err(format!(
            "{} は uketsuke backup（SQLite のファイル、pg_dump の出力）ではありません",
            file.display()
        ))
    }
}

/// Opens a SQLite file read-only, checks its integrity and that it is ours; returns its
/// tables and row counts.
async fn check_sqlite_file(path: &Path) -> anyhow::Result<Vec<serde_json::Value>> {
    let url = format!("sqlite://{}?mode=ro", path.display());
    let db: DatabaseConnection = Database::connect(url.as_str())
        .await
        .with_context(|| format!("{} を開けません", path.display()))?;
    let result = async {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "PRAGMA integrity_check",
            ))
            .await?
            .context("integrity_check")?;
        let verdict: String = row.try_get_by_index(0)?;
        if verdict != "ok" {
            bail!("整合性の検査で問題が見つかりました: {verdict}");
        }
        let counts = monitor::row_counts(&db).await?;
        if !counts.iter().any(|(t, _)| t == "seaql_migrations") {
            bail!("uketsuke のデータベースではありません（移行の記録がありません）");
        }
        Ok(counts
            .iter()
            .map(|(t, n)| json!({ "table": t, "rows": n }))
            .collect())
    }
    .await;
    let _ = db.close().await;
    result
}

/// Runs a client tool off the async threads; its standard output, or an error with its
/// standard error.
async fn run_tool(name: &str, mut cmd: std::process::Command) -> anyhow::Result<String> {
    let name = name.to_owned();
    let output = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .context("外部コマンドの実行に失敗しました")?
        .with_context(|| format!("{name} を実行できません"))?;
    if !output.status.success() {
        bail!(
            "{name} が失敗しました（{}）: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `program` in a folder of `PATH`.
fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// A PostgreSQL URL without its password, and the password (percent-decoded) for
/// `PGPASSWORD`, so that it never shows in the process list or in messages.
fn without_password(url: &str) -> (String, Option<String>) {
    let (Some(scheme), Some(at)) = (url.find("://"), url.rfind('@')) else {
        return (url.to_owned(), None);
    };
    if at < scheme {
        return (url.to_owned(), None);
    }
    let userinfo = &url[scheme + 3..at];
    match userinfo.split_once(':') {
        Some((user, password)) => (
            format!("{}{user}{}", &url[..scheme + 3], &url[at..]),
            Some(
                percent_encoding::percent_decode_str(password)
                    .decode_utf8_lossy()
                    .into_owned(),
            ),
        ),
        None => (url.to_owned(), None),
    }
}

/// Creates `path` empty, readable and writable by its owner only.
fn private_empty_file(path: &Path) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .with_context(|| format!("{} を作成できません", path.display()))?;
    Ok(())
}

/// `path` with `.suffix` added (a file beside it, on the same file system).
fn partial_path(path: &Path, suffix: &str) -> PathBuf {
    partial_path_raw(path, &format!(".{suffix}"))
}

/// `path` with `suffix` appended to its name.
fn partial_path_raw(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// A string as an SQL literal.
fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A word for a POSIX shell, quoted when it needs to be.
fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn backend_name(url: &str) -> &'static str {
    if url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgresql"
    }
}

#[cfg(test)]
mod tests {
    use super::{shell_word, without_password};

    #[test]
    fn the_password_leaves_the_url_and_is_decoded() {
        assert_eq!(
            without_password("postgres://u:p%40ss@h:5432/db?sslmode=disable"),
            (
                "postgres://u@h:5432/db?sslmode=disable".to_owned(),
                Some("p@ss".to_owned())
            )
        );
        assert_eq!(
            without_password("postgres://u@h/db"),
            ("postgres://u@h/db".to_owned(), None)
        );
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("/var/backups/u.dump"), "/var/backups/u.dump");
        assert_eq!(shell_word("バックアップ 1.dump"), "'バックアップ 1.dump'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
