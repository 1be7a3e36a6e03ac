"""Describer on an OpenAI-compatible vision model: the image goes as an `image_url` data URL content part."""

from __future__ import annotations

import base64

import openai

from schemas.meta.media import base_mime
from services.media.understand.types import UnderstandingFailed

PROMPT = ("Describe la imagen en una o dos frases en español, como se la contarías a un vendedor de la tienda: "
          "qué producto o documento es, color, texto visible. No inventes lo que no se ve.")


class OpenAIDescriber:
    def __init__(self, base_url: str, api_key: str, model: str, timeout_s: float = 30.0, max_tokens: int = 120,
                 client: openai.AsyncOpenAI | None = None) -> None:
        self.model = model
        self._max_tokens = max_tokens
        self._client = client or openai.AsyncOpenAI(base_url=base_url, api_key=api_key, timeout=timeout_s,
                                                    max_retries=0)

    async def describe(self, data: bytes, mime_type: str) -> str:
        url = f"data:{base_mime(mime_type)};base64,{base64.b64encode(data).decode()}"
        try:
            r = await self._client.chat.completions.create(
                model=self.model, max_tokens=self._max_tokens,
                messages=[{"role": "system", "content": PROMPT},
                          {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}])
        except (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError,
                openai.InternalServerError) as e:
            raise UnderstandingFailed(f"vision: {type(e).__name__}", transient=True) from e
        except openai.APIStatusError as e:
            raise UnderstandingFailed(f"vision: HTTP {e.status_code}", transient=e.status_code >= 500) from e
        return (r.choices[0].message.content or "").strip() if r.choices else ""

    async def aclose(self) -> None:
        await self._client.close()
