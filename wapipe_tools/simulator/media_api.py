"""Meta's media endpoints: the media object, its bearer-only download URL, upload and delete; plus `/_sim/media`.

Uploads are listed by `GET /_sim/messages` (`uploads`); a fault with `applies_to="upload"` hits only uploads
(`{"kind": "code", "code": 131053}` is Meta's media upload error).

`POST /_sim/media` (raw bytes, Content-Type = mime type) registers media a test can reference in a webhook;
query options attach a transcript or description (what the simulated model says about it) and a fault.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas.meta.graph import MEDIA_TYPES
from schemas.meta.media import UPLOAD_LIMITS, base_mime, kind_of
from wapipe_tools.simulator.errors import meta_error
from wapipe_tools.simulator.media import MediaFault, MediaFaultKind, SimMedia
from wapipe_tools.simulator.state import SimState

router = APIRouter()

DOWNLOAD_PATH = "/whatsapp_business/attachments/"
_VERSION = re.compile(r"v\d+(\.\d+)?")


def _state(request: Request) -> SimState:
    state: SimState = request.app.state.sim
    return state


def _authorized(request: Request, state: SimState) -> bool:
    auth = request.headers.get("authorization", "")
    return auth.startswith("Bearer ") and auth[7:] == state.access_token


def _not_found(media_id: str) -> JSONResponse:
    return meta_error(100, f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot be loaded "
                           "due to missing permissions, or does not support this operation.", subcode=33)


@router.post("/_sim/media")
async def register(request: Request, fault: MediaFaultKind | None = None, delay_s: float = 10.0,
                   code: int = 131016, count: int = 1, transcript: str | None = None, language: str | None = None,
                   description: str | None = None, filename: str | None = None,
                   phone_number_id: str | None = None) -> dict[str, Any]:
    """Raw bytes in, `{"id", ...}` out, for a test to put in a webhook's audio/image/document/... object."""
    mime = request.headers.get("content-type") or "application/octet-stream"
    item = _state(request).media.add(
        await request.body(), mime, phone_number_id=phone_number_id, filename=filename, transcript=transcript,
        language=language, description=description,
        fault=MediaFault(fault, delay_s=delay_s, code=code, count=count) if fault else None)
    return item.info()


@router.get("/_sim/media/{media_id}")
async def inspect(media_id: str, request: Request) -> Response:
    item = _state(request).media.get(media_id)
    if item is None:
        return JSONResponse({"error": "no such media"}, status_code=404)
    return JSONResponse(item.info())


@router.get(DOWNLOAD_PATH)
async def download(request: Request, mid: str = "", ext: str = "", hash: str = "") -> Response:
    """The media URL: bearer token required; 404 once it is 5 minutes old (or its media is gone or faulted)."""
    state = _state(request)
    if not _authorized(request, state):
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    item = state.media.resolve(mid, ext, hash)
    if item is None:
        return Response(status_code=404)
    if item.fault is not None and item.fault.kind == "slow":
        await asyncio.sleep(item.fault.delay_s)
    return Response(item.data, media_type=item.mime_type)


def _media_object(request: Request, state: SimState, item: SimMedia) -> dict[str, Any]:
    q = state.media.url_query(item.id)
    url = str(request.base_url).rstrip("/") + DOWNLOAD_PATH + "?" + "&".join(f"{k}={v}" for k, v in q.items())
    sha, size = item.sha256, len(item.data)
    if item.fault is not None and item.fault.kind == "wrong_sha256":
        sha = hashlib.sha256(item.data + b"?").hexdigest()
    if item.fault is not None and item.fault.kind == "wrong_size":
        size = len(item.data) // 2
    return {"messaging_product": "whatsapp", "url": url, "mime_type": item.mime_type, "sha256": sha,
            "file_size": size, "id": item.id}


@router.get("/{version}/{media_id}")
async def media_object(version: str, media_id: str, request: Request,
                       phone_number_id: str | None = None) -> Response:
    state = _state(request)
    if not _VERSION.fullmatch(version):
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    if not _authorized(request, state):
        return meta_error(190, "Invalid OAuth access token")
    item = state.media.get(media_id)
    if item is None or phone_number_id and item.phone_number_id and item.phone_number_id != phone_number_id:
        return _not_found(media_id)
    fault = item.fault
    if fault is not None and fault.kind == "not_found":
        return _not_found(media_id)
    if fault is not None and fault.kind == "graph_error" and fault.count > 0:
        fault.count -= 1
        return meta_error(fault.code, "injected media endpoint error")
    return JSONResponse(_media_object(request, state, item))


@router.delete("/{version}/{media_id}")
async def delete_media(version: str, media_id: str, request: Request) -> Response:
    state = _state(request)
    if not _VERSION.fullmatch(version):
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    if not _authorized(request, state):
        return meta_error(190, "Invalid OAuth access token")
    return JSONResponse({"success": True}) if state.media.delete(media_id) else _not_found(media_id)


@router.post("/{version}/{phone_number_id}/media")
async def upload(version: str, phone_number_id: str, request: Request) -> Response:
    """Meta's upload: multipart `messaging_product=whatsapp`, `file`, `type` (the mime type) -> `{"id"}`."""
    state = _state(request)
    if not _authorized(request, state):
        return meta_error(190, "Invalid OAuth access token")
    try:
        form = await request.form()
    except StarletteHTTPException:  # Starlette's answer to a body it cannot parse
        return meta_error(100, "The request body is not valid multipart/form-data")
    file = form.get("file")
    if form.get("messaging_product") != "whatsapp":
        return meta_error(100, "messaging_product must be 'whatsapp'")
    if not isinstance(file, UploadFile):
        return meta_error(100, "file is required")
    fault = state.next_fault(None, False, upload=True)
    if fault is not None and fault.kind == "slow":
        await asyncio.sleep(fault.delay_s)
    elif fault is not None:
        return meta_error(2 if fault.kind in ("5xx", "timeout") else fault.code, "injected upload error",
                          status=fault.status if fault.kind == "5xx" else None)
    mime = str(form.get("type") or file.content_type or "")
    data = await file.read()
    kind = kind_of(mime)
    if kind is None:
        return meta_error(131053, f"Param file must be a file with one of the supported types, got {mime!r}")
    if len(data) > UPLOAD_LIMITS[kind]:
        return meta_error(131053, f"{kind} files are limited to {UPLOAD_LIMITS[kind]} bytes, got {len(data)}")
    item = state.media.add(data, mime, phone_number_id=phone_number_id, filename=file.filename)
    state.uploads.append({"phone_number_id": phone_number_id, "id": item.id, "mime_type": base_mime(mime),
                          "size": len(data), "sha256": item.sha256, "filename": file.filename})
    return JSONResponse({"id": item.id})


def check_send(state: SimState, body: dict[str, Any]) -> Response | None:
    """Meta's answer to a media send it refuses (an unknown or mismatched media id), or None when it is fine."""
    kind = body.get("type")
    if kind not in MEDIA_TYPES:
        return None
    media_id = (body.get(str(kind)) or {}).get("id")
    if media_id is None:
        return None  # sent by link: Meta fetches it later
    item = state.media.get(str(media_id))
    if item is None:
        return meta_error(131053, f"Unable to retrieve media with id {media_id}")
    if kind_of(item.mime_type) != kind:
        return meta_error(131053, f"media {media_id} is {base_mime(item.mime_type)}, not usable as {kind}")
    return None
