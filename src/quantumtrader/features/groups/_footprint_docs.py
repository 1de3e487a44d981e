"""Catalogue entries of the footprint group (one FeatureDoc per output, in emit order).

The definitions are written out in :mod:`quantumtrader.features.groups.footprint`; the
order is the order ``footprint_emit`` writes: 4 current-bar values, then 16 closed-bar
values.
"""

from __future__ import annotations

from quantumtrader.features.group import FeatureDoc

__all__ = ["bar_label", "footprint_docs"]

FP_REF = (
    "footprint (bid x ask) charts: Sierra Chart 'Numbers Bars' documentation "
    "(sierrachart.com/index.php?page=doc/NumbersBars.php); ATAS 'Footprint' documentation "
    "(help.atas.net)"
)
IMB_REF = (
    "diagonal imbalance ask(p) vs bid(p - 1 row) and stacks as in the ATAS 'Stacked "
    "Imbalance' indicator (docs.atas.net) and Sierra Chart Numbers Bars; zero-volume and "
    "no-partner rules are ours"
)
AUCTION_REF = (
    "auction theory: Steidlmayer & Koy, Markets and Market Logic (1986); Dalton, Jones & "
    "Dalton, Mind Over Markets (1990)"
)
OURS = "definition ours, after practitioner footprint reading (ATAS, Sierra Chart docs)"


