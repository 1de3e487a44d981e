"""Catalogue entries of the tape group (names derived from the parameters)."""

from __future__ import annotations

import msgspec

from quantumtrader.features.group import FeatureDoc

__all__ = ["TapeNames", "tape_docs", "window_tag"]

REF_SPEED = (
    "Engle & Russell, 'Autoregressive Conditional Duration', Econometrica 66(5) (1998) "
    "1127-1162 (trade intensity); Engle, Econometrica 68(1) (2000) 1-22"
)
REF_SIZE = (
    "Easley & O'Hara, 'Price, trade size, and information in securities markets', J. "
    "Financial Economics 19 (1987) 69-90; Barclay & Warner, 'Stealth trading and "
    "volatility', J. Financial Economics 34 (1993) 281-305"
)
REF_SWEEP = (
    "Chakravarty, Jain, Upson & Wood, 'Clean Sweep: Informed Trading through Intermarket "
    "Sweep Orders', J. Financial and Quantitative Analysis 47(2) (2012) 415-435"
)
REF_ICE = (
    "Christensen & Woodmansey, 'Prediction of Hidden Liquidity in the Limit Order Book of "
    "GLOBEX Futures', J. Trading 8(3) (2013) 68-95; Frey & Sandås, 'The Impact of Iceberg "
    "Orders in Limit Order Books', Quarterly J. Finance 7 (2017)"
)
REF_BROKER = (
    "Linnainmaa & Saar, 'Lack of Anonymity and the Inference from Order Flow', Review of "
    "Financial Studies 25(5) (2012) 1414-1456 (broker-attributed flow)"
)
REF_HHI = "Rhoades, 'The Herfindahl-Hirschman Index', Federal Reserve Bulletin 79 (1993) 188-189"
BUCKETS = ("small", "medium", "large", "whale")
B3_PRINTS = (
    "; B3 prints are one per aggressor-vs-resting fill, so an aggressor order that fills "
    "against several resting orders counts as several prints"
)
BROKER_SLOTS = (
    "; broker code -1 (unknown) is ignored (counted in the state), codes above "
    "max_broker_code={mc} share one 'other' slot that counts as one broker"
)


class TapeNames(msgspec.Struct, frozen=True, kw_only=True):
    """The parameters the catalogue entries depend on."""

    group: str
    speed_windows_s: tuple[int, ...]
    size_window_s: int
    signal_window_s: int
    broker_window_s: int
    sweep_span_ms: int
    sweep_min_levels: int
    sweep_decay_ms: int
    iceberg_min_qty: float
    iceberg_gap_s: int
    max_broker_code: int
    top_n: int
    share_n: int
    cluster_ids: tuple[int, ...]
    buckets: tuple[float, ...]


