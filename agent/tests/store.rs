//! The store against both backends: a real Postgres started by the test (see
//! `support/postgres.rs`) and the embedded SQLite file. Writes, reads, tenant scoping,
//! idempotent replays, the job queue's claims and leases, the spool across a database outage.

mod support;

use std::collections::BTreeMap;

use serde_json::json;
use support::postgres::{shared, TestPostgres};
use support::tmp::{tmp, ScratchDir};
use switchboard::store::model::{
    now_ms, status, Assessment, CallEnd, Direction, LineRow, MetricsRow, NewCall, OutboxEvent,
    RecordRow, UsageRow, WriteOp,
};
use switchboard::store::Store;

/// A scratch directory, removed when dropped (see `support/tmp.rs`).
fn temp_dir(tag: &str) -> ScratchDir {
    tmp(&format!("switchboard-store-{tag}"))
}

/// Both stores, fresh: (label, store), and the directory of their files and spools, to be
/// held until the stores are gone (`let (backends, _dir) = stores().await;`).
async fn stores() -> (Vec<(&'static str, Store)>, ScratchDir) {
    let pg_url = tokio::task::spawn_blocking(|| shared().database())
        .await
        .unwrap();
    let dir = temp_dir("both");
    let pg = Store::open(&pg_url, &dir.join("pg-spool"))
        .await
        .expect("postgres store");
    let lite = Store::open(
        &format!("sqlite://{}", dir.join("s.db").display()),
        &dir.join("spool"),
    )
    .await
    .expect("sqlite store");
    (vec![("postgres", pg), ("sqlite", lite)], dir)
}

fn new_call(tenant: &str, key: Option<&str>) -> NewCall {
    NewCall {
        id: uuid::Uuid::new_v4().to_string(),
        tenant: tenant.into(),
        direction: Direction::Outbound,
        transport: "local".into(),
        transport_options: json!({}),
        script_id: Some("survey.post_conversation".into()),
        from_number: Some("+14155550100".into()),
        to_number: Some("+14155550123".into()),
        room: None,
        lead_id: Some("lead-7".into()),
        external_refs: json!({ "session_id": "s-1" }),
        variables: json!({ "first_name": "Dana" }),
        time_zone: Some("America/New_York".into()),
        idempotency_key: key.map(str::to_owned),
        status: status::QUEUED.into(),
        queued_at: now_ms(),
        not_before: now_ms() - 1,
        max_attempts: 3,
        claimed_by: None,
        lease_until: None,
    }
}

fn line(seq: i64, speaker: &str, text: &str) -> LineRow {
    LineRow {
        seq,
        speaker: speaker.into(),
        text: text.into(),
        start_ms: seq * 1000,
        end_ms: seq * 1000 + 800,
        interrupted: false,
        node: Some("q_rating".into()),
        sentiment: None,
    }
}

fn call_end(call: &NewCall) -> CallEnd {
    let mut answers = BTreeMap::new();
    answers.insert("problem_solved".to_owned(), json!(true));
    answers.insert("experience_rating".to_owned(), json!(4));
    answers.insert("would_recommend".to_owned(), json!(false));
    answers.insert("feedback_text".to_owned(), json!("quicker please"));
    CallEnd {
        tenant: call.tenant.clone(),
        call_id: call.id.clone(),
        ended_at: now_ms(),
        status: status::COMPLETED.into(),
        answered: true,
        duration_ms: 42_000,
        script_id: Some("survey.post_conversation".into()),
        script_version: Some("abc123".into()),
        party_number: call.to_number.clone(),
        assessment: Assessment {
            disposition: "dnc".into(),
            outcome: Some("completed".into()),
            end_reason: "agent_ended".into(),
            sentiment: Some((-0.4, 0.8)),
            line_sentiments: vec![],
            summary: Some("Rated 4".into()),
            interest_score: Some(20),
        },
        transcript: vec![line(0, "agent", "Hi Dana"), line(1, "caller", "four")],
        answers,
        metrics: vec![MetricsRow {
            turn: 1,
            end_of_utterance_ms: 450,
            stt_ms: 120,
            stt_wait_ms: 0,
            llm_first_token_ms: None,
            tts_first_audio_ms: Some(40),
            voice_to_voice_ms: Some(510),
        }],
        records: vec![RecordRow {
            kind: "scheduled_action".into(),
            detail: json!({ "kind": "call", "at": "2026-11-23T15:00:00Z", "reason": "callback" }),
        }],
        usage: UsageRow {
            audio_in_ms: 42_000,
            audio_out_ms: 9_000,
            ..UsageRow::default()
        },
        recording_path: None,
        events: vec![OutboxEvent::for_call(
            &call.id,
            "call.ended",
            json!({ "call_id": call.id }),
        )],
    }
}

fn whole_call(call: &NewCall) -> Vec<WriteOp> {
    let t = call.tenant.clone();
    let id = call.id.clone();
    vec![
        WriteOp::InsertCall(Box::new(call.clone())),
        WriteOp::Answered {
            tenant: t.clone(),
            call_id: id.clone(),
            at: now_ms(),
            script_id: None,
            script_version: Some("abc123".into()),
        },
        WriteOp::Line {
            tenant: t.clone(),
            call_id: id.clone(),
            line: line(0, "agent", "Hi Dana"),
        },
        WriteOp::Answer {
            tenant: t.clone(),
            call_id: id.clone(),
            slot: "experience_rating".into(),
            value: json!(4),
        },
        WriteOp::Ended(Box::new(call_end(call))),
    ]
}

#[tokio::test]
async fn a_whole_call_is_stored_and_read_back_per_tenant() {
    let (backends, _dir) = stores().await;
    for (label, store) in backends {
        let call = new_call("acme", None);
        let ops = whole_call(&call);
        store.record(ops[0].clone()).await;
        // The worker's path: claim, then the guarded move to dialling (one attempt).
        let claimed = store.claim("w", 5, now_ms() + 60_000).await.unwrap();
        assert_eq!(claimed.len(), 1, "{label}");
        assert!(
            store.start_dial("w", &claimed[0], 1).await.unwrap(),
            "{label}"
        );
        let stolen = store.start_dial("other", &claimed[0], 1).await.unwrap();
        assert!(!stolen, "{label}: another worker cannot dial it");
        for op in ops.into_iter().skip(1) {
            store.record(op).await;
        }
        assert_eq!(
            store.spooled().await,
            0,
            "{label}: nothing should be spooled"
        );
        let row = store
            .call("acme", &call.id)
            .await
            .unwrap()
            .expect("the call");
        assert_eq!(row.status, "completed", "{label}");
        assert_eq!(row.disposition.as_deref(), Some("dnc"), "{label}");
        assert_eq!(row.sentiment_score, Some(-0.4), "{label}");
        assert_eq!(row.variables["first_name"], "Dana", "{label}");
        assert!(row.answered && row.answered_at.is_some(), "{label}");
        assert!(
            store
                .call("other-tenant", &call.id)
                .await
                .unwrap()
                .is_none(),
            "{label}: tenant scope"
        );
        assert!(
            store
                .transcript("other-tenant", &call.id)
                .await
                .unwrap()
                .is_empty(),
            "{label}"
        );
        let lines = store.transcript("acme", &call.id).await.unwrap();
        assert_eq!(
            lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
            ["Hi Dana", "four"],
            "{label}"
        );
        let answers = store.answers("acme", &call.id).await.unwrap();
        assert_eq!(answers["experience_rating"], json!(4), "{label}");
        assert_eq!(answers["feedback_text"], json!("quicker please"), "{label}");
        assert_eq!(
            store.metrics("acme", &call.id).await.unwrap()[0].voice_to_voice_ms,
            Some(510)
        );
        // A dnc disposition puts the number on the list; consent and attempts are counted.
        let facts = store.number_facts("acme", "+14155550123", 0).await.unwrap();
        assert!(facts.dnc, "{label}");
        assert_eq!(facts.attempts_today, 1, "{label}");
        assert!(
            !store
                .number_facts("other-tenant", "+14155550123", 0)
                .await
                .unwrap()
                .dnc
        );
        assert_eq!(
            store.call_events("acme", &call.id).await.unwrap().len(),
            1,
            "{label}"
        );
        // The survey view carries seed 000's columns.
        let row = sqlx::query(
            "SELECT problem_solved, experience_rating, would_recommend, feedback_text,
                    survey_completed, call_answered, survey_method
             FROM survey_responses WHERE id = $1",
        )
        .bind(&call.id)
        .fetch_one(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{label}: survey_responses: {e}"));
        use sqlx::Row;
        let method: String = row.try_get("survey_method").unwrap();
        let feedback: String = row.try_get("feedback_text").unwrap();
        assert_eq!(
            (method.as_str(), feedback.as_str()),
            ("ai_call", "quicker please"),
            "{label}"
        );
    }
}

#[tokio::test]
async fn replaying_every_write_twice_stores_each_row_once() {
    let (backends, _dir) = stores().await;
    for (label, store) in backends {
        let call = new_call("acme", None);
        for op in whole_call(&call).into_iter().chain(whole_call(&call)) {
            store.record(op).await;
        }
        assert_eq!(
            store.transcript("acme", &call.id).await.unwrap().len(),
            2,
            "{label}"
        );
        assert_eq!(
            store.answers("acme", &call.id).await.unwrap().len(),
            4,
            "{label}"
        );
        assert_eq!(
            store.call_events("acme", &call.id).await.unwrap().len(),
            1,
            "{label}"
        );
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM scheduled_actions WHERE call_id = $1")
                .bind(&call.id)
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!(n, 1, "{label}");
    }
}

#[tokio::test]
async fn jobs_are_claimed_once_and_recovered_from_dead_workers() {
    let (backends, _dir) = stores().await;
    for (label, store) in backends {
        let first = store
            .enqueue(&new_call("acme", Some("job-1")))
            .await
            .unwrap();
        let again = store
            .enqueue(&new_call("acme", Some("job-1")))
            .await
            .unwrap();
        assert!(first.created && !again.created, "{label}");
        assert_eq!(first.id, again.id, "{label}: idempotency key");
        for _ in 0..9 {
            store.enqueue(&new_call("acme", None)).await.unwrap();
        }
        let lease = now_ms() + 60_000;
        let (a, b) = tokio::join!(store.claim("w-a", 6, lease), store.claim("w-b", 6, lease));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.len() + b.len(), 10, "{label}: every job claimed");
        assert!(
            a.iter().all(|x| b.iter().all(|y| x.id != y.id)),
            "{label}: no job claimed twice"
        );
        assert!(
            store.claim("w-c", 5, lease).await.unwrap().is_empty(),
            "{label}"
        );
        // w-a dies: its leases expire. A claimed job returns to the queue; a running call
        // is interrupted with its transcript intact.
        let running = &a[0];
        store
            .record(WriteOp::Answered {
                tenant: "acme".into(),
                call_id: running.id.clone(),
                at: now_ms(),
                script_id: None,
                script_version: None,
            })
            .await;
        store
            .record(WriteOp::Line {
                tenant: "acme".into(),
                call_id: running.id.clone(),
                line: line(0, "caller", "hello"),
            })
            .await;
        sqlx::query("UPDATE calls SET lease_until = 1 WHERE claimed_by = 'w-a'")
            .execute(store.pool())
            .await
            .unwrap();
        let reaped = store.reap(false).await.unwrap();
        assert_eq!(reaped.interrupted, 1, "{label}");
        assert_eq!(reaped.requeued as usize, a.len() - 1, "{label}");
        let row = store.call("acme", &running.id).await.unwrap().unwrap();
        assert_eq!(row.status, "interrupted", "{label}");
        assert_eq!(
            store.transcript("acme", &running.id).await.unwrap().len(),
            1,
            "{label}"
        );
        let reclaimed = store.claim("w-c", 20, lease).await.unwrap();
        assert_eq!(
            reclaimed.len(),
            a.len() - 1,
            "{label}: requeued jobs picked up elsewhere"
        );
    }
}

#[tokio::test]
async fn due_follow_up_calls_become_jobs() {
    let (backends, _dir) = stores().await;
    for (label, store) in backends {
        let call = new_call("acme", None);
        store
            .record(WriteOp::InsertCall(Box::new(call.clone())))
            .await;
        let mut end = call_end(&call);
        end.assessment.disposition = "callback_requested".into();
        end.records[0].detail =
            json!({ "kind": "call", "at": "2020-01-01T00:00:00Z", "reason": "callback" });
        store.record(WriteOp::Ended(Box::new(end))).await;
        assert_eq!(store.promote_scheduled_calls().await.unwrap(), 1, "{label}");
        assert_eq!(
            store.promote_scheduled_calls().await.unwrap(),
            0,
            "{label}: once"
        );
        let jobs = store.claim("w", 10, now_ms() + 1000).await.unwrap();
        assert_eq!(jobs.len(), 1, "{label}");
        assert_eq!(jobs[0].to.as_deref(), Some("+14155550123"), "{label}");
        assert_eq!(jobs[0].variables["first_name"], "Dana", "{label}");
    }
}

/// Postgres stops in the middle of calls: writes go to the spool, nothing is lost, and when
/// it returns every row arrives exactly once.
#[tokio::test]
async fn a_database_outage_loses_and_duplicates_nothing() {
    let pg = tokio::task::spawn_blocking(TestPostgres::start)
        .await
        .unwrap();
    let url = {
        let pg = &pg;
        pg.database()
    };
    let spool_dir = temp_dir("outage");
    let store = Store::open(&url, spool_dir.path()).await.unwrap();
    let calls: Vec<NewCall> = (0..6).map(|_| new_call("acme", None)).collect();
    let ops: Vec<Vec<WriteOp>> = calls.iter().map(whole_call).collect();
    // Half of each call's writes before the outage...
    for call_ops in &ops {
        for op in &call_ops[..3] {
            store.record(op.clone()).await;
        }
    }
    pg.stop();
    // ...the rest while the database is down (held in the spool)...
    for call_ops in &ops {
        for op in &call_ops[3..] {
            store.record(op.clone()).await;
        }
    }
    let spooled = store.spooled().await;
    assert_eq!(spooled, 6 * 2, "every write during the outage is spooled");
    assert_eq!(
        store.replay().await.unwrap(),
        0,
        "nothing replays while it is down"
    );
    // ...and the spool survives a process restart: a new store on the same spool.
    drop(store);
    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    pg.resume();
    let store = Store::open(&url, spool_dir.path()).await.unwrap();
    assert_eq!(store.spooled().await, 0, "replayed on open");
    for call in &calls {
        assert_eq!(store.transcript("acme", &call.id).await.unwrap().len(), 2);
        assert_eq!(store.answers("acme", &call.id).await.unwrap().len(), 4);
        let row = store.call("acme", &call.id).await.unwrap().unwrap();
        assert_eq!(row.status, "completed");
    }
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM call_transcript")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 12, "no duplicated transcript rows");
}

#[tokio::test]
async fn one_spool_serves_one_process_at_a_time() {
    let dir = temp_dir("lock");
    let url = format!("sqlite://{}", dir.join("s.db").display());
    let first = Store::open(&url, &dir.join("spool")).await.unwrap();
    let Err(err) = Store::open(&url, &dir.join("spool")).await else {
        panic!("a second store opened the same spool");
    };
    let message = err.to_string();
    assert!(
        message.contains("in use by another switchboard process") && message.contains("spool"),
        "{message}"
    );
    drop(first);
    Store::open(&url, &dir.join("spool"))
        .await
        .expect("the spool is free once its store is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_waits_for_a_database_that_is_still_starting() {
    let pg = tokio::task::spawn_blocking(TestPostgres::start)
        .await
        .unwrap();
    let url = pg.database();
    pg.stop();
    let spool = temp_dir("waiting");
    let opening = {
        let (url, spool) = (url.clone(), spool.path().to_owned());
        tokio::spawn(async move {
            Store::open_waiting(&url, &spool, std::time::Duration::from_secs(120)).await
        })
    };
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(
        !opening.is_finished(),
        "gave up while the database was down"
    );
    let pg = tokio::task::spawn_blocking(move || {
        pg.resume();
        pg
    })
    .await
    .unwrap();
    let store = opening
        .await
        .unwrap()
        .expect("opened once the database came up");
    assert!(store.ping().await);
    // A database that stays away is given up on after the wait, with its error.
    pg.stop();
    let gone = Store::open_waiting(
        &url,
        temp_dir("gone").path(),
        std::time::Duration::from_secs(2),
    )
    .await;
    assert!(gone.is_err_and(|e| e.is_transient()));
}

/// A private cluster stops its server and then removes its directory when dropped (the
/// shared one does the same when the test binary exits); `SWITCHBOARD_KEEP_TMP` keeps it.
#[test]
fn a_dropped_cluster_stops_and_takes_its_directory_with_it() {
    let pg = TestPostgres::start();
    let (dir, port) = (pg.dir().to_owned(), pg.port);
    assert!(
        dir.join("data").is_dir(),
        "{} has no cluster",
        dir.display()
    );
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(pg);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the server still listens after the cluster was dropped"
    );
    if switchboard::scratch::keep_requested() {
        assert!(dir.join("data").is_dir(), "kept for a post-mortem");
    } else {
        assert!(!dir.exists(), "{} was left behind", dir.display());
    }
}
