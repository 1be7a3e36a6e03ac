"""The local stack's port table, and naming the process that holds a port."""

from __future__ import annotations

import os
import resource
import socket

from wapipe_tools.local.ports import LOCAL_PORTS, SERVICES, StackPorts, port_owner
from wapipe_tools.local.stack import local_specs


def test_the_defaults_are_the_documented_local_ports() -> None:
    assert LOCAL_PORTS.table() == {
        "ingress": 8080, "notifier": 8081, "console": 8082, "simulator": 8090, "broker": 19092, "redis": 16379,
        "ingress_metrics": 9101, "guardrails_health": 9102, "ai_health": 9103, "sender_health": 9104,
        "notifier_health": 9105, "media_health": 9106, "console_health": 9107}
    assert 8082 in LOCAL_PORTS.served()  # the operator console


def test_a_private_range_moves_every_port_and_keeps_them_apart() -> None:
    ports = StackPorts.from_base(29400)
    values = list(ports.table().values())
    assert len(set(values)) == len(values) and all(29400 <= p < 29430 for p in values)
    assert not set(values) & set(LOCAL_PORTS.table().values())


def test_every_service_is_told_the_ports_it_is_checked_on() -> None:
    ports = StackPorts.from_base(29400)
    specs = {s.name: s for s in local_specs(ports)}
    assert set(specs) == {"simulator", *SERVICES}
    assert {p for s in specs.values() for p in s.ports} | {ports.broker, ports.redis} == set(ports.served())
    for name in SERVICES:
        env = dict(specs[name].env)
        assert str(ports.health(name)) in env.values(), name  # its health/metrics port comes from the table
        assert f":{ports.health(name)}/metrics" in (specs[name].metrics_url or "")
    assert dict(specs["ingress"].env)["WAPIPE_INGRESS_PORT"] == str(ports.ingress)
    assert specs["ingress"].ready_url == f"http://127.0.0.1:{ports.ingress}/readyz"
    assert dict(specs["notifier"].env)["WAPIPE_NOTIFIER_PORT"] == str(ports.notifier)
    assert dict(specs["console"].env)["WAPIPE_CONSOLE_PORT"] == str(ports.console)
    assert f"--port {ports.simulator} --ingress-url {ports.url('ingress')}/webhook" in " ".join(specs["simulator"].argv)


def test_port_owner_names_this_process_past_fds_that_close_while_it_looks() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        # The listener on a high fd: the fd `listdir` itself used (a low one) is listed first, and gone by then.
        high = os.dup2(s.fileno(), min(900, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 1))
        try:
            assert port_owner(port).endswith(f"(pid {os.getpid()})")
        finally:
            os.close(high)


def test_port_owner_without_a_listener_says_so_generically() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening
        assert port_owner(port) == "another process"
