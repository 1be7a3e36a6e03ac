"""The adapters behind the sender's media ports: Redis for uploaded ids, the media stage's downloader for
forwarded media, and the outbound guard configured for links Meta will fetch."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx
import redis.asyncio as aioredis

from services.sender.media import Fetched, MediaRefused
from wapipe.media.download import Downloaded, MediaDownloader
from wapipe.media.limits import META_MEDIA_HOSTS, MediaLimits
from wapipe.net.guard import OutboundGuard, Resolver, resolve
from wapipe.redis import KEY_PREFIX

# Meta keeps an uploaded media id for 30 days; the cache forgets it a day earlier.
MEDIA_ID_TTL_S = 29 * 24 * 3600


class MediaIds:
    """MediaIdCache: `wapipe:sender:media:{tenant}:{sha256}` -> Meta's media id, with a TTL under 30 days."""

    def __init__(self, redis: aioredis.Redis, ttl_s: int = MEDIA_ID_TTL_S) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    @staticmethod
    def key(tenant: str, sha256: str) -> str:
        return f"{KEY_PREFIX}sender:media:{tenant}:{sha256}"

    async def get(self, tenant: str, sha256: str) -> str | None:
        value = await self.redis.get(self.key(tenant, sha256))
        if value is None:
            return None
        return value.decode() if isinstance(value, bytes) else str(value)

    async def put(self, tenant: str, sha256: str, media_id: str) -> None:
        await self.redis.set(self.key(tenant, sha256), media_id, ex=self.ttl_s)


class AnyPublicHost(OutboundGuard):
    """The outbound guard with no host list: any host whose every address is public (links Meta fetches)."""

    def host_allowed(self, host: str) -> bool:
        return True


def link_guard(hosts: Iterable[str] = (), *, allow_private: bool = False,
               resolver: Resolver = resolve) -> OutboundGuard:
    """https links only; to `hosts` (a leading dot admits subdomains) when given, else to any public host."""
    listed = [h for h in hosts if h.strip()]
    if listed:
        return OutboundGuard(listed, allow_private=allow_private, resolver=resolver)
    return AnyPublicHost((), allow_private=allow_private, resolver=resolver)


def download_guard(graph_api_url: str, *, production: bool) -> OutboundGuard:
    """Meta's media hosts and the Graph API's own; loopback and http only outside production (the simulator)."""
    hosts = META_MEDIA_HOSTS.split(",")
    if graph_host := urlsplit(graph_api_url).hostname:
        hosts.append(graph_host.lower())
    return OutboundGuard(hosts, allow_private=not production, allow_http=not production)


class GraphForwarder:
    """ForwardPort over the media stage's `MediaDownloader`: the Graph API media object, then the verified bytes."""

    def __init__(self, client: httpx.AsyncClient, *, graph_api_url: str, version: str, access_token: str,
                 production: bool, attempts: int = 3) -> None:
        self._downloader = MediaDownloader(client, graph_url=graph_api_url, version=version,
                                           access_token=access_token,
                                           guard=download_guard(graph_api_url, production=production),
                                           limits=MediaLimits(), attempts=attempts)

    async def fetch(self, phone_number_id: str, media_id: str) -> Fetched:
        got = await self._downloader.download(media_id, phone_number_id=phone_number_id)
        if not isinstance(got, Downloaded):
            raise MediaRefused(f"forward_{got.reason}", got.detail)
        return Fetched(got.data, got.mime_type)
