"""A/B tests' arithmetic (widget/insight/abstats.py): the Wilson interval against known
values; P(B > A) against its own symmetry, rational arithmetic, a Monte Carlo of the two
Betas and, past the switch, its exact sum; the verdict's rules, no peeking first. Pure:
no app, no database."""
from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from widget.insight.abstats import EXACT_MAX_ALPHA, Arm, interval, p_beats, verdict


def close(pair, expected, tol=1e-4):
    return all(abs(x - y) <= tol for x, y in zip(pair, expected))


# Wilson interval

def test_interval_known_values():
    assert close(interval(50, 100), (0.4038, 0.5962))
    assert close(interval(0, 10), (0.0, 0.2775))
    assert close(interval(10, 10), (0.7225, 1.0))
    assert close(interval(1, 1000), (0.000177, 0.005643), tol=1e-6)
    # The ends are exact where the data sit at them.
    assert interval(0, 10)[0] == 0.0 and interval(10, 10)[1] == 1.0


def test_interval_no_trials_clamped_and_negative():
    assert interval(0, 0) == (0.0, 0.0)
    assert interval(3, 0) == (0.0, 0.0)
    # A lost beacon can leave more successes than trials: read as all of them.
    assert interval(12, 10) == interval(10, 10)
    with pytest.raises(ValueError, match="negative"):
        interval(-1, 10)


def test_interval_narrows_with_more_trials():
    small, large = interval(10, 100), interval(1000, 10_000)
    assert small[0] < large[0] < 0.1 < large[1] < small[1]


# P(B > A)

def test_p_beats_no_trials_and_equal_data():
    assert p_beats(0, 0, 0, 0) == 0.5
    assert p_beats(30, 100, 30, 100) == pytest.approx(0.5, abs=1e-9)
    assert p_beats(5000, 50_000, 5000, 50_000) == pytest.approx(0.5, abs=1e-9)
    # No trials is the uniform prior: B's Beta(1, 1) against A's Beta(1, 2) (0 of 1).
    assert p_beats(0, 0, 0, 1) == pytest.approx(2 / 3, abs=1e-12)


@pytest.mark.parametrize("b, a", [((3, 10), (1, 10)), ((120, 1000), (80, 1000)),
                                  ((0, 50), (2, 7)), ((400, 9000), (9, 20))])
def test_p_beats_symmetry(b, a):
    assert p_beats(*b, *a) + p_beats(*a, *b) == pytest.approx(1.0, abs=1e-9)


def test_p_beats_clear_difference():
    assert p_beats(120, 1000, 80, 1000) > 0.99
    assert p_beats(80, 1000, 120, 1000) < 0.01


def exact_fraction(sb: int, nb: int, sa: int, na: int) -> Fraction:
    """The same sum in rational arithmetic: term 0 is B(aa, ba+bb) / B(aa, ba), and each
    term is the one before times (aa+i)(bb+i) / ((aa+i+ba+bb)(1+i))."""
    ab, bb, aa, ba = 1 + sb, 1 + nb - sb, 1 + sa, 1 + na - sa
    term, total = Fraction(1), Fraction(0)
    for k in range(aa):
        term *= Fraction(ba + k, ba + bb + k)
    for i in range(ab):
        total += term
        term *= Fraction((aa + i) * (bb + i), (aa + i + ba + bb) * (1 + i))
    return total


@pytest.mark.parametrize("b, a, tol", [
    ((3, 10), (1, 10), 1e-12), ((40, 1000), (25, 900), 1e-12), ((0, 10), (7, 10), 1e-12),
    ((26, 10**7), (0, 10**8), 1e-6), ((30, 10**6), (12, 10**8), 1e-6),
    ((11, 10**5), (23, 10**7), 1e-7)])
def test_p_beats_exact_against_rational_arithmetic(b, a, tol):
    # lgamma of counts in the hundred millions leaves ~1e-7 of rounding, no more.
    assert p_beats(*b, *a) == pytest.approx(float(exact_fraction(*b, *a)), abs=tol)


