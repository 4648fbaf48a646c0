// SPDX-License-Identifier: GPL-2.0-only

//! The 82576 VF's BAR0 registers this driver touches, declared once.
//!
//! Offsets from igbvf `regs.h` / `mbx.h` (the 82576 datasheet's VF register
//! summary; QEMU's `igbvf.c` maps the same offsets). Every register is declared
//! `u32`: the VF BAR accepts only 32-bit accesses (QEMU `igbvf` enforces
//! it). Only registers in use are declared. Queue registers are for queue
//! 0 of the VF (the VF's second queue at +0x100 is unused); their values
//! are computed and validated by `vzc_core::vf::ring`, so they are declared
//! as raw words.

use kernel::io::register;

/// Size of the VF's CSR BAR (BAR0, 16 KiB).
pub(crate) const BAR0_SIZE: usize = 0x4000;

register! {
    /// VF control (VTCTRL). Writing `rst` resets the VF's queues and
    /// interrupts and tells the PF (VFLR) that the VF restarts.
    pub(crate) CTRL(u32) @ 0x0000 {
        /// VF reset; self-clearing.
        26:26 rst => bool;
    }

    /// Device status, a read-only view of the PF's STATUS.
    pub(crate) STATUS(u32) @ 0x0008 {
        /// Link speed: 0 = 10, 1 = 100, 2/3 = 1000 Mb/s.
        7:6 speed;
        /// Link up.
        1:1 lu => bool;
        /// Full duplex.
        0:0 fd => bool;
    }

    /// Extended interrupt cause set (VTEICS): raises the vectors' causes
    /// (a software interrupt).
    pub(crate) EICS(u32) @ 0x1520 {
        /// Vectors to raise.
        2:0 vectors;
    }

    /// Extended interrupt mask set (VTEIMS): enables vectors.
    pub(crate) EIMS(u32) @ 0x1524 {
        /// Vectors to enable.
        2:0 vectors;
    }

    /// Interrupt throttle of each MSI-X vector (VTEITR0..2).
    pub(crate) EITR(u32)[3] @ 0x1680 {
        /// Raw value (interval in bits 14:2).
        31:0 value;
    }

    /// Interrupt vector allocation for queues 0 and 1 (VTIVAR0).
    pub(crate) IVAR0(u32) @ 0x1700 {
        /// Raw value (one byte per queue cause, see `vzc_core::vf::health::msix`).
        31:0 value;
    }

    /// Interrupt vector allocation for the mailbox (VTIVAR_MISC).
    pub(crate) IVAR_MISC(u32) @ 0x1740 {
        /// Raw value (vector | valid).
        31:0 value;
    }

    /// Extended interrupt mask clear (VTEIMC): one bit per MSI-X vector.
    pub(crate) EIMC(u32) @ 0x1528 {
        /// Vectors to mask.
        2:0 vectors;
    }

    /// Extended interrupt auto-clear (VTEIAC).
    pub(crate) EIAC(u32) @ 0x152c {
        /// Vectors whose cause auto-clears on MSI-X delivery.
        2:0 vectors;
    }

    /// VF-to-PF mailbox control (V2PMAILBOX). The bits are interpreted by
    /// `vzc_core::vf::mbx` (several are read-to-clear), so the driver moves
    /// the raw word.
    pub(crate) V2PMAILBOX(u32) @ 0x0c40 {
        /// Raw control word.
        31:0 raw;
    }

    /// Mailbox memory (VMBMEM): 16 words shared with the PF.
    pub(crate) VMBMEM(u32)[16] @ 0x0800 {
        /// One message word.
        31:0 word;
    }

    /// RX descriptor ring base, low 32 bits (128-byte aligned).
    pub(crate) RDBAL(u32) @ 0x2800 {
        /// Raw value.
        31:0 value;
    }

    /// RX descriptor ring base, high 32 bits.
    pub(crate) RDBAH(u32) @ 0x2804 {
        /// Raw value.
        31:0 value;
    }

    /// RX descriptor ring length in bytes (multiple of 128).
    pub(crate) RDLEN(u32) @ 0x2808 {
        /// Raw value.
        31:0 value;
    }

    /// RX split and replication control: buffer size, descriptor type, drop.
    pub(crate) SRRCTL(u32) @ 0x280c {
        /// Raw value.
        31:0 value;
    }

    /// RX descriptor head (device's next descriptor).
    pub(crate) RDH(u32) @ 0x2810 {
        /// Raw value.
        31:0 value;
    }

    /// RX descriptor tail (first descriptor not yet given to the device).
    pub(crate) RDT(u32) @ 0x2818 {
        /// Raw value.
        31:0 value;
    }

    /// RX descriptor control: queue enable and thresholds.
    pub(crate) RXDCTL(u32) @ 0x2828 {
        /// Raw value.
        31:0 value;
    }

    /// TX descriptor ring base, low 32 bits.
    pub(crate) TDBAL(u32) @ 0x3800 {
        /// Raw value.
        31:0 value;
    }

    /// TX descriptor ring base, high 32 bits.
    pub(crate) TDBAH(u32) @ 0x3804 {
        /// Raw value.
        31:0 value;
    }

    /// TX descriptor ring length in bytes (multiple of 128).
    pub(crate) TDLEN(u32) @ 0x3808 {
        /// Raw value.
        31:0 value;
    }

    /// TX descriptor head.
    pub(crate) TDH(u32) @ 0x3810 {
        /// Raw value.
        31:0 value;
    }

    /// TX descriptor tail.
    pub(crate) TDT(u32) @ 0x3818 {
        /// Raw value.
        31:0 value;
    }

    /// TX descriptor control: queue enable.
    pub(crate) TXDCTL(u32) @ 0x3828 {
        /// Raw value.
        31:0 value;
    }

    /// Good packets received (VFGPRC); 32 bits, wraps.
    pub(crate) VFGPRC(u32) @ 0x0f10 {
        /// Raw count.
        31:0 value;
    }

    /// Good packets transmitted (VFGPTC); 32 bits, wraps.
    pub(crate) VFGPTC(u32) @ 0x0f14 {
        /// Raw count.
        31:0 value;
    }

    /// Good octets received (VFGORC); 32 bits, wraps.
    pub(crate) VFGORC(u32) @ 0x0f18 {
        /// Raw count.
        31:0 value;
    }

    /// Good octets transmitted (VFGOTC); 32 bits, wraps.
    pub(crate) VFGOTC(u32) @ 0x0f34 {
        /// Raw count.
        31:0 value;
    }

    /// Multicast packets received (VFMPRC); 32 bits, wraps.
    pub(crate) VFMPRC(u32) @ 0x0f3c {
        /// Raw count.
        31:0 value;
    }
}
