"""What the BG/NBD and the MBG/NBD share: the fit's driver, the posterior quadrature, the
gamma-function terms of the likelihood and the simulation.

The two models differ only in whether a customer may drop out after the first purchase
too.  In every formula below that difference is one shift: the posterior of the
dropout probability is Beta(a, b + x + shift) and the number of repeat purchases
before dropout is geometric from ``1 - shift`` on, with shift 0 for the BG/NBD and 1 for
the MBG/NBD.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaincinv, betaln, digamma, gammaln, hyp2f1

# Log-parameters are kept inside this box so that a run-away optimiser step cannot
# overflow exp(); real fits sit far inside it (times are rescaled to O(1) first).
LOG_BOUND = 25.0
# The closed forms are 0/0 at a = 1 (and the BG/NBD's at a+b+x-1 = 0): integrate this close.
NEAR_SINGULAR = 1e-4
QUADRATURE_NODES = 200


class ModelNotIdentified(ValueError):
    """The likelihood has no interior maximum on this data (e.g. nobody seems to
    drop out, or everyone buys at the same rate): the model cannot be used."""


@dataclass(frozen=True)
class Histories:
    """Distinct (x, t_x, T) histories with how many customers share each; times in units
    of ``scale`` (the mean T), so that the fit works on O(1) numbers."""
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weight: np.ndarray
    scale: float

    @property
    def n(self) -> float:
        return float(self.weight.sum())


def as_arrays(*columns) -> list[np.ndarray]:
    arrays = [np.asarray(c, dtype=float) for c in columns]
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
        raise ValueError("x, t_x and T must be 1-d arrays of equal length")
    return arrays


def check_history(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> None:
    """Histories the model cannot describe are a bug in whoever built them."""
    if not (np.isfinite(x).all() and np.isfinite(t_x).all() and np.isfinite(T).all()):
        raise ValueError("x, t_x and T must be finite")
    if (x < 0).any() or (x != np.round(x)).any():
        raise ValueError("x must be whole numbers >= 0")
    if (t_x < 0).any() or (t_x > T).any():
        raise ValueError("need 0 <= t_x <= T")
    if (t_x[x == 0] != 0).any():
        raise ValueError("t_x must be 0 for a customer without repeat purchases")


def histories(x, t_x, T) -> Histories:
    """Checked, deduplicated histories; ValueError when no fit can be built from them
    (empty, malformed, nobody with a repeat purchase)."""
    x, t_x, T = as_arrays(x, t_x, T)
    if x.size == 0:
        raise ValueError("no customers to fit")
    check_history(x, t_x, T)
    if (T <= 0).all() or not (x > 0).any():
        raise ValueError("no repeat purchases: the purchase rate cannot be estimated")
    # Identical histories are frequent in real data (weekly T, small x): fit each once.
    rows, weight = np.unique(np.column_stack([x, t_x, T]), axis=0, return_counts=True)
    scale = float(np.mean(T))
    return Histories(rows[:, 0], rows[:, 1] / scale, rows[:, 2] / scale, weight.astype(float), scale)


def maximise(log_likelihood: Callable[[np.ndarray], tuple[float, np.ndarray]], h: Histories,
             name: str) -> tuple[float, float, float, float, float]:
    """(r, α, a, b, log-likelihood) at the maximum, α and the log-likelihood in the
    caller's time unit.  ``log_likelihood(log_params) -> (value, gradient)`` sums over
    ``h``.  The start puts r/α at the mean rate x/T."""
    def objective(log_params):
        value, gradient = log_likelihood(log_params)
        return -value / h.n, -gradient / h.n

    rate = np.dot(h.weight, h.x) / np.dot(h.weight, h.T)
    result = minimize(objective, np.log([1.0, 1.0 / rate, 1.0, 1.0]), method="L-BFGS-B", jac=True,
                      bounds=[(-LOG_BOUND, LOG_BOUND)] * 4,
                      options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000})
    if not np.isfinite(result.fun):
        raise ValueError(f"{name} fit failed: the likelihood is not finite on this data")
    if (np.abs(result.x) > LOG_BOUND - 1.0).any():
        raise ModelNotIdentified(f"{name} maximum at the edge of the parameter space: "
                                 f"{dict(zip(('r', 'alpha', 'a', 'b'), np.exp(result.x)))}")
    r, alpha, a, b = np.exp(result.x)
    # x purchase times are densities in time, so rescaling time by s changes each
    # customer's log-likelihood by -x·log(s): report it in the caller's units.
    log_likelihood_value = -result.fun * h.n - np.dot(h.weight, h.x) * np.log(h.scale)
    return float(r), float(alpha * h.scale), float(a), float(b), float(log_likelihood_value)


def count_terms(r, a, b, x, weight, shift: float, d_r, d_a, d_b) -> float:
    """The likelihood's terms that depend on x alone (Γ(r+x)/Γ(r) · B(a, b+x+shift)/B(a, b)),
    summed over the few distinct counts instead of every customer; their derivatives
    are added into d_r, d_a, d_b in place."""
    counts, index = np.unique(x, return_inverse=True)
    count_weight = np.bincount(index, weights=weight)
    bx = b + counts + shift
    value = count_weight @ (gammaln(r + counts) - gammaln(r) + betaln(a, bx) - betaln(a, b))
    d_r += (digamma(r + counts) - digamma(r))[index]
    d_a += (digamma(a + b) - digamma(a + bx))[index]
    d_b += (digamma(bx) - digamma(a + bx) - digamma(b) + digamma(a + b))[index]
    return float(value)


def expected_given_alive(r, alpha, a, b, t, x, T, shift: float) -> np.ndarray:
    """Expected purchases in (T, T+t] of a customer active at T (the models' eq. 10
    without its 1/P(alive)): c/(a-1) · [1 - (1-z)^(a-1) · 2F1(c-r, a-1; c; z)] with
    c = a+b+x-1+shift and z = t/(α+T+t).

    That is the paper's ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x+shift; c; z) after
    Euler's transformation, whose upper parameters no longer grow with x, so the
    series stays well conditioned for frequent buyers.  Where the closed form is 0/0
    (a = 1, or c = 0) or scipy's 2F1 gives up, the expectation is integrated instead.
    """
    z = t / (alpha + T + t)
    c = a + b + x - 1.0 + shift
    with np.errstate(all="ignore"):
        tail = np.power(1.0 - z, a - 1.0) * hyp2f1(c - x - r, a - 1.0, c, z)
        result = c / (a - 1.0) * (1.0 - tail)
    unreliable = ~np.isfinite(result) | (result < 0) | (np.abs(c) < NEAR_SINGULAR)
    if abs(a - 1.0) < NEAR_SINGULAR:
        unreliable[:] = True
    if unreliable.any():
        result[unreliable] = expected_given_alive_by_quadrature(
            r, alpha, a, b, t[unreliable], x[unreliable], T[unreliable], shift)
    return result


def expected_given_alive_by_quadrature(r, alpha, a, b, t, x, T, shift: float) -> np.ndarray:
    """Expected purchases in (T, T+t] of a customer active at T, as a 1-d integral free
    of the closed form's cancellations.

    Given activity at T the posterior is λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x+shift),
    independent, and an active customer buys (1 - e^(-λpt)) / p more in expectation.
    Integrating λ out leaves E_p[(1 - (1 + pt/(α+T))^-(r+x)) / p], taken by
    Gauss-Legendre nodes on the Beta quantile scale, where the Beta density's
    singularity at p = 0 (a < 1) vanishes.
    """
    u, w = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    u, w = (u + 1.0) / 2.0, w / 2.0
    result = np.empty_like(x)
    for count in np.unique(x):
        rows = x == count
        p = betaincinv(a, b + count + shift, u)[None, :]
        kappa = (t[rows] / (alpha + T[rows]))[:, None]
        n = r + count
        safe_p = np.where(p > 0, p, 1.0)
        per_node = np.where(p > 0, -np.expm1(-n * np.log1p(p * kappa)) / safe_p, n * kappa)
        result[rows] = per_node @ w
    return result


def simulate(rng: np.random.Generator, T, r: float, alpha: float, a: float, b: float,
             shift: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw (x, t_x) for customers observed for times T, vectorised (for tests and
    benchmarks).  The Poisson purchases in (0, T] and the geometric number of repeat
    purchases before dropout (from 1 - shift on) are drawn independently; x is the
    smaller.  Given n Poisson events in (0, T] their times are uniform, so the x-th of
    them is T·Beta(x, n-x+1)."""
    T = np.asarray(T, dtype=float)
    rate = rng.gamma(r, 1.0 / alpha, size=T.shape)
    dropout = rng.beta(a, b, size=T.shape)
    in_window = rng.poisson(rate * T)
    before_dropout = rng.geometric(dropout) - shift
    x = np.minimum(in_window, before_dropout)
    t_x = np.zeros_like(T)
    repeat = x > 0
    t_x[repeat] = T[repeat] * rng.beta(x[repeat], in_window[repeat] - x[repeat] + 1)
    return x.astype(float), t_x
