"""Large webhook deliveries built from the captured samples: n messages from n customers, plus statuses."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parents[2] / "data" / "meta" / "v25.0"


def _sample(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text())
    return doc


def customer(i: int) -> tuple[str, str]:
    """(wa_id, user_id) of the i-th customer of a batch."""
    return f"57300{i:07d}", f"CO.{9000000000 + i}"


def batch(messages: int, statuses: int = 0) -> dict[str, Any]:
    """One change carrying `messages` texts (each from its own contact) and `statuses` delivery statuses."""
    doc = _sample("message_text")
    value = doc["entry"][0]["changes"][0]["value"]
    msg_template = value["messages"][0]
    status_template = _sample("status_sent")["entry"][0]["changes"][0]["value"]["statuses"][0]
    value["contacts"], value["messages"], value["statuses"] = [], [], []
    for i in range(messages):
        wa_id, user_id = customer(i)
        value["contacts"].append({"profile": {"name": f"Cliente {i}"}, "wa_id": wa_id, "user_id": user_id})
        msg = copy.deepcopy(msg_template)
        msg.update({"from": wa_id, "from_user_id": user_id, "id": f"wamid.batch.{i}"})
        msg["text"]["body"] = f"mensaje {i}"
        value["messages"].append(msg)
    for i in range(statuses):
        wa_id, user_id = customer(i)
        st = copy.deepcopy(status_template)
        st.update({"id": f"wamid.out.{i}", "recipient_id": wa_id, "recipient_user_id": user_id})
        value["statuses"].append(st)
    return doc


def to_bytes(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()
