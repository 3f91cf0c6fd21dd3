#!/usr/bin/python3
"""Writes stats_reference.json: reference values for nrmlab's statistics tests, computed
once with scipy/numpy/statsmodels (Debian's python3-scipy and python3-statsmodels). The
tests read the JSON and never need Python. Re-run after adding a case:
/usr/bin/python3 tests/data/make_stats_reference.py
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

# ---------------------------------------------------------------------------------------
# The rest of the statistics library. These draws come after all of the above, so the
# earlier cases' vectors do not change.
import statsmodels.api as sm
from scipy import optimize
from statsmodels.stats.weightstats import ttost_ind

cases.update({"descriptive": [], "hac": [], "hac_trend": [], "theil_sen": [],
              "mann_kendall": [], "residualize": [], "partial_correlation": [], "nnls": [],
              "brown_forsythe": [], "welch": [], "mann_whitney": [], "tost": []})
floats = lambda a: [float(v) for v in a]  # noqa: E731

QUANTILES = [0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975, 0.999, 1.0]
for name, values in (("normal_odd", rng.normal(loc=3.0, scale=2.0, size=101)),
                     ("ties_even", rng.integers(0, 7, size=60).astype(float)),
                     ("offset", 1e9 + rng.normal(size=40)),
                     ("two", np.array([4.0, -1.5])),
                     ("one", np.array([2.5]))):
    case = {"name": name, "x": floats(values), "mean": float(np.mean(values)),
            "median": float(np.median(values)), "q": QUANTILES,
            "quantiles": floats(np.quantile(values, QUANTILES))}
    if values.size > 1:
        case.update({"var0": float(np.var(values)), "var1": float(np.var(values, ddof=1)),
                     "std0": float(np.std(values)), "std1": float(np.std(values, ddof=1))})
    cases["descriptive"].append(case)


def ar1(n, phi, scale=1.0):
    e = rng.normal(scale=scale, size=n)
    out = np.empty(n)
    out[0] = e[0] / np.sqrt(1 - phi * phi)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + e[i]
    return out


# HAC: statsmodels OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": L}); its defaults are
# no small-sample correction and normal (not t) p-values and intervals.
def hac_case(name, design, y, lags):
    case = {"name": name, "x": design.tolist(), "y": floats(y), "fits": []}
    for lag in lags:
        fit = sm.OLS(y, design).fit(cov_type="HAC", cov_kwds={"maxlags": lag})
        assert not fit.use_t and not fit.cov_kwds["use_correction"]
        case["fits"].append({
            "lag": lag, "coefficients": floats(fit.params), "standard_errors": floats(fit.bse),
            "t": floats(fit.tvalues), "p": floats(fit.pvalues), "r_squared": float(fit.rsquared),
        })
    cases["hac"].append(case)


n = 250
t = np.arange(n, dtype=float)
y = 5.0 + 0.01 * t + ar1(n, 0.8, scale=0.5)
hac_case("trend ar1", sm.add_constant(t), y, [0, 5, 30])
n = 200
design = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(0, 10, size=n),
                          np.linspace(-1, 1, n) ** 2])
y = design @ np.array([1.0, 0.5, -0.2, 3.0]) + ar1(n, 0.5) * (1 + design[:, 2] / 10)
hac_case("three regressors", design, y, [3, 12])

for name, n, slope, phi in (("drifting", 250, 0.002, 0.9), ("flat", 120, 0.0, 0.3),
                            ("tiny_p", 400, 0.05, 0.2)):
    x = np.arange(n, dtype=float) * 10.0
    y = 2.0 + slope * x + ar1(n, phi)
    lag = int(np.floor(4 * (n / 100.0) ** (2.0 / 9.0)))
    fit = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC", cov_kwds={"maxlags": lag})
    ci95, ci90 = fit.conf_int(0.05)[1], fit.conf_int(0.10)[1]
    cases["hac_trend"].append({
        "name": name, "x": floats(x), "y": floats(y), "lag": lag,
        "intercept": float(fit.params[0]), "slope": float(fit.params[1]),
        "standard_error": float(fit.bse[1]), "p": float(fit.pvalues[1]),
        "ci95": floats(ci95), "ci90": floats(ci90),
    })


# Theil-Sen: scipy.stats.theilslopes(y, x, alpha); its default intercept is "separate".
def theil_sen_case(name, x, y):
    case = {"name": name, "x": floats(x), "y": floats(y), "fits": []}
    for alpha in (0.95, 0.9):
        separate = stats.theilslopes(y, x, alpha)
        joint = stats.theilslopes(y, x, alpha, method="joint")
        case["fits"].append({"confidence": alpha, "slope": float(separate.slope),
                             "intercept_separate": float(separate.intercept),
                             "intercept_joint": float(joint.intercept),
                             "low": float(separate.low_slope), "high": float(separate.high_slope)})
    cases["theil_sen"].append(case)


x = rng.uniform(0, 20, size=80)
theil_sen_case("continuous", x, 1.5 - 0.3 * x + rng.standard_t(3, size=80))
x = rng.integers(0, 10, size=50).astype(float)
theil_sen_case("ties", x, np.round(0.5 * x + rng.normal(size=50)))
x = np.arange(31, dtype=float)
y = 0.2 * x + rng.normal(size=31)
y[[3, 17, 25]] += 40.0  # outliers a least-squares slope would follow
theil_sen_case("outliers", x, y)


# Mann-Kendall by the direct O(n^2) definition (Hipel and McLeod 1994).
def mann_kendall_case(name, y):
    n = y.size
    s = int(sum(np.sign(y[j] - y[i]) for i in range(n - 1) for j in range(i + 1, n)))
    _, counts = np.unique(y, return_counts=True)
    var = (n * (n - 1) * (2 * n + 5) - np.sum(counts * (counts - 1) * (2 * counts + 5))) / 18.0
    z = (s - np.sign(s)) / np.sqrt(var)
    tau = stats.kendalltau(np.arange(n), y)
    cases["mann_kendall"].append({
        "name": name, "y": floats(y), "s": s, "variance": float(var), "z": float(z),
        "p": float(2 * stats.norm.sf(abs(z))), "tau": float(tau.statistic),
    })


mann_kendall_case("trend", 0.01 * np.arange(300) + ar1(300, 0.3))
mann_kendall_case("ties", rng.integers(0, 5, size=200).astype(float))
mann_kendall_case("short", rng.normal(size=10))
mann_kendall_case("falling", -np.arange(60.0) + rng.normal(scale=3.0, size=60))


# Residuals on an intercept plus controls, and partial correlation by the residual method
# (pingouin's partial_corr): p from t with n - 2 - k degrees of freedom.
def residuals(v, controls):
    design = np.column_stack([np.ones(v.size), controls])
    beta, *_ = np.linalg.lstsq(design, v, rcond=None)
    return v - design @ beta


def partial(x, y, controls):
    r = stats.pearsonr(residuals(x, controls), residuals(y, controls))[0]
    df = x.size - 2 - controls.shape[1]
    t_stat = r * np.sqrt(df / (1 - r * r))
    return float(r), float(2 * stats.t.sf(abs(t_stat), df))


n = 100
z = rng.normal(size=(n, 3))
case_y = rng.normal(size=n) + z @ np.array([1.0, -0.5, 0.2])
cases["residualize"].append({"y": floats(case_y), "controls": z.tolist(),
                             "residuals": floats(residuals(case_y, z))})
t = np.linspace(0, 5, 80)
case_y = 3.0 - 0.7 * t + rng.normal(size=80)
cases["residualize"].append({"y": floats(case_y), "controls": t[:, None].tolist(),
                             "residuals": floats(residuals(case_y, t[:, None]))})

common = rng.normal(size=n)
px = common + z[:, 0] + 0.5 * rng.normal(size=n)
py = 0.3 * px + common + z[:, 0] - z[:, 1] + rng.normal(size=n)
for name, controls in (("one control", z[:, :1]), ("three controls", z)):
    rank = np.column_stack([stats.rankdata(c) for c in controls.T])
    pr, pp = partial(px, py, controls)
    sr, sp = partial(stats.rankdata(px), stats.rankdata(py), rank)
    cases["partial_correlation"].append({
        "name": name, "x": floats(px), "y": floats(py), "controls": controls.tolist(),
        "pearson_r": pr, "pearson_p": pp, "spearman_r": sr, "spearman_p": sp,
    })
xt = rng.integers(0, 8, size=40).astype(float)
yt = np.round(xt + rng.normal(size=40))
zt = rng.integers(0, 3, size=(40, 1)).astype(float)
rank = np.column_stack([stats.rankdata(zt[:, 0])])
pr, pp = partial(xt, yt, zt)
sr, sp = partial(stats.rankdata(xt), stats.rankdata(yt), rank)
cases["partial_correlation"].append({
    "name": "ties", "x": floats(xt), "y": floats(yt), "controls": zt.tolist(),
    "pearson_r": pr, "pearson_p": pp, "spearman_r": sr, "spearman_p": sp,
})


# Non-negative least squares: scipy.optimize.nnls (Lawson-Hanson).
def nnls_case(name, a, b):
    coefficients, residual_norm = optimize.nnls(a, b)
    fitted = b - a @ coefficients
    cases["nnls"].append({
        "name": name, "a": a.tolist(), "b": floats(b), "coefficients": floats(coefficients),
        "residual_norm": float(residual_norm),
        "r_squared": float(1 - fitted @ fitted / ((b - b.mean()) @ (b - b.mean()))),
    })


a = rng.uniform(0, 1, size=(80, 5))
nnls_case("mixed signs", a, a @ np.array([2.0, -1.0, 0.5, -0.3, 1.0]) + 0.1 * rng.normal(size=80))
a = np.column_stack([np.ones(100), rng.uniform(0, 1, size=(100, 11))])
nnls_case("all positive", a, a @ np.linspace(0.5, 2.0, 12) + 0.05 * rng.normal(size=100))
a = rng.normal(size=(60, 4))
nnls_case("all negative", a, -a @ np.array([1.0, 2.0, 0.5, 1.5]) + 0.1 * rng.normal(size=60))

# Two-sample and k-sample tests.
groups = [rng.normal(0, 1, size=30), rng.normal(0.5, 2, size=45), rng.normal(1, 1.2, size=28)]
w = stats.levene(*groups, center="median")
cases["brown_forsythe"].append({"name": "three normal", "groups": [floats(g) for g in groups],
                                "f": float(w.statistic), "p": float(w.pvalue)})
groups = [rng.integers(0, 5, size=20).astype(float), rng.integers(0, 9, size=21).astype(float)]
w = stats.levene(*groups, center="median")
cases["brown_forsythe"].append({"name": "ties", "groups": [floats(g) for g in groups],
                                "f": float(w.statistic), "p": float(w.pvalue)})

for name, a, b in (("unequal", rng.normal(10, 1, 25), rng.normal(10.8, 3, 40)),
                   ("tiny_p", rng.normal(0, 1, 200), rng.normal(2, 0.5, 150)),
                   ("same", rng.normal(5, 2, 12), rng.normal(5, 2, 9))):
    r = stats.ttest_ind(a, b, equal_var=False)
    df = (a.var(ddof=1) / a.size + b.var(ddof=1) / b.size) ** 2 / (
        (a.var(ddof=1) / a.size) ** 2 / (a.size - 1) + (b.var(ddof=1) / b.size) ** 2 / (b.size - 1))
    cases["welch"].append({"name": name, "a": floats(a), "b": floats(b), "t": float(r.statistic),
                           "df": float(df), "p": float(r.pvalue),
                           "mean_difference": float(a.mean() - b.mean())})

for name, a, b in (("continuous", rng.normal(0, 1, 35), rng.normal(0.7, 1, 30)),
                   ("ties", rng.integers(0, 6, 40).astype(float),
                    rng.integers(1, 7, 33).astype(float)),
                   ("reversed", rng.normal(3, 1, 15), rng.normal(0, 1, 25))):
    r = stats.mannwhitneyu(a, b, alternative="two-sided", method="asymptotic")
    cases["mann_whitney"].append({"name": name, "a": floats(a), "b": floats(b),
                                  "u": float(r.statistic), "p": float(r.pvalue)})

for name, a, b, margin in (("equivalent", rng.normal(100, 5, 60), rng.normal(100.5, 6, 70), 3.0),
                           ("different", rng.normal(100, 5, 40), rng.normal(106, 5, 40), 2.0),
                           ("underpowered", rng.normal(0, 3, 8), rng.normal(0, 1, 10), 1.0)):
    p, lower, upper = ttost_ind(a, b, -margin, margin, usevar="unequal")
    cases["tost"].append({"name": name, "a": floats(a), "b": floats(b), "margin": margin,
                          "p": float(p), "t_lower": float(lower[0]), "p_lower": float(lower[1]),
                          "t_upper": float(upper[0]), "p_upper": float(upper[1]),
                          "df": float(lower[2])})

out = pathlib.Path(__file__).with_name("stats_reference.json")
out.write_text(json.dumps(cases, indent=1) + "\n")
print(f"wrote {out}")