def window_tag(seconds: int) -> str:
    """Name suffix of a window: ``2h``, ``5m`` or ``10s``."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def _win(seconds: int) -> str:
    return f"trailing {window_tag(seconds)} of event time, (t - {seconds} s, t]"


def _speed(p: TapeNames) -> list[FeatureDoc]:
    out = []
    for what, unit, expr in (
        ("trades", "prints per second", "number of prints"),
        ("contracts", "quantity units (contracts) per second", "sum of qty"),
    ):
        for w in p.speed_windows_s:
            out.append(
                FeatureDoc(
                    name=f"tape_{what}_per_s_{window_tag(w)}", group=p.group,
                    description=f"trade speed: {expr} per second over the window",
                    formula=f"({expr} with ts in (t - {w} s, t]) / {w}; every print counts, "
                    "with or without aggressor" + B3_PRINTS,
                    units=unit, window=_win(w), inputs="trades",
                    warmup="never NaN (0 before the first trade)", reference=REF_SPEED,
                )
            )  # fmt: skip
    return out


def _size(p: TapeNames) -> list[FeatureDoc]:
    b0, b1, b2, b3 = p.buckets
    rule = (
        f"buckets by print qty q: small q <= {b0:g}, medium {b0:g} < q <= {b1:g}, large "
        f"{b1:g} < q < {b3:g} (the large bound {b2:g} is informative only: sizes between "
        f"{b2:g} and {b3:g} count as large), whale q >= {b3:g}; every print counts" + B3_PRINTS
    )
    w = p.size_window_s
    tag = window_tag(w)
    out = []
    for bucket in BUCKETS:
        out.append(
            FeatureDoc(
                name=f"tape_vol_share_{bucket}_{tag}", group=p.group,
                description=f"share of traded volume in {bucket} prints",
                formula=f"sum(q of {bucket} prints) / sum(q); " + rule,
                units="dimensionless, [0, 1]", window=_win(w), inputs="trades",
                warmup="NaN while the window holds no volume", reference=REF_SIZE,
            )
        )  # fmt: skip
    for bucket in BUCKETS:
        out.append(
            FeatureDoc(
                name=f"tape_count_share_{bucket}_{tag}", group=p.group,
                description=f"share of prints that are {bucket}",
                formula=f"count({bucket} prints) / count(prints); " + rule,
                units="dimensionless, [0, 1]", window=_win(w), inputs="trades",
                warmup="NaN while the window holds no print", reference=REF_SIZE,
            )
        )  # fmt: skip
    out.append(
        FeatureDoc(
            name=f"tape_large_ratio_{tag}", group=p.group,
            description="large-trade ratio: share of volume in large and whale prints",
            formula="sum(q of large + whale prints) / sum(q); " + rule,
            units="dimensionless, [0, 1]", window=_win(w), inputs="trades",
            warmup="NaN while the window holds no volume", reference=REF_SIZE,
        )
    )  # fmt: skip
    return out


def _signals(p: TapeNames) -> list[FeatureDoc]:
    run = (
        f"a run is a maximal sequence of aggressor prints of one side, all within "
        f"{p.sweep_span_ms} ms of the run's first print and never moving against the side "
        "(prints without aggressor are skipped); walked = (p_last - p_first) * side in "
        f"ticks; the run is a sweep once walked >= {p.sweep_min_levels}"
    )
    w = p.signal_window_s
    tag = window_tag(w)
    ice = (
        f"iceberg episode: fills at one price on one passive side (bid hit by sellers, ask "
        f"lifted by buyers), each within {p.iceberg_gap_s} s of the previous, ended by a "
        "print through the price, a fill at another price or (with a book) a frame no "
        "longer showing the price; hidden qty H = all fills (trades only, e.g. B3) or, with "
        "a book, fills since the last frame beyond the displayed size plus refills "
        "min(F, max(0, D' - max(D - F, 0))) at each frame; an iceberg when H >= "
        f"{p.iceberg_min_qty:g}"
    )
    out = [
        FeatureDoc(
            name="tape_sweep_dir", group=p.group,
            description="direction of the last sweep while it is active",
            formula=f"+1 / -1 (side of the last sweep) if t - (ts of its last print) <= "
            f"{p.sweep_decay_ms} ms, else 0; " + run,
            units="dimensionless, {-1, 0, 1}", window=f"{p.sweep_decay_ms} ms decay",
            inputs="trades", warmup="never NaN (0 before the first sweep)",
            reference=REF_SWEEP,
        ),
        FeatureDoc(
            name="tape_sweep_run_levels", group=p.group,
            description="signed levels walked by the current run (sweep or not)",
            formula=f"(p_last - p_first) in ticks if t - (ts of its first print) <= "
            f"{p.sweep_span_ms} ms, else 0; positive for buy runs, negative for sell runs; "
            + run,
            units="ticks", window=f"the live run ({p.sweep_span_ms} ms span)", inputs="trades",
            warmup="never NaN (0 before the first aggressor print)", reference=REF_SWEEP,
        ),
    ]  # fmt: skip
    for side in ("buy", "sell"):
        out.append(
            FeatureDoc(
                name=f"tape_sweeps_{side}_{tag}", group=p.group,
                description=f"number of {side} sweeps detected in the window",
                formula=f"count of {side} runs that became sweeps, stamped at the print where "
                "they qualified; " + run,
                units="sweeps", window=_win(w), inputs="trades",
                warmup="never NaN (0 before the first sweep)", reference=REF_SWEEP,
            )
        )  # fmt: skip
    for side in ("bid", "ask"):
        out.append(
            FeatureDoc(
                name=f"tape_iceberg_{side}_qty_{tag}", group=p.group,
                description=f"estimated iceberg (hidden) quantity at the {side} in the window",
                formula="sum of H increments of iceberg episodes (H at detection, then each "
                "increment), stamped when credited; " + ice,
                units="quantity units (contracts)", window=_win(w), inputs="trades+book",
                warmup="never NaN (0 before the first detection)", reference=REF_ICE,
            )
        )  # fmt: skip
    out.append(
        FeatureDoc(
            name=f"tape_iceberg_count_{tag}", group=p.group,
            description="number of iceberg detections (bid and ask) in the window",
            formula="count of episodes whose H reached the threshold; " + ice,
            units="detections", window=_win(w), inputs="trades+book",
            warmup="never NaN (0 before the first detection)", reference=REF_ICE,
        )
    )  # fmt: skip
    return out


def _brokers(p: TapeNames) -> list[FeatureDoc]:
    slots = BROKER_SLOTS.format(mc=p.max_broker_code)
    agg = (
        "aggressive qty of a broker: qty of the prints where it is the aggressor's broker "
        "(buyer's broker of a buy-initiated print, seller's of a sell-initiated one; prints "
        "without aggressor add nothing); net = aggressive buy - aggressive sell" + slots
    )
    w = p.broker_window_s
    tag = window_tag(w)
    spans = (("session", "session (local day)"), (tag, _win(w)))
    nan_sess = "NaN before the session's first aggressor print with a known broker"
    nan_win = "NaN while the window holds no aggressor print with a known broker"
    out = []
    for span, wdesc in spans:
        out.append(
            FeatureDoc(
                name=f"tape_broker_hhi_{span}", group=p.group,
                description="Herfindahl concentration of aggressive volume over brokers",
                formula="sum_b (A_b / A)^2, A_b = aggressive buy + sell qty of broker b, "
                "A = sum_b A_b (kept as a running sum of squares); " + agg,
                units="dimensionless, (0, 1]", window=wdesc, inputs="trades",
                warmup=nan_sess if span == "session" else nan_win,
                reference=f"{REF_HHI}; {REF_BROKER}",
            )
        )  # fmt: skip
    n = p.top_n
    for span, wdesc in spans:
        for who, rule in (("buyers", "largest positive"), ("sellers", "most negative")):
            out.append(
                FeatureDoc(
                    name=f"tape_broker_top{n}_{who}_net_{span}", group=p.group,
                    description=f"summed net aggressive qty of the {n} top net {who}",
                    formula=f"sum of the {n} {rule} broker nets (fewer if fewer brokers have "
                    f"that sign, 0 if none); {'>= 0' if who == 'buyers' else '<= 0'}; " + agg,
                    units="quantity units (contracts)", window=wdesc, inputs="trades",
                    warmup=nan_sess if span == "session" else nan_win,
                    reference=REF_BROKER,
                )
            )  # fmt: skip
    k = p.share_n
    top = (
        f"top set: the {k} brokers with most session volume V_b (V_b = qty bought + sold "
        "in every print, aggressor or not; ties to the lower code)"
    )
    out.append(
        FeatureDoc(
            name=f"tape_broker_top{k}_vol_share_session", group=p.group,
            description=f"share of the session's broker volume traded by the top {k} brokers",
            formula=f"sum(V_b over the top set) / sum_b V_b (each print counts on both its "
            f"sides); {top}" + slots,
            units="dimensionless, (0, 1]", window="session (local day)", inputs="trades",
            warmup="NaN before the session's first print with a known broker",
            reference=REF_BROKER,
        )
    )  # fmt: skip
    if not p.cluster_ids:
        out.append(
            FeatureDoc(
                name=f"tape_broker_top{k}_net_session", group=p.group,
                description=f"net aggressive qty of the default cluster (top {k} brokers "
                "by session volume)",
                formula=f"sum of broker nets over the top set, chosen at t; {top}; the rest "
                "of the brokers is the complement (session aggressive delta minus this); "
                + agg,
                units="quantity units (contracts)", window="session (local day)",
                inputs="trades", warmup=nan_sess, reference=REF_BROKER,
            )
        )  # fmt: skip
    for c in p.cluster_ids:
        out.append(
            FeatureDoc(
                name=f"tape_broker_cluster{c}_net_session", group=p.group,
                description=f"net aggressive qty of the brokers mapped to cluster {c}",
                formula=f"sum of broker nets over codes with broker_clusters[code] == {c}; "
                "unmapped codes belong to no cluster; " + agg,
                units="quantity units (contracts)", window="session (local day)",
                inputs="trades", warmup=nan_sess, reference=REF_BROKER,
            )
        )  # fmt: skip
    return out


def tape_docs(p: TapeNames) -> tuple[FeatureDoc, ...]:
    """Catalogue entries of the tape group in output order."""
    return tuple(_speed(p) + _size(p) + _signals(p) + _brokers(p))
