"""QuantumTrader: order-flow trading of B3 futures.

Layers (``DESIGN.md`` section 2): ``core`` → ``model`` → ``data``/``features`` →
``agents``/``risk`` → ``execution``/``engine`` → ``reports`` → ``cli``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
