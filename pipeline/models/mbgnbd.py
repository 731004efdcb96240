"""MBG/NBD model of repeat buying: the purchase model the churn stage uses (spec §3.5).

Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models
for customer base analysis", International Journal of Research in Marketing 24(3).
As in the BG/NBD (``pipeline.models.bgnbd``) an active customer buys at a Poisson rate
λ ~ Gamma(r, α) and drops out after a purchase with probability p ~ Beta(a, b); the
difference is that the *first* purchase counts too.  A customer who bought once and
never again may well be gone, and the longer ago that purchase, the likelier: the
BG/NBD instead holds every one-time buyer active with certainty, which made
one-time buyers look safest when they re-buy least (issue #12).

Histories are (x, t_x, T) as made by ``pipeline.models.bgnbd.rfm_summary``.  Time is
in arbitrary units (the pipeline uses weeks); α scales with the unit, r, a, b do not.
On the CDNOW sample in weeks the fit is r = 0.5248, α = 6.183, a = 0.8914, b = 1.614.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaincinv, betaln, digamma, expit, gammaln, hyp2f1

from pipeline.models.bgnbd import ModelNotIdentified, _as_arrays, _check_history

_LOG_BOUND = 25.0          # log-parameters stay in this box (see bgnbd._LOG_BOUND)
_NEAR_SINGULAR = 1e-4      # the closed form is 0/0 at a = 1: integrate instead this close
_QUADRATURE_NODES = 200


@dataclass(frozen=True)
class MbgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int


def _log_likelihood(log_params: np.ndarray, x, t_x, T, weight, counts) -> tuple[float, np.ndarray]:
    """Sum of individual log-likelihoods and the gradient in the log-parameters.

    L = Γ(r+x)α^r/Γ(r) · B(a, b+x+1)/B(a, b) · [(α+T)^-(r+x) + a/(b+x) · (α+t_x)^-(r+x)]:
    "still active at T" plus "dropped out right after the last purchase", which for
    the MBG/NBD includes x = 0 (t_x = 0).  With (α+t_x)^-(r+x) factored out the bracket
    is a logaddexp of two terms, so no power of (α+T) overflows.
    """
    r, alpha, a, b = np.exp(log_params)
    log_ratio = np.log(alpha + T) - np.log(alpha + t_x)
    still_active = -(r + x) * log_ratio
    dropped_out = np.log(a) - np.log(b + x)
    total = (r * np.log(alpha) - (r + x) * np.log(alpha + t_x)
             + np.logaddexp(still_active, dropped_out))
    w_dropped = expit(dropped_out - still_active)   # posterior weight of "dropped out"
    w_active = 1.0 - w_dropped
    d_r = np.log(alpha) - np.log(alpha + t_x) - w_active * log_ratio
    d_alpha = (r / alpha - (r + x) / (alpha + t_x)
               - w_active * (r + x) * (1.0 / (alpha + T) - 1.0 / (alpha + t_x)))
    d_a = w_dropped / a
    d_b = -w_dropped / (b + x)
    value = weight @ total + _count_terms(r, a, b, counts, d_r, d_a, d_b)
    gradient = np.array([weight @ d_r, weight @ d_alpha, weight @ d_a, weight @ d_b])
    return float(value), gradient * np.array([r, alpha, a, b])


def _distinct_counts(x, weight) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct x, each row's index into them, total weight per distinct x): the
    likelihood's gamma-function terms are computed once per distinct x."""
    counts, index = np.unique(x, return_inverse=True)
    return counts, index, np.bincount(index, weights=weight)


def _count_terms(r, a, b, distinct, d_r, d_a, d_b) -> float:
    """The gamma-function terms, which depend on x alone: summed over distinct counts;
    their derivatives are added into d_r, d_a, d_b in place."""
    counts, index, count_weight = distinct
    value = count_weight @ (gammaln(r + counts) - gammaln(r) + betaln(a, b + counts + 1.0) - betaln(a, b))
    d_r += (digamma(r + counts) - digamma(r))[index]
    d_a += (digamma(a + b) - digamma(a + b + counts + 1.0))[index]
    d_b += (digamma(b + counts + 1.0) - digamma(a + b + counts + 1.0) - digamma(b) + digamma(a + b))[index]
    return float(value)


def fit_mbgnbd(x, t_x, T) -> MbgNbdParams:
    """Maximum-likelihood MBG/NBD parameters for customers' (x, t_x, T) histories.

    Raises ValueError on input no fit can be built from (empty, malformed, nobody with
    a repeat purchase); ModelNotIdentified (a ValueError) when the maximum lies at a
    parameter's limit, which the caller treats as "no model today".
    """
    x, t_x, T = _as_arrays(x, t_x, T)
    if x.size == 0:
        raise ValueError("no customers to fit")
    _check_history(x, t_x, T)
    if (T <= 0).all() or not (x > 0).any():
        raise ValueError("no repeat purchases: the purchase rate cannot be estimated")
    rows, weight = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    scale = float(np.mean(T))  # fitted for times in units of mean(T), α scaled back after
    ux, ut_x, uT = rows[:, 0], rows[:, 1] / scale, rows[:, 2] / scale
    weight = weight.astype(float)
    n = float(weight.sum())

    distinct = _distinct_counts(ux, weight)

    def objective(log_params):
        value, gradient = _log_likelihood(log_params, ux, ut_x, uT, weight, distinct)
        return -value / n, -gradient / n

    rate = np.dot(weight, ux) / np.dot(weight, uT)
    result = minimize(objective, np.log([1.0, 1.0 / rate, 1.0, 1.0]), method="L-BFGS-B", jac=True,
                      bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 4,
                      options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000})
    if not np.isfinite(result.fun):
        raise ValueError("MBG/NBD fit failed: the likelihood is not finite on this data")
    if (np.abs(result.x) > _LOG_BOUND - 1.0).any():
        raise ModelNotIdentified(f"MBG/NBD maximum at the edge of the parameter space: "
                                 f"{dict(zip(('r', 'alpha', 'a', 'b'), np.exp(result.x)))}")
    r, alpha, a, b = np.exp(result.x)
    log_likelihood = -result.fun * n - np.dot(weight, ux) * np.log(scale)
    return MbgNbdParams(r=float(r), alpha=float(alpha * scale), a=float(a), b=float(b),
                        log_likelihood=float(log_likelihood), n_customers=int(n))


