"""Shared helpers of the whole-pipeline benchmark and the chaos run: a private stack, webhooks, the simulator."""
