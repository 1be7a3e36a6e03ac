"""Debian's chromium driven by Playwright for the console's browser tests (never a browser download)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@asynccontextmanager
async def launched(deadline_s: float) -> AsyncIterator[Any]:
    """A headless chromium; every page check waits up to `deadline_s` (Playwright's default is 5 s, and a page
    load after a POST can take longer than that when the machine is busy)."""
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=deadline_s * 1000)
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield b
        finally:
            await b.close()


async def sign_in(page: Any, url: str, name: str, password: str) -> None:
    """Signed out, /queue leads to the sign-in page; submit `name` and `password` there."""
    await page.goto(f"{url}/queue")
    await page.wait_for_url("**/login?next=/queue")
    await page.fill("#name", name)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
