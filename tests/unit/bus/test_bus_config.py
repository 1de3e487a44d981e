"""Bus configuration: the seeds' ports and streams, shifting, validation, endpoints, URLs."""

from __future__ import annotations

import msgspec
import pytest

from quantumtrader.bus.config import (
    BusConfig,
    Ports,
    StreamsConfig,
    StreamSpec,
    ValkeyConfig,
    feature_topic,
    md_book_topic,
    md_trade_topic,
)
from quantumtrader.core.errors import ConfigError

SEED_PORTS = {
    "ticks": 5555,
    "book": 5556,
    "flow": 5557,
    "footprint": 5558,
    "liquidity": 5559,
    "tape": 5560,
    "decisions": 5561,
    "orders": 5562,
    "status": 5563,
}


def test_port_defaults_are_the_seeds() -> None:
    assert msgspec.structs.asdict(Ports()) == SEED_PORTS


def test_shifted_keeps_the_layout() -> None:
    p = Ports().shifted(7000)
    assert msgspec.structs.asdict(p) == {k: v - 5555 + 7000 for k, v in SEED_PORTS.items()}
    assert p.ticks == 7000 and p.status == 7008
    assert Ports().shifted(5555) == Ports()
    custom = Ports(ticks=6000, book=6010, orders=6100).shifted(6555)
    assert (custom.ticks, custom.book, custom.orders, custom.flow) == (7000, 7010, 7100, 6557)


@pytest.mark.parametrize("bad", [0, -1, 65536, 100_000])
def test_bad_port_is_a_config_error(bad: int) -> None:
    with pytest.raises(ConfigError, match=rf"bus port ticks must be in 1\.\.65535, got {bad}"):
        Ports(ticks=bad)


def test_shift_past_the_last_port_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"status must be in 1\.\.65535, got 65536"):
        Ports().shifted(65528)
    assert Ports().shifted(65527).status == 65535


def test_duplicate_ports_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bus ports must differ"):
        Ports(book=5555)
    with pytest.raises(ConfigError, match="must differ"):
        Ports(orders=5563)


def test_ports_from_toml_table_reject_unknown_keys() -> None:
    got = msgspec.convert({"ports": {"ticks": 6000}, "hwm": 50}, BusConfig)
    assert got.ports.ticks == 6000 and got.ports.book == 5556 and got.hwm == 50
    with pytest.raises(msgspec.ValidationError, match="tick"):
        msgspec.convert({"ports": {"tick": 6000}}, BusConfig)


def test_bus_config_defaults_and_validation() -> None:
    cfg = BusConfig()
    assert (cfg.host, cfg.hwm, cfg.request_timeout_ms, cfg.status_every_ms) == (
        "127.0.0.1",
        100_000,
        1_000,
        250,
    )
    with pytest.raises(ConfigError, match="hwm must be >= 1, got 0"):
        BusConfig(hwm=0)
    with pytest.raises(ConfigError, match="request_timeout_ms must be >= 1"):
        BusConfig(request_timeout_ms=0)


def test_endpoint() -> None:
    cfg = BusConfig()
    assert cfg.endpoint("ticks") == "tcp://127.0.0.1:5555"
    assert cfg.endpoint("status") == "tcp://127.0.0.1:5563"
    moved = BusConfig(host="0.0.0.0", ports=Ports().shifted(6000))
    assert moved.endpoint("orders") == "tcp://0.0.0.0:6007"
    with pytest.raises(AttributeError):
        cfg.endpoint("nope")


def test_topics() -> None:
    assert md_trade_topic("WDOF26") == "md.trade.WDOF26"
    assert md_book_topic("WDOF26") == "md.book.WDOF26"
    assert feature_topic("flow", "WINZ25") == "flow.WINZ25"


def test_streams_defaults_are_design_section_4() -> None:
    s = StreamsConfig()
    got = {
        name: (getattr(s, name).name("WDOF26"), getattr(s, name).maxlen)
        for name in s.__struct_fields__
    }
    assert got == {
        "market_data": ("market_data:WDOF26", 100_000),
        "order_flow": ("order_flow:WDOF26", 50_000),
        "footprint": ("footprint:WDOF26", 50_000),
        "tape_reading": ("tape_reading:WDOF26", 50_000),
        "liquidity_profile": ("liquidity_profile:WDOF26", 50_000),
        "agent_decisions": ("agent_decisions:all", 10_000),
        "agent_performance": ("agent_performance:all", 10_000),
        "meta_decisions": ("meta_decisions:global", 1_000),
        "orders": ("orders:WDOF26", 100_000),
        "fills": ("fills:WDOF26", 100_000),
        "exec_journal": ("exec_journal:WDOF26", 1_000_000),
    }
    week, month = 7 * 24 * 3600, 30 * 24 * 3600
    assert s.market_data.ttl_s == week and s.meta_decisions.ttl_s == week
    assert s.orders.ttl_s == s.fills.ttl_s == s.exec_journal.ttl_s == month


def test_stream_spec_name_and_validation() -> None:
    spec = StreamSpec(key="md:{symbol}:raw", maxlen=10)
    assert spec.name("DOLZ18") == "md:DOLZ18:raw"
    assert spec.name() == "md::raw"
    assert StreamSpec(key="global", maxlen=1).name("X") == "global"
    assert spec.ttl_s == 0
    with pytest.raises(ConfigError, match="stream s: maxlen must be >= 1, got 0"):
        StreamSpec(key="s", maxlen=0)
    with pytest.raises(ConfigError, match="ttl_s must be >= 0, got -1"):
        StreamSpec(key="s", maxlen=1, ttl_s=-1)


def test_streams_override_from_a_table() -> None:
    got = msgspec.convert({"market_data": {"key": "md:{symbol}", "maxlen": 5}}, StreamsConfig)
    assert got.market_data.name("WINZ25") == "md:WINZ25"
    assert got.market_data.maxlen == 5
    assert got.order_flow == StreamsConfig().order_flow


def test_valkey_url_without_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALKEY_URL", raising=False)
    assert ValkeyConfig().resolved_url() == ""
    assert ValkeyConfig(url="valkey://h:1/0").resolved_url() == "valkey://h:1/0"


def test_valkey_url_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALKEY_URL", "redis://10.0.0.5:6380/2")
    assert ValkeyConfig().resolved_url() == "redis://10.0.0.5:6380/2"
    # the configured url wins over the environment
    assert ValkeyConfig(url="valkeys://vk:6379").resolved_url() == "valkeys://vk:6379"
    monkeypatch.setenv("VALKEY_URL", "")
    assert ValkeyConfig().resolved_url() == ""


def test_valkey_defaults() -> None:
    v = ValkeyConfig()
    assert (v.url, v.password, v.tls_verify, v.batch, v.flush_ms) == ("", "", True, 512, 20)