def bar_label(seconds: int) -> str:
    """Bar length as a name suffix: ``1m`` for 60 s, ``1h`` for 3600 s, ``30s``."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


def footprint_docs(  # noqa: PLR0917 - the group's parameters, in constructor order
    group: str,
    bar_seconds: int,
    ratio: float,
    min_volume: float,
    min_stack: int,
    exhaustion_ratio: float,
    row_ticks: int,
    max_rows: int,
) -> tuple[FeatureDoc, ...]:
    """The 20 catalogue entries for the given parameters (names end in the bar label)."""
    s = bar_label(bar_seconds)
    m = min_stack
    cur = f"current {bar_seconds} s time bar, floor(ts / bar) (as of ts)"
    prev = f"last closed {bar_seconds} s time bar with aggressor trades"
    rows = f"rows of {row_ticks} tick(s), merged pairwise while a bar spans > {max_rows} rows"
    empty = "NaN while the current bar has no aggressor trade"
    pnan = "NaN until the first bar of the session closes"
    imb = f"ratio {ratio:g}, min_volume {min_volume:g}"

    def doc(name: str, desc: str, formula: str, units: str, ref: str, *, p: bool) -> FeatureDoc:
        return FeatureDoc(
            name=name, group=group, description=desc, formula=formula, units=units,
            window=prev if p else cur, inputs="trades",
            warmup=pnan if p else empty if "pct" in name or "poc" in name
            else "0 while the current bar has no aggressor trade",
            reference=ref,
        )  # fmt: skip

    poc_f = "(poc - lo) / (hi - lo), 0.5 if hi == lo; poc = row of max A + B (lowest on ties)"
    poc_r = "point of control: " + AUCTION_REF + "; tie rule ours"
    return (
        doc(f"fp_delta_{s}", "bar delta: ask minus bid volume of the current bar",
            "sum A(r) - sum B(r)", "quantity units", FP_REF, p=False),
        doc(f"fp_volume_{s}", "aggressor volume of the current bar",
            "sum A(r) + sum B(r) (side-0 trades excluded)", "quantity units", FP_REF,
            p=False),
        doc(f"fp_delta_pct_{s}", "delta over volume of the current bar",
            "(sum A - sum B) / (sum A + sum B)", "dimensionless, [-1, 1]", FP_REF, p=False),
        doc(f"fp_poc_pos_{s}", "position of the current bar's POC in its range",
            poc_f, "dimensionless, [0, 1]", poc_r, p=False),
        doc(f"fp_prev_delta_{s}", "delta of the last closed bar", "sum A(r) - sum B(r)",
            "quantity units", FP_REF, p=True),
        doc(f"fp_prev_volume_{s}", "aggressor volume of the last closed bar",
            "sum A(r) + sum B(r) (side-0 trades excluded)", "quantity units", FP_REF, p=True),
        doc(f"fp_prev_level_delta_max_{s}", "largest row delta of the last closed bar",
            "max over occupied rows of A(r) - B(r)", "quantity units", FP_REF, p=True),
        doc(f"fp_prev_level_delta_min_{s}", "smallest row delta of the last closed bar",
            "min over occupied rows of A(r) - B(r)", "quantity units", FP_REF, p=True),
        doc(f"fp_prev_poc_pos_{s}", "position of the last closed bar's POC in its range",
            poc_f, "dimensionless, [0, 1]", poc_r, p=True),
        doc(f"fp_prev_imb_buy_{s}",
            f"buy diagonal imbalance rows of the last closed bar ({imb})",
            "count of r > lo with A(r) > 0, A(r) >= min_volume, A(r) >= ratio * B(r - 1)",
            rows, IMB_REF, p=True),
        doc(f"fp_prev_imb_sell_{s}",
            f"sell diagonal imbalance rows of the last closed bar ({imb})",
            "count of r < hi with B(r) > 0, B(r) >= min_volume, B(r) >= ratio * A(r + 1)",
            rows, IMB_REF, p=True),
        doc(f"fp_prev_stack_buy_{s}", "longest run of consecutive buy-imbalance rows",
            "max run length of consecutive rows with a buy imbalance (0 if none)", rows,
            IMB_REF, p=True),
        doc(f"fp_prev_stack_sell_{s}", "longest run of consecutive sell-imbalance rows",
            "max run length of consecutive rows with a sell imbalance (0 if none)", rows,
            IMB_REF, p=True),
        doc(f"fp_prev_stacked_{s}", f"stacked-imbalance flag (stack of >= {m} rows)",
            f"[stack_buy >= {m}] - [stack_sell >= {m}]", "flag in {-1, 0, 1}", IMB_REF,
            p=True),
        doc(f"fp_prev_unfinished_high_{s}", "unfinished auction at the bar's high",
            "1 if A(hi) > 0 and B(hi) > 0 else 0", "flag in {0, 1}", AUCTION_REF, p=True),
        doc(f"fp_prev_unfinished_low_{s}", "unfinished auction at the bar's low",
            "1 if A(lo) > 0 and B(lo) > 0 else 0", "flag in {0, 1}", AUCTION_REF, p=True),
        doc(f"fp_prev_absorption_{s}",
            "absorption: heavy aggression at an extreme with the close pulled away "
            "(+ sellers absorbed at the low, - buyers absorbed at the high)",
            "s_top = A(hi)/max A * (hi - c)/(hi - lo), c = close row; "
            "s_bot = B(lo)/max B * (c - lo)/(hi - lo); "
            "+s_bot if s_bot > s_top, -s_top if s_top > s_bot, else 0",
            "signed strength, [-1, 1]", OURS, p=True),
        doc(f"fp_prev_exhaustion_{s}",
            "exhaustion: thin volume at an extreme (+ at the low, - at the high)",
            f"e = max(0, 1 - v(extreme) / (mean occupied-row volume * "
            f"{exhaustion_ratio:g})); +e_lo if e_lo > e_hi, -e_hi if e_hi > e_lo, else 0",
            "signed strength, [-1, 1]", OURS, p=True),
        doc(f"fp_prev_reversal_{s}",
            "reversal score against the bar's direction d = sign(close - open)",
            "-d * max(|delta_pct| if delta * d < 0 else 0, exhaustion and absorption at "
            "the extreme the bar moved to)", "signed strength, [-1, 1]", OURS, p=True),
        doc(f"fp_prev_continuation_{s}",
            "continuation score: stacked imbalances in the bar's direction",
            f"d * [L >= {m}] * 0.5 * (min(1, L / {2 * m}) + max(0, d * delta_pct)), "
            "L = longest stack on the side of d", "signed strength, [-1, 1]", OURS, p=True),
    )  # fmt: skip
