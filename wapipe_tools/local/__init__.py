"""The embedded local stack: Tansu broker and redis-server from their wheels, services as processes."""
