//! The background thread that encodes a writer's heavy kinds (PNG, WAV,
//! GIF, histogram buckets) so that `add_image` and friends only copy their
//! data and return.
//!
//! Jobs run in the order they were queued, one at a time, so the events of
//! one tag keep their order. The queue is bounded (torch's `max_queue`):
//! a loop that logs images faster than they encode waits, with the GIL
//! released, instead of filling memory. A job's error cannot be raised by
//! the call that queued it; the first one is kept and raised by the next
//! `add_*`, `flush` or `close` (arguments are checked before queueing, so
//! what is left is the file system's errors).

use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use tbseg::summary::SummaryError;

/// One piece of encoding and writing.
pub type Job = Box<dyn FnOnce() -> Result<(), SummaryError> + Send>;

enum Msg {
    Job(Job),
    /// Answered once every job queued before it has run.
    Barrier(mpsc::Sender<()>),
}

/// A writer's encoding thread.
pub struct Encoder {
    sender: Option<SyncSender<Msg>>,
    thread: Option<JoinHandle<()>>,
    failed: Arc<Mutex<Option<SummaryError>>>,
}

impl Encoder {
    /// Starts the thread; at most `capacity` jobs wait (at least one).
    pub fn start(capacity: usize, name: String) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::sync_channel(capacity.max(1));
        let failed = Arc::new(Mutex::new(None));
        let thread = std::thread::Builder::new().name(name).spawn({
            let failed = Arc::clone(&failed);
            move || run(&receiver, &failed)
        })?;
        Ok(Encoder {
            sender: Some(sender),
            thread: Some(thread),
            failed,
        })
    }

    /// A handle that queues jobs on this encoder, usable without holding
    /// whatever lock guards the encoder; `None` once finished.
    pub fn queue(&self) -> Option<Queue> {
        Some(Queue {
            sender: self.sender.clone()?,
        })
    }

    /// The first error a job returned, once (later calls see the next).
    pub fn take_error(&self) -> Option<SummaryError> {
        self.failed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Runs the queued jobs and stops the thread.
    pub fn finish(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Queues jobs on an [`Encoder`]'s thread. While a `Queue` exists the
/// thread keeps running (a concurrent `finish` waits for its jobs).
#[derive(Clone)]
pub struct Queue {
    sender: SyncSender<Msg>,
}

impl Queue {
    /// Queues `job`, waiting for room (call with the GIL released).
    pub fn submit(&self, job: Job) {
        // The thread only stops when every sender is dropped.
        let _ = self.sender.send(Msg::Job(job));
    }

    /// Waits until every job queued so far has run (call with the GIL
    /// released).
    pub fn drain(&self) {
        let (done, wait) = mpsc::channel();
        if self.sender.send(Msg::Barrier(done)).is_ok() {
            let _ = wait.recv();
        }
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        self.finish();
    }
}

fn run(receiver: &Receiver<Msg>, failed: &Mutex<Option<SummaryError>>) {
    for msg in receiver {
        match msg {
            Msg::Job(job) => {
                if let Err(error) = job() {
                    failed
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(error);
                }
            }
            Msg::Barrier(done) => {
                let _ = done.send(());
            }
        }
    }
}