@pytest.mark.parametrize("b, a", [((3, 10), (1, 10)), ((20, 100), (15, 100)),
                                  ((1, 5), (2, 7))])
def test_p_beats_exact_against_monte_carlo(b, a):
    rng, draws = random.Random(16), 200_000
    (sb, nb), (sa, na) = b, a
    hits = sum(rng.betavariate(1 + sb, 1 + nb - sb) > rng.betavariate(1 + sa, 1 + na - sa)
               for _ in range(draws))
    assert p_beats(sb, nb, sa, na) == pytest.approx(hits / draws, abs=0.01)


@pytest.mark.parametrize("trials", [20_000, 100_000, 1_000_000])
@pytest.mark.parametrize("ratio", [1.0, 0.98, 1.02])
def test_p_beats_exact_and_normal_agree_at_the_switch(trials, ratio):
    # B's alpha 10,000 (the last exact sum) and 10,002 (normal) with the same rates.
    s = EXACT_MAX_ALPHA - 1
    a = round(s * ratio)
    exact = p_beats(s, trials, a, trials)
    normal = p_beats(s + 2, trials + round(2 * trials / s), a, trials)
    assert exact == pytest.approx(normal, abs=0.01)


@pytest.mark.parametrize("b, a", [((10_500, 100_000), (9_800, 100_000)),
                                  ((12_000, 60_000), (2_300, 12_000))])
def test_p_beats_normal_against_exact_on_the_same_data(b, a):
    # Past the switch for B, but A's sum is exact: P(B > A) = 1 - P(A > B).
    assert p_beats(*b, *a) == pytest.approx(1 - p_beats(*a, *b), abs=0.01)


def same_branch(s: int) -> bool:
    """Whether s and s + 1 successes of B are both summed exactly, or both not."""
    return (1 + s <= EXACT_MAX_ALPHA) == (2 + s <= EXACT_MAX_ALPHA)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), large=st.booleans())
def test_p_beats_bounded_and_monotone_in_b_successes(data, large):
    # B's successes either in the exact sum's range or past it (the normal branch);
    # across the switch itself the two differ by the approximation (tested above).
    if large:
        nb = data.draw(st.integers(EXACT_MAX_ALPHA, 2_000_000), label="b_trials")
        sb = data.draw(st.integers(EXACT_MAX_ALPHA, nb + 5), label="b_successes")
    else:
        nb = data.draw(st.integers(0, 30_000), label="b_trials")
        sb = data.draw(st.integers(0, min(nb + 5, EXACT_MAX_ALPHA - 2)), label="b_successes")
    na = data.draw(st.integers(0, 2_000_000), label="a_trials")
    sa = data.draw(st.integers(0, na + 5), label="a_successes")
    assert same_branch(sb)
    here, more = p_beats(sb, nb, sa, na), p_beats(sb + 1, nb, sa, na)
    assert 0.0 <= here <= 1.0 and 0.0 <= more <= 1.0
    # lgamma of counts in the millions carries ~1e-9 of rounding into the exact sum.
    assert more >= here - 1e-6


# The verdict

def test_verdict_collecting_hides_the_judgement_not_the_counts():
    arms = [Arm(900, 9, 5), Arm(1500, 600, 500)]
    v = verdict(arms, min_shown=1000)
    assert (v.reached, v.winner, v.reason) == (False, None, "collecting")
    assert all(row["p_beats"] is None and row["p_beats_confirmed"] is None for row in v.rows)
    assert v.rows[1]["signup_rate"] == 0.4
    assert v.rows[1]["confirm_rate"] == pytest.approx(500 / 600)
    assert close((v.rows[1]["signup_low"], v.rows[1]["signup_high"]), interval(600, 1500))
    assert v.rows[0] == {
        "shown": 900, "signed_up": 9, "confirmed": 5, "signup_rate": 9 / 900,
        "signup_low": interval(9, 900)[0], "signup_high": interval(9, 900)[1],
        "confirm_rate": 5 / 9, "confirm_low": interval(5, 9)[0],
        "confirm_high": interval(5, 9)[1], "p_beats": None, "p_beats_confirmed": None}


