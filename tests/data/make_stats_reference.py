#!/usr/bin/python3
"""Writes stats_reference.json: reference values for nrmlab's statistics tests, computed
once with scipy/numpy (Debian's python3-scipy). The tests read the JSON and never need
Python. Re-run after adding a case:  /usr/bin/python3 tests/data/make_stats_reference.py
"""
import json
import pathlib

import numpy as np
from scipy import stats

rng = np.random.default_rng(20261122)
cases = {"ranks": [], "correlation": [], "linear": [], "quadratic": []}

for values in ([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5], [2.0, 2.0, 2.0], [0.5, -1.0, 7.25, 7.25, 0.0]):
    cases["ranks"].append({"x": values, "ranks": stats.rankdata(values).tolist()})


def correlation_case(name, x, y):
    pr = stats.pearsonr(x, y)
    sr = stats.spearmanr(x, y)
    cases["correlation"].append({
        "name": name, "x": list(map(float, x)), "y": list(map(float, y)),
        "pearson_r": float(pr[0]), "pearson_p": float(pr[1]),
        "spearman_r": float(sr[0]), "spearman_p": float(sr[1]),
    })


x = rng.normal(size=50)
correlation_case("moderate", x, 0.4 * x + rng.normal(size=50))
xi = rng.integers(0, 6, size=40)
correlation_case("ties", xi, -0.5 * xi + rng.integers(0, 4, size=40))
x = np.arange(200.0)
correlation_case("tiny_p", x, x + rng.normal(scale=5.0, size=200))
correlation_case("weak", rng.normal(size=30), rng.normal(size=30))

for name, n, slope in (("rising", 60, 0.3), ("flat", 25, 0.0)):
    x = np.linspace(0.0, 10.0, n)
    y = 2.0 + slope * x + rng.normal(scale=0.5, size=n)
    fit = stats.linregress(x, y)
    cases["linear"].append({
        "name": name, "x": x.tolist(), "y": y.tolist(),
        "intercept": float(fit.intercept), "slope": float(fit.slope),
        "r_squared": float(fit.rvalue ** 2), "slope_se": float(fit.stderr),
        "intercept_se": float(fit.intercept_stderr), "slope_p": float(fit.pvalue),
    })

# The quadratic fit on centred, scaled x (population standard deviation), by LAPACK
# least squares; standard errors from sigma^2 (X'X)^-1, p-values from t's survival function.
x = np.arange(0.0, 12000.0, 40.0)  # step indices: x^2 reaches 1e8
y = 0.05 + 1e-6 * x + 3e-10 * x * x + rng.normal(scale=0.002, size=x.size)
z = (x - x.mean()) / x.std()
design = np.column_stack([np.ones_like(z), z, z * z])
beta, *_ = np.linalg.lstsq(design, y, rcond=None)
residuals = y - design @ beta
dof = x.size - 3
sigma2 = residuals @ residuals / dof
se = np.sqrt(np.diag(sigma2 * np.linalg.inv(design.T @ design)))
tvals = beta / se
cases["quadratic"].append({
    "name": "accelerating", "x": x.tolist(), "y": y.tolist(),
    "x_mean": float(x.mean()), "x_scale": float(x.std()),
    "coefficients": beta.tolist(), "standard_errors": se.tolist(),
    "p": (2 * stats.t.sf(np.abs(tvals), dof)).tolist(),
    "r_squared": float(1 - residuals @ residuals / ((y - y.mean()) @ (y - y.mean()))),
})

out = pathlib.Path(__file__).with_name("stats_reference.json")
out.write_text(json.dumps(cases, indent=1) + "\n")
print(f"wrote {out}")
