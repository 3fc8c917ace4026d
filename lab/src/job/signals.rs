//! SIGINT (Ctrl-C) and SIGTERM (what Slurm, Kubernetes and spot instances
//! send) during training: the first asks the loop to stop, which saves a
//! checkpoint and syncs the events; a second exits at once with the same
//! status.
//!
//! The handler only stores into atomics and calls `write` and `_exit`,
//! which are async-signal-safe; everything else happens in the loop.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Once;

static STOP: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(signal: libc::c_int) {
    if SIGNAL.swap(signal, Ordering::SeqCst) != 0 {
        // SAFETY: `_exit` is async-signal-safe; nothing is flushed, which is
        // what a second signal asks for.
        unsafe { libc::_exit(128 + signal) };
    }
    STOP.store(true, Ordering::SeqCst);
    let message = b"\ntbseg: signal received, saving a checkpoint (a second one exits at once)\n";
    // SAFETY: `write` is async-signal-safe and the buffer outlives the call.
    unsafe { libc::write(2, message.as_ptr().cast(), message.len()) };
}

/// Installs the handlers (once per process), clears any earlier signal,
/// and returns the flag the training loop polls.
pub fn stop_flag() -> &'static AtomicBool {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for signal in [libc::SIGINT, libc::SIGTERM] {
            // SAFETY: a zeroed `sigaction` is valid; the handler is an
            // `extern "C" fn(c_int)` that only touches atomics.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                    eprintln!("tbseg: warning: signal {signal} will not save a checkpoint");
                }
            }
        }
    });
    SIGNAL.store(0, Ordering::SeqCst);
    STOP.store(false, Ordering::SeqCst);
    &STOP
}

/// The signal that stopped the run, if one did.
pub fn received() -> Option<i32> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}
