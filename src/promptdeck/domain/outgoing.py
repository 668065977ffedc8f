"""Where calls out of the server may go (DESIGN rule 10). Pure rules: no socket, no DNS.

A call out (a model provider, a webhook) may not reach a loopback, link-local, private,
shared, multicast, reserved or cloud-metadata address unless the operator lists it in
``PROMPTDECK_ALLOW_OUTGOING`` (hosts and networks, comma-separated). Two checks use these
rules: ``check_url`` when a URL is given (an address literal is read in every spelling a
resolver accepts, ``0x7f000001`` and ``127.1`` included, and an odd spelling is refused), and
``check_resolved`` on what a name resolved to, just before the connection is made to one of
those very addresses (``promptdeck/outgoing/guard.py``), so a name cannot be re-resolved to
something else between the check and the connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from ipaddress import (
    IPv4Address,
    IPv4Network,
    IPv6Address,
    IPv6Network,
    ip_address,
    ip_network,
)
from urllib.parse import unquote

from promptdeck.errors import InvalidInput, OutgoingRefused

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network

SETTING = "PROMPTDECK_ALLOW_OUTGOING"
URL_MAX = 2048
HOST_MAX = 253
ENTRIES_MAX = 256

# Why an address is refused, most specific first. Metadata services answer on fixed
# addresses inside these ranges; they are named so that the refusal says what was reached.
METADATA_ADDRESSES: dict[Address, str] = {
    ip_address("169.254.169.254"): "cloud metadata (AWS, GCP, Azure, OpenStack)",
    ip_address("169.254.170.2"): "cloud metadata (AWS ECS task)",
    ip_address("100.100.100.200"): "cloud metadata (Alibaba Cloud)",
    ip_address("192.0.0.192"): "cloud metadata (Oracle Cloud)",
    ip_address("fd00:ec2::254"): "cloud metadata (AWS, IPv6)",
}
# Names that reach a metadata service through the resolver's search list or its hosts file.
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.azure.com",
    }
)

_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "unspecified"),  # 0.0.0.0 connects to this host on Linux
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("100.64.0.0/10", "shared (carrier-grade NAT)"),
        ("169.254.0.0/16", "link-local"),
        ("192.0.0.0/24", "IETF protocol assignment"),
        ("192.0.2.0/24", "documentation"),
        ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"),
        ("198.18.0.0/15", "benchmarking"),
        ("192.88.99.0/24", "6to4 relay"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved"),  # 255.255.255.255 included
    )
)
_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(net), why)
    for net, why in (
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fe80::/10", "link-local"),
        ("fec0::/10", "site-local"),
        ("fc00::/7", "unique local (private)"),
        ("ff00::/8", "multicast"),
        ("2001:db8::/32", "documentation"),
        ("3fff::/20", "documentation"),
        ("100::/64", "discard"),
        ("64:ff9b:1::/48", "local-use NAT64"),
        ("5f00::/16", "segment routing"),
    )
)
# IPv6 forms that carry an IPv4 address: connecting to one reaches that IPv4 address.
_MAPPED = IPv6Network("::ffff:0:0/96")
_TRANSLATED = IPv6Network("::ffff:0:0:0/96")  # RFC 2765
_COMPATIBLE = IPv6Network("::/96")  # deprecated; :: and ::1 are in the table above
_NAT64 = IPv6Network("64:ff9b::/96")


def _embedded(address: IPv6Address) -> tuple[str, list[IPv4Address]] | None:
    """The IPv4 addresses an IPv6 address carries, with the name of the form."""
    if address.ipv4_mapped is not None:
        return "IPv4-mapped", [address.ipv4_mapped]
    low = IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _TRANSLATED:
        return "IPv4-translated", [low]
    if address in _COMPATIBLE and int(address) > 1:
        return "IPv4-compatible", [low]
    if address in _NAT64:
        return "NAT64", [low]
    if address.sixtofour is not None:
        return "6to4", [address.sixtofour]
    if address.teredo is not None:
        server, client = address.teredo
        return "Teredo", [server, client]
    return None


def refusal(address: Address) -> str | None:
    """Why a call out may not reach ``address`` (what kind of address it is), or None."""
    if address in METADATA_ADDRESSES:
        return METADATA_ADDRESSES[address]
    if isinstance(address, IPv4Address):
        for net4, why in _V4:
            if address in net4:
                return why
    else:
        if address.scope_id:
            return "link-local (scoped)"
        carried = _embedded(address)
        if carried is not None:
            form, inside = carried
            for v4 in inside:
                why4 = refusal(v4)
                if why4 is not None:
                    return f"{why4} ({form} {v4})"
            return None
        for net6, why in _V6:
            if address in net6:
                return why
    # Whatever else the IANA registries say is not globally reachable.
    return None if address.is_global else "reserved"


# --- the operator's list ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Allowance:
    """What ``PROMPTDECK_ALLOW_OUTGOING`` lists: host names (a name allowed is allowed
    whatever it resolves to; ``*.example`` allows every name under ``example``) and
    networks (an address literal is a network of one)."""

    hosts: frozenset[str] = frozenset()
    suffixes: tuple[str, ...] = ()
    networks: tuple[Network, ...] = field(default=())

    def allows_host(self, host: str) -> bool:
        name = normal_name(host)
        return name in self.hosts or any(name.endswith(s) for s in self.suffixes)

    def allows_address(self, address: Address) -> bool:
        forms: list[Address] = [address]
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            forms.append(address.ipv4_mapped)
        return any(a in net for a in forms for net in self.networks if a.version == net.version)

    def __bool__(self) -> bool:
        return bool(self.hosts or self.suffixes or self.networks)


NOTHING = Allowance()

_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def parse_allowance(text: str | None) -> Allowance:
    """``127.0.0.1,10.0.0.0/8,llm.internal,*.svc.cluster.local`` as an Allowance."""
    hosts: set[str] = set()
    suffixes: list[str] = []
    networks: list[Network] = []
    entries = [e.strip() for e in (text or "").split(",") if e.strip()]
    if len(entries) > ENTRIES_MAX:
        raise _bad(f"lists {len(entries)} entries; at most {ENTRIES_MAX}")
    for entry in entries:
        if "/" in entry:
            try:
                networks.append(ip_network(entry.strip("[]"), strict=True))
            except ValueError as exc:
                raise _bad(f"{entry[:80]!r} is not a network (like 10.0.0.0/8): {exc}") from None
            continue
        if "%" in entry:
            raise _bad(f"{entry[:80]!r}: write it without % (no encoding, no IPv6 zone)")
        literal = parse_literal(entry)
        if literal is not None:
            canonical = str(literal)
            if entry.strip("[]").lower() != canonical and isinstance(literal, IPv4Address):
                raise _bad(f"write {entry[:80]!r} as {canonical}")
            networks.append(ip_network(literal))
            continue
        wildcard = entry.startswith("*.")
        name = normal_name(entry[2:] if wildcard else entry)
        if not is_name(name) or looks_numeric(name):
            raise _bad(f"{entry[:80]!r} is neither a host name, an address nor a network")
        if wildcard:
            suffixes.append("." + name)
        else:
            hosts.add(name)
    return Allowance(frozenset(hosts), tuple(suffixes), tuple(networks))


def _bad(detail: str) -> InvalidInput:
    return InvalidInput(f"{SETTING}: {detail}", field="allow_outgoing")


# --- reading a host as the resolver would ----------------------------------------------------


def normal_name(host: str) -> str:
    """A host name compared case-insensitively, without the root's trailing dot."""
    name = host.lower()
    return name[:-1] if name.endswith(".") and len(name) > 1 else name