def p_alive(params: MbgNbdParams, x, t_x, T) -> np.ndarray:
    """P(still active at T | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)),
    for every customer, one-time buyers (x = 0) included."""
    x, t_x, T = _as_arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_odds = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return expit(-log_odds)


def probability_of_buying(params: MbgNbdParams, t, x, t_x, T) -> np.ndarray:
    """P(at least one purchase in (T, T + t] | history) = P(alive) · (1 - ((α+T)/(α+T+t))^(r+x)):
    given activity λ ~ Gamma(r+x, α+T), and an active customer cannot drop out before
    their next purchase, so only "no purchase in t" (e^(-λt)) stands between them and it."""
    x, t_x, T = _as_arrays(x, t_x, T)
    t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    r, alpha = params.r, params.alpha
    none_ahead = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
    return p_alive(params, x, t_x, T) * -np.expm1(none_ahead)


def expected_purchases(params: MbgNbdParams, t, x, t_x, T) -> np.ndarray:
    """Expected purchase occasions in (T, T + t] given the history (``t`` scalar or array)."""
    x, t_x, T = _as_arrays(x, t_x, T)
    t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    if (t < 0).any():
        raise ValueError("the horizon t must be >= 0")
    return _expected_given_alive(params, t, x, T) * p_alive(params, x, t_x, T)


def _expected_given_alive(params: MbgNbdParams, t, x, T) -> np.ndarray:
    """(a+b+x)/(a-1) · [1 - ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x+1; a+b+x; z)], z = t/(α+T+t).

    Euler's transformation turns the bracket's second term into
    (1-z)^(a-1) · 2F1(a+b-r, a-1; a+b+x; z), whose upper parameters do not grow with x.
    At a = 1 (0/0) or where scipy's 2F1 gives up, the expectation is integrated instead.
    """
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    c = a + b + x
    with np.errstate(all="ignore"):
        tail = np.power(1.0 - z, a - 1.0) * hyp2f1(a + b - r, a - 1.0, c, z)
        result = c / (a - 1.0) * (1.0 - tail)
    unreliable = ~np.isfinite(result) | (result < 0)
    if abs(a - 1.0) < _NEAR_SINGULAR:
        unreliable[:] = True
    if unreliable.any():
        result[unreliable] = _expected_given_alive_by_quadrature(
            params, t[unreliable], x[unreliable], T[unreliable])
    return result


def _expected_given_alive_by_quadrature(params: MbgNbdParams, t, x, T) -> np.ndarray:
    """E_p[(1 - (1 + pt/(α+T))^-(r+x)) / p] with p ~ Beta(a, b+x+1), the posterior given
    activity, by Gauss-Legendre nodes on the Beta quantile scale."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    u, w = np.polynomial.legendre.leggauss(_QUADRATURE_NODES)
    u, w = (u + 1.0) / 2.0, w / 2.0
    result = np.empty_like(x)
    for count in np.unique(x):
        rows = x == count
        p = betaincinv(a, b + count + 1.0, u)[None, :]
        kappa = (t[rows] / (alpha + T[rows]))[:, None]
        n = r + count
        safe_p = np.where(p > 0, p, 1.0)
        per_node = np.where(p > 0, -np.expm1(-n * np.log1p(p * kappa)) / safe_p, n * kappa)
        result[rows] = per_node @ w
    return result


def simulate_mbgnbd(rng: np.random.Generator, T, r: float, alpha: float, a: float,
                    b: float) -> tuple[np.ndarray, np.ndarray]:
    """Draw (x, t_x) for customers observed for times T under the MBG/NBD (for tests and
    benchmarks).  Dropout may follow the first purchase: the number of repeat purchases
    before dropout is geometric on {0, 1, …}."""
    T = np.asarray(T, dtype=float)
    rate = rng.gamma(r, 1.0 / alpha, size=T.shape)
    dropout = rng.beta(a, b, size=T.shape)
    in_window = rng.poisson(rate * T)
    before_dropout = rng.geometric(dropout) - 1
    x = np.minimum(in_window, before_dropout)
    t_x = np.zeros_like(T)
    repeat = x > 0
    t_x[repeat] = T[repeat] * rng.beta(x[repeat], in_window[repeat] - x[repeat] + 1)
    return x.astype(float), t_x
