"""`taskapi serve` against slow, idle and oversized clients, over real sockets: each is cut
off in time, in the contract's envelope, while normal requests go on being served."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.serving import ROOT, SERVE, free_port, wait_until_answering

READ_TIMEOUT = 1  # seconds: HTTP_READ_TIMEOUT for the server under test
MAX_CONNECTIONS = 12


@pytest.fixture(scope="module")
def base() -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ,
        "TASK_STORE": "memory",
        "PORT": str(port),
        "ACCESS_LOG": "false",
        "HTTP_READ_TIMEOUT": str(READ_TIMEOUT),
        "HTTP_MAX_CONNECTIONS": str(MAX_CONNECTIONS),
    }
    server = subprocess.Popen(
        [sys.executable, *SERVE],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_answering(server, f"http://127.0.0.1:{port}/health")
        yield ("127.0.0.1", port)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and when it closed (seconds from now)."""
    started = time.monotonic()
    sock.settimeout(limit)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return received, time.monotonic() - started


def _status_and_body(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def _trickle(sock: socket.socket, data: bytes, stop: threading.Event) -> None:
    """Send one byte every 0.2 s until told to stop or the server hangs up."""
    for byte in data:
        if stop.wait(0.2):
            return
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return


SLOW_REQUESTS = {
    "idle": b"",
    "half a request line": b"GET /api/alice/ta",
    "headers never end": b"GET /api/alice/tasks HTTP/1.1\r\nHost: x\r\n",
    "body never sent": (
        b"POST /api/alice/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n"
    ),
    "half a body": (
        b"POST /api/alice/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b'Content-Length: 100\r\n\r\n{"title": '
    ),
}
TRICKLED = {
    "trickled headers": b"GET /api/alice/tasks HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100,
    "trickled body": (
        b"POST /api/alice/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n"
    ),
}


def test_slow_and_idle_clients_are_cut_off_while_others_are_served(
    base: tuple[str, int],
) -> None:
    sockets = {}
    for name, start in SLOW_REQUESTS.items():
        sockets[name] = socket.create_connection(base)
        sockets[name].sendall(start)
    stop = threading.Event()
    tricklers = []
    for name, start in TRICKLED.items():
        sockets[name] = socket.create_connection(base)
        sockets[name].sendall(start)
        trickler = threading.Thread(
            target=_trickle, args=(sockets[name], b"x" * 100, stop), daemon=True
        )
        trickler.start()
        tricklers.append(trickler)
    try:
        # Meanwhile, normal clients are served at once.
        url = f"http://{base[0]}:{base[1]}"
        with httpx.Client(base_url=url, timeout=2) as client:
            created = client.post("/api/alice/tasks", json={"title": "normal"})
            listed = client.get("/api/alice/tasks")
        outcomes = {
            name: _read_until_closed(sock, READ_TIMEOUT + 3) for name, sock in sockets.items()
        }
    finally:
        stop.set()
        for sock in sockets.values():
            sock.close()

    assert created.status_code == 201
    assert listed.status_code == 200
    for name, (answer, closed_after) in outcomes.items():
        assert closed_after < READ_TIMEOUT + 1.5, (name, closed_after)
        status, body = _status_and_body(answer)
        assert status == 408, (name, answer[:200])
        assert body["success"] is False


def test_oversized_headers_are_refused_with_431(base: tuple[str, int]) -> None:
    huge = b"GET /api/alice/tasks HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 8_000_000 + b"\r\n\r\n"
    many = b"GET /api/alice/tasks HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 100_000 + b"\r\n"
    fits = (
        b"GET /api/alice/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + b"X-A: b\r\n" * 50
        + b"X-Token: "
        + b"t" * 16_000
        + b"\r\n\r\n"
    )
    answers = {}
    for name, request in {"huge": huge, "many": many, "fits": fits}.items():
        with socket.create_connection(base) as sock:
            with contextlib.suppress(OSError):  # it may hang up before the header is sent
                sock.sendall(request)
            answers[name] = _read_until_closed(sock, 5)[0]

    for name in ("huge", "many"):
        status, body = _status_and_body(answers[name])
        assert status == 431, name
        assert body["error"]["code"] == "MALFORMED_REQUEST"  # type: ignore[index]
    assert _status_and_body(answers["fits"])[0] == 200


def test_connections_past_the_cap_get_503_until_the_idle_ones_are_closed(
    base: tuple[str, int],
) -> None:
    idle = [socket.create_connection(base) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)
        with socket.create_connection(base) as extra:
            answer, closed_after = _read_until_closed(extra, 2)
        time.sleep(READ_TIMEOUT + 0.5)
        after = httpx.get(f"http://{base[0]}:{base[1]}/health", timeout=2)
    finally:
        for sock in idle:
            sock.close()

    status, body = _status_and_body(answer)
    assert status == 503
    assert body["error"]["code"] == "SERVICE_UNAVAILABLE"  # type: ignore[index]
    assert b"retry-after: 1" in answer.lower()
    assert closed_after < 1
    assert after.status_code == 200


@pytest.mark.parametrize("method", ["FOOBAR", "FOO-BAR", "PROPFIND", "TRACE"])
def test_an_unknown_method_is_a_405_with_allow(base: tuple[str, int], method: str) -> None:
    with socket.create_connection(base) as sock:
        sock.sendall(
            f"{method} /api/alice/tasks HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
        )
        answer = _read_until_closed(sock, 2)[0]

    status, body = _status_and_body(answer)
    assert status == 405
    assert body["error"]["code"] == "METHOD_NOT_ALLOWED"  # type: ignore[index]
    head = answer.split(b"\r\n\r\n")[0].lower()
    assert b"\r\nallow: " in head
    assert b"x-request-id: " in head


def test_an_unparseable_request_gets_the_envelope(base: tuple[str, int]) -> None:
    with socket.create_connection(base) as sock:
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        answer = _read_until_closed(sock, 2)[0]

    status, body = _status_and_body(answer)
    assert status == 400
    assert body["error"]["code"] == "MALFORMED_REQUEST"  # type: ignore[index]
