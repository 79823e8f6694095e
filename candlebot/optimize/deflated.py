"""Is the best Sharpe ratio of a search more than luck? Bailey & López de Prado (2014).

The more combinations one tries, the higher the best in-sample Sharpe climbs by chance alone.
The deflated Sharpe ratio is the probability that the chosen result's true Sharpe is above
the best one N worthless trials would be expected to show:

    SR0 = sqrt(V[SR]) x ((1 - g) x Z(1 - 1/N) + g x Z(1 - 1/(N e)))        g = Euler-Mascheroni constant
    DSR = Phi((SR - SR0) x sqrt(T - 1) / sqrt(1 - skew x SR + (kurtosis - 1) / 4 x SR^2))

with every SR the backtest's Sharpe per day (``sharpe / sqrt(365)``, not annualised), V[SR]
their variance across the trials (a trial whose Sharpe is undefined, flat or under 2 days, counts
as 0: no edge), T, skew and kurtosis those of the chosen trial's daily returns. With N = 1 (no selection) it is the
probabilistic Sharpe ratio against zero. Below 0.95 the edge is likely noise.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from candlebot.optimize.performance import Performance

EULER_GAMMA = 0.5772156649015329
CONFIDENCE = 0.95
_NORMAL = NormalDist()


def expected_max_sharpe(trials: int, variance: float) -> float:
    """SR0: the best per-period Sharpe ``trials`` independent worthless strategies would show."""
    if trials < 2 or variance <= 0:
        return 0.0
    z = _NORMAL.inv_cdf
    return math.sqrt(variance) * ((1 - EULER_GAMMA) * z(1 - 1 / trials) + EULER_GAMMA * z(1 - 1 / (trials * math.e)))


def probabilistic_sharpe(sharpe: float, benchmark: float, returns: int, skew: float, kurtosis: float) -> float | None:
    """P(true per-period Sharpe > benchmark) given ``returns`` observations; None when there are too few."""
    if returns < 2:
        return None
    spread = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if spread <= 0:
        return None
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(returns - 1) / math.sqrt(spread))


def deflated_sharpe(sharpe: float, all_sharpes: Sequence[float], returns: int, skew: float, kurtosis: float) -> float | None:
    """The deflated Sharpe ratio of the chosen trial among ``all_sharpes`` (every trial run, the chosen one included)."""
    count = len(all_sharpes)
    mean = sum(all_sharpes) / count if count else 0.0
    variance = sum((s - mean) ** 2 for s in all_sharpes) / (count - 1) if count > 1 else 0.0
    return probabilistic_sharpe(sharpe, expected_max_sharpe(count, variance), returns, skew, kurtosis)


def deflated_sharpe_of(best: Performance, trials: Sequence[Performance]) -> float | None:
    """The deflated Sharpe ratio of ``best`` among ``trials`` (all of them, ``best`` included); None when its Sharpe is undefined."""
    if best.daily_sharpe is None:
        return None
    sharpes = [0.0 if t.daily_sharpe is None else t.daily_sharpe for t in trials]
    return deflated_sharpe(best.daily_sharpe, sharpes, best.returns, best.skew, best.kurtosis)


def noise_warning(probability: float | None, trials: int | None, what: str) -> str | None:
    """The plain sentence shown when the edge is likely noise (or cannot be told); ``trials`` None: no selection (PSR)."""
    if probability is None:
        return f"WARNING: too few returns to tell whether {what} is more than noise; do not trust it."
    if probability >= CONFIDENCE:
        return None
    if trials is None:
        return (f"WARNING: {what} is likely noise: the chance that its Sharpe ratio is above zero is {probability:.0%} "
                f"(probabilistic Sharpe, needs >= {CONFIDENCE:.0%}).")
    return (f"WARNING: {what} is likely noise: after {trials} trial{'s' if trials != 1 else ''} the chance that its Sharpe "
            f"ratio is real is {probability:.0%} (deflated Sharpe, needs >= {CONFIDENCE:.0%}).")
