"""Latency the media stage adds to a message, per kind: p50/p99 of its handler, downloads included.

    WAPIPE_ENV=dev .venv/bin/python -m bench.media.stage [--texts 500] [--images 20] [--pdfs 20] [--voice 3]

The handler as `wapipe run media` builds it (real downloader against the simulator's Graph API media endpoints on
loopback, folder object store in a temp dir, Tesseract OCR, pypdf, the embedded Whisper model) processes, one at a
time: text messages (passed through), receipt screenshots (download + store + OCR + receipt), PDFs (download +
store + text) and espeak-ng voice notes (download + store + transcription). The Kafka hop the stage adds (one more
produce and fetch) is not in these figures; `bench/pipeline` measures the whole path.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from schemas.envelope import Trace, conversation_key, derive_id, utcnow
from schemas.events import Media, MessageReceived, MessageReceivedPayload, Recipient
from services.media.build import build_downloader, build_object_store, build_understanding
from services.media.config import MediaSettings
from services.media.handlers import MediaHandler, Ports
from services.media.metrics import MediaMetrics
from tests.media_support import minimal_pdf, receipt_png, voice_note
from wapipe.media.download import new_client
from wapipe.runtime.types import RecordMeta
from wapipe_tools.simulator.serve import BackgroundSimulator
from wapipe_tools.simulator.state import SimState

TENANT = "100000000000001"
RECEIPT = ["Nequi", "Pago exitoso", "Enviaste", "$ 150.000", "Referencia M1234567", "15 de marzo de 2025"]


def message(n: int, kind: str, media: Media | None, text: str | None = None) -> MessageReceived:
    now, wa_id = utcnow(), f"5730{n:08d}"
    return MessageReceived(
        event_id=derive_id("bench", kind, n), occurred_at=now, tenant=TENANT,
        conversation=conversation_key(TENANT, wa_id), correlation_id=f"wamid.bench{kind}{n}",
        trace=Trace(received_at=now),
        payload=MessageReceivedPayload(message_id=f"wamid.bench{kind}{n}", sender=Recipient(wa_id=wa_id),
                                       timestamp=now, message_type=kind, text=text, media=media))


def quantiles(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    return {"n": len(ms), "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(p99, 2),
            "max_ms": round(ms[-1], 2)}


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp, BackgroundSimulator(SimState(ingress_url=None)) as sim:
        s = MediaSettings(_env_file=None, graph_api_url=sim.url, meta_access_token=SecretStr(sim.state.access_token),  # type: ignore[call-arg]
                          media_dir=f"{tmp}/media", media_models_dir=args.models_dir)
        http = new_client(s.media_download_timeout_s)
        understanding = build_understanding(s)
        handler = MediaHandler(Ports(build_downloader(s, http), build_object_store(s), understanding),
                               MediaMetrics(CollectorRegistry()))
        meta = RecordMeta("wa.inbound.v1", 0, 0, None, None)
        inputs: dict[str, list[MessageReceived]] = {"text": [message(i, "text", None, "hola, ¿tienen tenis?")
                                                             for i in range(args.texts)]}

        def media(kind: str, data: bytes, mime: str, count: int) -> list[MessageReceived]:
            out = []
            for i in range(count):
                item = sim.state.media.add(data + b"\n" * i if kind == "document" else data, mime)
                out.append(message(i, kind, Media(id=item.id, mime_type=mime, voice=kind == "audio")))
            return out

        inputs["image"] = media("image", receipt_png(RECEIPT), "image/png", args.images)
        inputs["document"] = media("document", minimal_pdf([["Cotizacion", "20 pares de tenis talla 38"]]),
                                   "application/pdf", args.pdfs)
        if args.voice:
            transcriber = understanding.transcriber
            if transcriber is not None and hasattr(transcriber, "load"):
                await asyncio.to_thread(transcriber.load)  # as the stage does at start
            ogg = voice_note("Hola. Necesito saber a qué hora cierran la tienda hoy.", Path(tmp))
            inputs["audio"] = media("audio", ogg, "audio/ogg; codecs=opus", args.voice)
        results: dict[str, dict[str, float]] = {}
        for kind, events in inputs.items():
            if not events:
                continue
            walls = []
            for e in events:
                started = time.perf_counter()
                await handler(e, meta)
                walls.append(time.perf_counter() - started)
            results[kind] = quantiles(walls)
        await http.aclose()
    load = [round(x, 2) for x in os.getloadavg()]
    print(f"media stage handler, one message at a time; load avg {load} on {os.cpu_count()} cores")
    print(f"{'kind':10} {'n':>5} {'p50 ms':>10} {'p99 ms':>10} {'max ms':>10}")
    for kind, r in results.items():
        print(f"{kind:10} {r['n']:5.0f} {r['p50_ms']:10.2f} {r['p99_ms']:10.2f} {r['max_ms']:10.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"load_avg_1_5_15": load, "cores": os.cpu_count(),
                                               "kinds": results}, indent=2) + "\n")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--texts", type=int, default=500)
    p.add_argument("--images", type=int, default=20)
    p.add_argument("--pdfs", type=int, default=20)
    p.add_argument("--voice", type=int, default=3)
    p.add_argument("--models-dir", default=".wapipe/models")
    p.add_argument("--json", default="", help="also write the figures to this file")
    asyncio.run(main(p.parse_args()))
