"""In-memory fakes of wapipe's own ports, shared by every test that needs one."""
