// SPDX-License-Identifier: GPL-2.0-only
//! zcctl: bind vhost-net taps to SR-IOV VFs (the vhost_zc generic netlink
//! family). Usage and exit codes: Documentation/zcctl.rst.

mod msg;
mod nl;
mod output;
mod uapi;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use msg::{Ifname, Mac, PciAddr, Request};

/// Exit codes (clap exits 2 on a usage error).
const EXIT_FAILED: u8 = 1;
const EXIT_NO_FAMILY: u8 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "zcctl",
    version,
    about = "Bind vhost-net taps to SR-IOV VFs for zero-copy (vhost_zc)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug, PartialEq, Eq)]
enum Cmd {
    /// Bind a tap to a VF.
    Bind {
        /// The tap QEMU gives vhost-net as its backend.
        tap: Ifname,
        /// The VF's PCI address (dddd:bb:dd.f).
        vf: PciAddr,
        /// The guest's MAC (else learned from its first transmitted frame).
        #[arg(long)]
        mac: Option<Mac>,
    },
    /// Unbind a tap (a running device goes back to the copy path).
    Unbind { tap: Ifname },
    /// Show one port, or every port of this network namespace.
    Show {
        /// JSON output.
        #[arg(short = 'j', long = "json")]
        json: bool,
        tap: Option<Ifname>,
    },
}

impl Cmd {
    fn request(&self) -> Request {
        match self {
            Cmd::Bind { tap, vf, mac } => Request::Bind {
                tap: tap.clone(),
                vf: vf.clone(),
                mac: *mac,
            },
            Cmd::Unbind { tap } => Request::Unbind { tap: tap.clone() },
            Cmd::Show { tap: Some(tap), .. } => Request::Get { tap: tap.clone() },
            Cmd::Show { tap: None, .. } => Request::Dump,
        }
    }

    /// How errors name what failed: "bind tap0", "show".
    fn what(&self) -> String {
        match self {
            Cmd::Bind { tap, .. } => format!("bind {}", tap.as_str()),
            Cmd::Unbind { tap } => format!("unbind {}", tap.as_str()),
            Cmd::Show { tap: Some(tap), .. } => format!("show {}", tap.as_str()),
            Cmd::Show { tap: None, .. } => "show".into(),
        }
    }
}

fn run(cmd: &Cmd) -> Result<(), nl::Error> {
    let mut conn = nl::Conn::open()?;
    let replies = conn.request(&cmd.request())?;
    if let Cmd::Show { json, .. } = cmd {
        let ports = replies
            .iter()
            .map(msg::decode_port)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| nl::Error::Other(format!("bad reply: {e}")))?;
        if *json {
            println!("{}", output::json(&ports));
        } else {
            print!("{}", output::table(&ports));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli.cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ nl::Error::FamilyNotFound) => {
            eprintln!("zcctl: {e}");
            ExitCode::from(EXIT_NO_FAMILY)
        }
        Err(e) => {
            eprintln!("zcctl: {}: {e}", cli.cmd.what());
            ExitCode::from(EXIT_FAILED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cmd, clap::Error> {
        Cli::try_parse_from(std::iter::once("zcctl").chain(args.iter().copied())).map(|c| c.cmd)
    }

    #[test]
    fn valid_invocations() {
        let c = parse(&["bind", "tap0", "0000:01:10.0", "--mac", "52:54:00:12:34:56"]).unwrap();
        assert_eq!(
            c.request(),
            Request::Bind {
                tap: "tap0".parse().unwrap(),
                vf: "0000:01:10.0".parse().unwrap(),
                mac: Some(Mac([0x52, 0x54, 0, 0x12, 0x34, 0x56])),
            }
        );
        assert_eq!(c.what(), "bind tap0");
        let c = parse(&["bind", "tap0", "01:10.0"]).unwrap();
        assert!(matches!(c.request(), Request::Bind { mac: None, .. }));
        assert_eq!(
            parse(&["unbind", "tap0"]).unwrap().request(),
            Request::Unbind {
                tap: "tap0".parse().unwrap()
            }
        );
        assert_eq!(
            parse(&["show"]).unwrap(),
            Cmd::Show {
                json: false,
                tap: None
            }
        );
        assert_eq!(parse(&["show", "-j"]).unwrap().request(), Request::Dump);
        assert_eq!(
            parse(&["show", "--json"]).unwrap(),
            Cmd::Show {
                json: true,
                tap: None
            }
        );
        let c = parse(&["show", "-j", "tap3"]).unwrap();
        assert_eq!(
            c.request(),
            Request::Get {
                tap: "tap3".parse().unwrap()
            }
        );
        assert_eq!(c.what(), "show tap3");
    }

    #[test]
    fn invalid_invocations() {
        for args in [
            &[][..],
            &["bind"],
            &["bind", "tap0"],
            &["bind", "tap0", "0000:01:10.0", "--mac"],
            &["bind", "tap0", "0000:01:10.0", "--mac", "52:54:00:12:34"],
            &["bind", "tap0", "0000:01:10.0", "--mac", "01:00:5e:00:00:01"],
            &["bind", "tap0", "0000:01:10.0", "--mac", "zz:54:00:12:34:56"],
            &["bind", "tap0", "not-a-pci-address"],
            &["bind", "a-tap-name-too-long", "0000:01:10.0"],
            &["bind", "tap0", "0000:01:10.0", "extra"],
            &["unbind"],
            &["unbind", "a/b"],
            &["show", "-x"],
            &["show", "tap0", "tap1"],
            &["frobnicate"],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{args:?}");
        }
        let e = parse(&["bind", "tap0", "0000:01:10.0", "--mac", "01:00:5e:00:00:01"]).unwrap_err();
        assert!(e.to_string().contains("multicast"), "{e}");
    }
}
