"""Layer 3: the order book on integer ticks (numba), and book rebuilders."""

__all__: list[str] = []
