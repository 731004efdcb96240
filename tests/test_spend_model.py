"""Gamma-Gamma spend model and the expected value built on it: the published CDNOW
fit, recovery of known parameters, and the shape of the conditional spend."""
from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.models.bgnbd import BgNbdParams, expected_purchases, fit_bgnbd, rfm_summary
from pipeline.models.spend_model import (
    GammaGammaParams,
    expected_average_spend,
    expected_value,
    fit_gamma_gamma,
    gamma_gamma_log_likelihood,
    population_mean_spend,
    value_of_orders,
)

from benchmarks.cdnow_check import DATA as CDNOW  # noqa: E402  (beside the project or its worktree)
# Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary Value", on the 946 repeat
# buyers of the CDNOW 1/10 sample; CLVTools' correctness test: LL -4055.9177.
PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}
CDNOW_GG = GammaGammaParams(p=6.25, q=3.74, gamma=15.44, n_customers=946)
BG = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n_customers=2357)
HISTORY = dict(x=np.array([2.0, 0.0, 5.0]), t_x=np.array([30.43, 0.0, 20.0]),
               T=np.array([38.86, 10.0, 38.0]), monetary=np.array([22.345, 0.0, 80.0]))


@pytest.fixture(scope="module")
def cdnow_summary() -> pd.DataFrame:
    if not CDNOW.exists():
        pytest.skip(f"CDNOW sample not found at {CDNOW} (the shared data folder is absent)")
    orders = pd.read_csv(CDNOW, sep=r"\s+", header=None, dtype={0: str, 2: str},
                         names=["customer", "order", "day", "quantity", "amount"])
    days = pd.to_datetime(orders["day"], format="%Y%m%d")
    return rfm_summary(orders["customer"], days, date(1997, 9, 30), amounts=orders["amount"])


@pytest.fixture(scope="module")
def cdnow_gg(cdnow_summary) -> GammaGammaParams:
    return fit_gamma_gamma(cdnow_summary["x"], cdnow_summary["monetary"])


def test_cdnow_repeat_buyers_spend(cdnow_summary):
    repeat = cdnow_summary[cdnow_summary["x"] > 0]
    assert len(repeat) == 946
    assert repeat["monetary"].mean() == pytest.approx(35.08, abs=0.005)
    assert cdnow_summary.loc["00004", "monetary"] == pytest.approx((14.96 + 29.73) / 2)


@pytest.mark.parametrize("name", ["p", "q", "gamma"])
def test_cdnow_fit_reproduces_published_parameters(cdnow_gg, name):
    assert getattr(cdnow_gg, name) == pytest.approx(PUBLISHED[name], rel=0.01)


def test_cdnow_fit_reaches_the_published_maximum(cdnow_gg, cdnow_summary):
    assert cdnow_gg.n_customers == 946
    log_likelihood = gamma_gamma_log_likelihood(cdnow_gg, cdnow_summary["x"], cdnow_summary["monetary"])
    assert log_likelihood == pytest.approx(-4055.9177, abs=1e-3)


def simulate_spend(rng: np.random.Generator, n: int, p: float, q: float, gamma: float):
    """x repeat purchases with amounts Gamma(p, ν), ν ~ Gamma(q, γ); the mean of x
    such amounts is Gamma(px, νx)."""
    nu = rng.gamma(q, 1.0 / gamma, n)
    x = 1.0 + rng.poisson(2.0, n)
    return x, rng.gamma(p * x, 1.0 / (nu * x))


def test_fit_recovers_simulated_parameters():
    x, mean_amount = simulate_spend(np.random.default_rng(11), 40_000, 6.2, 3.7, 15.4)
    fitted = fit_gamma_gamma(x, mean_amount)
    # p and γ trade off against each other; q and the population mean are sharp
    assert fitted.q == pytest.approx(3.7, rel=0.05)
    assert population_mean_spend(fitted) == pytest.approx(6.2 * 15.4 / 2.7, rel=0.02)
    assert (fitted.p, fitted.gamma) == pytest.approx((6.2, 15.4), rel=0.2)


def test_fit_carries_the_unit_of_money_in_gamma_only():
    x, mean_amount = simulate_spend(np.random.default_rng(3), 3_000, 4.0, 5.0, 20.0)
    yuan = fit_gamma_gamma(x, mean_amount)
    fen = fit_gamma_gamma(x, mean_amount * 100)
    assert (fen.p, fen.q, fen.gamma / 100) == pytest.approx((yuan.p, yuan.q, yuan.gamma), rel=1e-4)


def test_fit_ignores_one_time_buyers_and_empty_amounts():
    x, mean_amount = simulate_spend(np.random.default_rng(5), 2_000, 4.0, 5.0, 20.0)
    base = fit_gamma_gamma(x, mean_amount)
    padded = fit_gamma_gamma(np.concatenate([x, [0, 0, 3, 2]]),
                             np.concatenate([mean_amount, [0.0, 50.0, 0.0, np.nan]]))
    assert padded == base


@pytest.mark.parametrize("x, monetary", [
    ([], []),
    ([1], [30.0]),                  # one repeat buyer is no population
    ([0, 0, 0], [10.0, 20.0, 5]),   # nobody came back
    ([1, 2, 3], [25.0, 25.0, 25.0]),  # no spread in spend to fit
    ([1, 2], [25.0]),               # ragged
])
def test_fit_refuses_degenerate_input(x, monetary):
    with pytest.raises(ValueError):
        fit_gamma_gamma(x, monetary)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.floats(0.0, 1e5)), min_size=1, max_size=30))
