"""Ingress: verified Meta webhooks and the /api/chat channel -> confirmed events on Kafka."""
