"""Catalogue entries of the liquidity group (:mod:`quantumtrader.features.groups.liquidity`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from quantumtrader.features.group import FeatureDoc

__all__ = ["liquidity_docs"]

Inputs = Literal["trades", "book", "trades+book"]

GOULD = (
    "Gould, Porter, Williams, McDonald, Fenn & Howison, 'Limit order books', Quantitative "
    "Finance 13(11) (2013) 1709-1742 (depth, levels, bid-ask spread)"
)
IMB_REF = (
    f"{GOULD}; Cao, Hansch & Wang, 'The information content of an open limit-order book', "
    "J. Futures Markets 29(1) (2009) 16-41 (depth imbalance)"
)
STOIKOV = (
    "Stoikov, 'The micro-price: a high-frequency estimator of future prices', Quantitative "
    "Finance 18(12) (2018) 1959-1966: this is the size-weighted mid, the first-order "
    "approximation discussed there, not the micro-price estimator itself"
)
NAES = (
    "Næs & Skjeltorp, 'Order book characteristics and the volume-volatility relation: "
    "empirical evidence from a limit order market', J. Financial Markets 9(4) (2006) "
    "408-432 (slope of cumulative depth against price distance; here an OLS fit in ticks)"
)
HIDDEN = (
    "Bessembinder, Panayides & Venkataraman, 'Hidden liquidity: an analysis of order "
    "exposure strategies in electronic stock markets', J. Financial Economics 94(3) (2009) "
    "361-383"
)
RESIL = (
    "Degryse, de Jong, van Ravenswaaij & Wuyts, 'Aggressive orders and the resiliency of a "
    "limit order market', Review of Finance 9(2) (2005) 201-242 (replenishment after "
    f"trades); {GOULD}"
)
KYLE = (
    "Kyle, 'Continuous auctions and insider trading', Econometrica 53(6) (1985) 1315-1335 "
    f"(tightness and depth as liquidity dimensions); {GOULD}"
)
ADDED = (
    "per book frame and price p shown in it with size q1: max(0, q1 - q0 + min(x, q0)), "
    "q0 = size at p in the previous frame (0 when not shown there: a new price), x = volume "
    "traded at p against that side in between; prices beyond the previous frame's last "
    "level of a full side (unknown size) add 0"
)
NO_FRAME = "NaN before the first book frame"
TWO_FRAMES = "NaN until the second book frame (the first has no previous frame to compare)"


def liquidity_docs(
    group: str, depth_levels: Sequence[int], window_s: int, top: int, k: int
) -> tuple[FeatureDoc, ...]:
    """Entries in output order for the given parameters (see the group's docstring)."""

    def doc(  # noqa: PLR0917 - one catalogue row
        name: str,
        description: str,
        formula: str,
        units: str,
        window: str,
        inputs: Inputs,
        warmup: str,
        reference: str,
    ) -> FeatureDoc:
        return FeatureDoc(
            name=name, group=group, description=description, formula=formula, units=units,
            window=window, inputs=inputs, warmup=warmup, reference=reference,
        )  # fmt: skip

    last = "last book frame"
    out: list[FeatureDoc] = []
    for n in depth_levels:
        where = "at the best level" if n == 1 else f"in the best {n} levels"
        lv = "level 1" if n == 1 else f"levels 1..{n}"
        for side in ("bid", "ask"):
            out.append(
                doc(
                    f"liq_depth_{side}_{n}", f"displayed {side} size {where}",
                    f"sum of {side} sizes over {lv} (fewer when the side shows fewer)",
                    "quantity units (contracts; crypto: spec qty_unit)", last, "book",
                    f"{NO_FRAME} and while both sides are empty; 0 when only this side is "
                    "empty", GOULD,
                )
            )  # fmt: skip
        out.append(
            doc(
                f"liq_depth_imb_{n}", f"depth imbalance {where}",
                f"(D_bid_{n} - D_ask_{n}) / (D_bid_{n} + D_ask_{n})", "dimensionless, [-1, 1]",
                last, "book", f"{NO_FRAME} and while both sides are empty", IMB_REF,
            )
        )  # fmt: skip
    both = f"{NO_FRAME} and while either side is empty"
    win = f"trailing {window_s} s of event time, (t - {window_s}s, t]"
    out += [
        doc(
            "liq_wmid", "size-weighted mid of level 1 (weighted mid-price)",
            "(Pb qa + Pa qb) / (qa + qb)", "points", last, "book", both, STOIKOV,
        ),
        doc(
            "liq_microprice_dist_ticks", "weighted mid minus mid, in ticks",
            "(wmid - (Pb + Pa) / 2) / tick = spread_ticks (qb - qa) / (2 (qa + qb))",
            "ticks", last, "book", both, STOIKOV,
        ),
        doc(
            f"liq_slope_bid_{k}", "bid book slope: depth added per tick away from the best bid",
            f"OLS slope of cumulative bid size C_j on distance d_j = (Pb_1 - Pb_j) / tick, "
            f"j = 1..n <= {k} visible levels (same slope as against distance from the mid)",
            "quantity units per tick", last, "book",
            f"{NO_FRAME} and while the bid side shows fewer than 2 levels", NAES,
        ),
        doc(
            f"liq_slope_ask_{k}", "ask book slope: depth added per tick away from the best ask",
            f"OLS slope of cumulative ask size C_j on distance d_j = (Pa_j - Pa_1) / tick, "
            f"j = 1..n <= {k} visible levels (same slope as against distance from the mid)",
            "quantity units per tick", last, "book",
            f"{NO_FRAME} and while the ask side shows fewer than 2 levels", NAES,
        ),
        doc(
            f"liq_score_{top}",
            f"liquidity score: depth of the best {top} levels of both sides per tick of spread",
            f"(D_bid_{top} + D_ask_{top}) / max(1, (Pa - Pb) / tick)",
            "quantity units per tick", last, "book", both, KYLE,
        ),
        doc(
            f"liq_taken_{window_s}s", "liquidity taken: traded volume (all trades)",
            "sum of trade qty", "quantity units", win, "trades",
            "never NaN (0 with no trade in the window)", RESIL,
        ),
        doc(
            f"liq_touch_added_{window_s}s",
            "size added (replenished) at the best level of either side",
            f"sum over frames of the added size at the best bid and best ask; added = {ADDED}",
            "quantity units", win, "trades+book",
            TWO_FRAMES, RESIL,
        ),
        doc(
            f"liq_consumption_ratio_{window_s}s",
            "share of liquidity taken against liquidity added at the touch",
            "taken / (taken + touch_added) over the window", "dimensionless, [0, 1]", win,
            "trades+book", f"{TWO_FRAMES}, and when taken + touch_added = 0 in the window",
            RESIL,
        ),
        doc(
            f"liq_hidden_{window_s}s",
            "hidden-liquidity estimate: volume executed beyond the displayed size",
            "per trade on side s at price p: max(0, x_after - q0) - max(0, x_before - q0), "
            "q0 = size shown at p on s (bids for sells, asks for buys) in the last frame before "
            "the trade (0 when not shown), x = volume traded at p on s since that frame; "
            "trades without aggressor, and prices beyond the last level of a full side "
            "(unknown size), add 0",
            "quantity units", win, "trades+book",
            f"{NO_FRAME} (trades before it count as not hidden)", HIDDEN,
        ),
    ]  # fmt: skip
    for side in ("bid", "ask"):
        out.append(
            doc(
                f"liq_replenish_rate_{side}_{top}_{window_s}s",
                f"replenishment rate: size added in the best {top} {side} levels per second",
                f"sum over frames and {side} prices in levels 1..{top} of added / "
                f"{window_s} s; added = {ADDED}",
                "quantity units per second", win, "trades+book", TWO_FRAMES, RESIL,
            )
        )  # fmt: skip
    return tuple(out)
