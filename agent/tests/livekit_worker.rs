//! The LiveKit agent worker against the room simulator's `/agent` endpoint: it registers,
//! accepts a dispatched job when it has room (joining the job's room and reporting RUNNING,
//! then SUCCESS), declines when its load says it is full, and reports its load. When its
//! `/agent` link drops it registers again, keeps the rooms it had joined (counted in its
//! load report) and takes new jobs; an agent that leaves its room before its job ended gets
//! the job terminated, as LiveKit does, also when the server sends it away for a full
//! reconnect (the room itself comes back).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use livekit_protocol as proto;
use livekit_sim::{SimConfig, Simulator};
use switchboard::transport::livekit::{RoomEvent, WorkerConfig, WorkerEvent};
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout, Duration};
use tokio_util::sync::CancellationToken;

const PATIENCE: Duration = Duration::from_secs(30);

fn config(sim: &Simulator, agent_name: &str) -> WorkerConfig {
    let c = sim.config();
    let mut w = WorkerConfig::new(&sim.ws_url(), &c.api_key, &c.api_secret, agent_name);
    w.room.udp_bind = "127.0.0.1:0".into();
    w.status_interval = Duration::from_millis(200);
    w
}

async fn next_event(events: &mut mpsc::Receiver<WorkerEvent>) -> WorkerEvent {
    timeout(PATIENCE, events.recv())
        .await
        .expect("worker event in time")
        .expect("worker running")
}

