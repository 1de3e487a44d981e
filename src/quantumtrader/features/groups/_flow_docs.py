"""Parameters (validated) and catalogue entries of the flow group (one FeatureDoc per output).

The output order here is the order :func:`~quantumtrader.features.groups.flow.flow_emit`
writes: cum_delta, trade OFI (value, velocity, acceleration per window), book OFI,
multi-level OFI, delta, aggression, VWAP, volume at price.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from quantumtrader.features.group import FeatureDoc

__all__ = ["FlowSpec", "flow_docs", "flow_spec"]

OFI_REF = (
    "Chordia & Subrahmanyam, J. Financial Economics 72 (2004) 485-518 (trade imbalance); "
    "Cont, Kukanov & Stoikov, J. Financial Econometrics 12(1) (2014) 47-88 (OFI)"
)
CKS_REF = (
    "Cont, Kukanov & Stoikov, 'The price impact of order book events', J. Financial "
    "Econometrics 12(1) (2014) 47-88, eq. (2) for e_n, eq. (6) for the mean depth"
)
XGH_REF = (
    "Xu, Gould & Howison, 'Multi-level order-flow imbalance in a limit order book', "
    "Market Microstructure and Liquidity 4 (2018) 1950011"
)
MP_REF = (
    "Steidlmayer & Hawkins, Steidlmayer on Markets (Wiley, 2003); Dalton, Jones & Dalton, "
    "Mind over Markets (Wiley, 2013) ch. 2-3 (POC, 70 % value area by pairs of rows)"
)
VWAP_REF = "Berkowitz, Logue & Noser, 'The total cost of transactions on the NYSE', J. Finance 43(1) (1988) 97-112"  # noqa: E501
DELTA_REF = "order-flow delta (footprint/cumulative-delta practice); trade sign as in Lee & Ready, J. Finance 46 (1991)"  # noqa: E501
E_RULE = (
    "e_n = 1{Pb_n >= Pb_n-1} qb_n - 1{Pb_n <= Pb_n-1} qb_n-1 - 1{Pa_n <= Pa_n-1} qa_n "
    "+ 1{Pa_n >= Pa_n-1} qa_n-1 (prices compared in ticks; an empty bid is price -inf, an "
    "empty ask +inf, size 0)"
)
BOOK_NAN = (
    "NaN until the second book frame (e_n needs a previous frame) and on trade-only "
    "inputs; 0 when the window holds no frame"
)


class FlowSpec(msgspec.Struct, frozen=True, kw_only=True):
    """Validated parameters of the flow group (see :class:`FlowGroup`)."""

    ofi_windows: tuple[int, ...]
    book_ofi_windows: tuple[int, ...]
    book_ofi_norm_windows: tuple[int, ...]
    mlofi_levels: int
    mlofi_windows: tuple[int, ...]
    delta_windows: tuple[int, ...]
    aggr_windows: tuple[int, ...]
    vwap_windows: tuple[int, ...]
    vap_windows: tuple[int, ...]
    value_area: float
    vap_bins: int


def _whole(name: str, values: Sequence[int]) -> tuple[int, ...]:
    vals = tuple(values)
    bad = any(isinstance(w, bool) or int(w) != w or w <= 0 for w in vals)
    if bad or len(set(vals)) != len(vals):
        raise ValueError(f"{name} must be distinct positive whole numbers, got {values!r}")
    return tuple(int(w) for w in vals)


def flow_spec(
    levels: int,
    *,
    ofi_windows: Sequence[int],
    book_ofi_windows: Sequence[int],
    book_ofi_norm_windows: Sequence[int],
    mlofi_levels: int,
    mlofi_windows: Sequence[int],
    delta_windows: Sequence[int],
    aggr_windows: Sequence[int],
    vwap_windows: Sequence[int],
    vap_windows: Sequence[int],
    value_area: float,
    vap_bins: int,
) -> FlowSpec:
    """Validate :class:`~quantumtrader.features.groups.flow.FlowGroup` parameters.

    ``levels`` is the number of book levels per side the group receives.

    Raises
    ------
    ValueError
        Naming the first invalid parameter (see ``FlowGroup``).
    """
    if not ofi_windows or any(int(w) != w or w <= 0 for w in ofi_windows):
        raise ValueError(f"ofi_windows must be positive whole minutes, got {ofi_windows!r}")
    if isinstance(mlofi_levels, bool) or mlofi_levels not in range(1, levels + 1):
        raise ValueError(f"mlofi_levels must be in 1..{levels}, got {mlofi_levels!r}")
    if not 0.0 < value_area <= 1.0:
        raise ValueError(f"value_area must be in (0, 1], got {value_area!r}")
    if isinstance(vap_bins, bool) or int(vap_bins) != vap_bins or vap_bins < 64:
        raise ValueError(f"vap_bins must be a whole number >= 64, got {vap_bins!r}")
    return FlowSpec(
        ofi_windows=tuple(int(w) for w in ofi_windows),
        book_ofi_windows=_whole("book_ofi_windows", book_ofi_windows),
        book_ofi_norm_windows=_whole("book_ofi_norm_windows", book_ofi_norm_windows),
        mlofi_levels=int(mlofi_levels),
        mlofi_windows=_whole("mlofi_windows", mlofi_windows),
        delta_windows=_whole("delta_windows", delta_windows),
        aggr_windows=_whole("aggr_windows", aggr_windows),
        vwap_windows=_whole("vwap_windows", vwap_windows),
        vap_windows=_whole("vap_windows", vap_windows),
        value_area=float(value_area),
        vap_bins=int(vap_bins),
    )


def _win(w: int, unit: str) -> str:
    return f"trailing {w} {unit} of event time, (t - {w}{unit[0]}, t]"


def _trade_ofi(g: str, windows: tuple[int, ...]) -> list[FeatureDoc]:
    out = [
        FeatureDoc(
            name="cum_delta", group=g,
            description="cumulative delta: net aggressor volume since the session start",
            formula="sum(qty * side), side = +1 buy / -1 sell / 0 none",
            units="quantity units (contracts)", window="session (local day)",
            inputs="trades", warmup="0 before the first trade of the session",
            reference="order-flow delta; trade sign as in Lee & Ready, J. Finance 46 (1991)",
        )
    ]  # fmt: skip
    for w in windows:
        base = f"ofi_{w}m"
        win = f"trailing {w} min of event time, (t - {w}m, t]"
        out += [
            FeatureDoc(
                name=base, group=g,
                description="trade order-flow imbalance of aggressor volume",
                formula="(B - S) / (B + S); 0 when B + S = 0", units="dimensionless, [-1, 1]",
                window=win, inputs="trades", warmup="0 before any aggressor trade",
                reference=OFI_REF,
            ),
            FeatureDoc(
                name=f"{base}_velocity", group=g,
                description=f"{base} minus its value at the end of the previous active second",
                formula=f"{base}(t) - {base}(end of previous active second)",
                units="OFI units per active second", window=win, inputs="trades",
                warmup="NaN during the first active second", reference=OFI_REF,
            ),
            FeatureDoc(
                name=f"{base}_acceleration", group=g,
                description=f"{base}_velocity minus its value at the end of the previous "
                "active second",
                formula=f"{base}_velocity(t) - {base}_velocity(end of previous active second)",
                units="OFI units per active second squared", window=win, inputs="trades",
                warmup="NaN during the first two active seconds", reference=OFI_REF,
            ),
        ]  # fmt: skip
    return out


def _book(g: str, s: FlowSpec) -> list[FeatureDoc]:
    out = [
        FeatureDoc(
            name="book_ofi_event", group=g,
            description="order-flow imbalance e_n of the last book frame at level 1 (CKS)",
            formula=E_RULE, units="quantity units", window="last book frame",
            inputs="book", warmup="NaN until the second book frame", reference=CKS_REF,
        )
    ]  # fmt: skip
    for w in s.book_ofi_windows:
        out.append(
            FeatureDoc(
                name=f"book_ofi_{w}s", group=g,
                description="book order-flow imbalance: sum of level-1 e_n over the frames "
                "in the window",
                formula="sum e_n over frames with ts in the window; " + E_RULE,
                units="quantity units", window=_win(w, "seconds"), inputs="book",
                warmup=BOOK_NAN, reference=CKS_REF,
            )
        )  # fmt: skip
    for w in s.book_ofi_norm_windows:
        out.append(
            FeatureDoc(
                name=f"book_ofi_norm_{w}s", group=g,
                description="book OFI over the window divided by the mean level-1 depth "
                "over the same frames",
                formula="sum e_n / mean_n((qb_n + qa_n) / 2), frames weighted equally; "
                "0 when the window holds no frame or the mean depth is 0",
                units="dimensionless (multiples of the mean level-1 depth)",
                window=_win(w, "seconds"), inputs="book", warmup=BOOK_NAN, reference=CKS_REF,
            )
        )  # fmt: skip
    for w in s.mlofi_windows:
        first = 2 if w in s.book_ofi_windows else 1
        for m in range(first, s.mlofi_levels + 1):
            out.append(
                FeatureDoc(
                    name=f"mlofi_{m}_{w}s", group=g,
                    description=f"multi-level OFI at book level {m}: the CKS rule on level "
                    f"{m}'s price and size, summed over the window"
                    + (f" (level 1 is book_ofi_{w}s)" if first == 2 else ""),
                    formula=f"sum over frames of e_n^{m} = 1{{Pb{m}_n >= Pb{m}_n-1}} qb{m}_n "
                    f"- 1{{Pb{m}_n <= Pb{m}_n-1}} qb{m}_n-1 - 1{{Pa{m}_n <= Pa{m}_n-1}} qa{m}_n "
                    f"+ 1{{Pa{m}_n >= Pa{m}_n-1}} qa{m}_n-1; empty level: bid -inf / ask "
                    "+inf, size 0",
                    units="quantity units", window=_win(w, "seconds"), inputs="book",
                    warmup=BOOK_NAN, reference=XGH_REF,
                )
            )  # fmt: skip
        out.append(
            FeatureDoc(
                name=f"mlofi_sum_{w}s", group=g,
                description="integrated multi-level OFI: sum of the level OFIs "
                f"1..{s.mlofi_levels}",
                formula=f"sum_m=1..{s.mlofi_levels} mlofi_m over the window",
                units="quantity units", window=_win(w, "seconds"), inputs="book",
                warmup=BOOK_NAN, reference=XGH_REF,
            )
        )  # fmt: skip
    return out


def _trades(g: str, s: FlowSpec) -> list[FeatureDoc]:
    out: list[FeatureDoc] = []
    for w in s.delta_windows:
        win = _win(w, "minutes")
        out += [
            FeatureDoc(
                name=f"delta_{w}m", group=g, description="net aggressor volume over the window",
                formula="B - S (buy- minus sell-initiated volume; side-0 trades excluded)",
                units="quantity units", window=win, inputs="trades",
                warmup="0 before any trade", reference=DELTA_REF,
            ),
            FeatureDoc(
                name=f"delta_momentum_{w}m", group=g,
                description=f"delta over the last {w} min minus delta over the {w} min before",
                formula=f"D(t-{w}m, t] - D(t-{2 * w}m, t-{w}m] = 2 delta_{w}m - delta_{2 * w}m",
                units="quantity units", window=f"trailing {2 * w} minutes of event time",
                inputs="trades",
                warmup=f"NaN before any trade and until {2 * w} min after the first trade",
                reference=DELTA_REF,
            ),
            FeatureDoc(
                name=f"delta_divergence_{w}m", group=g,
                description="price/delta divergence: price up while delta is negative (+1), "
                "price down while delta is positive (-1)",
                formula=f"dp = last price - price of the last trade at or before t - {w}m "
                f"(ticks); +1 if dp > 0 and delta_{w}m < 0; -1 if dp < 0 and delta_{w}m > 0; "
                "else 0",
                units="{-1, 0, +1}", window=win, inputs="trades",
                warmup=f"NaN until some trade is at least {w} min old", reference=DELTA_REF,
            ),
        ]  # fmt: skip
    for w in s.aggr_windows:
        win = _win(w, "seconds")
        out += [
            FeatureDoc(
                name=f"aggr_buy_{w}s", group=g, description="buyer-initiated volume",
                formula="sum qty of trades with side = +1", units="quantity units",
                window=win, inputs="trades", warmup="0 before any trade", reference=DELTA_REF,
            ),
            FeatureDoc(
                name=f"aggr_sell_{w}s", group=g, description="seller-initiated volume",
                formula="sum qty of trades with side = -1", units="quantity units",
                window=win, inputs="trades", warmup="0 before any trade", reference=DELTA_REF,
            ),
            FeatureDoc(
                name=f"aggr_ratio_{w}s", group=g,
                description="share of buyer-initiated in aggressor volume",
                formula="B / (B + S)", units="dimensionless, [0, 1]", window=win,
                inputs="trades", warmup="NaN when the window holds no aggressor volume",
                reference=DELTA_REF,
            ),
        ]  # fmt: skip
    vw = "last - sum(price * qty) / sum(qty), divided by the tick size; all trades"
    out.append(
        FeatureDoc(
            name="vwap_dist_ticks", group=g,
            description="distance of the last price from the session VWAP",
            formula=f"({vw}) over the session", units="ticks", window="session (local day)",
            inputs="trades", warmup="NaN before the first trade of the session",
            reference=VWAP_REF,
        )
    )  # fmt: skip
    for w in s.vwap_windows:
        out.append(
            FeatureDoc(
                name=f"vwap_{w}m_dist_ticks", group=g,
                description=f"distance of the last price from the {w}-minute VWAP",
                formula=f"({vw}) over the window", units="ticks", window=_win(w, "minutes"),
                inputs="trades", warmup="NaN when the window holds no volume",
                reference=VWAP_REF,
            )
        )  # fmt: skip
    return out


def _vap(g: str, s: FlowSpec) -> list[FeatureDoc]:
    pct = f"{100 * s.value_area:g} %"
    poc = ("POC = price bin of the largest volume (bins of one tick, merged to 2^k ticks "
           f"only while the range exceeds 3/4 of {s.vap_bins} bins; bin price = its centre; "
           "ties: closest to the last price, then the lower)")  # fmt: skip
    va = (f"value area = POC, then repeatedly the larger of the next two bins above / below "
          f"(both on a tie) until it holds {pct} of the volume; VAH / VAL = its highest / "
          "lowest bin with volume")  # fmt: skip
    scopes = [(f"{w}m", _win(w, "minutes"), "NaN when the window holds no volume")
              for w in s.vap_windows]  # fmt: skip
    scopes.append(("session", "session (local day)", "NaN before the first trade of the session"))
    out: list[FeatureDoc] = []
    for tag, win, nan in scopes:
        for key, what, form in (
            ("poc", "point of control", poc),
            ("vah", "value area high", va),
            ("val", "value area low", va),
        ):
            out.append(
                FeatureDoc(
                    name=f"vap_{key}_dist_{tag}", group=g,
                    description=f"last price minus the {what} of the volume-at-price profile",
                    formula=f"(last - {key.upper()}) / tick_size; {form}", units="ticks",
                    window=win, inputs="trades", warmup=nan, reference=MP_REF,
                )
            )  # fmt: skip
    out.append(
        FeatureDoc(
            name="vap_skew_session", group=g,
            description="skew of the session profile: volume above vs below the POC",
            formula="(A - B) / (A + B), A / B = volume strictly above / below the POC bin; "
            "0 when A + B = 0",
            units="dimensionless, [-1, 1]", window="session (local day)", inputs="trades",
            warmup="NaN before the first trade of the session", reference=MP_REF,
        )
    )  # fmt: skip
    return out


def flow_docs(group: str, spec: FlowSpec) -> tuple[FeatureDoc, ...]:
    """Catalogue entries of the flow group with parameters ``spec``, in output order."""
    return tuple(
        _trade_ofi(group, spec.ofi_windows) + _book(group, spec) + _trades(group, spec)
        + _vap(group, spec)
    )  # fmt: skip
