"""Error metrics of a multiplier against the exact product.

Definitions (J. Liang, J. Han and F. Lombardi, "New metrics for the reliability of approximate and
probabilistic adders", IEEE Trans. Computers 62(9), 2013), with ED = |approx - exact|:

* ``er``   error rate: fraction of operand pairs with ED != 0;
* ``med``  mean error distance: mean of ED;
* ``nmed`` MED normalised by the largest exact product magnitude ((2^n-1)^2 unsigned, 2^(2n-2) signed);
* ``mred`` mean relative error distance: mean of ED / |exact| over pairs whose exact product is not 0;
* ``wce``  worst-case error: the largest ED;
* ``bias`` mean error: mean of (approx - exact).

The error distribution is a histogram of approx/exact - 1 (pairs with a non-zero exact product),
clipped to ±0.25: negative means the product's magnitude was underestimated.

For operands up to 8 bits every pair is evaluated (exhaustive). Wider operands are sampled uniformly
(fixed seed); the result then states the sample size and 95% confidence intervals: mean ± 1.96·s/√N
for med, nmed, mred and bias (central limit theorem), a Wilson interval for er; the sampled wce is
the largest error seen, a lower bound of the true one.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from hwsim.pe.multiplier import Multiplier

EXHAUSTIVE_MAX_BITS = 8
HIST_EDGES = np.linspace(-0.25, 0.25, 51)


@dataclass
class ErrorMetrics:
    design: str
    bits: int
    signed: bool
    pairs: int
    exhaustive: bool
    er: float
    med: float
    nmed: float
    mred: float
    wce: int
    bias: float
    ci95: dict[str, list[float]] = field(default_factory=dict)
    histogram: dict[str, list] = field(default_factory=dict)  # relative error distribution

    def to_dict(self) -> dict:
        return asdict(self)


def operand_pairs(mult: Multiplier, samples: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray, bool]:
    """All pairs (``samples=None`` and width <= 8) or ``samples`` uniform random pairs."""
    f = mult.fmt_a
    if samples is None and f.bits <= EXHAUSTIVE_MAX_BITS:
        vals = np.arange(f.min_int, f.max_int + 1, dtype=np.int64)
        a, b = np.meshgrid(vals, vals, indexing="ij")
        return a.ravel(), b.ravel(), True
    n = samples or 1_000_000
    rng = np.random.default_rng(seed)
    return (rng.integers(f.min_int, f.max_int + 1, n, dtype=np.int64),
            rng.integers(f.min_int, f.max_int + 1, n, dtype=np.int64), False)


def max_product(mult: Multiplier) -> int:
    f = mult.fmt_a
    return (1 << (2 * f.bits - 2)) if f.signed else ((1 << f.bits) - 1) ** 2


def error_metrics(mult: Multiplier, samples: int | None = None, seed: int = 0, name: str | None = None) -> ErrorMetrics:
    """Metrics of ``mult`` (exhaustive up to 8 bits unless ``samples`` is given)."""
    a, b, exhaustive = operand_pairs(mult, samples, seed)
    exact = a * b
    approx = mult.multiply(a, b)
    err = (approx - exact).astype(np.float64)
    ed = np.abs(err)
    nonzero = exact != 0
    red = ed[nonzero] / np.abs(exact[nonzero])
    rel = err[nonzero] / exact[nonzero]  # approx/exact - 1: negative = magnitude underestimated
    n = a.size
    er = float(np.count_nonzero(ed) / n)
    med = float(ed.mean())
    norm = max_product(mult)
    result = ErrorMetrics(
        design=name or getattr(mult, "describe", lambda: mult.name)(), bits=mult.fmt_a.bits,
        signed=mult.fmt_a.signed, pairs=int(n), exhaustive=exhaustive, er=er, med=med, nmed=med / norm,
        mred=float(red.mean()) if red.size else 0.0, wce=int(ed.max()), bias=float(err.mean()),
    )
    counts, _ = np.histogram(np.clip(rel, HIST_EDGES[0], HIST_EDGES[-1]), bins=HIST_EDGES)
    result.histogram = {"relative_error_edges": HIST_EDGES.tolist(), "counts": counts.tolist(),
                        "exact_products": int(n - red.size)}
    if not exhaustive:
        z = 1.96
        result.ci95 = {
            "med": _mean_ci(ed, z), "nmed": [v / norm for v in _mean_ci(ed, z)], "mred": _mean_ci(red, z),
            "bias": _mean_ci(err, z), "er": _wilson(er, n, z),
        }
    return result


def _mean_ci(x: np.ndarray, z: float) -> list[float]:
    if x.size < 2:
        return [float(x.mean()), float(x.mean())]
    half = z * float(x.std(ddof=1)) / math.sqrt(x.size)
    m = float(x.mean())
    return [m - half, m + half]


def _wilson(p: float, n: int, z: float) -> list[float]:
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return [max(0.0, centre - half), min(1.0, centre + half)]
