"""The baseline: a bare FastAPI endpoint that parses the JSON body and echoes it back."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/echo")
async def echo(request: Request) -> Any:
    return await request.json()
