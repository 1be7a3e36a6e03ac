"""`POST /_sim/echo`: the simulator plays a person of the shop writing from the WhatsApp Business app, as Meta's
signed `smb_message_echoes` webhook, which ingress reads as a `BusinessEchoReceived` for that customer."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from schemas.events import BusinessEchoReceived
from schemas.meta.signature import sign
from schemas.meta.webhook import WebhookPayload
from services.ingress.normalize import normalize
from tests.integration.simulator.conftest import Receiver
from wapipe_tools.simulator.serve import BackgroundSimulator


def test_an_echo_is_a_signed_smb_message_echoes_webhook(sim: BackgroundSimulator, receiver: Receiver) -> None:
    r = httpx.post(f"{sim.url}/_sim/echo", json={"to": "573004445566", "text": "Hola Ana, soy Laura de la tienda"})
    assert r.status_code == 200 and r.json()["ingress_status"] == 200
    raw, headers = receiver.wait_for(1)[0]
    assert headers["x-hub-signature-256"] == sign(raw, "dev-app-secret-not-for-production")
    out = normalize(WebhookPayload.model_validate_json(raw), datetime.now(UTC))
    [echo] = [e.event for e in out.emits]
    assert isinstance(echo, BusinessEchoReceived)
    assert echo.payload.message_id == r.json()["message_id"] and echo.payload.to.wa_id == "573004445566"
    assert echo.payload.text == "Hola Ana, soy Laura de la tienda"
    assert echo.payload.business_number == sim.state.display_phone_number


def test_an_echo_can_replay_a_wamid_the_business_sent(sim: BackgroundSimulator, receiver: Receiver) -> None:
    r = httpx.post(f"{sim.url}/_sim/echo", json={"to": "573004445566", "text": "¡Hola!",
                                                 "message_id": "wamid.SENT1", "to_user_id": "CO.123456"})
    assert r.status_code == 200
    echo = r.json()["webhook"]["entry"][0]["changes"][0]
    assert echo["field"] == "smb_message_echoes"
    assert (echo["value"]["message_echoes"][0]["id"], echo["value"]["message_echoes"][0]["to_user_id"]) == (
        "wamid.SENT1", "CO.123456")
