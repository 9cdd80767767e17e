"""This machine's own addresses and names: what the phones in the room can reach.

Used by the settings (the allowed hosts), by ``manage.py serve`` (what ``make run`` prints) and by
the dashboard (the join URL and its QR code). It reads the network interfaces through psutil and
the routing table where the system shows it; it sends nothing on the network and makes no DNS
query, so it is fast and cannot hang at start-up.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

import psutil

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")

# Interfaces that are not the room's network: container and VM bridges, VPN tunnels. Their
# addresses are still allowed hosts, but they are never offered as the join address unless the
# machine has nothing else.
VIRTUAL_PREFIXES = (
    "docker",
    "br-",
    "veth",
    "virbr",
    "vmnet",
    "vboxnet",
    "lxc",
    "lxd",
    "cni",
    "flannel",
    "kube",
    "podman",
    "tun",
    "tap",
    "utun",
    "wg",
    "tailscale",
    "zt",
    "awdl",
    "llw",
    "ifb",
    "dummy",
)


@dataclass(frozen=True)
class Address:
    """One address of this machine as it is written in a URL (IPv6 in brackets)."""

    host: str
    interface: str
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address

    @property
    def virtual(self) -> bool:
        return self.interface.lower().startswith(VIRTUAL_PREFIXES)


def url_host(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return f"[{ip}]" if ip.version == 6 else str(ip)


def url_host_text(host: str) -> str:
    """An address or name as written in a URL: IPv6 addresses in brackets."""
    bare = strip_brackets(host)
    return f"[{bare}]" if ":" in bare else bare


def strip_brackets(host: str) -> str:
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback(host: str) -> bool:
    """True for a host name or address (with or without a port or brackets) only this machine reaches."""
    h = host.strip().lower()
    if h.startswith("["):
        h = h[1 : h.find("]")] if "]" in h else h[1:]
    elif h.count(":") == 1:
        h = h.split(":", 1)[0]
    if h in ("localhost", "localhost.", "ip6-localhost") or h.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(h)
    except ValueError:
        return False
    return ip.is_loopback or (ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback)


def is_unspecified(host: str) -> bool:
    """True for the 'every interface' bind addresses (0.0.0.0, ::)."""
    try:
        return ipaddress.ip_address(strip_brackets(host)).is_unspecified
    except ValueError:
        return False


def _default_route_interfaces() -> list[str]:
    """The interfaces that carry the default route (Linux's /proc; elsewhere none are known)."""
    names: list[str] = []
    try:
        for line in Path("/proc/net/route").read_text().splitlines()[1:]:
            f = line.split()
            if len(f) > 3 and f[1] == "00000000" and int(f[3], 16) & 0x1:  # RTF_UP
                names.append(f[0])
    except (OSError, ValueError):
        pass
    try:
        for line in Path("/proc/net/ipv6_route").read_text().splitlines():
            f = line.split()
            if len(f) == 10 and f[0] == "0" * 32 and f[1] == "00" and f[9] != "lo":
                names.append(f[9])
    except (OSError, ValueError):
        pass
    return list(dict.fromkeys(names))


def addresses() -> list[Address]:
    """Every address of an interface that is up, best join candidates first.

    Order: the default route's interface first, then other physical interfaces, then virtual
    ones; IPv4 before IPv6 on each. Loopback and link-local addresses are left out (a phone
    cannot use them in a URL).
    """
    try:
        by_if = psutil.net_if_addrs()
        stats = psutil.net_if_stats()
    except (OSError, RuntimeError):  # an unusual platform: no interfaces known
        return []
    default = _default_route_interfaces()
    found: list[tuple[tuple, Address]] = []
    for name, addrs in by_if.items():
        st = stats.get(name)
        if st is not None and not st.isup:
            continue
        for a in addrs:
            if a.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                ip = ipaddress.ip_address(a.address.split("%", 1)[0])
            except ValueError:
                continue
            if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
                continue
            addr = Address(url_host(ip), name, ip)
            rank = (
                0 if name in default else 1,
                1 if addr.virtual else 0,
                ip.version,
                default.index(name) if name in default else 0,
                name,
            )
            found.append((rank, addr))
    found.sort(key=lambda x: x[0])
    return list(dict.fromkeys(a for _, a in found))


def join_addresses(bind: str = "") -> list[Address]:
    """Addresses to offer phones: those the server listens on (``bind``: 0.0.0.0 is every IPv4
    address, :: every address, empty if unknown), on the room's network (no container bridges or
    VPNs, unless nothing else is there)."""
    every = addresses()
    bind = strip_brackets(bind.strip())
    if bind:
        try:
            ip = ipaddress.ip_address(bind)
        except ValueError:
            ip = None
        if ip is not None and ip.is_unspecified:
            if ip.version == 4:
                every = [a for a in every if a.ip.version == 4]
        elif ip is not None:
            every = [a for a in every if a.ip == ip]
    real = [a for a in every if not a.virtual]
    return real or every


def host_names() -> list[str]:
    """This machine's name, and its name on the local network (name.local, through mDNS)."""
    try:
        name = socket.gethostname().strip().lower().rstrip(".")
    except OSError:
        return []
    if not name or name == "localhost":
        return []
    names = [name]
    if name.endswith(".local"):
        names.append(name.removesuffix(".local"))
    elif "." not in name:
        names.append(f"{name}.local")
    return names


def allowed_hosts(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The Host headers this server answers: loopback, every address of this machine, its names,
    and what the operator added. Anything else (a name pointed at the machine by someone else:
    DNS rebinding) gets 400."""
    hosts = [*LOOPBACK_HOSTS, *(a.host for a in addresses()), *host_names(), *extra]
    return list(dict.fromkeys(h.strip().lower() for h in hosts if h.strip()))
