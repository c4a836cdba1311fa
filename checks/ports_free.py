"""``ports``: the fixed ports the run will bind are free now (metrics, a fixed simulator port).

Which ports: the bot's metrics port (``MMBOT_METRICS_PORT`` in the target's environment, else
9464, when the target is ``mmbot``), the port of the profile's ``metrics_url``, and any
service started with ``--port N`` (N not 0) or made ready on ``tcp: host:port``. Each is tried
with a real ``bind`` (``SO_REUSEADDR`` on POSIX, so a socket lingering in TIME_WAIT is not a
false alarm); the holder of a busy port is named when the OS lets us see it.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import socket
import sys
from urllib.parse import urlsplit

import psutil

from checks.base import Check, Outcome
from checks.context import CheckContext, runs_mmbot

DEFAULT_METRICS_PORT = 9464


def planned_ports(ctx: CheckContext) -> dict[tuple[str, int], str]:
    """{(host, port): what binds it} for the fixed ports of the run."""
    profile = ctx.profile
    ports: dict[tuple[str, int], str] = {}
    if profile is None:
        return ports
    target = profile.target
    env = ctx.target_env
    if target is not None and (runs_mmbot(target.command) or "MMBOT_METRICS_PORT" in env):
        text = env.get("MMBOT_METRICS_PORT", str(DEFAULT_METRICS_PORT))
        if text.isdigit() and int(text):
            ports["127.0.0.1", int(text)] = "bot metrics (MMBOT_METRICS_PORT)"
    if profile.metrics_url:
        parts = urlsplit(profile.metrics_url)
        try:
            port = parts.port  # None, or ValueError for a placeholder like {ports.metrics}
        except ValueError:
            port = None
        if port and parts.hostname:
            ports[parts.hostname, port] = "metrics_url"
    for service in profile.services:
        argv = service.command
        for flag, value in itertools.pairwise(argv):
            if flag == "--port" and value.isdigit() and int(value):
                ports["127.0.0.1", int(value)] = f"service {service.name} --port"
        if service.ready is not None and service.ready.tcp and "{" not in service.ready.tcp:
            host, _, tcp_port = service.ready.tcp.rpartition(":")
            if tcp_port.isdigit():
                ports[host or "127.0.0.1", int(tcp_port)] = f"service {service.name} ready.tcp"
    return ports


def port_in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        if sys.platform != "win32":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                return True
            raise
    return False


def holder(port: int) -> str | None:
    """``name (pid N)`` of the process listening on ``port``, if we may see it."""
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
                if conn.pid is None:
                    return None
                return f"{psutil.Process(conn.pid).name()} (pid {conn.pid})"
    return None


class PortsCheck(Check):
    name = "ports"
    description = "fixed ports of the run (metrics, simulator) are free"
    timeout_s = 5.0

    def run(self, ctx: CheckContext) -> Outcome:
        ports = planned_ports(ctx)
        if not ports:
            return Outcome.skip("the run binds no fixed port")
        busy: list[str] = []
        for (host, port), role in sorted(ports.items(), key=lambda item: item[0][1]):
            try:
                in_use = port_in_use(host, port)
            except OSError as exc:
                busy.append(f"{host}:{port} ({role}) cannot be bound: {exc.strerror}")
                continue
            if in_use:
                who = holder(port)
                busy.append(f"{host}:{port} ({role}) is in use" + (f" by {who}" if who else ""))
        listed = ", ".join(f"{port} ({role})" for (_host, port), role in ports.items())
        if busy:
            return Outcome.fail(
                "; ".join(busy),
                fix="stop whatever holds the port, or change it (MMBOT_METRICS_PORT, the "
                "service's --port, metrics_url)",
                ports=listed,
            )
        return Outcome.ok(f"free: {listed}")
