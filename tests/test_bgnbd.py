"""BG/NBD model: the published CDNOW results, independent checks of the formulas, and
the purchase-occasion summary the model is fitted on."""
from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import hyp2f1

from pipeline.models.bgnbd import (
    BgNbdParams,
    ModelNotIdentified,
    expected_purchases,
    fit_bgnbd,
    p_alive,
    rfm_summary,
    simulate_bgnbd,
)

from benchmarks.cdnow_check import DATA as CDNOW  # noqa: E402  (found beside the project or its worktree)
CALIBRATION_END = date(1997, 9, 30)
# Fader, Hardie & Lee (2005), table/text for the CDNOW cohort; CLVTools' and lifetimes'
# fits on this very 1/10 sample agree (CLVTools: 0.2425945, 4.4136019, 0.7929199,
# 2.4258881, LL -9582.429).
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n_customers=0)


def load_cdnow() -> pd.DataFrame:
    if not CDNOW.exists():
        pytest.skip(f"CDNOW sample not found at {CDNOW} (the shared data folder is absent)")
    return pd.read_csv(CDNOW, sep=r"\s+", header=None, dtype={0: str, 2: str},
                       names=["customer", "order", "day", "quantity", "amount"])


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    orders = load_cdnow()
    days = pd.to_datetime(orders["day"], format="%Y%m%d")
    return rfm_summary(orders["customer"], days, CALIBRATION_END, amounts=orders["amount"])


@pytest.fixture(scope="module")
def cdnow_fit(cdnow_summary) -> BgNbdParams:
    return fit_bgnbd(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])


# --- the published CDNOW results -------------------------------------------------

def test_cdnow_summary_matches_the_paper(cdnow_summary):
    assert len(cdnow_summary) == 2357
    # customer 00004 has the history of the worked example: x = 2, t_x = 30.43, T = 38.86
    row = cdnow_summary.loc["00004"]
    assert (row["x"], round(row["t_x"], 2), round(row["T"], 2)) == (2.0, 30.43, 38.86)
    # first bought on 1 January: end of 30 September is 272 days later
    assert cdnow_summary["T"].max() == pytest.approx(272 / 7)
    assert (cdnow_summary["x"] > 0).sum() == 946  # repeat buyers (Fader & Hardie)


@pytest.mark.parametrize("name", ["r", "alpha", "a", "b"])
def test_cdnow_fit_reproduces_published_parameters(cdnow_fit, name):
    assert getattr(cdnow_fit, name) == pytest.approx(PUBLISHED[name], rel=0.02)


def test_cdnow_fit_reaches_the_published_maximum(cdnow_fit):
    assert cdnow_fit.log_likelihood == pytest.approx(-9582.43, abs=0.01)
    assert cdnow_fit.n_customers == 2357
    assert (cdnow_fit.r, cdnow_fit.alpha, cdnow_fit.a, cdnow_fit.b) == pytest.approx(
        (0.2425945, 4.4136019, 0.7929199, 2.4258881), rel=1e-4)


def test_cdnow_example_customer_predictions(cdnow_fit):
    history = ([2.0], [30.43], [38.86])
    assert expected_purchases(cdnow_fit, 39, *history)[0] == pytest.approx(1.226, abs=0.005)
    assert p_alive(cdnow_fit, *history)[0] == pytest.approx(0.727, abs=0.005)


# --- formulas against independent computations ----------------------------------

def posterior_by_integration(params: BgNbdParams, t, x, t_x, T) -> tuple[float, float]:
    """E[purchases in (T, T+t]] and P(alive) by integrating over λ and p directly.

    Alive at T contributes (1-p)^x λ^x e^(-λT), having dropped out after the last
    purchase p(1-p)^(x-1) λ^x e^(-λ t_x); an active customer buys (1 - e^(-λpt)) / p
    more in expectation (the paper's E[X(t) | λ, p]).  The integrals over the
    Gamma and Beta mixing distributions are taken on their quantile scale, where
    Gauss-Legendre nodes handle the singular Beta density for a < 1 well.
    """
    u, w = np.polynomial.legendre.leggauss(300)
    u, w = (u + 1) / 2, w / 2
    lam = stats.gamma(params.r, scale=1.0 / params.alpha).ppf(u)[:, None]
    p = stats.beta(params.a, params.b).ppf(u)[None, :]
    weight = w[:, None] * w[None, :]
    alive = (1 - p) ** x * lam ** x * np.exp(-lam * T)
    dropped = p * (1 - p) ** (x - 1) * lam ** x * np.exp(-lam * t_x) if x > 0 else 0.0
    evidence = np.sum(weight * (alive + dropped))
    purchases = np.sum(weight * alive * -np.expm1(-lam * p * t) / p)
    return purchases / evidence, np.sum(weight * alive) / evidence


