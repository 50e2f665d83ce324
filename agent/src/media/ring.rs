//! Drop-oldest media queue between a real-time producer (a transport's receive loop) and a
//! consumer stage (ingest, playout). A producer never waits: when the ring is full the oldest
//! frame is dropped and counted, because late audio is worth less than fresh audio.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

struct Shared<T> {
    queue: Mutex<VecDeque<T>>,
    capacity: usize,
    notify: Notify,
    dropped: Arc<AtomicU64>,
    closed: AtomicBool,
}

/// Producer half. Dropping it closes the ring: the consumer drains what is left, then sees `None`.
pub struct RingSender<T> {
    shared: Arc<Shared<T>>,
}

/// Consumer half.
pub struct RingReceiver<T> {
    shared: Arc<Shared<T>>,
}

/// Creates a ring holding at most `capacity` frames (at least 1).
pub fn media_ring<T>(capacity: usize) -> (RingSender<T>, RingReceiver<T>) {
    let shared = Arc::new(Shared {
        queue: Mutex::new(VecDeque::with_capacity(capacity.max(1))),
        capacity: capacity.max(1),
        notify: Notify::new(),
        dropped: Arc::new(AtomicU64::new(0)),
        closed: AtomicBool::new(false),
    });
    (
        RingSender {
            shared: shared.clone(),
        },
        RingReceiver { shared },
    )
}

fn lock<T>(shared: &Shared<T>) -> std::sync::MutexGuard<'_, VecDeque<T>> {
    // A panic while holding this lock cannot leave the deque inconsistent: take it anyway.
    shared.queue.lock().unwrap_or_else(|e| e.into_inner())
}

impl<T> RingSender<T> {
    /// Queues a frame without waiting; returns `true` when an older frame had to be dropped.
    pub fn push(&self, item: T) -> bool {
        let dropped = {
            let mut queue = lock(&self.shared);
            let dropped = if queue.len() >= self.shared.capacity {
                queue.pop_front();
                true
            } else {
                false
            };
            queue.push_back(item);
            dropped
        };
        if dropped {
            self.shared.dropped.fetch_add(1, Ordering::Relaxed);
        }
        self.shared.notify.notify_one();
        dropped
    }

    /// Frames dropped so far because the consumer fell behind.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl<T> Drop for RingSender<T> {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.notify.notify_one();
    }
}

impl<T> RingReceiver<T> {
    /// Waits for the next frame; `None` once the sender is gone and the ring is empty.
    ///
    /// # Cancel safety
    /// Cancel safe: a frame is only removed from the ring when this returns it.
    pub async fn recv(&mut self) -> Option<T> {
        loop {
            if let Some(item) = lock(&self.shared).pop_front() {
                return Some(item);
            }
            if self.shared.closed.load(Ordering::Acquire) {
                return lock(&self.shared).pop_front();
            }
            self.shared.notify.notified().await;
        }
    }

    /// Removes every queued frame (used when playout is flushed on barge-in).
    pub fn clear(&self) -> usize {
        let mut queue = lock(&self.shared);
        let n = queue.len();
        queue.clear();
        n
    }

    pub fn len(&self) -> usize {
        lock(&self.shared).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// The drop counter, readable after the receiver has moved into a stage.
    pub fn drop_counter(&self) -> Arc<AtomicU64> {
        self.shared.dropped.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn full_ring_drops_the_oldest_and_counts_it() {
        let (tx, mut rx) = media_ring(2);
        assert!(!tx.push(1));
        assert!(!tx.push(2));
        assert!(tx.push(3));
        assert_eq!(rx.dropped(), 1);
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, Some(3));
        drop(tx);
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn receiver_wakes_when_a_frame_arrives() {
        let (tx, mut rx) = media_ring(4);
        let consumer = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        tx.push(7u8);
        assert_eq!(consumer.await.unwrap(), Some(7));
    }
}
