"""Meta media shared by the stages that fetch or send it: the guarded downloader and Meta's size and type limits."""
