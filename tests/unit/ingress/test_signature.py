"""The webhook HMAC is checked over the exact bytes Meta sent."""

from __future__ import annotations

import json

from services.ingress.signature import signature_valid, token_matches
from tests.support import sign

SECRET = "s3cr3t-app-secret-value"


def test_exact_bytes_with_escapes_and_non_ascii_verify() -> None:
    body = '{"text":{"body":"Env\\u00edo a Bogot\\u00e1 \\/ ñandú @ana 👟"}}'.encode()
    assert signature_valid(body, sign(body, SECRET), SECRET)
    assert signature_valid(body, sign(body, SECRET).upper().replace("SHA256=", "sha256="), SECRET)
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert not signature_valid(reserialised, sign(body, SECRET), SECRET)


def test_wrong_secret_or_garbage_refused() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    assert not signature_valid(body, sign(body, "another-secret"), SECRET)
    assert not signature_valid(body, "sha256=", SECRET)
    assert not signature_valid(body, "md5=abc", SECRET)


def test_token_matches() -> None:
    assert token_matches("tok", "tok")
    assert not token_matches(None, "tok") and not token_matches("to", "tok")
