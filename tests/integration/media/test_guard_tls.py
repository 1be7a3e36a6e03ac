"""A pinned request really reaches the checked address with the name's TLS identity (real TLS, real httpx)."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

from wapipe.net.guard import OutboundGuard
from wapipe_tools.local.servers import free_port

NAME = "media.wapipe.test"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", f"/CN={NAME}", "-addext", f"subjectAltName=DNS:{NAME}"],
                   check=True, capture_output=True)
    app = FastAPI()

    @app.get("/file")
    async def file(request: Request) -> Response:
        return Response(request.headers.get("host", "").encode(), media_type="text/plain")

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ssl_keyfile=str(key), ssl_certfile=str(cert)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield port, cert
    server.should_exit = True
    thread.join(10)


async def test_the_pinned_address_serves_the_name_with_its_certificate(tls_server: tuple[int, Path]) -> None:
    port, cert = tls_server

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == NAME else []

    guard = OutboundGuard([NAME], allow_private=True, resolver=resolver)
    admitted = await guard.admit(f"https://{NAME}:{port}/file")
    assert admitted.url == f"https://127.0.0.1:{port}/file"
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(cert))) as client:
        r = await client.get(admitted.url, headers=admitted.headers, extensions=admitted.extensions)
        assert r.status_code == 200 and r.text == f"{NAME}:{port}"
    # without the name in SNI the certificate does not match the address: TLS refuses (a fresh pool)
    async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=str(cert))) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(admitted.url, headers=admitted.headers)
