//! Whether the kernel can sign BGP's TCP segments (TCP-MD5, RFC 2385),
//! which an `AuthKey` needs.
//!
//! The probe does what BIRD does with a `password`: `setsockopt(IPPROTO_TCP,
//! TCP_MD5SIG)` with a key for one address on a TCP socket. A kernel built
//! without `CONFIG_TCP_MD5SIG` does not know the option and answers
//! `ENOPROTOOPT`, which BIRD logs as "Kernel does not support TCP MD5
//! signatures" before it gives up the session ("Kernel MD5 auth failed").
//! Any other refusal (a kernel that cannot compute MD5, e.g. in FIPS mode)
//! makes the key just as unusable, and is reported with its errno.
//!
//! The option is per socket; the probe's socket is never bound nor
//! connected, and closing it drops the key.

use std::fmt;

use nix::errno::Errno;
use nix::sys::socket::setsockopt;
use nix::{libc, setsockopt_impl, sockopt_impl};

/// `struct tcp_md5sig` (`include/uapi/linux/tcp.h`): a
/// `__kernel_sockaddr_storage` (128 bytes, here an IPv4 `sockaddr_in`
/// followed by padding), flags, prefix length, key length, interface
/// index and the key (at most 80 bytes).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug)]
pub struct TcpMd5Sig {
    family: u16,
    /// Network order.
    port: u16,
    addr: [u8; 4],
    pad: [u8; 120],
    flags: u8,
    prefixlen: u8,
    keylen: u16,
    ifindex: i32,
    key: [u8; 80],
}

impl TcpMd5Sig {
    /// A key for one IPv4 peer (no prefix, no interface).
    fn for_peer(addr: std::net::Ipv4Addr, key: &[u8]) -> TcpMd5Sig {
        let mut k = [0u8; 80];
        let n = key.len().min(k.len());
        k[..n].copy_from_slice(&key[..n]);
        TcpMd5Sig {
            family: u16::try_from(libc::AF_INET).unwrap_or(2),
            port: 0,
            addr: addr.octets(),
            pad: [0; 120],
            flags: 0,
            prefixlen: 0,
            keylen: u16::try_from(n).unwrap_or(0),
            ifindex: 0,
            key: k,
        }
    }
}

sockopt_impl!(
    /// `TCP_MD5SIG`: add (or, with an empty key, delete) a peer's key.
    Md5Sig,
    SetOnly,
    libc::IPPROTO_TCP,
    libc::TCP_MD5SIG,
    TcpMd5Sig
);

/// Why TCP-MD5 cannot be used here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Md5Unavailable {
    /// What `setsockopt(TCP_MD5SIG)` answered.
    pub errno: Errno,
}

impl fmt::Display for Md5Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.errno == Errno::ENOPROTOOPT {
            write!(
                f,
                "this kernel does not support TCP-MD5 signatures (built without CONFIG_TCP_MD5SIG: setsockopt TCP_MD5SIG answers {})",
                self.errno.desc()
            )
        } else {
            write!(
                f,
                "this kernel refuses TCP-MD5 signatures (setsockopt TCP_MD5SIG: {})",
                self.errno.desc()
            )
        }
    }
}

/// Probes the running kernel for TCP-MD5 (see the module documentation).
/// `Err` only when the kernel refuses the option: a socket that cannot be
/// made at all says nothing about TCP-MD5 and counts as support (BIRD
/// would then fail for that other reason, which it reports itself).
pub fn probe() -> Result<(), Md5Unavailable> {
    let Ok(socket) = tokio::net::TcpSocket::new_v4() else {
        return Ok(());
    };
    let key = TcpMd5Sig::for_peer(std::net::Ipv4Addr::LOCALHOST, b"vpngw-probe");
    match setsockopt(&socket, Md5Sig, &key) {
        Ok(()) => Ok(()),
        Err(errno) => Err(Md5Unavailable { errno }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_struct_has_the_kernels_layout() {
        assert_eq!(std::mem::size_of::<TcpMd5Sig>(), 216);
        assert_eq!(std::mem::align_of::<TcpMd5Sig>(), 8);
    }

    /// The probe agrees with the kernel's build configuration, when the
    /// kernel publishes it (`/proc/config.gz` needs `CONFIG_IKCONFIG_PROC`;
    /// `zcat` from gzip).
    #[test]
    fn the_probe_agrees_with_the_kernel_configuration() {
        let config = std::process::Command::new("zcat")
            .arg("/proc/config.gz")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        let probed = probe();
        match config {
            Some(c) if c.lines().any(|l| l == "CONFIG_TCP_MD5SIG=y") => {
                assert_eq!(probed, Ok(()));
            }
            Some(_) => {
                let e = probed.expect_err("a kernel without CONFIG_TCP_MD5SIG");
                assert_eq!(e.errno, Errno::ENOPROTOOPT);
                assert!(e.to_string().contains("CONFIG_TCP_MD5SIG"), "{e}");
            }
            None => eprintln!("no /proc/config.gz: probe says {probed:?}"),
        }
    }

    #[test]
    fn reasons_name_the_kernel_option() {
        let absent = Md5Unavailable {
            errno: Errno::ENOPROTOOPT,
        };
        assert!(
            absent
                .to_string()
                .contains("built without CONFIG_TCP_MD5SIG")
        );
        let refused = Md5Unavailable {
            errno: Errno::ENOMEM,
        };
        assert!(refused.to_string().contains("refuses"));
    }
}