async fn job_status(sim: &Simulator, id: &str, want: proto::JobStatus) {
    timeout(PATIENCE, async {
        while !sim.jobs().iter().any(|j| j.id == id && j.status == want) {
            sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("job {id} never reached {want:?}: {:?}", sim.jobs()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatched_job_is_joined_run_and_reported() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let cancel = CancellationToken::new();
    let load = Arc::new(AtomicU32::new(0));
    let l = load.clone();
    let (worker, mut events, task) = switchboard::transport::livekit::worker::start(
        config(&sim, "switchboard"),
        Arc::new(move || l.load(Ordering::Relaxed) as f32 / 100.0),
        cancel.clone(),
    )
    .unwrap();
    assert!(matches!(
        next_event(&mut events).await,
        WorkerEvent::Registered { .. }
    ));

    let job_id = sim.dispatch("support-1", "switchboard", r#"{"script":"support"}"#);
    let WorkerEvent::JobStarted { request, room } = next_event(&mut events).await else {
        panic!("expected the job to start");
    };
    assert_eq!(request.job.id, job_id);
    assert_eq!(request.job.metadata, r#"{"script":"support"}"#);
    assert_eq!(room.room_name, "support-1");
    let identity = room.identity.clone();
    job_status(&sim, &job_id, proto::JobStatus::JsRunning).await;
    assert!(sim
        .participants("support-1")
        .await
        .iter()
        .any(|p| p.identity == identity));
    timeout(PATIENCE, async {
        while !sim.workers().iter().any(|w| w.job_count == 1) {
            sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the worker reports one job");

    // The job's end is reported before leaving: LiveKit terminates (and fails) a job whose
    // agent leaves the room first.
    worker.job_finished(&job_id, None).await;
    job_status(&sim, &job_id, proto::JobStatus::JsSuccess).await;
    room.handle.leave().await;

    // Full: the next dispatch is declined and the worker says so in its status.
    load.store(100, Ordering::Relaxed);
    let declined = sim.dispatch("support-2", "switchboard", "");
    timeout(PATIENCE, async {
        loop {
            let jobs = sim.jobs();
            let j = jobs.iter().find(|j| j.id == declined).unwrap();
            let full = sim
                .workers()
                .iter()
                .any(|w| w.status == proto::WorkerStatus::WsFull);
            if !j.declined_by.is_empty() && full {
                break;
            }
            sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("a full worker declines and reports FULL");
    cancel.cancel();
    task.await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_agent_link_re_registers_keeps_its_rooms_and_takes_new_jobs() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let cancel = CancellationToken::new();
    let (worker, mut events, task) = switchboard::transport::livekit::worker::start(
        config(&sim, "switchboard"),
        Arc::new(|| 0.1),
        cancel.clone(),
    )
    .unwrap();
    let WorkerEvent::Registered { worker_id: first } = next_event(&mut events).await else {
        panic!("expected registration");
    };
    let old_job = sim.dispatch("kept-1", "switchboard", "");
    let WorkerEvent::JobStarted { room: kept, .. } = next_event(&mut events).await else {
        panic!("expected the first job to start");
    };
    job_status(&sim, &old_job, proto::JobStatus::JsRunning).await;

    assert_eq!(sim.drop_workers(), 1);
    assert!(matches!(
        next_event(&mut events).await,
        WorkerEvent::Disconnected { .. }
    ));
    let WorkerEvent::Registered { worker_id: second } = next_event(&mut events).await else {
        panic!("expected a new registration");
    };
    assert_ne!(first, second, "a new registration");
    // The room joined before the drop is still joined, and the new registration counts it.
    assert!(sim
        .participants("kept-1")
        .await
        .iter()
        .any(|p| p.identity == kept.identity));
    timeout(PATIENCE, async {
        while !sim
            .workers()
            .iter()
            .any(|w| w.id == second && w.job_count == 1)
        {
            sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the new registration reports one job: {:?}", sim.workers()));

    let new_job = sim.dispatch("after-1", "switchboard", "");
    let WorkerEvent::JobStarted { request, room } = next_event(&mut events).await else {
        panic!("expected the new job to start");
    };
    assert_eq!(request.job.id, new_job);
    job_status(&sim, &new_job, proto::JobStatus::JsRunning).await;
    assert_eq!(
        sim.jobs()
            .iter()
            .find(|j| j.id == new_job)
            .and_then(|j| j.worker_id.clone()),
        Some(second)
    );

    // The new job's agent leaves before its job ended: the server terminates the job.
    room.handle.leave().await;
    timeout(PATIENCE, async {
        loop {
            match next_event(&mut events).await {
                WorkerEvent::JobTerminated { job_id } if job_id == new_job => break,
                _ => {}
            }
        }
    })
    .await
    .expect("the worker is told the job was terminated");
    job_status(&sim, &new_job, proto::JobStatus::JsFailed).await;
    worker.job_finished(&new_job, None).await;
    kept.handle.leave().await;
    cancel.cancel();
    task.await.unwrap();
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_reconnect_of_a_dispatched_agent_ends_its_job_but_not_its_room() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let cancel = CancellationToken::new();
    let (worker, mut events, task) = switchboard::transport::livekit::worker::start(
        config(&sim, "switchboard"),
        Arc::new(|| 0.1),
        cancel.clone(),
    )
    .unwrap();
    assert!(matches!(
        next_event(&mut events).await,
        WorkerEvent::Registered { .. }
    ));
    let job = sim.dispatch("rc-1", "switchboard", "");
    let WorkerEvent::JobStarted { mut room, .. } = next_event(&mut events).await else {
        panic!("expected the job to start");
    };
    job_status(&sim, &job, proto::JobStatus::JsRunning).await;

    assert!(
        sim.send_leave(
            "rc-1",
            &room.identity,
            proto::leave_request::Action::Reconnect,
            proto::DisconnectReason::StateMismatch,
        )
        .await
    );
    // The agent's participant left the room: LiveKit ends the job (AGENT_LEFT_ROOM)...
    let WorkerEvent::JobTerminated { job_id } = next_event(&mut events).await else {
        panic!("expected the job's termination");
    };
    assert_eq!(job_id, job);
    job_status(&sim, &job, proto::JobStatus::JsFailed).await;
    // ... while the room itself rejoins: what to do with the call is the host's decision.
    timeout(PATIENCE, async {
        while room.events.recv().await != Some(RoomEvent::Reconnected { resume: false }) {}
    })
    .await
    .expect("the room rejoins");
    assert!(sim
        .participants("rc-1")
        .await
        .iter()
        .any(|p| p.identity == room.identity));
    room.handle.leave().await;
    worker.job_finished(&job, None).await;
    cancel.cancel();
    task.await.unwrap();
    sim.shutdown().await;
}
