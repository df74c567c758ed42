//! Faults: two dispatchers at once, the SMTP server down then up, `kill -9` in the
//! middle of an import and of a dispatch, and several instances started at the same
//! moment on an empty database.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use uketsuke_store::entities::{outbox, reception_request};
use uketsuke_tests::smtp::SmtpSink;

use super::target::{Database, Server, wait_with_deadline};
use super::{Ctx, Tally};

/// Queues `n` mails tagged `tag`; returns their ids.
async fn enqueue(ctx: &Ctx, tag: &str, n: usize) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::new();
    for i in 0..n {
        let row = uketsuke_store::outbox::enqueue(
            &ctx.pool,
            &uketsuke_store::outbox::NewMessage {
                dedupe_key: format!("attack-{tag}-{i}"),
                kind: "digest".into(),
                bureau_id: Some(super::world::BUREAU.into()),
                recipients: vec!["staff@example.invalid".into()],
                subject: format!("{tag} {i}"),
                body: "攻撃試験のメール".into(),
                attachment: None,
            },
            chrono::Utc::now() - chrono::TimeDelta::seconds(1),
        )
        .await?;
        ids.push(row.id);
    }
    Ok(ids)
}

/// How many times the sink received each outbox row (by its Message-ID).
fn deliveries(sink: &SmtpSink) -> BTreeMap<i64, usize> {
    let mut seen = BTreeMap::new();
    for m in sink.messages() {
        let id = m
            .data
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
            .and_then(|l| l.split("uketsuke-outbox-").nth(1))
            .and_then(|rest| rest.split('@').next())
            .and_then(|id| id.parse::<i64>().ok());
        if let Some(id) = id {
            *seen.entry(id).or_insert(0) += 1;
        }
    }
    seen
}

async fn statuses(ctx: &Ctx, ids: &[i64]) -> anyhow::Result<BTreeMap<i64, String>> {
    Ok(outbox::Entity::find()
        .filter(outbox::Column::Id.is_in(ids.to_vec()))
        .all(&ctx.pool)
        .await?
        .into_iter()
        .map(|r| (r.id, r.status))
        .collect())
}

