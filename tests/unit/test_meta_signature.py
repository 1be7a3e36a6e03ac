"""Meta's webhook HMAC is computed and checked over the exact bytes sent."""

from __future__ import annotations

import json

from schemas.meta.signature import SIGNATURE_HEADER, sign, verify, webhook_headers

SECRET = "s3cr3t-app-secret-value"


def test_the_signature_is_metas_hmac_sha256_of_the_body() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    # `printf '%s' "$body" | openssl dgst -sha256 -hmac "$SECRET"`
    assert sign(body, SECRET) == "sha256=7151bba81b593b8ab30a656e879e557126499e91a0c02b3ebcfcb379bc16d7c3"
    assert webhook_headers(body, SECRET) == {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, SECRET)}


def test_exact_bytes_with_escapes_and_non_ascii_verify() -> None:
    body = '{"text":{"body":"Env\\u00edo a Bogot\\u00e1 \\/ ñandú @ana 👟"}}'.encode()
    assert verify(body, sign(body, SECRET), SECRET)
    assert verify(body, sign(body, SECRET).upper().replace("SHA256=", "sha256="), SECRET)
    assert verify(body, " " + sign(body, SECRET).replace("sha256=", "SHA256=") + " ", SECRET)
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert not verify(reserialised, sign(body, SECRET), SECRET)


def test_wrong_secret_or_garbage_refused() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    assert not verify(body, sign(body, "another-secret"), SECRET)
    assert not verify(body, "sha256=", SECRET)
    assert not verify(body, "md5=abc", SECRET)
    assert not verify(body, sign(body, SECRET).removeprefix("sha256="), SECRET)
