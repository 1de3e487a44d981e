"""Catalogue entries of the microstructure group, in the kernel's output order."""

from __future__ import annotations

from quantumtrader.features.group import FeatureDoc

__all__ = ["dur", "micro_docs"]

SPREAD_REF = (
    "Huang & Stoll, 'Dealership market structure and the cost of trading', Review of "
    "Financial Studies 9(4) (1996) 1085-1114; Bessembinder, 'Issues in assessing trade "
    "execution costs', J. Financial Markets 6 (2003) 233-257; SEC Rule 605 (11Ac1-5)"
)
SIGN_REF = (
    "Lee & Ready, 'Inferring trade direction from intraday data', J. Finance 46(2) (1991) "
    "733-746; Holthausen, Leftwich & Mayers, J. Financial Economics 19 (1987) 237-267 "
    "(tick test)"
)
KYLE_REF = (
    "Kyle, 'Continuous auctions and insider trading', Econometrica 53(6) (1985) 1315-1335; "
    "Hasbrouck, Empirical Market Microstructure (Oxford UP, 2007) ch. 5"
)
AMIHUD_REF = (
    "Amihud, 'Illiquidity and stock returns: cross-section and time-series effects', "
    "J. Financial Markets 5 (2002) 31-56"
)
ROLL_REF = (
    "Roll, 'A simple implicit measure of the effective bid-ask spread in an efficient "
    "market', J. Finance 39(4) (1984) 1127-1139"
)
TOX_REF = (
    "Easley, López de Prado & O'Hara, 'Flow toxicity and liquidity in a high-frequency "
    "world', Review of Financial Studies 25(5) (2012) 1457-1493"
)
RV_REF = (
    "Andersen, Bollerslev, Diebold & Labys, 'The distribution of realized exchange rate "
    "volatility', J. American Statistical Association 96 (2001) 42-55"
)
BPV_REF = (
    "Barndorff-Nielsen & Shephard, 'Power and bipower variation with stochastic volatility "
    "and jumps', J. Financial Econometrics 2(1) (2004) 1-37"
)
JUMP_REF = (
    "Huang & Tauchen, 'The relative contribution of jumps to total price variance', "
    "J. Financial Econometrics 3(4) (2005) 456-499"
)
ITT_REF = (
    "Engle & Russell, 'Autoregressive conditional duration', Econometrica 66(5) (1998) 1127-1162"
)
SIGN_RULE = (
    "q = reported aggressor (+1 buy / -1 sell), else Lee-Ready (p vs current mid, tick rule "
    "at the mid)"
)
NO_BOOK = "always NaN on trades-only data (B3 day)"


def dur(s: int) -> str:
    """Compact duration label of ``s`` seconds: ``1d``, ``1h``, ``5m``, ``30s``."""
    if s % 86_400 == 0:
        return f"{s // 86_400}d"
    if s % 3600 == 0:
        return f"{s // 3600}h"
    if s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


def _vol(v: float) -> str:
    return f"{v:g}".replace(".", "p").replace("+", "")


