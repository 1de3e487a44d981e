"""The error hierarchy (DESIGN.md section 9).

Every error a user can cause derives from :class:`QuantumTraderError`; the CLI turns
it into one line on stderr and exit code 1. Programming errors (bugs) stay ordinary
Python exceptions and keep their traceback.
"""

from __future__ import annotations

__all__ = [
    "BrokerError",
    "BusError",
    "ConfigError",
    "DataError",
    "QuantumTraderError",
    "RiskLimitBreached",
]


class QuantumTraderError(Exception):
    """Root of every error the system raises on purpose."""


class ConfigError(QuantumTraderError):
    """A configuration file or option is missing, malformed or inconsistent."""


class DataError(QuantumTraderError):
    """Input data cannot be read or understood.

    Parameters
    ----------
    message
        What is wrong.
    path
        The file concerned, when there is one.
    line
        1-based line number in ``path``, when known.
    field
        Name of the offending field, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.field = field
        where = ""
        if path is not None:
            where = path if line is None else f"{path}:{line}"
            if field is not None:
                where += f" [{field}]"
            where += ": "
        super().__init__(f"{where}{message}")


class BrokerError(QuantumTraderError):
    """A broker rejected an order or cannot be reached."""


class BusError(QuantumTraderError):
    """The message bus (ZeroMQ, Valkey) failed or received a malformed message."""


class RiskLimitBreached(QuantumTraderError):  # noqa: N818 - the name DESIGN.md fixes
    """A decision would break a risk limit; raised only where refusing is not enough."""
