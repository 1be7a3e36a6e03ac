"""A local stand-in for Meta's WhatsApp Cloud API (and an OpenAI-compatible model) for dev and tests."""

from wapipe_tools.simulator.app import create_app
from wapipe_tools.simulator.state import SimState

__all__ = ["SimState", "create_app"]
