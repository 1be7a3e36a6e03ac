"""The ai service."""