def test_verdict_winner_once_reached():
    v = verdict([Arm(10_000, 800, 600), Arm(10_000, 1000, 800)], min_shown=10_000)
    assert (v.reached, v.winner, v.reason) == (True, 1, "winner")
    assert v.rows[0]["p_beats"] is None and v.rows[0]["p_beats_confirmed"] is None
    assert v.rows[1]["p_beats"] > 0.99 and v.rows[1]["p_beats_confirmed"] > 0.99


def test_verdict_several_winners_the_likeliest_on_confirmed_then_lowest_index():
    control = Arm(10_000, 800, 600)
    v = verdict([control, Arm(10_000, 1000, 760), Arm(10_000, 1000, 850)], 5000)
    assert (v.winner, v.reason) == (2, "winner")
    same = Arm(10_000, 1000, 800)
    assert verdict([control, same, same, same], 5000).winner == 1


def test_verdict_sign_ups_that_never_confirm_do_not_win():
    v = verdict([Arm(10_000, 800, 600), Arm(10_000, 1200, 300)], min_shown=5000)
    assert v.rows[1]["p_beats"] > 0.99 and v.rows[1]["p_beats_confirmed"] < 0.01
    assert v.winner != 1
    assert (v.winner, v.reason) == (0, "control_holds")


def test_verdict_control_holds():
    v = verdict([Arm(10_000, 1000, 800), Arm(10_000, 700, 500), Arm(10_000, 600, 450)], 5000)
    assert (v.reached, v.winner, v.reason) == (True, 0, "control_holds")


def test_verdict_no_clear_winner():
    v = verdict([Arm(5000, 500, 400), Arm(5000, 510, 405)], min_shown=5000)
    assert (v.reached, v.winner, v.reason) == (True, None, "no_clear_winner")
    # One challenger clearly worse is not enough while another is even.
    v = verdict([Arm(5000, 500, 400), Arm(5000, 300, 200), Arm(5000, 505, 400)], 5000)
    assert (v.winner, v.reason) == (None, "no_clear_winner")
    # Better on sign-ups and not clearly worse on confirmations: no judgement either.
    v = verdict([Arm(10_000, 800, 600), Arm(10_000, 1000, 610)], 5000)
    assert v.rows[1]["p_beats"] > 0.99 and (v.winner, v.reason) == (None, "no_clear_winner")


def test_verdict_lost_beacons_keep_raw_counts_and_rates_within_one():
    v = verdict([Arm(1000, 40, 45), Arm(1000, 0, 3)], min_shown=1000)
    assert v.rows[0]["confirmed"] == 45 and v.rows[0]["confirm_rate"] == 1.0
    assert (v.rows[0]["confirm_low"], v.rows[0]["confirm_high"]) == interval(40, 40)
    assert v.rows[1]["confirm_rate"] == 0.0 and v.rows[1]["signup_rate"] == 0.0
    assert 0.0 <= v.rows[1]["p_beats_confirmed"] <= 1.0


@pytest.mark.parametrize("arms, min_shown, threshold, message", [
    ([Arm(10, 1, 1)], 1, 0.95, "2 to 4 variants"),
    ([Arm(10, 1, 1)] * 5, 1, 0.95, "2 to 4 variants"),
    ([Arm(10, 1, 1)] * 2, 0, 0.95, "min_shown"),
    ([Arm(10, 1, 1)] * 2, 1, 0.5, "threshold"),
    ([Arm(10, 1, 1)] * 2, 1, 1.0, "threshold"),
    ([Arm(10, 1, 1), Arm(10, -1, 0)], 1, 0.95, "negative"),
])
def test_verdict_bad_input(arms, min_shown, threshold, message):
    with pytest.raises(ValueError, match=message):
        verdict(arms, min_shown, threshold)
