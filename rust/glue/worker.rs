// SPDX-License-Identifier: GPL-2.0-only

//! The device worker: a `vhost_task`, i.e. a thread of the owner process
//! (so it uses the owner's mm for every guest access, and is accounted, niced
//! and killed with it), created by `VHOST_SET_OWNER` as upstream does.
//!
//! C header: [`include/linux/sched/vhost_task.h`](srctree/include/linux/sched/vhost_task.h).

use super::ffi;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::{
    error::from_err_ptr,
    ffi::c_void,
    prelude::*,
    sync::{Arc, ArcBorrow},
};

/// What the worker runs.
pub(crate) trait Work: Send + Sync + 'static {
    /// One round of work; `false` means nothing was pending (the task sleeps
    /// until [`TaskRef::wake`]). Called in the task with state
    /// `TASK_INTERRUPTIBLE`; [`running`] must be called before sleeping locks.
    fn run(this: ArcBorrow<'_, Self>) -> bool;
    /// The owner got SIGKILL; the task exits after this returns.
    fn killed(this: ArcBorrow<'_, Self>);
}

/// Marks the current task running (`__set_current_state(TASK_RUNNING)`),
/// as a `Work::run` must before it takes a mutex or touches user memory.
pub(crate) fn running() {
    // SAFETY: only changes the current task's state.
    unsafe { ffi::vzc_set_running() };
}

/// Lets others run if they should (`cond_resched`): a worker that always
/// has work must still yield on kernels without full preemption (upstream
/// `vhost_run_work_list` does so after every work item).
pub(crate) fn cond_resched() {
    // SAFETY: may sleep; called from the worker, outside any lock.
    unsafe { ffi::vzc_cond_resched() };
}

/// A wake-up handle that outlives nothing it points to: it holds the task
/// pointer only while the task exists (see [`Task::drop`]).
#[derive(Default)]
pub(crate) struct TaskRef(AtomicPtr<c_void>);

impl TaskRef {
    /// Wakes the task, if there is one. Callable in atomic context.
    pub(crate) fn wake(&self) {
        let t = self.0.load(Ordering::Acquire);
        if !t.is_null() {
            // SAFETY: the pointer is cleared (under the owner's synchronisation,
            // see `Task::drop`) before the task is stopped and freed.
            unsafe { ffi::vhost_task_wake(t) };
        }
    }
}

/// A started vhost_task running `T`; stopped (and waited for) on drop.
///
/// # Invariants
///
/// `task` was returned by `vhost_task_create` and started; `data` is the
/// argument it was created with and outlives it.
pub(crate) struct Task<T: Work> {
    task: *mut c_void,
    /// Keeps the task's argument alive until the task is stopped.
    _data: Arc<T>,
}

// SAFETY: vhost_task functions may be called from any thread.
unsafe impl<T: Work> Send for Task<T> {}
// SAFETY: `&Task` exposes nothing.
unsafe impl<T: Work> Sync for Task<T> {}

/// # Safety
///
/// Called by `vhost_task` with the argument given to `vhost_task_create`.
unsafe extern "C" fn run_fn<T: Work>(data: *mut c_void) -> bool {
    // SAFETY: `data` is `Arc::as_ptr` of the `Arc<T>` the `Task` holds
    // until after `vhost_task_stop` has returned.
    let this = unsafe { ArcBorrow::from_raw(data.cast::<T>()) };
    T::run(this)
}

/// # Safety
///
/// Called by `vhost_task` with the argument given to `vhost_task_create`.
unsafe extern "C" fn kill_fn<T: Work>(data: *mut c_void) {
    // SAFETY: as in `run_fn`.
    let this = unsafe { ArcBorrow::from_raw(data.cast::<T>()) };
    T::killed(this)
}

impl<T: Work> Task<T> {
    /// Creates and starts the task `name` for `data`, publishing it in `wake`.
    pub(crate) fn start(data: Arc<T>, name: &CStr, wake: &TaskRef) -> Result<Self> {
        let arg = Arc::as_ptr(&data).cast_mut().cast::<c_void>();
        // SAFETY: the callbacks match the C prototypes; `arg` stays valid
        // while `self.data` lives, which is until after `vhost_task_stop`.
        let task = from_err_ptr(unsafe {
            ffi::vhost_task_create(run_fn::<T>, kill_fn::<T>, arg, name.as_char_ptr())
        })?;
        wake.0.store(task, Ordering::Release);
        // SAFETY: `task` was just created and is started once.
        unsafe { ffi::vhost_task_start(task) };
        // INVARIANT: created with `data`, started.
        Ok(Self { task, _data: data })
    }

    /// Stops the task: clears `wake` so later wakers find no task, then
    /// waits for the task to exit (`vhost_task_stop`). The caller has stopped
    /// the polls first, so no wake-up callback is still running.
    pub(crate) fn stop(self, wake: &TaskRef) {
        wake.0.store(core::ptr::null_mut(), Ordering::Release);
        drop(self);
    }
}

impl<T: Work> Drop for Task<T> {
    fn drop(&mut self) {
        // SAFETY: the task exists (type invariant); stop waits for it to exit
        // (or reaps it if SIGKILL already ended it) and frees it.
        unsafe { ffi::vhost_task_stop(self.task) };
    }
}

/// A busy-poll window (upstream `vhost_net_busy_poll`): polling goes on
/// until the deadline, a pending reschedule or a signal, whichever first.
pub(crate) struct BusyPoll {
    end: u64,
}

impl BusyPoll {
    /// A window of about `us` microseconds from now.
    pub(crate) fn new(us: u32) -> Self {
        // SAFETY: reads the local CPU clock; no preconditions.
        let now = unsafe { ffi::vzc_busy_clock() };
        Self {
            end: now.saturating_add(u64::from(us)),
        }
    }

    /// Whether to poll once more; relaxes the CPU first if so.
    pub(crate) fn again(&self) -> bool {
        // SAFETY: checks the current task's flags and the clock.
        if !unsafe { ffi::vzc_busy_poll_ok(self.end) } {
            return false;
        }
        // SAFETY: a CPU hint; no preconditions.
        unsafe { ffi::vzc_cpu_relax() };
        true
    }
}
