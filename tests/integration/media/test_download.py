"""The downloader against the simulated Graph API over real HTTP: every way a media download ends."""

from __future__ import annotations

import hashlib
import os

import httpx

from tests.integration.media.conftest import Sleeps, downloader, register
from wapipe.media.download import Downloaded, MediaUnavailable
from wapipe.media.limits import MediaLimits
from wapipe.net.guard import OutboundGuard
from wapipe_tools.simulator.serve import BackgroundSimulator

VOICE = b"OggS" + os.urandom(40_000)


async def test_ok_bytes_verified_against_the_media_object_and_the_webhook(sim: BackgroundSimulator,
                                                                          http: httpx.AsyncClient) -> None:
    media = register(sim, VOICE, "audio/ogg; codecs=opus")
    result = await downloader(sim, http).download(media["id"], expected_sha256=media["webhook_sha256"])
    assert isinstance(result, Downloaded)
    assert result.data == VOICE and result.size == len(VOICE) and result.attempts == 1
    assert result.sha256 == hashlib.sha256(VOICE).hexdigest() and result.mime_type == "audio/ogg; codecs=opus"


async def test_an_expired_url_is_retried_with_a_fresh_one_then_given_up(sim: BackgroundSimulator,
                                                                        http: httpx.AsyncClient) -> None:
    sleeps = Sleeps()
    media = register(sim, VOICE, "audio/ogg", fault="expired")
    result = await downloader(sim, http, sleeps=sleeps, attempts=3).download(media["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "expired" and result.attempts == 3
    assert len(sleeps.delays) == 2


async def test_an_unknown_media_id_is_not_found_at_once(sim: BackgroundSimulator, http: httpx.AsyncClient) -> None:
    sleeps = Sleeps()
    result = await downloader(sim, http, sleeps=sleeps).download("404404404")
    assert isinstance(result, MediaUnavailable) and result.reason == "not_found" and result.attempts == 1
    gone = register(sim, VOICE, "audio/ogg", fault="not_found")
    assert (await downloader(sim, http).download(gone["id"])).reason == "not_found"  # type: ignore[union-attr]
    assert sleeps.delays == []
    for forged in ("../me/accounts", "123?fields=access_token", "", "1/2"):
        refused = await downloader(sim, http).download(forged)
        assert isinstance(refused, MediaUnavailable) and refused.reason == "not_found" and refused.attempts == 0


async def test_wrong_sha256_from_the_media_object_or_the_webhook(sim: BackgroundSimulator,
                                                                 http: httpx.AsyncClient) -> None:
    wrong = register(sim, VOICE, "audio/ogg", fault="wrong_sha256")
    result = await downloader(sim, http).download(wrong["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "sha256_mismatch"
    fine = register(sim, VOICE, "audio/ogg")
    other = register(sim, b"otra nota", "audio/ogg")
    result = await downloader(sim, http).download(fine["id"], expected_sha256=other["webhook_sha256"])
    assert isinstance(result, MediaUnavailable) and result.reason == "sha256_mismatch"


async def test_a_body_larger_than_declared_is_cut_off(sim: BackgroundSimulator, http: httpx.AsyncClient) -> None:
    media = register(sim, VOICE, "audio/ogg", fault="wrong_size")
    result = await downloader(sim, http).download(media["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "size_mismatch"


async def test_oversize_is_refused_by_declared_size_and_while_streaming(sim: BackgroundSimulator,
                                                                        http: httpx.AsyncClient) -> None:
    small = MediaLimits(audio_bytes=30_000)
    declared = register(sim, VOICE, "audio/ogg")
    result = await downloader(sim, http, limits=small).download(declared["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "too_large" and "cap" in result.detail
    # the media object understates the size (20,002 bytes declared): the body itself is stopped at the cap
    lying = register(sim, VOICE, "audio/ogg", fault="wrong_size")
    result = await downloader(sim, http, limits=small).download(lying["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "too_large"
    # documents have their own, larger cap
    pdf = register(sim, b"%PDF-1.4 " + os.urandom(40_000), "application/pdf")
    assert isinstance(await downloader(sim, http, limits=small).download(pdf["id"]), Downloaded)


async def test_mime_types_outside_the_allow_list_are_refused(sim: BackgroundSimulator,
                                                             http: httpx.AsyncClient) -> None:
    gif = register(sim, b"GIF89a....", "image/gif")
    result = await downloader(sim, http).download(gif["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "mime_not_allowed"
    png = register(sim, b"\x89PNG....", "image/png")
    audio_only = MediaLimits(mime_types=frozenset({"audio/ogg"}))
    result = await downloader(sim, http, limits=audio_only).download(png["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "mime_not_allowed"


async def test_the_guard_refuses_hosts_and_loopback_outside_dev(sim: BackgroundSimulator,
                                                                http: httpx.AsyncClient) -> None:
    media = register(sim, VOICE, "audio/ogg")
    meta_only = OutboundGuard(["graph.facebook.com", "lookaside.fbsbx.com"], allow_http=True)
    result = await downloader(sim, http, guard=meta_only).download(media["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "host_not_allowed"
    production = OutboundGuard(["127.0.0.1"], allow_private=False, allow_http=True)
    result = await downloader(sim, http, guard=production).download(media["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "host_not_allowed"
    assert "private_address" in result.detail
    https_only = OutboundGuard(["127.0.0.1"], allow_private=True)
    result = await downloader(sim, http, guard=https_only).download(media["id"])
    assert isinstance(result, MediaUnavailable) and "scheme_not_allowed" in result.detail


async def test_transient_graph_errors_are_retried_by_code(sim: BackgroundSimulator, http: httpx.AsyncClient) -> None:
    sleeps = Sleeps()
    flaky = register(sim, VOICE, "audio/ogg", fault="graph_error", code=131016, count=2)
    result = await downloader(sim, http, sleeps=sleeps, attempts=3).download(flaky["id"])
    assert isinstance(result, Downloaded) and result.attempts == 3 and result.data == VOICE
    down = register(sim, VOICE, "audio/ogg", fault="graph_error", code=131000, count=10)
    result = await downloader(sim, http, attempts=3).download(down["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "graph_error" and result.attempts == 3
    permanent = register(sim, VOICE, "audio/ogg", fault="graph_error", code=131052, count=10)
    result = await downloader(sim, http, attempts=3).download(permanent["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "graph_error" and result.attempts == 1


async def test_a_wrong_token_is_unauthorized_without_retries(sim: BackgroundSimulator,
                                                             http: httpx.AsyncClient) -> None:
    media = register(sim, VOICE, "audio/ogg")
    result = await downloader(sim, http, token="wrong-token").download(media["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "unauthorized" and result.attempts == 1


async def test_a_slow_download_times_out_and_is_given_up(sim: BackgroundSimulator) -> None:
    media = register(sim, VOICE, "audio/ogg", fault="slow", delay_s=3)
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.2), follow_redirects=False) as quick:
        result = await downloader(sim, quick, attempts=2).download(media["id"])
    assert isinstance(result, MediaUnavailable) and result.reason == "timeout" and result.attempts == 2
