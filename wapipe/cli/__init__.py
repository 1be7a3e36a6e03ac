"""The `wapipe` command line."""
