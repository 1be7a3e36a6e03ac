"""Tools that drive the platform and the services from outside: the `wapipe` CLI, the local stack, the Graph API
and model simulator, and topic replay. They import the services; nothing under `schemas`, `wapipe` or `services`
imports them."""
