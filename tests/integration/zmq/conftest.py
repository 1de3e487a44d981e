"""ZeroMQ integration fixtures: free loopback ports and a context per test."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest
import zmq


@pytest.fixture
def free_port() -> Callable[[], int]:
    """A function returning a TCP port of 127.0.0.1 that nothing listens on.

    The OS picks it (bind to port 0); ports already handed out in the test are not
    returned again.
    """
    given: set[int] = set()

    def pick() -> int:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port not in given:
                given.add(port)
                return port

    return pick


@pytest.fixture
def ctx() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    """A ZeroMQ context, destroyed (every socket closed, no linger) after the test."""
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield context
    context.destroy(linger=0)
