"""Conversation state shared by several services, kept in Redis."""