def test_any_fit_gives_finite_spend_or_refuses(customers):
    x, monetary = (np.array(column, dtype=float) for column in zip(*customers))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            params = fit_gamma_gamma(x, monetary)
        except ValueError:
            return
        spend = expected_average_spend(params, x, monetary)
    repeat = (x > 0) & (monetary > 0)
    has_mean = params.p * x + params.q > 1.0
    assert (spend[repeat & has_mean] > 0).all() and np.isfinite(spend[repeat & has_mean]).all()
    assert np.isnan(spend[repeat & ~has_mean]).all()


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 500), st.floats(0.01, 1e6), st.floats(0.1, 50), st.floats(1.01, 50),
       st.floats(0.1, 1e4))
def test_conditional_spend_lies_between_population_and_own_mean(x, own, p, q, gamma):
    params = GammaGammaParams(p=p, q=q, gamma=gamma, n_customers=100)
    population = population_mean_spend(params)
    spend = expected_average_spend(params, [float(x)], [own])[0]
    assert min(own, population) * (1 - 1e-9) <= spend <= max(own, population) * (1 + 1e-9)
    # more purchases at the same mean pull the estimate towards the customer's own mean
    more = expected_average_spend(params, [float(x + 5)], [own])[0]
    assert abs(more - own) <= abs(spend - own) * (1 + 1e-9)


def test_cdnow_conditional_spend_examples():
    # weights (q-1)/(px+q-1): a customer with 2 repeat purchases averaging 22.345
    spend = expected_average_spend(CDNOW_GG, [2.0, 0.0], [22.345, 0.0])
    w = 2.74 / (6.25 * 2 + 2.74)
    assert spend[0] == pytest.approx(w * 6.25 * 15.44 / 2.74 + (1 - w) * 22.345)
    assert spend[1] == pytest.approx(6.25 * 15.44 / 2.74)  # x = 0: the population mean


def test_no_mean_spend_where_the_model_has_none():
    heavy_tailed = GammaGammaParams(p=0.1, q=0.8, gamma=10.0, n_customers=50)
    spend = expected_average_spend(heavy_tailed, [0.0, 1.0, 3.0], [0.0, 40.0, 40.0])
    # q <= 1: no population mean; p·1 + q <= 1: none for a single repeat purchase either
    assert np.isnan(spend[0]) and np.isnan(spend[1])
    assert spend[2] == pytest.approx(0.1 * (10.0 + 120.0) / (0.3 + 0.8 - 1.0))
    # the value then falls back on the amounts seen: own mean, or the repeat buyers' mean
    value = expected_value(BG, heavy_tailed, np.array([0.0, 1.0, 3.0]), np.array([0.0, 5.0, 9.0]),
                           np.array([10.0, 10.0, 10.0]), np.array([0.0, 40.0, 40.0]), horizon=52.0)
    orders = expected_purchases(BG, 52.0, [0.0, 1.0, 3.0], [0.0, 5.0, 9.0], [10.0, 10.0, 10.0])
    np.testing.assert_allclose(value, orders * np.array([40.0, 40.0, spend[2]]))


def test_expected_value_is_orders_times_spend():
    value = expected_value(BG, CDNOW_GG, **HISTORY, horizon=52.0)
    orders = expected_purchases(BG, 52.0, HISTORY["x"], HISTORY["t_x"], HISTORY["T"])
    spend = expected_average_spend(CDNOW_GG, HISTORY["x"], HISTORY["monetary"])
    np.testing.assert_allclose(value, orders * spend)
    assert (value > 0).all()
    assert (expected_value(BG, CDNOW_GG, **HISTORY, horizon=104.0) > value).all()


@pytest.mark.parametrize("gg", [CDNOW_GG, None])
def test_value_of_precomputed_orders_is_the_expected_value(gg):
    orders = expected_purchases(BG, 52.0, HISTORY["x"], HISTORY["t_x"], HISTORY["T"])
    np.testing.assert_allclose(value_of_orders(orders, gg, HISTORY["x"], HISTORY["monetary"]),
                               expected_value(BG, gg, **HISTORY, horizon=52.0))


def test_expected_value_without_spend_model_uses_own_and_average_amounts():
    value = expected_value(BG, None, **HISTORY, horizon=52.0)
    orders = expected_purchases(BG, 52.0, HISTORY["x"], HISTORY["t_x"], HISTORY["T"])
    np.testing.assert_allclose(value, orders * np.array([22.345, (22.345 + 80.0) / 2, 80.0]))


def test_cdnow_value_model_end_to_end(cdnow_summary, cdnow_gg):
    bg = fit_bgnbd(cdnow_summary["x"], cdnow_summary["t_x"], cdnow_summary["T"])
    value = expected_value(bg, cdnow_gg, cdnow_summary["x"], cdnow_summary["t_x"],
                           cdnow_summary["T"], cdnow_summary["monetary"], horizon=39.0)
    assert np.isfinite(value).all() and (value >= 0).all()
    # the ranking must reward frequent recent buyers: frequent buyers against one-time buyers
    frequent = value[cdnow_summary["x"].to_numpy() >= 5].mean()
    one_time = value[cdnow_summary["x"].to_numpy() == 0].mean()
    assert frequent > 5 * one_time
