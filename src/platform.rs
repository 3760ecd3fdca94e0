//! Everything that talks to the operating system, behind one module.
//!
//! Linux only for now: netlink for links, addresses and routes; packet sockets (pnet) for
//! ARP and IPv6 Neighbor Solicitation; `/proc` for capabilities; `/sys` for what netlink does not carry (link speed). Each
//! submodule keeps the byte- or message-parsing part pure and unit-tested, and the system
//! call part thin. `resolv` reads resolv.conf and the local stubs' files (no sockets); `proxy` reads the proxy settings (environment, `/etc/environment`, gsettings) and scans PAC files; `lldp` and `cdp` decode the switch's discovery frames and lldpd's neighbour table. Checks use this module; it uses nothing above it.

pub mod arp;
pub mod capture;
pub mod cdp;
pub mod dhcp;
pub mod icmp;
pub mod lease;
pub mod lldp;
pub mod neighbor_solicit;
pub mod netlink;
pub mod packet;
pub mod privilege;
pub mod proxy;
pub mod resolv;
pub mod sysfs;
pub mod wifi;
