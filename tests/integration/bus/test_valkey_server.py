"""EmbeddedValkey lifecycle, connect() and ValkeyService against real servers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import valkey

from quantumtrader.bus.config import ValkeyConfig
from quantumtrader.bus.valkey_server import EmbeddedValkey, ValkeyService, connect, redact_url
from quantumtrader.core.errors import BusError, ConfigError

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_restart_and_kill_keep_the_streams(tmp_path: Path) -> None:
    with EmbeddedValkey(tmp_path / "vk") as srv:
        port = srv.port
        client = connect(srv.url, ValkeyConfig())
        client.xadd("s", {b"m": b"one"}, id="1000-0")
        srv.restart()
        assert srv.running()
        assert srv.port == port
        assert client.xrange("s") == [(b"1000-0", {b"m": b"one"})]
        client.xadd("s", {b"m": b"two"}, id="1001-0")
        pid = srv.pid
        srv.kill()  # SIGKILL: only the append-only file can bring it back
        assert not srv.running()
        assert pid is not None and not psutil.pid_exists(pid)
        srv.start()
        assert srv.port == port
        assert [e[0] for e in client.xrange("s")] == [b"1000-0", b"1001-0"]
        client.close()
    assert not srv.running()
    assert (tmp_path / "vk" / "dump.rdb").is_file()  # SHUTDOWN SAVE wrote the snapshot
    assert (tmp_path / "vk" / "appendonlydir").is_dir()
    srv.stop()  # idempotent


def test_start_failure_names_the_log_file(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        srv = EmbeddedValkey(tmp_path / "vk", port=busy.getsockname()[1])
        with pytest.raises(BusError, match=r"valkey\.log"):
            srv.start(timeout_s=3.0)
    assert not srv.running()


def test_one_server_per_data_dir(tmp_path: Path) -> None:
    with EmbeddedValkey(tmp_path / "vk") as first:
        second = EmbeddedValkey(tmp_path / "vk")
        with pytest.raises(BusError, match=f"pid {first.pid}"):
            second.start()
        assert first.running()
    second.start()  # once the first is gone the directory is free
    second.stop()


def test_port_before_start_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BusError, match="start"):
        _ = EmbeddedValkey(tmp_path).url


def test_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALKEY_PASSWORD", raising=False)
    with EmbeddedValkey(tmp_path / "vk", password="s3cret") as srv:
        assert connect(srv.url, ValkeyConfig(password="s3cret")).ping()
        url_pw = f"valkey://:s3cret@127.0.0.1:{srv.port}"
        assert connect(url_pw, ValkeyConfig()).ping()
        # cfg.password wins over the URL's
        with pytest.raises(valkey.exceptions.AuthenticationError):
            connect(url_pw, ValkeyConfig(password="wrong")).ping()
        with pytest.raises(valkey.exceptions.AuthenticationError):
            connect(srv.url, ValkeyConfig()).ping()
        monkeypatch.setenv("VALKEY_PASSWORD", "s3cret")
        assert connect(srv.url, ValkeyConfig()).ping()

        service = ValkeyService(ValkeyConfig(url=srv.url, password="wrong"), tmp_path)
        with pytest.raises(BusError, match="refused the password") as err:
            service.start()
        assert "wrong" not in str(err.value)
        good = ValkeyService(ValkeyConfig(url=url_pw), tmp_path)
        good.start()
        assert good.embedded is None
        assert good.client().ping()
        good.stop()  # an external server is left running
        assert srv.running()
    assert not (tmp_path / "valkey").exists()


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://127.0.0.1:6379", "scheme"),
        ("valkey://", "no host"),
        ("valkey://127.0.0.1:notaport", "malformed"),
        ("valkey://127.0.0.1:6379/abc", "database"),
    ],
)
def test_connect_rejects_malformed_urls(url: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        connect(url, ValkeyConfig())


def test_connect_redacts_and_checks_tls_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        connect("valkey://:hunter2@127.0.0.1:bad", ValkeyConfig())
    assert "hunter2" not in str(err.value)
    assert "***" in str(err.value)
    missing = tmp_path / "ca.pem"
    with pytest.raises(ConfigError, match="tls_ca_file") as err:
        connect("valkeys://127.0.0.1:6380", ValkeyConfig(tls_ca_file=str(missing)))
    assert str(missing) in str(err.value)
    # plain URLs ignore the TLS files; TLS with existing files builds an SSL client
    connect("valkey://127.0.0.1:6380", ValkeyConfig(tls_ca_file=str(missing)))
    missing.write_text("not read before the first connection")
    client = connect("rediss://h.example:6380/2", ValkeyConfig(tls_ca_file=str(missing)))
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["ssl_ca_certs"] == str(missing)
    assert kwargs["db"] == 2
    assert kwargs["socket_connect_timeout"] == 2.0
    assert kwargs["socket_timeout"] == 5.0
    assert client.connection_pool.connection_class.__name__ == "SSLConnection"


def test_redact_url() -> None:
    assert redact_url("valkey://u:p@h:1/0") == "valkey://u:***@h:1/0"
    assert redact_url("valkey://h:1") == "valkey://h:1"


def test_service_embedded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VALKEY_URL", raising=False)
    monkeypatch.delenv("VALKEY_PASSWORD", raising=False)
    service = ValkeyService(ValkeyConfig(), tmp_path)
    with pytest.raises(BusError, match="not started"):
        service.client()
    service.start()
    try:
        assert service.embedded is not None
        assert service.url == service.embedded.url
        assert service.url.startswith("valkey://127.0.0.1:")
        assert service.client().ping()
        assert service.embedded.data_dir == (tmp_path / "valkey").resolve()
    finally:
        service.stop()
    assert not service.embedded.running()


def test_service_unreachable_url_is_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    monkeypatch.setenv("VALKEY_URL", f"valkey://:topsecret@127.0.0.1:{port}")
    service = ValkeyService(ValkeyConfig(), tmp_path)
    with pytest.raises(BusError, match="unreachable") as err:
        service.start()
    assert f"valkey://:***@127.0.0.1:{port}" in str(err.value)
    assert "topsecret" not in str(err.value)


def test_server_stops_at_interpreter_exit(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path\n"
        "from quantumtrader.bus.valkey_server import EmbeddedValkey\n"
        "srv = EmbeddedValkey(Path(sys.argv[1])); srv.start()\n"
        "print(srv.pid, flush=True)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "vk")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    pid = int(out.stdout.strip())
    deadline = time.monotonic() + 5
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not psutil.pid_exists(pid)
    assert "User requested shutdown" in (tmp_path / "vk" / "valkey.log").read_text()
