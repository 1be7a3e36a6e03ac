"""The outbound guard admits Meta's media hosts on public addresses only, and pins the address it checked."""

from __future__ import annotations

import base64
import hashlib

import pytest

from wapipe.media.download import sha256_matches
from wapipe.media.limits import META_MEDIA_HOSTS, MediaLimits
from wapipe.net.guard import GuardRefused, OutboundGuard


def _resolver(*addresses: str):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)
    return resolve


def _guard(*addresses: str, **kw: object) -> OutboundGuard:
    return OutboundGuard(META_MEDIA_HOSTS.split(","), resolver=_resolver(*addresses), **kw)  # type: ignore[arg-type]


async def test_meta_cdn_on_a_public_address_is_admitted_and_pinned() -> None:
    admitted = await _guard("157.240.1.1").admit("https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1")
    assert admitted.url == "https://157.240.1.1/whatsapp_business/attachments/?mid=1"
    assert admitted.headers == {"Host": "lookaside.fbsbx.com"}
    assert admitted.extensions == {"sni_hostname": "lookaside.fbsbx.com"}
    v6 = await _guard("2a03:2880:f003:c07:face:b00c::2").admit("https://scontent.xx.fbcdn.net:8443/v/x.ogg")
    assert v6.url == "https://[2a03:2880:f003:c07:face:b00c:0:2]:8443/v/x.ogg"
    assert v6.headers == {"Host": "scontent.xx.fbcdn.net:8443"}


@pytest.mark.parametrize("url", [
    "https://evil.example.com/x", "https://fbsbx.com.evil.example/x", "https://lookaside.fbsbx.com.evil/x",
    "https://notfbcdn.net/x",
])
async def test_hosts_outside_the_allow_list_are_refused(url: str) -> None:
    with pytest.raises(GuardRefused) as e:
        await _guard("157.240.1.1").admit(url)
    assert e.value.reason == "host_not_allowed"


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5", "172.16.3.4", "192.168.1.10", "169.254.169.254",
                                     "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1", "0.0.0.0", "224.0.0.1"])
async def test_a_meta_name_that_resolves_to_a_non_public_address_is_refused(address: str) -> None:
    with pytest.raises(GuardRefused) as e:
        await _guard("157.240.1.1", address).admit("https://lookaside.fbsbx.com/x")
    assert e.value.reason == "private_address"


async def test_ip_literals_schemes_and_user_info() -> None:
    guard = OutboundGuard(["127.0.0.1", "lookaside.fbsbx.com"], resolver=_resolver("157.240.1.1"))
    for url, reason in (("http://lookaside.fbsbx.com/x", "scheme_not_allowed"),
                        ("file:///etc/passwd", "scheme_not_allowed"),
                        ("https://user:pw@lookaside.fbsbx.com/x", "userinfo"),
                        ("https://127.0.0.1:8090/x", "private_address")):
        with pytest.raises(GuardRefused) as e:
            await guard.admit(url)
        assert e.value.reason == reason, url


async def test_dev_admits_the_simulator_on_loopback() -> None:
    guard = OutboundGuard(["127.0.0.1", "localhost"], allow_private=True, allow_http=True,
                          resolver=_resolver("127.0.0.1"))
    assert (await guard.admit("http://127.0.0.1:8090/x")).url == "http://127.0.0.1:8090/x"
    pinned = await guard.admit("http://localhost:8090/x")
    assert pinned.url == "http://127.0.0.1:8090/x" and pinned.headers == {"Host": "localhost:8090"}
    assert pinned.extensions == {}


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async def fail(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(GuardRefused) as e:
        await OutboundGuard(["lookaside.fbsbx.com"], resolver=fail).admit("https://lookaside.fbsbx.com/x")
    assert e.value.reason == "unresolvable"


def test_sha256_in_hex_or_base64() -> None:
    digest = hashlib.sha256(b"voz").digest()
    assert sha256_matches(digest.hex(), digest) and sha256_matches(digest.hex().upper(), digest)
    assert sha256_matches(base64.b64encode(digest).decode(), digest)
    assert not sha256_matches(hashlib.sha256(b"otra").hexdigest(), digest)
    assert not sha256_matches("not a digest", digest)


def test_caps_by_kind_and_the_meta_type_list() -> None:
    limits = MediaLimits()
    assert limits.cap_for("audio/ogg; codecs=opus") == 16 * 1024 * 1024
    assert limits.cap_for("image/webp") == limits.cap_for("image/jpeg") == 16 * 1024 * 1024
    assert limits.cap_for("application/pdf") == 100 * 1024 * 1024
    assert limits.allowed("audio/ogg; codecs=opus") and limits.allowed("application/pdf")
    assert not limits.allowed("image/gif") and not limits.allowed("application/x-msdownload")
