"""Outbound addresses we let users configure (a vendor's API, a partner's webhook) must be on the internet: an
address inside our own network would let a user make the platform probe it (server-side request forgery)."""

from __future__ import annotations

import ipaddress
import socket


def internal_addresses(host: str) -> list[str]:
    """The private, loopback, link-local, reserved, multicast or unspecified addresses `host` is or resolves to."""
    addresses: set[str] = set()
    try:
        addresses.add(str(ipaddress.ip_address(host.strip("[]"))))
    except ValueError:
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
        except (OSError, UnicodeError):
            addresses = set()  # not resolvable here: nothing to reach either
    internal = []
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast or \
                ip.is_unspecified:
            internal.append(address)
    return internal
