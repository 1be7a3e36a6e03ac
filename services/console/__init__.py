"""The operator console: a web inbox where a shop's people take over, answer and release conversations."""