def _window_docs(group: str, w: int, horizon_s: int) -> list[FeatureDoc]:
    L, D = dur(w), dur(horizon_s)
    win = f"trailing {L} of event time, (t - {L}, t]"
    mwin = f"trades with t_k + {D} in (t - {L}, t) (t_k in (t - {L} - {D}, t - {D}))"
    ret = "r_k = ln(p_k / p_k-1), consecutive trades of one session"
    return [
        FeatureDoc(
            name=f"spread_effective_bps_{L}", group=group,
            description="mean effective spread of the trades in the window",
            formula=f"mean over trades of 2 q (p - m) / m * 1e4, m = mid at the trade; {SIGN_RULE}",
            units="bps", window=win, inputs="trades+book",
            warmup=f"NaN when no trade in the window had a two-sided book; {NO_BOOK}",
            reference=SPREAD_REF,
        ),
        FeatureDoc(
            name=f"spread_realized_bps_{L}_{D}", group=group,
            description=f"mean realized spread at horizon {D} (known {D} after each trade)",
            formula=f"mean of 2 q (p - m_t+{D}) / m_t * 1e4; m_t+{D} = mid after every event "
            f"with ts <= t + {D}",
            units="bps", window=mwin, inputs="trades+book",
            warmup=f"NaN until a trade matured (t_k + {D} < t) with a mid at both ends in the "
            f"window; {NO_BOOK}",
            reference=SPREAD_REF,
        ),
        FeatureDoc(
            name=f"impact_bps_{L}_{D}", group=group,
            description=f"mean price impact at horizon {D}: effective minus realized spread",
            formula=f"mean of 2 q (m_t+{D} - m_t) / m_t * 1e4 over the matured trades",
            units="bps", window=mwin, inputs="trades+book",
            warmup=f"NaN until a trade matured with a mid at both ends in the window; {NO_BOOK}",
            reference=SPREAD_REF,
        ),
        FeatureDoc(
            name=f"tickrule_signed_volume_{L}", group=group,
            description="volume signed by the tick rule",
            formula="sum qty * s, s = sign of the last non-zero price change in the session "
            "(0 before one)",
            units="quantity units", window=win, inputs="trades",
            warmup="0 with no trades in the window (never NaN)", reference=SIGN_REF,
        ),
        FeatureDoc(
            name=f"tickrule_agreement_{L}", group=group,
            description="share of trades whose tick-rule sign equals the reported aggressor",
            formula="#(s == aggressor) / #(aggressor != 0 and s != 0)",
            units="fraction, [0, 1]", window=win, inputs="trades",
            warmup="NaN when no trade in the window has both a reported aggressor and a "
            "tick-rule sign",
            reference=SIGN_REF,
        ),
        FeatureDoc(
            name=f"leeready_signed_volume_{L}", group=group,
            description="volume signed by Lee-Ready: quote rule vs the mid, tick rule at it",
            formula="sum qty * s, s = +1 if p > m, -1 if p < m, else tick-rule sign (also "
            "while the book is one-sided); contemporaneous quotes",
            units="quantity units", window=win, inputs="trades+book",
            warmup=f"NaN until the first two-sided book frame ({NO_BOOK}); 0 with no trades",
            reference=SIGN_REF,
        ),
        FeatureDoc(
            name=f"leeready_agreement_{L}", group=group,
            description="share of trades whose Lee-Ready sign equals the reported aggressor",
            formula="#(s == aggressor) / #(aggressor != 0 and s != 0)",
            units="fraction, [0, 1]", window=win, inputs="trades+book",
            warmup=f"NaN until the first two-sided book frame ({NO_BOOK}) and when no trade "
            "in the window has a reported aggressor and a sign",
            reference=SIGN_REF,
        ),
        FeatureDoc(
            name=f"tick_trades_{L}", group=group, description="number of trades",
            formula="count of trades", units="trades", window=win, inputs="trades",
            warmup="0 with no trades (never NaN)",
            reference="trade count (activity); Engle & Russell (1998) for trade intensity",
        ),
        FeatureDoc(
            name=f"itt_mean_ms_{L}", group=group,
            description="mean inter-trade time of the trades in the window",
            formula="mean of (t_k - t_k-1) / 1e6 over trades k in the window whose predecessor "
            "is in the same session",
            units="ms", window=win, inputs="trades",
            warmup="NaN when no trade in the window has a predecessor in its session",
            reference=ITT_REF,
        ),
        FeatureDoc(
            name=f"rv_{L}", group=group,
            description="realized variance of trade-to-trade log returns",
            formula=f"sum r_k^2; {ret}", units="squared log return", window=win,
            inputs="trades", warmup="0 when no return in the window is non-zero (never NaN)",
            reference=RV_REF,
        ),
        FeatureDoc(
            name=f"bpv_{L}", group=group,
            description="bipower variation of trade-to-trade log returns",
            formula=f"pi/2 * sum |r_k| |r_k-1| over trades k in the window; {ret}",
            units="squared log return", window=win, inputs="trades",
            warmup="0 when no return in the window is non-zero (never NaN)", reference=BPV_REF,
        ),
        FeatureDoc(
            name=f"bpv_jump_ratio_{L}", group=group,
            description="relative jump measure: share of realized variance not explained by "
            "bipower variation",
            formula=f"(rv_{L} - bpv_{L}) / rv_{L} (not truncated at 0)",
            units="dimensionless", window=win, inputs="trades",
            warmup="0 when rv is 0 (no jump without price variation; never NaN)",
            reference=JUMP_REF,
        ),
    ]  # fmt: skip


