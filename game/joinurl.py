"""The address students are shown: the join URL and QR code on the dashboard.

The host the instructor's browser used, when a phone can use it too (not loopback). An
instructor on the laptop that runs the server opens http://127.0.0.1:8000/, which no phone can:
then this machine's address on the room's network, with the port the browser used, and a choice
when the machine has several (Wi-Fi and a cable). Never an address the request made up: the
choices come from the machine's own interfaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port
from django.urls import reverse

from negotiation import netinfo

DEFAULT_PORTS = {"http": "80", "https": "443"}


@dataclass
class JoinInfo:
    url: str  # the full join URL (with ?code= when a session is given)
    host: str  # host[:port] as shown to the class
    choices: list[dict] = field(default_factory=list)  # other addresses, when there are several
    problem: str = ""  # "loopback-only" or "no-network": phones cannot use the URL shown


def join_info(request: HttpRequest, code: str | None = None, via: str = "") -> JoinInfo:
    scheme = request.scheme
    host = request.get_host()
    domain, port = split_domain_port(host)
    path = reverse("join") + (f"?code={code}" if code else "")
    if not netinfo.is_loopback(domain):
        return JoinInfo(url=f"{scheme}://{host}{path}", host=host)
    listen = settings.GAME.get("LISTEN", "")
    listen_host = listen.rsplit(":", 1)[0] if listen else ""
    if listen_host and netinfo.is_loopback(listen_host):
        return JoinInfo(url=f"{scheme}://{host}{path}", host=host, problem="loopback-only")
    addrs = netinfo.join_addresses(listen_host)
    if not addrs:
        return JoinInfo(url=f"{scheme}://{host}{path}", host=host, problem="no-network")
    suffix = f":{port}" if port and port != DEFAULT_PORTS.get(scheme) else ""
    chosen = next((a for a in addrs if a.host == via), addrs[0])
    choices = []
    if len(addrs) > 1:
        choices = [
            {"host": a.host + suffix, "via": a.host, "interface": a.interface, "current": a is chosen}
            for a in addrs
        ]
    return JoinInfo(url=f"{scheme}://{chosen.host}{suffix}{path}", host=chosen.host + suffix, choices=choices)