/// `uketsuke outbox send` as a child process, mail to `port`.
fn dispatcher(ctx: &Ctx, port: u16, env: &[(&str, &str)]) -> anyhow::Result<std::process::Child> {
    let mut cmd = ctx.bin.command(&ctx.db.url, port, &["outbox", "send"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ok(cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?)
}

/// Two (then three) `uketsuke outbox send` at once over the same queued mails: each mail
/// reaches the SMTP sink exactly once and is marked sent.
pub async fn two_dispatchers(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let rounds: &[usize] = if ctx.fast { &[2] } else { &[2, 3, 2] };
    for (round, &senders) in rounds.iter().enumerate() {
        let sink = SmtpSink::start().await;
        let n = if ctx.fast { 30 } else { 60 };
        let ids = enqueue(ctx, &format!("dispatch{round}"), n).await?;
        let mut children = Vec::new();
        for _ in 0..senders {
            children.push(dispatcher(ctx, sink.port, &[])?);
        }
        for mut c in children {
            let status = tokio::task::spawn_blocking(move || {
                wait_with_deadline(&mut c, Duration::from_secs(120))
            })
            .await?;
            t.check(status.is_some_and(|s| s.success()), || {
                format!("a dispatcher ended with {status:?}")
            });
        }
        let seen = deliveries(&sink);
        let states = statuses(ctx, &ids).await?;
        for id in &ids {
            let times = seen.get(id).copied().unwrap_or(0);
            t.check(times == 1, || {
                format!("{senders} dispatchers: mail {id} delivered {times} times")
            });
            t.check(states.get(id).map(String::as_str) == Some("sent"), || {
                format!("mail {id} is {:?}", states.get(id))
            });
        }
    }
    Ok(t)
}

/// A free loopback port with nothing listening.
fn closed_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// The SMTP server down: the mail stays queued (retrying, not lost, not dead); up
/// again: it goes out once; a further pass sends nothing.
pub async fn smtp_outage(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let port = closed_port()?;
    let n = if ctx.fast { 5 } else { 15 };
    let ids = enqueue(ctx, "outage", n).await?;
    let passes = if ctx.fast { 1 } else { 3 };
    for pass in 0..passes {
        let mut c = dispatcher(ctx, port, &[])?;
        let status = tokio::task::spawn_blocking(move || {
            wait_with_deadline(&mut c, Duration::from_secs(120))
        })
        .await?;
        // `outbox send` says that mail failed (exit 1), and keeps it queued.
        t.check(status.is_some_and(|s| s.code() == Some(1)), || {
            format!("dispatch with SMTP down (pass {pass}) ended {status:?}")
        });
        let states = statuses(ctx, &ids).await?;
        for id in &ids {
            t.check(states.get(id).map(String::as_str) == Some("queued"), || {
                format!("SMTP down: mail {id} is {:?}", states.get(id))
            });
        }
        // The retry is due after the backoff (1 s, 2 s, 4 s with the suite's base).
        tokio::time::sleep(Duration::from_millis(1100 * (1 << pass))).await;
    }
    let sink = SmtpSink::start_on(port).await;
    tokio::time::sleep(Duration::from_millis(1100 * (1 << passes))).await;
    for _ in 0..2 {
        let mut c = dispatcher(ctx, port, &[])?;
        let _ = tokio::task::spawn_blocking(move || {
            wait_with_deadline(&mut c, Duration::from_secs(120))
        })
        .await?;
    }
    let seen = deliveries(&sink);
    let states = statuses(ctx, &ids).await?;
    for id in &ids {
        let times = seen.get(id).copied().unwrap_or(0);
        t.check(times == 1, || {
            format!("SMTP back: mail {id} delivered {times} times")
        });
        t.check(states.get(id).map(String::as_str) == Some("sent"), || {
            format!("SMTP back: mail {id} is {:?}", states.get(id))
        });
    }
    Ok(t)
}

/// `kill -9` of `uketsuke outbox send` in the middle of sending; a restart after the lease
/// sends the rest: no mail lost, no mail marked sent is sent again, and at most the one
/// mail in flight at the kill goes out twice (at-least-once, same Message-ID).
pub async fn kill_mid_dispatch(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let rounds = if ctx.fast { 1 } else { 3 };
    for round in 0..rounds {
        let sink = SmtpSink::start().await;
        let n = if ctx.fast { 60 } else { 150 };
        let ids = enqueue(ctx, &format!("killsend{round}"), n).await?;
        let lease = [("UKETSUKE_OUTBOX__LEASE_SECS", "2")];
        let mut c = dispatcher(ctx, sink.port, &lease)?;
        let target = n / 3 + round * n / 6;
        let started = Instant::now();
        while sink.messages().len() < target && started.elapsed() < Duration::from_secs(60) {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let was_running = matches!(c.try_wait(), Ok(None));
        let _ = c.kill();
        let _ = c.wait();
        let before_restart = deliveries(&sink);
        let sent_at_kill: Vec<i64> = statuses(ctx, &ids)
            .await?
            .into_iter()
            .filter(|(_, s)| s == "sent")
            .map(|(id, _)| id)
            .collect();
        t.check(was_running, || {
            format!("round {round}: the dispatcher had finished before the kill")
        });
        // After the lease the killed worker's rows are claimed again.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let mut c = dispatcher(ctx, sink.port, &lease)?;
        let status = tokio::task::spawn_blocking(move || {
            wait_with_deadline(&mut c, Duration::from_secs(120))
        })
        .await?;
        t.check(status.is_some_and(|s| s.success()), || {
            format!("the restarted dispatcher ended {status:?}")
        });
        let seen = deliveries(&sink);
        let states = statuses(ctx, &ids).await?;
        let mut twice = Vec::new();
        for id in &ids {
            let times = seen.get(id).copied().unwrap_or(0);
            t.check(times >= 1, || format!("round {round}: mail {id} was lost"));
            t.check(states.get(id).map(String::as_str) == Some("sent"), || {
                format!("round {round}: mail {id} is {:?}", states.get(id))
            });
            if times > 1 {
                twice.push(*id);
            }
            if sent_at_kill.contains(id) {
                let again = times - before_restart.get(id).copied().unwrap_or(0);
                t.check(again == 0, || {
                    format!(
                        "round {round}: mail {id}, marked sent, was sent again after the restart"
                    )
                });
            }
        }
        t.check(twice.len() <= 1, || {
            format!(
                "round {round}: {} mails delivered twice: {twice:?}",
                twice.len()
            )
        });
        eprintln!(
            "      round {round}: killed after {} deliveries, {} marked sent; {} twice (the one in flight)",
            before_restart.values().sum::<usize>(),
            sent_at_kill.len(),
            twice.len()
        );
    }
    Ok(t)
}

/// `kill -9` of `uketsuke import` of a large monthly list at several moments: the
/// database holds all of the file's requests or none; importing it again afterwards
/// gives each request exactly once.
pub async fn kill_mid_import(ctx: &Ctx) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let rows = if ctx.fast { 600 } else { 2000 };
    let count = |tag: String| async move {
        anyhow::Ok(
            reception_request::Entity::find()
                .filter(reception_request::Column::FacilityName.starts_with(format!("{tag}医院")))
                .count(&ctx.pool)
                .await?,
        )
    };
    // How long a whole import takes, to place the kills.
    let tag = "計時".to_owned();
    let path = ctx.bin.dir.join("timing.xlsx");
    std::fs::write(&path, super::files::monthly_list(rows, &tag)?)?;
    let started = Instant::now();
    let out = ctx.bin.run(
        &ctx.db.url,
        ctx.smtp.port,
        &["import", "--valid-rows", &path.display().to_string()],
    )?;
    let whole = started.elapsed();
    anyhow::ensure!(
        count(tag.clone()).await? == rows as u64,
        "the timing import wrote {} of {rows}: {}",
        count(tag).await?,
        String::from_utf8_lossy(&out.stdout)
            .chars()
            .take(400)
            .collect::<String>()
    );
    eprintln!(
        "      a whole import of {rows} requests takes {:.1} s",
        whole.as_secs_f64()
    );
    let fractions: &[f64] = if ctx.fast {
        &[0.5, 0.85]
    } else {
        &[0.3, 0.6, 0.85, 0.95, 0.99]
    };
    let mut mid = 0;
    for (k, f) in fractions.iter().enumerate() {
        let tag = format!("中断{k}");
        let path = ctx.bin.dir.join(format!("kill-{k}.xlsx"));
        std::fs::write(&path, super::files::monthly_list(rows, &tag)?)?;
        let path_s = path.display().to_string();
        let mut child = ctx
            .bin
            .command(
                &ctx.db.url,
                ctx.smtp.port,
                &["import", "--valid-rows", path_s.as_str()],
            )
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        tokio::time::sleep(whole.mul_f64(*f)).await;
        let running = matches!(child.try_wait(), Ok(None));
        let _ = child.kill();
        let _ = child.wait();
        if running {
            mid += 1;
        }
        let n = count(tag.clone()).await?;
        t.check(n == 0 || n == rows as u64, || {
            format!(
                "killed at {:.0}%: {n} of {rows} requests were written",
                f * 100.0
            )
        });
        // Again, to the end: every request once.
        let again = Instant::now();
        let out = ctx.bin.run(
            &ctx.db.url,
            ctx.smtp.port,
            &["import", "--valid-rows", path_s.as_str()],
        )?;
        let n = count(tag.clone()).await?;
        eprintln!(
            "      killed at {:.0}% ({}), re-import {:.1} s",
            f * 100.0,
            if running { "running" } else { "already ended" },
            again.elapsed().as_secs_f64()
        );
        t.check(n == rows as u64, || {
            format!(
                "re-import after the kill: {n} of {rows} ({})",
                String::from_utf8_lossy(&out.stderr)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )
        });
    }
    t.check(mid > 0, || {
        "no kill landed while the import was running".into()
    });
    eprintln!(
        "      {mid} of {} kills landed while the import ran",
        fractions.len()
    );
    Ok(t)
}

/// Two and three `uketsuke serve` started at the same moment on an empty database: all
/// come up and serve; the schema and the bureaus are there once.
pub async fn simultaneous_start(ctx: &Ctx, pg_url: &str) -> anyhow::Result<Tally> {
    let mut t = Tally::new();
    let rounds: &[usize] = if ctx.fast { &[3] } else { &[2, 3, 3] };
    for &k in rounds {
        let db = Database::create(ctx.db.backend, pg_url, &ctx.bin.dir).await?;
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(k));
        let mut handles = Vec::new();
        for _ in 0..k {
            let (bin, url, port, barrier) = (
                ctx.bin.clone(),
                db.url.clone(),
                ctx.smtp.port,
                barrier.clone(),
            );
            handles.push(std::thread::spawn(move || {
                barrier.wait();
                Server::start(&bin, &url, port)
            }));
        }
        let mut servers = Vec::new();
        for h in handles {
            match h.join() {
                Ok(Ok(s)) => servers.push(s),
                Ok(Err(e)) => t.check(false, || format!("{k} at once: {e:#}")),
                Err(_) => t.check(false, || "a starter thread panicked".into()),
            }
        }
        for s in &servers {
            let b = super::client::Browser::new(&s.base_url);
            let page = b.get("/healthz").await?;
            t.check(page.status == reqwest::StatusCode::OK, || {
                format!("{k} at once: /healthz {}", page.status)
            });
        }
        let pool = db.connect().await?;
        let bureaus = uketsuke_store::entities::bureau::Entity::find()
            .count(&pool)
            .await?;
        t.check(bureaus == 8, || format!("{k} at once: {bureaus} bureaus"));
        let pending = uketsuke_store::db::migration_status(&pool)
            .await?
            .iter()
            .filter(|m| !m.applied)
            .count();
        t.check(pending == 0, || {
            format!("{k} at once: {pending} migrations pending")
        });
        let _ = pool.close().await;
        drop(servers);
        db.drop_now().await;
    }
    Ok(t)
}
