//! The outbox on the real databases: queuing is idempotent, claims never overlap
//! between instances, failures back off and end dead, and a crash between sending and
//! marking loses nothing while a sent row is never claimed again.

use std::collections::BTreeSet;

use chrono::{TimeDelta, Utc};
use sea_orm::{EntityTrait, PaginatorTrait, TransactionTrait};
use uketsuke_store::entities::outbox as row;
use uketsuke_store::outbox::{self, NewAttachment, NewMessage, RetryPolicy, status};
use uketsuke_tests::TestApp;

fn message(key: &str) -> NewMessage {
    NewMessage {
        dedupe_key: key.to_owned(),
        kind: "test".to_owned(),
        bureau_id: Some("kanto-shinetsu".to_owned()),
        recipients: vec!["jisshi-kikan@uketsuke.localhost".to_owned()],
        subject: "新規指定医療機関一覧表".to_owned(),
        body: "本文".to_owned(),
        attachment: Some(NewAttachment {
            name: "一覧表.xlsx".to_owned(),
            mime: "application/octet-stream".to_owned(),
            bytes: vec![0, 1, 2, 255],
        }),
    }
}

#[tokio::test]
async fn queuing_the_same_key_twice_gives_one_row() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    let a = outbox::enqueue(&app.db, &message("k1"), now).await.unwrap();
    let b = outbox::enqueue(&app.db, &message("k1"), now).await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(row::Entity::find().count(&app.db).await.unwrap(), 1);
    assert_eq!(
        a.attachment.as_deref(),
        Some(&[0u8, 1, 2, 255][..]),
        "the attachment survives byte for byte"
    );
}

#[tokio::test]
async fn a_message_queued_in_a_rolled_back_transaction_does_not_exist() {
    let app = TestApp::spawn().await;
    let txn = app.db.begin().await.unwrap();
    outbox::enqueue(&txn, &message("rolled-back"), Utc::now())
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    assert_eq!(row::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_claiming_at_once_never_take_the_same_row() {
    let app = TestApp::spawn().await;
    let now = Utc::now();
    for i in 0..40 {
        outbox::enqueue(&app.db, &message(&format!("m{i}")), now)
            .await
            .unwrap();
    }
    let policy = RetryPolicy::default();
    let mut workers = Vec::new();
    for _ in 0..4 {
        let db = app.db.clone();
        workers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = claim_retrying(&db, now, &policy).await;
                if claimed.is_empty() {
                    break;
                }
                mine.extend(claimed.into_iter().map(|m| m.id));
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), 40, "every row claimed exactly once");
    assert_eq!(distinct.len(), 40);
}

/// SQLite may answer "busy" to a concurrent writer; a worker simply tries again.
async fn claim_retrying(
    db: &sea_orm::DatabaseConnection,
    now: chrono::DateTime<Utc>,
    policy: &RetryPolicy,
) -> Vec<row::Model> {
    for _ in 0..100 {
        match outbox::claim_due(db, now, policy, 3).await {
            Ok(rows) => return rows,
            Err(e) if e.to_string().contains("locked") || e.to_string().contains("busy") => {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    panic!("claim kept failing")
}

#[tokio::test]
async fn a_failed_send_backs_off_and_the_last_attempt_makes_it_dead() {
    let app = TestApp::spawn().await;
    let policy = RetryPolicy {
        max_attempts: 3,
        ..RetryPolicy::default()
    };
    let mut now = Utc::now();
    outbox::enqueue(&app.db, &message("flaky"), now)
        .await
        .unwrap();
    for attempt in 1..=3 {
        let claimed = outbox::claim_due(&app.db, now, &policy, 10).await.unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt} is due");
        assert_eq!(claimed[0].attempts, attempt);
        let new_status =
            outbox::mark_failed(&app.db, &claimed[0], "接続できません", false, &policy, now)
                .await
                .unwrap();
        let expected = if attempt < 3 {
            status::QUEUED
        } else {
            status::DEAD
        };
        assert_eq!(new_status, expected);
        // Not due again before its backoff has passed.
        assert!(
            outbox::claim_due(&app.db, now, &policy, 10)
                .await
                .unwrap()
                .is_empty()
        );
        now += policy.delay(attempt) + TimeDelta::seconds(1);
    }
    let dead = row::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(dead.status, status::DEAD);
    assert_eq!(dead.last_error.as_deref(), Some("接続できません"));
    assert!(
        outbox::claim_due(&app.db, now + TimeDelta::days(30), &policy, 10)
            .await
            .unwrap()
            .is_empty(),
        "dead rows stay dead"
    );
    // An approver may send it again.
    outbox::requeue(&app.db, dead.id, now).await.unwrap();
    assert_eq!(
        outbox::claim_due(&app.db, now, &policy, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_permanent_refusal_is_dead_at_once() {
    let app = TestApp::spawn().await;
    let policy = RetryPolicy::default();
    let now = Utc::now();
    outbox::enqueue(&app.db, &message("bad-address"), now)
        .await
        .unwrap();
    let claimed = outbox::claim_due(&app.db, now, &policy, 10).await.unwrap();
    let s = outbox::mark_failed(&app.db, &claimed[0], "550 no such user", true, &policy, now)
        .await
        .unwrap();
    assert_eq!(s, status::DEAD);
}

#[tokio::test]
async fn a_crash_between_send_and_mark_sends_again_after_the_lease_but_never_after_sent() {
    let app = TestApp::spawn().await;
    let policy = RetryPolicy::default();
    let now = Utc::now();
    outbox::enqueue(&app.db, &message("crash"), now)
        .await
        .unwrap();

    // Worker 1 claims and "crashes" after sending: the row is never marked.
    let first = outbox::claim_due(&app.db, now, &policy, 10).await.unwrap();
    assert_eq!(first.len(), 1);
    // While the lease holds, nobody else takes it.
    assert!(
        outbox::claim_due(&app.db, now + TimeDelta::seconds(10), &policy, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // After the lease the restarted dispatcher claims it again: nothing is lost.
    let later = now + policy.lease + TimeDelta::seconds(1);
    let second = outbox::claim_due(&app.db, later, &policy, 10)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, first[0].id);
    assert_eq!(second[0].attempts, 2);

    // The stale worker can no longer mark it; the current one can.
    assert!(
        !outbox::mark_sent(&app.db, &first[0], "<outbox-1@test>", later)
            .await
            .unwrap()
    );
    assert!(
        outbox::mark_sent(&app.db, &second[0], "<outbox-1@test>", later)
            .await
            .unwrap()
    );

    // Once sent, no restart sends it again.
    let much_later = later + TimeDelta::days(1);
    assert!(
        outbox::claim_due(&app.db, much_later, &policy, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let sent = row::Entity::find().one(&app.db).await.unwrap().unwrap();
    assert_eq!(sent.status, status::SENT);
    assert_eq!(sent.message_id.as_deref(), Some("<outbox-1@test>"));
}
