"""Rule 10's addresses, as pure rules: which addresses a call out may reach, every spelling of
an address read as a resolver reads it, and the operator's PROMPTDECK_ALLOW_OUTGOING."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, IPv4Network, ip_address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptdeck.config import Settings
from promptdeck.domain.outgoing import (
    NOTHING,
    check_resolved,
    check_url,
    parse_allowance,
    parse_ipv4,
    parse_literal,
    refusal,
)
from promptdeck.errors import InvalidInput, OutgoingRefused

pytestmark = pytest.mark.sqlite_only  # no database here: one pass is enough


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "shared"),
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.170.2", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("192.0.0.192", "cloud metadata"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("febf::1", "link-local"),
        ("fc00::1", "unique local"),
        ("fd12:3456::1", "unique local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        ("fec0::1", "site-local"),
        ("64:ff9b:1::1", "local-use NAT64"),
        # IPv6 forms that carry an IPv4 address reach it: judged by it.
        ("::ffff:127.0.0.1", "loopback (IPv4-mapped"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("::ffff:10.0.0.1", "private (IPv4-mapped"),
        ("::127.0.0.1", "loopback (IPv4-compatible"),
        ("::ffff:0:7f00:1", "loopback (IPv4-translated"),
        ("64:ff9b::7f00:1", "loopback (NAT64"),
        ("64:ff9b::a9fe:a9fe", "cloud metadata"),
        ("2002:7f00:1::", "loopback (6to4"),
        ("2002:a00:1::1", "private (6to4"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback (Teredo"),  # client 127.0.0.1
    ],
)
def test_every_kind_of_inside_address_is_refused_with_its_kind(address: str, kind: str) -> None:
    why = refusal(ip_address(address))
    assert why is not None and why.startswith(kind)


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "172.32.0.1",  # just past 172.16/12
        "100.128.0.1",  # just past 100.64/10
        "2606:4700:4700::1111",
        "2a00:1450:4001:81b::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_are_not_refused(address: str) -> None:
    assert refusal(ip_address(address)) is None


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0177.0000.0000.0001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f.0.0.0x1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0x", "0.0.0.0"),
        ("%31%32%37.0.0.1", "127.0.0.1"),
        ("169.254.43518", "169.254.169.254"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[::1]", "::1"),
        ("[0:0:0:0:0:0:0:1]", "::1"),
        ("[fd00:ec2::254]", "fd00:ec2::254"),
    ],
)
def test_every_spelling_of_an_address_is_read_as_the_resolver_reads_it(
    spelling: str, address: str
) -> None:
    assert parse_literal(spelling) == ip_address(address)


@pytest.mark.parametrize(
    "spelling", ["0x7f000001", "2130706433", "0177.0.0.1", "127.1", "0x7f.1", "0", "169.254.43518"]
)
def test_the_system_resolver_agrees_with_our_reading(spelling: str) -> None:
    """getaddrinfo (glibc's inet_aton) reads these spellings as we do."""
    infos = socket.getaddrinfo(spelling, 80, type=socket.SOCK_STREAM)
    assert {ip_address(i[4][0]) for i in infos} == {parse_literal(spelling)}


@pytest.mark.parametrize(
    "name", ["example.com", "llm.internal", "1.2.3.4.example", "0xfoo", "09.1", "1.2.3.4.5"]
)
def test_names_and_impossible_numbers_are_not_addresses(name: str) -> None:
    assert parse_literal(name) is None


def _spellings(address: IPv4Address) -> st.SearchStrategy[str]:
    """Every inet_aton spelling of ``address``: 1 to 4 parts, each decimal, octal or hex."""

    def spell(value: int, style: str) -> str:
        return {"d": str(value), "o": "0" + format(value, "o"), "x": "0x" + format(value, "x")}[
            style
        ]

    def build(parts: int, styles: list[str], dot: bool) -> str:
        octets = list(address.packed)
        head, tail = octets[: parts - 1], int.from_bytes(bytes(octets[parts - 1 :]), "big")
        text = ".".join([spell(o, s) for o, s in zip(head, styles, strict=False)])
        last = spell(tail, styles[-1])
        return (text + "." if text else "") + last + ("." if dot else "")

    return st.builds(
        build,
        st.integers(1, 4),
        st.lists(st.sampled_from("dox"), min_size=4, max_size=4),
        st.booleans(),
    )


INSIDE = [IPv4Network(n) for n in ("127.0.0.0/8", "10.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10")]


@settings(max_examples=300)
@given(data=st.data(), net=st.sampled_from(INSIDE))
def test_any_spelling_of_an_inside_address_in_a_url_is_refused(
    data: st.DataObject, net: IPv4Network
) -> None:
    offset = data.draw(st.integers(0, net.num_addresses - 1))
    address = net[offset]
    spelling = data.draw(_spellings(address))
    assert parse_ipv4(spelling) == address
    with pytest.raises(OutgoingRefused) as refused:
        check_url(f"http://{spelling}:8080/v1", NOTHING)
    assert str(address) in refused.value.detail
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://a@127.0.0.1/", "credentials"),
        ("http://a:b@example.com/", "credentials"),
        ("http://example.com\\@127.0.0.1/", "backslash"),
        ("http://example.com@127.0.0.1/", "credentials"),
        ("http://127.0.0.1#@example.com/", "loopback"),
        ("http://127.0.0.1?@example.com/", "loopback"),
        ("http://[::ffff:127.0.0.1]:8080/", "loopback"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("http://localhost:8080/", "loopback name"),
        ("http://LOCALHOST./", "loopback name"),
        ("http://api.localhost/", "loopback name"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata name"),
        ("http://metadata/", "metadata name"),
        ("http://1.2.3.999/", "looks like an IPv4 address"),
        ("http://0x100000000/", "looks like an IPv4 address"),
        ("http://%6c%6fcalhost/", "percent-encoding"),
        ("ftp://example.com/", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("http:///path", "no host"),
        ("http://example.com:0/", "port"),
        ("http://example.com:99999/", "port"),
        ("http://exa mple.com/", "ASCII without spaces"),
        ("http://ex\u00e4mple.com/", "ASCII"),
        ("http://0x08080808/", "write the host"),
    ],
)
def test_urls_that_lead_inside_or_read_two_ways_are_refused(url: str, says: str) -> None:
    with pytest.raises(OutgoingRefused) as refused:
        check_url(url, NOTHING)
    assert says in refused.value.detail


@pytest.mark.parametrize(
    "url",
    [
        "https://api.openai.com/v1",
        "http://llm.example.com:8000/v1",
        "https://8.8.8.8/v1",
        "https://[2606:4700:4700::1111]/v1",
        "HTTPS://API.Example.COM./v1",
    ],
)
def test_public_urls_pass(url: str) -> None:
    assert check_url(url, NOTHING).scheme == "https" or url.startswith("http://")


def test_the_operators_list_allows_hosts_networks_and_names_under_a_suffix() -> None:
    allowance = parse_allowance(" 127.0.0.1, 10.0.0.0/8 ,llm.internal,*.svc.cluster.local,[::1] ")
    assert check_url("http://127.0.0.1:11434/v1", allowance).port == 11434
    assert check_url("http://[::ffff:127.0.0.1]:8/v1", allowance).host == "[::ffff:127.0.0.1]"
    assert check_url("http://10.20.30.40/v1", allowance).address == ip_address("10.20.30.40")
    assert check_url("http://[::1]:8/", allowance).address == ip_address("::1")
    check_resolved("llm.internal", [ip_address("192.168.1.5")], allowance)
    check_resolved("vllm.ml.svc.cluster.local", [ip_address("192.168.0.7")], allowance)
    with pytest.raises(OutgoingRefused, match="not in PROMPTDECK_ALLOW_OUTGOING"):
        check_url("http://127.0.0.2/", allowance)
    with pytest.raises(OutgoingRefused):
        check_resolved("other.internal", [ip_address("192.168.1.5")], allowance)
    with pytest.raises(OutgoingRefused):  # the suffix, not the name itself
        check_resolved("svc.cluster.local", [ip_address("192.168.0.7")], allowance)
    with pytest.raises(OutgoingRefused, match="write the host"):  # allowed, but spelled oddly
        check_url("http://0x7f000001/", allowance)


def test_every_address_a_name_resolves_to_must_pass() -> None:
    public, inside = ip_address("93.184.216.34"), ip_address("10.0.0.1")
    assert check_resolved("example.com", [public], NOTHING) == [public]
    with pytest.raises(OutgoingRefused, match=r"resolves to 10\.0\.0\.1 \(private\)"):
        check_resolved("example.com", [public, inside], NOTHING)
    with pytest.raises(OutgoingRefused, match="no address"):
        check_resolved("example.com", [], NOTHING)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("127.1", "write '127.1' as 127.0.0.1"),
        ("0x7f000001", "as 127.0.0.1"),
        ("10.0.0.1/8", "not a network"),
        ("10.0.0.0/33", "not a network"),
        ("fe80::1%eth0", "without %"),
        ("exa mple.com", "neither"),
        ("-bad-.example", "neither"),
        ("1.2.3.999", "neither"),
        ("*.", "neither"),
    ],
)
def test_a_bad_allow_list_is_refused_at_start_naming_the_entry(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        parse_allowance(text)
    assert says in bad.value.detail
    with pytest.raises(ValueError, match="allow_outgoing"):
        Settings(allow_outgoing=text)


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMPTDECK_ALLOW_OUTGOING", "127.0.0.1,llm.internal")
    allowance = Settings().outgoing_allowance()
    assert allowance.allows_address(ip_address("127.0.0.1"))
    assert allowance.allows_host("LLM.internal.")
    assert not Settings(allow_outgoing="").outgoing_allowance()
