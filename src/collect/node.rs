//! `--on-node`: what a person ssh'd into a control-plane node would read by hand.

use crate::model::{CollectError, HostFacts, HostFile, Interface};
use std::path::Path;

pub const DEFAULT_MANIFESTS: &str = "/etc/kubernetes/manifests";
pub const FLANNEL_SUBNET_ENV: &str = "/run/flannel/subnet.env";
const MAX_FILE: u64 = 1 << 20;

fn read_small(p: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(p).map_err(|e| e.to_string())?;
    if meta.len() > MAX_FILE {
        return Err(format!("larger than {} KiB", MAX_FILE >> 10));
    }
    let bytes = std::fs::read(p).map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// MicroK8s keeps each component's flags in a file named after it, one or more per line
/// (`--manifests-dir /var/snap/microk8s/current/args`).
pub const MICROK8S_ARGS: &str = "/var/snap/microk8s/current/args";

fn is_args_file(p: &Path) -> bool {
    p.file_name().is_some_and(|n| {
        ["kube-apiserver", "kube-controller-manager", "kube-proxy"]
            .iter()
            .any(|c| n == *c)
    })
}

/// The manifests directory, or MicroK8s's args directory on a MicroK8s node.
pub fn default_dir() -> &'static Path {
    let kubeadm = Path::new(DEFAULT_MANIFESTS);
    if !kubeadm.exists() && Path::new(MICROK8S_ARGS).is_dir() {
        Path::new(MICROK8S_ARGS)
    } else {
        kubeadm
    }
}

pub fn collect(manifests: &Path, errors: &mut Vec<CollectError>) -> HostFacts {
    let mut h = HostFacts {
        hostname: read_small(Path::new("/proc/sys/kernel/hostname"))
            .ok()
            .map(|s| s.trim().to_string()),
        ..Default::default()
    };
    match std::fs::read_dir(manifests) {
        Ok(rd) => {
            let mut paths: Vec<_> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
                        || is_args_file(p)
                })
                .collect();
            paths.sort();
            for p in paths {
                let into = if is_args_file(&p) {
                    &mut h.args_files
                } else {
                    &mut h.manifests
                };
                match read_small(&p) {
                    Ok(content) => into.push(HostFile {
                        path: p.display().to_string(),
                        content,
                    }),
                    Err(e) => errors.push(CollectError {
                        what: format!("file {}", p.display()),
                        reason: e,
                        needs: Some("read access to the manifests directory (run as root)".into()),
                    }),
                }
            }
        }
        Err(e) => errors.push(CollectError {
            what: format!("directory {}", manifests.display()),
            reason: e.to_string(),
            needs: Some("run on a control-plane node (or pass --manifests-dir), as root".into()),
        }),
    }
    let fl = Path::new(FLANNEL_SUBNET_ENV);
    if fl.exists() {
        if let Ok(content) = read_small(fl) {
            h.flannel_subnet_env = Some(HostFile {
                path: FLANNEL_SUBNET_ENV.into(),
                content,
            });
        }
    }
    match interfaces() {
        Ok(i) => h.interfaces = i,
        Err(e) => errors.push(CollectError {
            what: "host interfaces".into(),
            reason: e,
            needs: None,
        }),
    }
    h
}

/// Interface addresses with prefix lengths, as `ip addr` lists them.
fn interfaces() -> Result<Vec<Interface>, String> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    let mut head: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `head` with a list we free below with freeifaddrs.
    if unsafe { libc::getifaddrs(&mut head) } != 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    let mut out: Vec<Interface> = Vec::new();
    let mut cur = head;
    while !cur.is_null() {
        // SAFETY: `cur` walks the list getifaddrs returned; each node and its sockaddrs stay
        // valid until freeifaddrs, and are only read here.
        let ifa = unsafe { &*cur };
        cur = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_netmask.is_null() {
            continue;
        }
        let name = unsafe { std::ffi::CStr::from_ptr(ifa.ifa_name) }
            .to_string_lossy()
            .into_owned();
        let family = unsafe { (*ifa.ifa_addr).sa_family } as i32;
        let addr = match family {
            libc::AF_INET => {
                let (a, m) = unsafe {
                    (
                        &*(ifa.ifa_addr as *const libc::sockaddr_in),
                        &*(ifa.ifa_netmask as *const libc::sockaddr_in),
                    )
                };
                let ip = Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr));
                format!("{ip}/{}", u32::from_be(m.sin_addr.s_addr).count_ones())
            }
            libc::AF_INET6 => {
                let (a, m) = unsafe {
                    (
                        &*(ifa.ifa_addr as *const libc::sockaddr_in6),
                        &*(ifa.ifa_netmask as *const libc::sockaddr_in6),
                    )
                };
                let ip = Ipv6Addr::from(a.sin6_addr.s6_addr);
                format!(
                    "{ip}/{}",
                    u128::from_be_bytes(m.sin6_addr.s6_addr).count_ones()
                )
            }
            _ => continue,
        };
        match out.iter_mut().find(|i| i.name == name) {
            Some(i) => i.addresses.push(addr),
            None => out.push(Interface {
                name,
                addresses: vec![addr],
            }),
        }
    }
    // SAFETY: head came from getifaddrs and is freed once.
    unsafe { libc::freeifaddrs(head) };
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn loopback_is_listed_with_its_prefix() {
        let i = super::interfaces().unwrap();
        let lo = i.iter().find(|i| i.name == "lo").expect("lo interface");
        assert!(
            lo.addresses.iter().any(|a| a == "127.0.0.1/8"),
            "{:?}",
            lo.addresses
        );
    }
}
