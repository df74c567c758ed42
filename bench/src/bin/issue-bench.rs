//! Issuance under contention: `issue-bench DATABASE_URL CLIENTS TOTAL` issues TOTAL
//! numbers from CLIENTS concurrent tasks, all in one district (the worst case), on a
//! fresh database, and prints JSON with the throughput and the proof of zero
//! duplicates (distinct codes = TOTAL, every code valid).
//! DATABASE_URL is a PostgreSQL server URL (a database named by a UUID is created and
//! dropped) or `sqlite` (a fresh temporary file).

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::Context;
use sea_orm::{ConnectionTrait, Database};
use uketsuke_domain::{FeeSchedule, InstitutionCode, Prefecture};
use uketsuke_store::audit::Actor;
use uketsuke_store::issuance::{self, District, IssueOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let target = args
        .next()
        .context("usage: issue-bench DATABASE_URL|sqlite CLIENTS TOTAL")?;
    let clients: usize = args.next().context("CLIENTS")?.parse()?;
    let total: usize = args.next().context("TOTAL")?.parse()?;
    let name = format!("uketsuke_bench_{}", uuid::Uuid::new_v4().simple());
    let (url, cleanup) = if target == "sqlite" {
        let path = std::env::temp_dir().join(format!("{name}.sqlite"));
        (format!("sqlite://{}?mode=rwc", path.display()), None)
    } else {
        let admin = Database::connect(&target).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        let base = target
            .rsplit_once('/')
            .map(|(b, _)| b.to_owned())
            .context("URL")?;
        (format!("{base}/{name}"), Some(admin))
    };
    let db = uketsuke_store::db::connect(&url, u32::try_from(clients)?.min(32)).await?;
    uketsuke_store::db::migrate_up(&db).await?;
    uketsuke_store::bureaus::sync(
        &db,
        &[uketsuke_store::bureaus::BureauSeed {
            id: "kanto-shinetsu".into(),
            name: "関東信越厚生局".into(),
            offices: vec![],
        }],
    )
    .await?;
    let district = District {
        prefecture: Prefecture::from_code(13)?,
        fee_schedule: FeeSchedule::Medical,
        number: 10,
    };
    let policy = uketsuke_rules::numbering::NumberingPolicy::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let db = db.clone();
        let share = total / clients + usize::from(c < total % clients);
        tasks.push(tokio::spawn(async move {
            let mut codes = Vec::with_capacity(share);
            let options = IssueOptions {
                request_id: None,
                status: uketsuke_store::lifecycle::NumberStatus::Approved,
            };
            for _ in 0..share {
                let row =
                    issuance::issue(&db, district, &policy, &options, &Actor::system("bench"))
                        .await?;
                codes.push(row.code);
            }
            Ok::<_, uketsuke_store::Error>(codes)
        }));
    }
    let mut codes = Vec::with_capacity(total);
    for t in tasks {
        codes.extend(t.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    let distinct: BTreeSet<&String> = codes.iter().collect();
    let valid = codes
        .iter()
        .filter(|c| InstitutionCode::parse(c).is_ok())
        .count();
    println!(
        "{}",
        serde_json::json!({
            "backend": if cleanup.is_some() { "postgresql" } else { "sqlite" },
            "clients": clients,
            "issued": codes.len(),
            "distinct": distinct.len(),
            "valid": valid,
            "seconds": seconds,
            "per_second": codes.len() as f64 / seconds,
        })
    );
    let failed = distinct.len() != codes.len() || valid != codes.len() || codes.len() != total;
    db.close().await?;
    if let Some(admin) = &cleanup {
        admin
            .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .await?;
    } else if let Some(path) = url
        .strip_prefix("sqlite://")
        .and_then(|p| p.split('?').next())
    {
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    if failed {
        anyhow::bail!(
            "issuance broke its guarantee: {} issued of {total}, {} distinct, {valid} valid",
            codes.len(),
            distinct.len()
        );
    }
    Ok(())
}
