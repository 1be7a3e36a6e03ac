"""Embedded transcription speed and memory: seconds of work per second of audio, and the process RSS.

    .venv/bin/python -m bench.media [--repeats 3] [--beam 5] [--threads 0] [--models-dir .wapipe/models]

Speaks Spanish clips of about 4, 10 and 25 s with espeak-ng, encodes them as WhatsApp voice notes (OGG/Opus,
16 kHz mono) with ffmpeg, loads the packaged Whisper base model (faster-whisper, int8 on CPU) once, and
transcribes each clip `repeats` times, one at a time. Prints model load time, RSS before and after loading and
its peak, and per clip: audio seconds, wall seconds (median), real-time factor (wall / audio) and the text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from services.media.understand.whisper import LocalWhisper
from services.media.understand.whisper_model import packaged_model

CLIPS = {
    "short": "Hola. Necesito saber a qué hora cierran la tienda hoy.",
    "medium": "Buenas tardes. Quiero saber si hacen envíos a Medellín, cuánto cuesta el envío y cuántos días "
              "tarda en llegar el pedido.",
    "long": "Hola, buenos días. La semana pasada compré unos zapatos negros de cuero en la tienda, pero me "
            "quedaron pequeños. Quiero saber si los puedo cambiar por una talla más grande, si tengo que llevar "
            "la factura y hasta qué hora atienden el sábado. Muchas gracias.",
}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def voice_note(text: str, folder: Path, name: str) -> bytes:
    wav, ogg = folder / f"{name}.wav", folder / f"{name}.ogg"
    subprocess.run(["espeak-ng", "-v", "es", "-s", "130", "-w", str(wav), text], check=True, capture_output=True)
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1", "-ar", "16000",
                    "-c:a", "libopus", "-b:a", "32k", str(ogg)], check=True, capture_output=True)
    return ogg.read_bytes()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clips = {name: voice_note(text, Path(tmp), name) for name, text in CLIPS.items()}
    rss_before = rss_mib()
    model = LocalWhisper(packaged_model(args.models_dir), beam_size=args.beam, cpu_threads=args.threads)
    started = time.perf_counter()
    model.load()
    load_s = time.perf_counter() - started
    rss_loaded = rss_mib()
    results = []
    for name, data in clips.items():
        walls, transcript = [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            transcript = await model.transcribe(data, "audio/ogg; codecs=opus")
            walls.append(time.perf_counter() - started)
        assert transcript is not None and transcript.duration_s
        wall = statistics.median(walls)
        results.append({"clip": name, "audio_s": transcript.duration_s, "wall_s_median": round(wall, 2),
                        "wall_s_all": [round(w, 2) for w in walls], "rtf": round(wall / transcript.duration_s, 2),
                        "language": transcript.language, "text": transcript.text})
    load_avg = os.getloadavg()
    summary = {"model": model.name, "beam_size": args.beam, "cpu_threads": args.threads or "default",
               "cores": os.cpu_count(), "load_avg_1_5_15": [round(x, 2) for x in load_avg],
               "load_s": round(load_s, 2), "rss_mib_before_load": round(rss_before),
               "rss_mib_loaded": round(rss_loaded), "rss_mib_after": round(rss_mib()),
               "rss_mib_peak": round(peak_rss_mib()), "clips": results}
    audio = sum(r["audio_s"] for r in results)  # type: ignore[misc]
    wall_total = sum(r["wall_s_median"] for r in results)  # type: ignore[misc]
    summary["seconds_per_audio_second"] = round(wall_total / audio, 2)
    print(f"{model.name} beam={args.beam} load {load_s:.1f} s; RSS {rss_before:.0f} -> {rss_loaded:.0f} MiB "
          f"loaded, peak {peak_rss_mib():.0f} MiB; load avg {load_avg[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'clip':8} {'audio s':>8} {'wall s':>8} {'x real time':>12}  text")
    for r in results:
        print(f"{r['clip']:8} {r['audio_s']:8.1f} {r['wall_s_median']:8.2f} {r['rtf']:12.2f}  {r['text']}")
    print(f"overall: {summary['seconds_per_audio_second']} s of work per second of audio")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--models-dir", default=".wapipe/models")
    p.add_argument("--json", default="", help="also write the figures to this file")
    asyncio.run(main(p.parse_args()))
