"""Configuration of the bus: ports, topics, high-water marks, streams and Valkey.

Every value has the seeds' default; a ``[bus]``, ``[streams]`` or ``[valkey]`` table
of the paper-trading config overrides them (unknown keys are errors).
"""

from __future__ import annotations

import os

import msgspec

from quantumtrader.core.errors import ConfigError

__all__ = [
    "BusConfig",
    "Ports",
    "StreamSpec",
    "StreamsConfig",
    "ValkeyConfig",
    "feature_topic",
    "md_book_topic",
    "md_trade_topic",
]


class Ports(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """TCP ports of the PUB/SUB topics and of the reliable channels (the seeds' defaults).

    Attributes
    ----------
    ticks, book
        Market data: trades (``md.trade.<SYM>``) and book deltas (``md.book.<SYM>``).
    flow, footprint, liquidity, tape
        Feature groups (``flow.<SYM>``, ``footprint.<SYM>``, ``liquidity.<SYM>``,
        ``tape.<SYM>``); ``flow`` also carries the agents' feature set
        (``agents.<SYM>``) and the microstructure and technical groups.
    decisions
        Signals and decisions (``signal.<agent_id>``, ``decision.<SYM>``).
    orders
        The reliable order channel (ROUTER of the execution process).
    status
        Process reports to the supervisor (PULL).
    """

    ticks: int = 5555
    book: int = 5556
    flow: int = 5557
    footprint: int = 5558
    liquidity: int = 5559
    tape: int = 5560
    decisions: int = 5561
    orders: int = 5562
    status: int = 5563

    def __post_init__(self) -> None:
        values = [getattr(self, f) for f in self.__struct_fields__]
        for name, v in zip(self.__struct_fields__, values, strict=True):
            if not 0 < v < 65536:
                raise ConfigError(f"bus port {name} must be in 1..65535, got {v}")
        if len(set(values)) != len(values):
            raise ConfigError(f"bus ports must differ, got {values}")

    def shifted(self, base: int) -> Ports:
        """The same layout starting at ``base`` instead of 5555 (to run several systems)."""
        return Ports(**{f: base + getattr(self, f) - 5555 for f in self.__struct_fields__})


class BusConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """ZeroMQ settings.

    Attributes
    ----------
    host
        Interface the publishers bind (loopback by default; set ``0.0.0.0`` only on a
        trusted network — the bus has no authentication).
    ports
        :class:`Ports`.
    hwm
        High-water mark of market-data and feature sockets, messages per peer. A
        publisher never blocks: beyond it, messages to a slow subscriber are dropped,
        and the subscriber counts the gap and recovers it from the stream.
    request_timeout_ms
        Reliable channel: a command not acknowledged within this time is resent.
    status_every_ms
        Period of the processes' status reports.
    """

    host: str = "127.0.0.1"
    ports: Ports = msgspec.field(default_factory=Ports)
    hwm: int = 100_000
    request_timeout_ms: int = 1_000
    status_every_ms: int = 250

    def __post_init__(self) -> None:
        if self.hwm < 1:
            raise ConfigError(f"bus hwm must be >= 1, got {self.hwm}")
        if self.request_timeout_ms < 1:
            raise ConfigError(f"request_timeout_ms must be >= 1, got {self.request_timeout_ms}")

    def endpoint(self, port_name: str) -> str:
        """``tcp://host:port`` of a port of :class:`Ports` by name."""
        return f"tcp://{self.host}:{getattr(self.ports, port_name)}"


def md_trade_topic(symbol: str) -> str:
    """Topic of a symbol's trades: ``md.trade.<SYM>``."""
    return f"md.trade.{symbol}"


def md_book_topic(symbol: str) -> str:
    """Topic of a symbol's book deltas: ``md.book.<SYM>``."""
    return f"md.book.{symbol}"


def feature_topic(group: str, symbol: str) -> str:
    """Topic of a feature group of a symbol: ``<group>.<SYM>`` (``flow.WDOF26``)."""
    return f"{group}.{symbol}"


class StreamSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One Valkey stream family.

    Attributes
    ----------
    key
        Key template; ``{symbol}`` is replaced by the instrument.
    maxlen
        Approximate cap on entries (``XADD MAXLEN ~``).
    ttl_s
        Expiry of the key after its last write, seconds (0 = never).
    """

    key: str
    maxlen: int
    ttl_s: int = 0

    def __post_init__(self) -> None:
        if self.maxlen < 1:
            raise ConfigError(f"stream {self.key}: maxlen must be >= 1, got {self.maxlen}")
        if self.ttl_s < 0:
            raise ConfigError(f"stream {self.key}: ttl_s must be >= 0, got {self.ttl_s}")

    def name(self, symbol: str = "") -> str:
        """The key of ``symbol``'s stream."""
        return self.key.replace("{symbol}", symbol)


_WEEK = 7 * 24 * 3600


class StreamsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The seeds' streams with their MAXLEN, plus orders and fills (DESIGN.md section 4).

    ``orders:<SYM>`` holds the commands the execution process accepted (:class:`Submit`,
    :class:`Cancel`) and the order updates; ``fills:<SYM>`` the fills;
    ``exec_journal:<SYM>`` the execution process's journal (commands and every answer
    that changed something), from which a restarted execution process rebuilds itself.
    """

    market_data: StreamSpec = StreamSpec(key="market_data:{symbol}", maxlen=100_000, ttl_s=_WEEK)
    order_flow: StreamSpec = StreamSpec(key="order_flow:{symbol}", maxlen=50_000, ttl_s=_WEEK)
    footprint: StreamSpec = StreamSpec(key="footprint:{symbol}", maxlen=50_000, ttl_s=_WEEK)
    tape_reading: StreamSpec = StreamSpec(key="tape_reading:{symbol}", maxlen=50_000, ttl_s=_WEEK)
    liquidity_profile: StreamSpec = StreamSpec(
        key="liquidity_profile:{symbol}", maxlen=50_000, ttl_s=_WEEK
    )
    agent_decisions: StreamSpec = StreamSpec(key="agent_decisions:all", maxlen=10_000, ttl_s=_WEEK)
    agent_performance: StreamSpec = StreamSpec(
        key="agent_performance:all", maxlen=10_000, ttl_s=_WEEK
    )
    meta_decisions: StreamSpec = StreamSpec(key="meta_decisions:global", maxlen=1_000, ttl_s=_WEEK)
    orders: StreamSpec = StreamSpec(key="orders:{symbol}", maxlen=100_000, ttl_s=30 * 24 * 3600)
    fills: StreamSpec = StreamSpec(key="fills:{symbol}", maxlen=100_000, ttl_s=30 * 24 * 3600)
    exec_journal: StreamSpec = StreamSpec(
        key="exec_journal:{symbol}", maxlen=1_000_000, ttl_s=30 * 24 * 3600
    )


class ValkeyConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Where the streams live.

    Attributes
    ----------
    url
        ``valkey://``/``redis://`` (or ``valkeys://``/``rediss://`` for TLS) URL of a
        server. Empty: the ``VALKEY_URL`` environment variable, and without it a
        private embedded ``valkey-server`` on a free loopback port.
    password
        Password (else the URL's, else ``VALKEY_PASSWORD``).
    tls_ca_file, tls_cert_file, tls_key_file
        TLS files for a ``valkeys://`` URL (CA bundle, client certificate and key).
    tls_verify
        Verify the server's certificate (default true).
    batch
        Entries a pipelined writer collects before it sends them.
    flush_ms
        Longest a buffered entry waits before it is sent, ms.
    """

    url: str = ""
    password: str = ""
    tls_ca_file: str = ""
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_verify: bool = True
    batch: int = 512
    flush_ms: int = 20

    def resolved_url(self) -> str:
        """``url``, else ``$VALKEY_URL``, else ``""`` (embedded server)."""
        return self.url or os.environ.get("VALKEY_URL", "")
