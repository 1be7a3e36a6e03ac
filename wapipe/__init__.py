"""The shared wapipe platform: settings, stream runtime, adapters, metrics, logging, CLI, local stack."""

__version__ = "0.1.0"
