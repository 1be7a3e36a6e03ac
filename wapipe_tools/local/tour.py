"""What `wapipe up` prints once the stack is ready: where things are and what to try."""

TOUR = """\
  ingress       http://127.0.0.1:8080  /webhook /api/chat /readyz (metrics :9101)
  simulator     http://127.0.0.1:8090  /_sim/messages /_sim/inbound
  operator API  http://127.0.0.1:8081  /handoffs (bearer: wapipe operators token add, or WAPIPE_ADMIN_TOKEN)
  try, in another terminal:
    wapipe chat                      talk to the demo shop as a customer
    wapipe go-no-go                  the release checklist against this stack
    wapipe dlq list                  dead-letter topics and their counts
  Ctrl-C stops everything."""