def is_name(name: str) -> bool:
    return 0 < len(name) <= HOST_MAX and all(_LABEL.match(label) for label in name.split("."))


def _v4_part(part: str) -> int | None:
    """One part of an inet_aton address: decimal, 0-prefixed octal or 0x-prefixed hex."""
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
        if digits == "":
            return 0
        ok = all(c in "0123456789abcdefABCDEF" for c in digits)
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
        ok = all(c in "01234567" for c in digits)
    else:
        digits, base = part, 10
        ok = digits.isascii() and digits.isdigit()
    return int(digits, base) if ok and digits else None


def parse_ipv4(host: str) -> IPv4Address | None:
    """An IPv4 address in any spelling inet_aton (so getaddrinfo) and the WHATWG URL
    standard accept: 1 to 4 parts, each decimal, octal or hex, the last filling the bytes
    left (``127.1``, ``0x7f000001``, ``2130706433``, ``0177.0.0.1``), one trailing dot."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_v4_part(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    if any(n > 255 for n in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        return None
    total = values[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(values[:-1]))
    return IPv4Address(total)


def looks_numeric(host: str) -> bool:
    """Whether the WHATWG standard reads ``host`` as an IPv4 address (its last label is a
    number): one that does not parse is then no host at all, never a name to resolve."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    last = parts[-1]
    if last[:2].lower() == "0x":
        return all(c in "0123456789abcdefABCDEF" for c in last[2:])
    return last != "" and last.isascii() and last.isdigit()


