"""Replay records from a topic (or a DLQ) into another topic or a sandbox copy of the pipeline."""
