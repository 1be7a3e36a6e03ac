"""A local stand-in for Meta's WhatsApp Cloud API (and an OpenAI-compatible model) for dev and tests."""

from wapipe.simulator.app import create_app
from wapipe.simulator.state import SimState

__all__ = ["SimState", "create_app"]
