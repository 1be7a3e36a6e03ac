"""What `wapipe up` prints once the stack is ready: where things are and what to try."""

from __future__ import annotations

from wapipe_tools.local.ports import LOCAL_PORTS, StackPorts


def tour(ports: StackPorts = LOCAL_PORTS, operator: tuple[str, str] | None = None) -> str:
    """`operator`: the dev operator's name and password (public dev values of `.env.example`)."""
    who = f"sign in as {operator[0]} / {operator[1]}" if operator and all(operator) else "wapipe operators add"
    return f"""\
  console       {ports.url('console')}  the operator console ({who})
  ingress       {ports.url('ingress')}  /webhook /api/chat /readyz (metrics :{ports.ingress_metrics})
  simulator     {ports.url('simulator')}  /_sim/messages /_sim/inbound
  operator API  {ports.url('notifier')}  /handoffs (bearer: wapipe operators token add, or WAPIPE_ADMIN_TOKEN)
  try, in another terminal:
    wapipe chat                      talk to the demo shop as a customer
    wapipe go-no-go                  the release checklist against this stack
    wapipe dlq list                  dead-letter topics and their counts
  Ctrl-C (or closing the terminal, or `wapipe down`) stops everything."""
