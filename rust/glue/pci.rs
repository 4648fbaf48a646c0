// SPDX-License-Identifier: GPL-2.0-only

//! PCI pieces the `kernel` crate leaves to C drivers: the counterpart of
//! `pci_enable_device_mem()`, the DMA mask set safely at probe, and random
//! bytes for a locally administered MAC address.
//!
//! C header: `include/linux/pci.h`, `include/linux/dma-mapping.h`,
//! `include/linux/random.h`.

use kernel::{
    bindings,
    device::{Bound, Core},
    dma::{self, DmaMask},
    ffi::c_void,
    pci,
    prelude::*, //
};

/// Sets the device's streaming and coherent DMA masks to 64 bits
/// (`dma_set_mask_and_coherent`): buffers the device is given may live
/// anywhere in host memory (guest pages).
///
/// Takes the device in its `Core` context, i.e. from `probe`: call it before
/// the first DMA allocation or mapping of the device.
pub(crate) fn set_dma_mask_64(pdev: &pci::Device<Core<'_>>) -> Result {
    // SAFETY: `dma_set_mask_and_coherent` must not race with DMA
    // allocations or mappings of the device. `Core` means we are in the
    // device's probe (device lock held), where the driver calls this first;
    // the driver has no other path that allocates DMA memory for a device
    // before its probe returned.
    unsafe { dma::Device::dma_set_mask_and_coherent(pdev, DmaMask::new::<64>()) }
}

/// Memory decoding enabled on a PCI device; disabled again on drop.
///
/// `pci::Device::enable_device_mem()` has no undo in the `kernel` crate; a
/// driver that binds and unbinds repeatedly would leave the enable count
/// growing and bus mastering on. Declare this after every resource that
/// uses the device (BAR mappings) so that it drops last.
///
/// # Invariants
///
/// `pci_enable_device_mem()` succeeded on `pdev` and is undone only by `Drop`.
pub(crate) struct EnabledDevice<'a> {
    pdev: &'a pci::Device<Bound>,
}

impl<'a> EnabledDevice<'a> {
    /// Enables memory decoding on `pdev` (`pci_enable_device_mem`).
    pub(crate) fn new(pdev: &'a pci::Device<kernel::device::Core<'_>>) -> Result<Self> {
        pdev.enable_device_mem()?;
        // INVARIANT: enabled just above.
        Ok(Self { pdev })
    }
}

impl Drop for EnabledDevice<'_> {
    fn drop(&mut self) {
        // `pci::Device` is `#[repr(transparent)]` over `Opaque<pci_dev>`, so
        // the reference's address is that of the `struct pci_dev`.
        let raw = core::ptr::from_ref(self.pdev)
            .cast_mut()
            .cast::<bindings::pci_dev>();
        // SAFETY: `raw` is a live `pci_dev` (we hold a reference to it) that
        // was enabled by `new()` (type invariant); this is the one matching
        // disable. It also clears bus mastering.
        unsafe { bindings::pci_disable_device(raw) };
    }
}

/// The PCI address of `pdev` (`pci_domain_nr`, bus number, devfn).
pub(crate) fn address<Ctx: kernel::device::DeviceContext>(
    pdev: &pci::Device<Ctx>,
) -> crate::vzc_core::control::attr::PciAddr {
    let raw = core::ptr::from_ref(pdev).cast::<c_void>();
    let (mut domain, mut bus, mut devfn) = (0u32, 0u8, 0u8);
    // SAFETY: `pci::Device` is `#[repr(transparent)]` over the `struct
    // pci_dev`, which lives while we hold the reference; the shim only
    // reads its bus and devfn.
    unsafe { super::ffi::vzc_pci_addr(raw, &mut domain, &mut bus, &mut devfn) };
    crate::vzc_core::control::attr::PciAddr {
        domain,
        bus,
        dev: devfn >> 3,
        func: devfn & 7,
    }
}

/// Fills `buf` from the kernel's CRNG (`get_random_bytes`).
pub(crate) fn random_bytes(buf: &mut [u8]) {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes, and
    // `get_random_bytes` writes exactly that many.
    unsafe { bindings::get_random_bytes(buf.as_mut_ptr().cast::<c_void>(), buf.len()) };
}