def parse_literal(host: str) -> Address | None:
    """The address a host literal names (IPv6 in brackets or bare, IPv4 in any inet_aton
    spelling), or None for a name. Percent-encoding is decoded first, as browsers do."""
    text = unquote(host) if "%" in host and not host.startswith("[") else host
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return IPv6Address(unquote(text))
        except ValueError:
            return None
    return parse_ipv4(text)


# --- the checks ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """Where a URL leads: its scheme, host (a name, lower case, or an address) and port."""

    scheme: str
    host: str
    port: int
    address: Address | None  # the host is an address literal


def _refused(detail: str, field: str | None) -> OutgoingRefused:
    return OutgoingRefused(detail, field=field)


def _hint(allowance: Allowance) -> str:
    return f"; list it in {SETTING} to allow it" if not allowance else f"; not in {SETTING}"


def split_url(url: str, field: str | None = "url") -> Target:
    """The scheme, host and port of an http(s) URL, refusing what parsers read differently:
    credentials (``http://a@127.0.0.1``), backslashes, spaces, control characters."""
    if len(url) > URL_MAX:
        raise _refused(f"the URL is longer than {URL_MAX} characters", field)
    if not url.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise _refused("the URL must be ASCII without spaces (percent-encode the rest)", field)
    if "\\" in url:
        raise _refused("the URL must not contain a backslash", field)
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        raise _refused("the URL must start with http:// or https://", field)
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        raise _refused("the URL must not hold credentials (user@host)", field)
    host, port_text = authority, ""
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise _refused("the URL's IPv6 address has no closing ]", field)
        host, after = authority[: end + 1], authority[end + 1 :]
        if after and not after.startswith(":"):
            raise _refused("the URL's host is not valid", field)
        port_text = after[1:]
    elif ":" in authority:
        host, port_text = authority.rsplit(":", 1)
    if not host:
        raise _refused("the URL has no host", field)
    port = 443 if scheme == "https" else 80
    if port_text:
        if not (port_text.isdigit() and len(port_text) <= 5 and 0 < int(port_text) < 65536):
            raise _refused("the URL's port must be a number from 1 to 65535", field)
        port = int(port_text)
    address = parse_literal(host)
    if address is None and host.startswith("["):
        raise _refused(f"{host[:80]} is not an IPv6 address", field)
    return Target(scheme, normal_name(host) if address is None else host, port, address)


def check_url(url: str, allowance: Allowance, *, field: str | None = "url") -> Target:
    """Refuse a URL whose host is an address (or a well-known name) a call out may not
    reach, or an address spelled other than plainly (``0x7f000001``: write 127.0.0.1)."""
    target = split_url(url, field)
    if target.address is not None:
        address = target.address
        if isinstance(address, IPv6Address) and address.scope_id:
            raise _refused("an IPv6 zone (%) in a URL is not accepted", field)
        why = refusal(address)
        if why is not None and not allowance.allows_address(address):
            shown = target.host[:80]
            if target.host != str(address):
                shown += f" = {address}"
            raise _refused(f"{shown} ({why}) may not be reached{_hint(allowance)}", field)
        if isinstance(address, IPv4Address) and target.host != str(address):
            raise _refused(f"write the host {target.host[:80]} as {address}", field)
        return target
    name = target.host
    if "%" in name:
        raise _refused("write the host without percent-encoding", field)
    if looks_numeric(name):
        raise _refused(f"{name[:80]} looks like an IPv4 address but is not one", field)
    if not is_name(name):
        raise _refused(f"{name[:80]} is not a valid host name", field)
    check_name(name, allowance, field=field)
    return target


def check_name(host: str, allowance: Allowance, *, field: str | None = None) -> None:
    """Refuse, before any resolution, names that always reach this host or a metadata
    service (``localhost`` and names under ``.localhost``: RFC 6761)."""
    name = normal_name(host)
    if allowance.allows_host(name):
        return
    if name == "localhost" or name.endswith(".localhost"):
        raise _refused(f"{name[:80]} is a loopback name{_hint(allowance)}", field)
    if name in METADATA_NAMES:
        raise _refused(f"{name[:80]} is a cloud metadata name{_hint(allowance)}", field)


def check_resolved(
    host: str, addresses: Iterable[Address], allowance: Allowance, *, field: str | None = None
) -> list[Address]:
    """Every address ``host`` resolved to must be one a call out may reach (one refused
    address refuses the host: a name that also leads inside is not a public name)."""
    found = list(dict.fromkeys(addresses))
    if not found:
        raise _refused(f"{host[:80]} resolves to no address", field)
    if allowance.allows_host(host):
        return found
    for address in found:
        why = refusal(address)
        if why is not None and not allowance.allows_address(address):
            raise _refused(
                f"{host[:80]} resolves to {address} ({why}), which may not be reached"
                f"{_hint(allowance)}",
                field,
            )
    return found
