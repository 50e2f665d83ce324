//! Tests of the jitter buffer: ordering, wraparound, loss, lateness, adaptation, bounds.

use super::*;
use crate::synth::Rng;

fn cfg() -> JitterConfig {
    JitterConfig::default()
}

/// Pushes `seqs` (arriving at the given ms) and drives pop every 20 ms until `until_ms`,
/// returning what played: Some(seq) for packets, None for concealment.
fn drive(jb: &mut JitterBuffer, arrivals: &[(u16, u64)], until_ms: u64) -> Vec<Option<u16>> {
    let mut out = Vec::new();
    let mut arrivals = arrivals.to_vec();
    arrivals.sort_by_key(|a| a.1);
    let mut i = 0;
    let mut now = 0;
    while now <= until_ms {
        while i < arrivals.len() && arrivals[i].1 <= now {
            let (seq, at) = arrivals[i];
            jb.push(seq, u32::from(seq) * 160, at, vec![seq as u8]);
            i += 1;
        }
        match jb.pop(now) {
            Some(Playout::Packet { seq, payload, .. }) => {
                assert_eq!(payload, vec![seq as u8]);
                out.push(Some(seq));
            }
            Some(Playout::Conceal { .. }) => out.push(None),
            None => {}
        }
        now += 20;
    }
    out
}

#[test]
fn reorders_and_waits_for_the_target_depth() {
    let mut jb = JitterBuffer::new(cfg());
    // Packets 0..10 sent every 20 ms; 3 and 4 swapped, 7 arrives 30 ms late (still in time).
    let mut arr: Vec<(u16, u64)> = (0..10).map(|s| (s, u64::from(s) * 20)).collect();
    arr[3].1 = 81;
    arr[4].1 = 80;
    arr[7].1 = 170;
    let played = drive(&mut jb, &arr, 400);
    assert_eq!(
        played.iter().flatten().copied().collect::<Vec<_>>(),
        (0..10).collect::<Vec<u16>>()
    );
    let stats = jb.stats();
    assert_eq!(
        (stats.received, stats.lost, stats.late, stats.duplicate),
        (10, 0, 0, 0)
    );
}

#[test]
fn first_packet_waits_for_the_target_depth() {
    let mut jb = JitterBuffer::new(cfg());
    jb.push(7, 0, 1000, vec![7]);
    assert_eq!(jb.pop(1000), None);
    assert_eq!(jb.pop(1020), None);
    assert!(matches!(jb.pop(1040), Some(Playout::Packet { seq: 7, .. })));
}

#[test]
fn sequence_wraparound_is_transparent() {
    let mut jb = JitterBuffer::new(cfg());
    let seqs: Vec<u16> = (0..20).map(|i| 65_530u16.wrapping_add(i)).collect();
    let arr: Vec<(u16, u64)> = seqs
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, i as u64 * 20))
        .collect();
    let played: Vec<u16> = drive(&mut jb, &arr, 600).into_iter().flatten().collect();
    assert_eq!(played, seqs);
}

#[test]
fn loss_is_concealed_with_the_fec_source() {
    let mut jb = JitterBuffer::new(cfg());
    let mut out = Vec::new();
    // One packet per 20 ms tick; 3 never arrives. Playout starts once 0 has waited 40 ms.
    let arrivals = [
        Some(0u16),
        Some(1),
        Some(2),
        None,
        Some(4),
        Some(5),
        Some(6),
        None,
        None,
    ];
    for (i, s) in arrivals.into_iter().enumerate() {
        let t = i as u64 * 20;
        if let Some(s) = s {
            assert_eq!(
                jb.push(s, u32::from(s) * 160, t, vec![s as u8]),
                PushOutcome::Accepted
            );
        }
        out.push(jb.pop(t));
    }
    assert_eq!(out[..2], [None, None]);
    assert!(matches!(out[2], Some(Playout::Packet { seq: 0, .. })));
    assert!(matches!(out[4], Some(Playout::Packet { seq: 2, .. })));
    assert_eq!(
        out[5],
        Some(Playout::Conceal {
            seq: 3,
            next_payload: Some(vec![4])
        })
    );
    assert!(matches!(out[6], Some(Playout::Packet { seq: 4, .. })));
    assert!(matches!(out[8], Some(Playout::Packet { seq: 6, .. })));
    // 3 arriving now is late; 4 and 6, already played, are duplicates.
    assert_eq!(jb.push(3, 480, 170, vec![3]), PushOutcome::Late);
    assert_eq!(jb.push(4, 640, 170, vec![4]), PushOutcome::Duplicate);
    assert_eq!(jb.push(6, 960, 170, vec![6]), PushOutcome::Duplicate);
    jb.push(7, 1120, 170, vec![7]);
    assert_eq!(jb.push(7, 1120, 171, vec![7]), PushOutcome::Duplicate);
    let s = jb.stats();
    assert_eq!(
        (s.lost, s.late, s.duplicate, s.concealed),
        (1, 1, 3, 1),
        "{s:?}"
    );
}