@pytest.mark.parametrize("params", [PAPER, BgNbdParams(1.5, 10.0, 1.8, 5.0, 0.0, 0)])
@pytest.mark.parametrize("x, t_x, T", [(2, 30.43, 38.86), (0, 0, 20), (1, 5, 5), (4, 12, 30)])
def test_predictions_match_numerical_integration(params, x, t_x, T):
    expected, alive = posterior_by_integration(params, 39.0, x, t_x, T)
    assert expected_purchases(params, 39.0, [x], [t_x], [T])[0] == pytest.approx(expected, rel=1e-6)
    assert p_alive(params, [x], [t_x], [T])[0] == pytest.approx(alive, rel=1e-6)


def paper_eq_10(params: BgNbdParams, t, x, t_x, T):
    """Eq. 10 as printed, without the Euler transformation the module uses."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    head = (a + b + x - 1) / (a - 1)
    tail = ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    return head * (1 - tail) / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))


@pytest.mark.parametrize("x, t_x", [(0, 0), (1, 3), (10, 30), (50, 38), (200, 38.5)])
def test_transformed_eq_10_equals_the_printed_one(x, t_x):
    ours = expected_purchases(PAPER, 39.0, [x], [t_x], [39.0])[0]
    assert ours == pytest.approx(paper_eq_10(PAPER, 39.0, x, t_x, 39.0), rel=1e-9)


@pytest.mark.parametrize("a", [0.5, 1.0, 1.00005, 2.5])
def test_unconditional_expectation_matches_simulation(a):
    # A brand-new customer (x = t_x = T = 0) is eq. 9, E[X(t)]: compare with the mean
    # of simulated customers observed for t; 4 standard errors leave a flake rate ~1e-4.
    params = BgNbdParams(0.5, 4.0, a, 2.4, 0.0, 0)
    rng = np.random.default_rng(7)
    x, _ = simulate_bgnbd(rng, np.full(200_000, 39.0), params.r, params.alpha, a, params.b)
    predicted = expected_purchases(params, 39.0, [0.0], [0.0], [0.0])[0]
    assert abs(x.mean() - predicted) < 4 * x.std() / np.sqrt(x.size)


def test_fit_recovers_simulated_parameters():
    rng = np.random.default_rng(2024)
    T = rng.uniform(20, 52, 20_000)
    x, t_x = simulate_bgnbd(rng, T, 0.4, 3.0, 0.9, 3.0)
    fitted = fit_bgnbd(x, t_x, T)
    assert (fitted.r, fitted.alpha, fitted.a, fitted.b) == pytest.approx((0.4, 3.0, 0.9, 3.0), rel=0.15)


def test_fit_does_not_depend_on_the_time_unit(cdnow_summary):
    weeks = fit_bgnbd(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    days = fit_bgnbd(cdnow_summary["x"], cdnow_summary["t_x"] * 7, cdnow_summary["T"] * 7)
    assert (days.r, days.alpha / 7, days.a, days.b) == pytest.approx(
        (weeks.r, weeks.alpha, weeks.a, weeks.b), rel=1e-4)


# --- shape of the predictions ------------------------------------------------------

histories = st.tuples(st.integers(0, 300), st.floats(0.0, 1.0), st.floats(0.01, 500.0)).map(
    lambda h: (float(h[0]), 0.0 if h[0] == 0 else max(h[1] * h[2], 1e-3), h[2]))


@settings(max_examples=200, deadline=None)
@given(histories, st.floats(0.0, 200.0))
def test_predictions_are_finite_probabilities_and_counts(history, t):
    x, t_x, T = ([v] for v in history)
    alive = p_alive(PAPER, x, t_x, T)[0]
    expected = expected_purchases(PAPER, t, x, t_x, T)[0]
    assert 0.0 <= alive <= 1.0
    assert np.isfinite(expected) and expected >= 0.0
    assert expected_purchases(PAPER, t + 10.0, x, t_x, T)[0] >= expected - 1e-12


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 100), st.floats(0.0, 0.9), st.floats(1.0, 100.0))
def test_a_longer_silence_makes_a_customer_less_likely_active(x, share, T):
    t_x = max(share * T, 1e-3)
    now, later = p_alive(PAPER, [float(x)] * 2, [t_x] * 2, [T, T + 5.0])
    assert later < now


@pytest.mark.parametrize("x, t_x, T", [
    ([], [], []),                          # nobody
    ([0, 0, 0], [0, 0, 0], [5, 6, 7]),     # nobody came back: no rate to estimate
    ([1, 2], [3, 4], [2, 5]),              # last purchase after the end
    ([1, 0], [1, 2], [3, 3]),              # recency without a repeat purchase
    ([1.5, 1], [1, 1], [3, 3]),            # half a purchase
    ([1, -1], [1, 0], [3, 3]),             # negative count
    ([1, np.nan], [1, 0], [3, 3]),         # missing value
    ([1, 2], [1, 2], [3]),                 # ragged
])
def test_fit_refuses_degenerate_input(x, t_x, T):
    with pytest.raises(ValueError):
        fit_bgnbd(x, t_x, T)


def test_a_shop_where_nobody_drops_out_is_not_identified():
    # everyone buys steadily up to the end: the maximum is at a = 0 (no dropout)
    x = np.array([10.0, 20.0, 5.0] * 20)
    T = np.array([10.0, 20.0, 5.0] * 20)
    with pytest.raises(ModelNotIdentified):
        fit_bgnbd(x, T - 0.1, T)


@settings(max_examples=60, deadline=None)
@given(st.lists(histories, min_size=1, max_size=30))
def test_any_fit_gives_usable_predictions_or_refuses(customers):
    x, t_x, T = (np.array(column) for column in zip(*customers))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # an overflow or 0/0 on the way is a bug too
        try:
            params = fit_bgnbd(x, t_x, T)
        except ValueError:
            return
        alive = p_alive(params, x, t_x, T)
        expected = expected_purchases(params, 52.0, x, t_x, T)
    assert np.isfinite(params.log_likelihood)
    assert ((alive >= 0) & (alive <= 1)).all()
    assert (np.isfinite(expected) & (expected >= 0)).all()


# --- rfm_summary ----------------------------------------------------------------------

def test_rfm_summary_counts_purchase_days_and_ignores_later_orders():
    ids = ["A", "A", "A", "A", "B", "C", "C"]
    days = [pd.Timestamp(d) for d in ["2024-01-01", "2024-01-01", "2024-01-08",
                                      "2024-01-15 17:30", "2024-01-10", "2024-01-20", "2024-03-01"]]
    amounts = [10.0, 5.0, 20.0, 40.0, 99.0, 7.0, 1000.0]
    summary = rfm_summary(ids, days, date(2024, 1, 29), amounts=amounts)
    assert list(summary.index) == ["A", "B", "C"]
    assert summary.loc["A"].tolist() == [2.0, 2.0, 4.0, 30.0]   # the 1 Jan pair is one first day
    assert summary.loc["B"].tolist() == [0.0, 0.0, 19 / 7, 0.0]
    assert summary.loc["C"].tolist() == [0.0, 0.0, 9 / 7, 0.0]  # the March order is after as_of


def test_rfm_summary_units_and_missing_amounts():
    summary = rfm_summary(["A", "A", "A"], [date(2024, 1, 1), date(2024, 1, 3), None],
                          date(2024, 1, 11), unit_days=1.0)
    assert summary.loc["A", ["x", "t_x", "T"]].tolist() == [1.0, 2.0, 10.0]
    assert np.isnan(summary.loc["A", "monetary"])


def test_rfm_summary_of_no_orders_is_empty():
    summary = rfm_summary([], [], date(2024, 1, 1), amounts=[])
    assert summary.empty and list(summary.columns) == ["x", "t_x", "T", "monetary"]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["007", "08", "9"]), st.integers(0, 60),
                          st.floats(0, 1e4, allow_nan=False)), min_size=1, max_size=40),
       st.randoms(use_true_random=False))
def test_rfm_summary_does_not_depend_on_row_order(orders, random):
    def summarise(rows):
        ids, offsets, amounts = zip(*rows)
        days = [pd.Timestamp("2024-01-01") + pd.Timedelta(days=o) for o in offsets]
        return rfm_summary(list(ids), days, date(2024, 2, 15), amounts=list(amounts))

    shuffled = list(orders)
    random.shuffle(shuffled)
    expected = summarise(orders)
    pd.testing.assert_frame_equal(summarise(shuffled), expected, rtol=1e-9)
    assert ((expected["t_x"] <= expected["T"]) & (expected["x"] >= 0)).all()