def micro_docs(
    group: str,
    *,
    windows_s: tuple[int, ...],
    horizon_s: int,
    kyle_bucket_s: int,
    kyle_window_s: int,
    roll_trades: int,
    toxicity_volume: float,
    toxicity_buckets: int,
) -> tuple[FeatureDoc, ...]:
    """Every entry of the group, in the order :func:`.micro.micro_emit` writes them."""
    top = "top of book after the last frame"
    B, K, N = dur(kyle_bucket_s), dur(kyle_window_s), roll_trades
    V, n = _vol(toxicity_volume), toxicity_buckets
    kwin = f"{B} time buckets (with trades) ending in (t - {K}, t]"
    twin = f"last {n} volume buckets of {toxicity_volume:g} quantity units"
    tox_nan = f"NaN until {n} buckets of {toxicity_volume:g} units are complete"
    book_nan = f"NaN until a frame with both best prices and while a side is empty; {NO_BOOK}"
    out = [
        FeatureDoc(
            name="spread_ticks", group=group, description="quoted spread in ticks",
            formula="round(ask_1 / tick_size) - round(bid_1 / tick_size) (negative when crossed)",
            units="ticks", window=top, inputs="book", warmup=book_nan, reference=SPREAD_REF,
        ),
        FeatureDoc(
            name="spread_points", group=group, description="quoted spread in price points",
            formula="spread_ticks * tick_size", units="points", window=top, inputs="book",
            warmup=book_nan, reference=SPREAD_REF,
        ),
        FeatureDoc(
            name="spread_bps", group=group, description="quoted spread relative to the mid",
            formula="spread_points / mid * 1e4, mid = (ask_1 + bid_1) / 2", units="bps",
            window=top, inputs="book", warmup=book_nan, reference=SPREAD_REF,
        ),
    ]  # fmt: skip
    for w in windows_s:
        out += _window_docs(group, w, horizon_s)
    out += [
        FeatureDoc(
            name=f"kyle_lambda_{B}_{K}", group=group,
            description="Kyle's lambda: OLS slope of bucket price change on signed volume",
            formula=f"slope of dP_b = a + lambda x_b; dP_b = close_b - close_b-1 (ticks, "
            f"previous non-empty bucket of the session), x_b = sum qty * q; {SIGN_RULE}",
            units="ticks per quantity unit", window=kwin, inputs="trades",
            warmup="NaN with fewer than 2 buckets in the window or when x_b is constant",
            reference=KYLE_REF,
        ),
        FeatureDoc(
            name=f"kyle_r2_{B}_{K}", group=group,
            description="R^2 of the Kyle regression",
            formula="cov(x, dP)^2 / (var x var dP); 0 when dP is constant",
            units="dimensionless, [0, 1]", window=kwin, inputs="trades",
            warmup="NaN with fewer than 2 buckets in the window or when x_b is constant",
            reference=KYLE_REF,
        ),
        FeatureDoc(
            name=f"amihud_{B}_{K}", group=group,
            description="Amihud illiquidity: mean absolute return per unit of volume",
            formula="mean over buckets of |ln(close_b / close_b-1)| * 1e4 / volume_b",
            units="bps per quantity unit", window=kwin, inputs="trades",
            warmup="NaN when no bucket with a previous close is in the window",
            reference=AMIHUD_REF,
        ),
        FeatureDoc(
            name=f"roll_spread_ticks_{N}", group=group,
            description="Roll's implied spread from the serial covariance of price changes",
            formula="2 sqrt(-c) if c < 0 else 0; c = mean(dp_t dp_t-1) - mean(dp_t) "
            "mean(dp_t-1), dp in ticks between consecutive trades of a session",
            units="ticks", window=f"last {N} pairs of consecutive price changes",
            inputs="trades", warmup=f"NaN until {N} pairs were seen (0 when c >= 0)",
            reference=ROLL_REF,
        ),
        FeatureDoc(
            name=f"roll_autocov_{N}", group=group,
            description="first-order autocovariance of tick price changes (Roll's c)",
            formula="mean(dp_t dp_t-1) - mean(dp_t) mean(dp_t-1)", units="ticks^2",
            window=f"last {N} pairs of consecutive price changes", inputs="trades",
            warmup=f"NaN until {N} pairs were seen", reference=ROLL_REF,
        ),
        FeatureDoc(
            name=f"toxicity_exact_v{V}_n{n}", group=group,
            description="volume-bucket order-flow toxicity with the reported aggressor",
            formula="mean over buckets of |B - S| / V; trades split across bucket boundaries; "
            "volume without aggressor fills buckets but is neither B nor S",
            units="fraction, [0, 1]", window=twin, inputs="trades", warmup=tox_nan,
            reference=TOX_REF,
        ),
        FeatureDoc(
            name=f"toxicity_exact_signed_v{V}_n{n}", group=group,
            description="signed volume-bucket order imbalance with the reported aggressor",
            formula="mean over buckets of (B - S) / V", units="fraction, [-1, 1]",
            window=twin, inputs="trades", warmup=tox_nan, reference=TOX_REF,
        ),
        FeatureDoc(
            name=f"toxicity_bvc_v{V}_n{n}", group=group,
            description="volume-bucket toxicity with bulk volume classification",
            formula="mean over buckets of |2 Phi(dP_b / sigma) - 1|; dP_b = last price of the "
            "bucket minus last price of the previous bucket (ticks); sigma = population std "
            "of dP over the held buckets (up to n) before this one; sigma = 0 -> Phi = "
            "0.5, 1 or 0 by the sign of dP",
            units="fraction, [0, 1]", window=twin, inputs="trades", warmup=tox_nan,
            reference=TOX_REF,
        ),
        FeatureDoc(
            name="tick_up_run", group=group,
            description="length of the current run of up-ticks",
            formula="consecutive price increases up to now; zero ticks neither extend nor break "
            "a run; 0 after a down-tick",
            units="price changes", window="session", inputs="trades",
            warmup="0 before the first up-tick of the session (never NaN)", reference=SIGN_REF,
        ),
        FeatureDoc(
            name="tick_down_run", group=group,
            description="length of the current run of down-ticks",
            formula="consecutive price decreases up to now; zero ticks ignored; 0 after an "
            "up-tick",
            units="price changes", window="session", inputs="trades",
            warmup="0 before the first down-tick of the session (never NaN)", reference=SIGN_REF,
        ),
        FeatureDoc(
            name="itt_since_last_ms", group=group,
            description="time since the last trade", formula="(t - t_last) / 1e6",
            units="ms", window="since the last trade", inputs="trades",
            warmup="NaN before the first trade", reference=ITT_REF,
        ),
    ]  # fmt: skip
    return tuple(out)
