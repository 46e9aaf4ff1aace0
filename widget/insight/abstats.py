"""A/B tests' arithmetic: a rate's interval, the chance one variant beats another, and
the verdict on a test. Pure functions of counts; the caller loads them.

Written by hand rather than taken from scipy: the Wilson interval and the exact
beta-binomial P(B > A) are some thirty lines with math.lgamma, while scipy (about
40 MB installed) does not offer P(B > A) either.

Bayesian with uniform priors: a variant's rate after s successes in n trials is
Beta(1 + s, 1 + n - s). Nothing is judged before every variant has been shown the number
of times the owner set (no peeking: looking early and stopping at the first good-looking
moment declares winners that are not).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

Z95 = 1.959964
# Past this alpha of B the exact sum (one term per success of B, ~9 ms at the top) gives
# way to the normal approximation: within 1e-5 of it for arms of like size, ~0.01 when
# the control was shown 100 times less, and worse for a rate near 1 against a small arm.
EXACT_MAX_ALPHA = 10_000


@dataclass(frozen=True)
class Arm:
    """One variant's counts over the test's days."""

    shown: int
    signed_up: int
    confirmed: int


@dataclass(frozen=True)
class Verdict:
    """What a test shows: whether its sample is reached, the winner if any, why, and
    per variant (0 is the control) the counts, rates, intervals and chances of beating
    the control."""

    reached: bool
    winner: int | None
    reason: str
    rows: list[dict]


def _counts(successes: int, trials: int) -> tuple[int, int]:
    """Successes clamped to trials: beacons can be lost, so a later step of the funnel
    may count more than an earlier one."""
    if successes < 0 or trials < 0:
        raise ValueError(f"counts must not be negative: {successes} of {trials}")
    return min(successes, trials), trials


def rate(successes: int, trials: int) -> float:
    """successes / trials within 0..1; 0.0 when there were no trials."""
    s, n = _counts(successes, trials)
    return s / n if n else 0.0


def interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score 95 % interval of a rate; (0.0, 0.0) when trials == 0. Clamp successes
    to trials."""
    s, n = _counts(successes, trials)
    if n == 0:
        return 0.0, 0.0
    p, z2 = s / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # Exact ends where the data sit at an end (rounding would leave them a hair off).
    low = 0.0 if s == 0 else max(0.0, centre - half)
    high = 1.0 if s == n else min(1.0, centre + half)
    return low, high


def _lbeta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def p_beats(b_successes: int, b_trials: int, a_successes: int, a_trials: int) -> float:
    """P(rate_B > rate_A) with uniform Beta(1,1) priors: posteriors Beta(1+s, 1+n-s).
    Exact (Evan Miller's closed form, a sum over B's alpha in log space with math.lgamma)
    while 1+b_successes <= 10_000, else over A's when that is; with both above, the normal
    approximation of the two Betas (close for arms of such size).
    0.5 when both have no trials."""
    sb, nb = _counts(b_successes, b_trials)
    sa, na = _counts(a_successes, a_trials)
    if nb == 0 and na == 0:
        return 0.5
    ab, bb, aa, ba = 1 + sb, 1 + nb - sb, 1 + sa, 1 + na - sa
    if ab > EXACT_MAX_ALPHA and aa <= EXACT_MAX_ALPHA:
        # The sum over A's alpha instead: exact too, where the normal approximation of a
        # large arm against a small one (or a rate near 1) is far off.
        return 1.0 - p_beats(a_successes, a_trials, b_successes, b_trials)
    if ab <= EXACT_MAX_ALPHA:
        # sum_{i<ab} B(aa+i, ba+bb) / ((bb+i) B(1+i, bb) B(aa, ba)); every term positive.
        fixed = math.lgamma(ba + bb) - math.lgamma(bb) - _lbeta(aa, ba)
        total = math.fsum(
            math.exp(fixed + math.lgamma(aa + i) - math.lgamma(aa + i + ba + bb)
                     + math.lgamma(1 + i + bb) - math.lgamma(1 + i) - math.log(bb + i))
            for i in range(ab))
        return min(1.0, max(0.0, total))
    mean_b, mean_a = ab / (ab + bb), aa / (aa + ba)
    var_b = ab * bb / ((ab + bb) ** 2 * (ab + bb + 1))
    var_a = aa * ba / ((aa + ba) ** 2 * (aa + ba + 1))
    return NormalDist().cdf((mean_b - mean_a) / math.sqrt(var_a + var_b))


def _row(arm: Arm) -> dict:
    signup_low, signup_high = interval(arm.signed_up, arm.shown)
    confirm_low, confirm_high = interval(arm.confirmed, arm.signed_up)
    return {"shown": arm.shown, "signed_up": arm.signed_up, "confirmed": arm.confirmed,
            "signup_rate": rate(arm.signed_up, arm.shown),
            "signup_low": signup_low, "signup_high": signup_high,
            "confirm_rate": rate(arm.confirmed, arm.signed_up),
            "confirm_low": confirm_low, "confirm_high": confirm_high,
            "p_beats": None, "p_beats_confirmed": None}


def verdict(arms: list[Arm], min_shown: int, threshold: float = 0.95) -> Verdict:
    """The verdict on a test of 2-4 variants, arms[0] the control. Until every variant
    has been shown min_shown times: "collecting", with counts and rates but no chances.
    Then a challenger wins when it beats the control with P >= threshold on sign-ups per
    view AND on confirmed sign-ups per view (sign-ups that never confirm win nothing);
    of several, the likeliest on confirmed, ties to the lowest index. No winner and every
    challenger at P <= 1 - threshold on confirmed: the control holds. Else no clear
    winner. Raises ValueError for fewer than 2 or more than 4 arms, min_shown < 1, a
    threshold outside (0.5, 1) or a negative count."""
    if not 2 <= len(arms) <= 4:
        raise ValueError(f"an A/B test has 2 to 4 variants, not {len(arms)}")
    if min_shown < 1:
        raise ValueError(f"min_shown must be at least 1, not {min_shown}")
    if not 0.5 < threshold < 1:
        raise ValueError(f"threshold must be above 0.5 and below 1, not {threshold}")
    rows = [_row(arm) for arm in arms]
    if any(arm.shown < min_shown for arm in arms):
        return Verdict(False, None, "collecting", rows)
    control = arms[0]
    for arm, row in zip(arms[1:], rows[1:]):
        row["p_beats"] = p_beats(arm.signed_up, arm.shown, control.signed_up, control.shown)
        row["p_beats_confirmed"] = p_beats(arm.confirmed, arm.shown,
                                           control.confirmed, control.shown)
    winners = [i for i, row in enumerate(rows) if i > 0 and row["p_beats"] >= threshold
               and row["p_beats_confirmed"] >= threshold]
    if winners:
        best = max(winners, key=lambda i: (rows[i]["p_beats_confirmed"], -i))
        return Verdict(True, best, "winner", rows)
    if all(row["p_beats_confirmed"] <= 1 - threshold for row in rows[1:]):
        return Verdict(True, 0, "control_holds", rows)
    return Verdict(True, None, "no_clear_winner", rows)
