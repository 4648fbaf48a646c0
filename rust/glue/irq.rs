// SPDX-License-Identifier: GPL-2.0-only

//! MSI-X vectors with threaded handlers that call into driver data shared
//! by `Arc`.
//!
//! The vectors are allocated with the `kernel` crate
//! (`pci::Device::alloc_irq_vectors`, `IrqVectorRegistration::index`). Its
//! `irq::ThreadedRegistration` cannot be used here: its `IrqRequest`
//! borrows the vector allocation, so a registration cannot be kept next to
//! that allocation in a driver's data, and its handler is owned by the
//! registration while ours must reach the device state the sysfs files and
//! the watchdog share. So the handlers are registered with
//! `request_threaded_irq`/`free_irq` directly, each with a heap slot that
//! holds an `Arc` of the shared state; every registered handler is freed
//! (which waits for running handlers) before its slot and before the
//! vectors.
//!
//! C header: [`include/linux/interrupt.h`](srctree/include/linux/interrupt.h).

use kernel::{
    bindings,
    device::Bound,
    error::to_result,
    ffi::{c_int, c_uint, c_void},
    irq::IrqRequest,
    pci,
    prelude::*,
    sync::Arc,
};

/// What the vectors of an [`MsixIrqs`] call.
pub(crate) trait VectorHandler: Send + Sync {
    /// Hard interrupt context: must not sleep or take mutexes. `true`
    /// wakes the vector's thread.
    fn hard(&self, vector: u8) -> bool;
    /// The vector's IRQ thread: process context, may sleep.
    fn thread(&self, vector: u8);
}

/// The cookie of one registered vector.
struct Slot<T> {
    target: Arc<T>,
    vector: u8,
    irq: u32,
}

/// MSI-X vectors, each with a threaded handler.
///
/// # Invariants
///
/// The first `registered` entries of `slots` have a handler registered
/// for their `irq` with the slot's heap address as cookie; nothing else
/// registers or frees them. `vectors` outlives every registration (`Drop`
/// frees them first).
pub(crate) struct MsixIrqs<'a, T: VectorHandler> {
    slots: KVec<KBox<Slot<T>>>,
    registered: usize,
    vectors: pci::IrqVectorRegistration<'a>,
}

/// # Safety
///
/// Registered by [`MsixIrqs::new`] with a live `Slot<T>` as cookie.
unsafe extern "C" fn hard_cb<T: VectorHandler>(
    _irq: c_int,
    ptr: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: `ptr` is a slot's heap address; the slot is freed only after
    // `free_irq` has returned (type invariant of `MsixIrqs`).
    let slot = unsafe { &*ptr.cast_const().cast::<Slot<T>>() };
    let r = if slot.target.hard(slot.vector) {
        bindings::irqreturn::IRQ_WAKE_THREAD
    } else {
        bindings::irqreturn::IRQ_HANDLED
    };
    bindings::irqreturn_t(r.0 as c_uint)
}

/// # Safety
///
/// As [`hard_cb`].
unsafe extern "C" fn thread_cb<T: VectorHandler>(
    _irq: c_int,
    ptr: *mut c_void,
) -> bindings::irqreturn_t {
    // SAFETY: as in `hard_cb`; `free_irq` also waits for the thread.
    let slot = unsafe { &*ptr.cast_const().cast::<Slot<T>>() };
    slot.target.thread(slot.vector);
    bindings::irqreturn_t(bindings::irqreturn::IRQ_HANDLED.0 as c_uint)
}

impl<'a, T: VectorHandler> MsixIrqs<'a, T> {
    /// Allocates exactly `names.len()` MSI-X vectors on `pdev` and
    /// registers a threaded handler for each: vector `i` calls `target`
    /// with `i`. Fails (freeing everything) if MSI-X or any vector is
    /// unavailable.
    pub(crate) fn new(
        pdev: &'a pci::Device<Bound>,
        names: &[&'static CStr],
        target: &Arc<T>,
    ) -> Result<Self> {
        let n = u32::try_from(names.len()).map_err(|_| EINVAL)?;
        if n == 0 || n > u32::from(u8::MAX) {
            return Err(EINVAL);
        }
        let msix = pci::IrqTypes::default().with(pci::IrqType::MsiX);
        let vectors = pdev.alloc_irq_vectors(n, n, msix)?;
        let mut this = Self {
            slots: KVec::with_capacity(names.len(), GFP_KERNEL)?,
            registered: 0,
            vectors,
        };
        for (i, name) in names.iter().enumerate() {
            let irq = IrqRequest::from(this.vectors.index(i)?).irq();
            let slot = KBox::new(
                Slot {
                    target: target.clone(),
                    vector: i as u8,
                    irq,
                },
                GFP_KERNEL,
            )?;
            this.slots.push(slot, GFP_KERNEL)?;
            let cookie = this
                .slots
                .last()
                .map(|s| {
                    core::ptr::from_ref::<Slot<T>>(s)
                        .cast_mut()
                        .cast::<c_void>()
                })
                .ok_or(EINVAL)?;
            // SAFETY: `irq` is a vector of `pdev` allocated above and not yet
            // requested; the callbacks match `irq_handler_t`; `cookie` is the
            // heap address of a slot that stays allocated (never moved out
            // of its box) until `Drop` has freed this IRQ; `name` is static.
            to_result(unsafe {
                bindings::request_threaded_irq(
                    irq,
                    Some(hard_cb::<T>),
                    Some(thread_cb::<T>),
                    0,
                    name.as_char_ptr(),
                    cookie,
                )
            })?;
            // INVARIANT: slot `i` is registered.
            this.registered = i + 1;
        }
        Ok(this)
    }
}

impl<T: VectorHandler> Drop for MsixIrqs<'_, T> {
    fn drop(&mut self) {
        for slot in self.slots.iter().take(self.registered) {
            let cookie = core::ptr::from_ref::<Slot<T>>(slot)
                .cast_mut()
                .cast::<c_void>();
            // SAFETY: registered with this cookie (type invariant) and freed
            // once; `free_irq` waits for running hard and threaded handlers.
            unsafe { bindings::free_irq(slot.irq, cookie) };
        }
        self.registered = 0;
        // `slots` and then `vectors` (pci_free_irq_vectors) drop after this.
    }
}