#[test]
fn underrun_conceals_then_refills() {
    let mut jb = JitterBuffer::new(JitterConfig {
        max_conceal_run: 3,
        ..cfg()
    });
    for s in 0..3u16 {
        jb.push(s, u32::from(s) * 160, u64::from(s) * 20, vec![]);
    }
    let outs: Vec<_> = (0..8).map(|t| jb.pop(60 + t * 20)).collect();
    assert_eq!(
        outs.iter()
            .filter(|o| matches!(o, Some(Playout::Packet { .. })))
            .count(),
        3
    );
    assert_eq!(
        outs.iter()
            .filter(|o| matches!(
                o,
                Some(Playout::Conceal {
                    next_payload: None,
                    ..
                })
            ))
            .count(),
        3
    );
    assert!(outs[6].is_none() && outs[7].is_none());
    assert_eq!(jb.stats().underruns, 1);
    // The stream resumes at 10: 3..=9 were lost, playback restarts after refilling.
    for s in 10..14u16 {
        jb.push(s, u32::from(s) * 160, 300 + u64::from(s) * 20, vec![]);
    }
    assert!(matches!(jb.pop(600), Some(Playout::Packet { seq: 10, .. })));
    assert_eq!(jb.stats().lost, 7);
}

#[test]
fn target_depth_adapts_to_jitter() {
    let mut calm = JitterBuffer::new(cfg());
    let mut rough = JitterBuffer::new(cfg());
    let mut rng = Rng::new(5);
    for s in 0..300u16 {
        let sent = u64::from(s) * 20;
        calm.push(s, u32::from(s) * 160, sent + 5, vec![]);
        rough.push(s, u32::from(s) * 160, sent + rng.below(60) as u64, vec![]);
        calm.pop(sent + 10);
        rough.pop(sent + 10);
    }
    assert!(calm.jitter_ms() < 1.0, "{}", calm.jitter_ms());
    assert_eq!(calm.target_depth_ms(), 40);
    assert!(rough.jitter_ms() > 10.0, "{}", rough.jitter_ms());
    assert!(
        rough.target_depth_ms() >= 80 && rough.target_depth_ms() <= 200,
        "{}",
        rough.target_depth_ms()
    );
    assert_eq!(rough.target_depth_ms() % 20, 0);
}

#[test]
fn bounded_and_trims_excess_depth() {
    let mut jb = JitterBuffer::new(cfg());
    let mut overflowed = 0;
    for s in 0..100u16 {
        if jb.push(s, u32::from(s) * 160, 0, vec![]) == PushOutcome::Overflow {
            overflowed += 1;
        }
        assert!(jb.len() <= jb.capacity());
    }
    assert_eq!(overflowed, 100 - jb.capacity());
    // A burst leaves the buffer far deeper than its target: playout skips ahead.
    let first = jb.pop(0);
    assert!(matches!(first, Some(Playout::Packet { .. })));
    assert!(
        jb.len() as u32 <= jb.target_depth_ms() / 20 + 2,
        "{}",
        jb.len()
    );
}

#[test]
fn stream_restart_resyncs() {
    let mut jb = JitterBuffer::new(cfg());
    for s in 0..5u16 {
        jb.push(s, 0, u64::from(s) * 20, vec![]);
    }
    jb.pop(100);
    jb.push(30_000, 0, 120, vec![1]);
    assert_eq!(jb.stats().resyncs, 1);
    assert!(matches!(
        jb.pop(200),
        Some(Playout::Packet { seq: 30_000, .. })
    ));
}

#[test]
fn random_operations_never_panic_and_stay_bounded() {
    let mut rng = Rng::new(77);
    for round in 0..200 {
        let mut jb = JitterBuffer::new(JitterConfig {
            frame_ms: rng.below(40) as u32,
            clock_rate: [0, 8000, 48000][rng.below(3)],
            min_depth_ms: rng.below(300) as u32,
            max_depth_ms: rng.below(300) as u32,
            max_conceal_run: rng.below(20) as u32,
        });
        let mut now = 0u64;
        let mut seq = rng.next_u64() as u16;
        for _ in 0..500 {
            now += rng.below(50) as u64;
            if rng.below(4) > 0 {
                seq = if rng.below(10) == 0 {
                    rng.next_u64() as u16
                } else {
                    seq.wrapping_add(rng.below(3) as u16)
                };
                let ts = rng.next_u64() as u32;
                jb.push(
                    seq,
                    ts,
                    now.saturating_sub(rng.below(100) as u64),
                    rng.bytes_below(8),
                );
            } else {
                jb.pop(now);
            }
            assert!(jb.len() <= jb.capacity(), "round {round}");
        }
        let s = jb.stats();
        assert!(s.concealed >= s.lost.min(s.concealed));
    }
}
