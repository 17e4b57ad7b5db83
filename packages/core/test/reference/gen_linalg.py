#!/usr/bin/python3
"""Reference values for packages/core/test/linalg_*.test.ts, from Debian's numpy 1.24 / scipy 1.10
(LAPACK). Run once, from the repository root:

    /usr/bin/python3 packages/core/test/reference/gen_linalg.py

It writes packages/core/test/reference/linalg.json (inputs and outputs, float64, exact
round-trip decimal). The seed is fixed, so re-running gives the same file on the same LAPACK.
Matrices: random normal ("well": condition numbers ~1-100) and built from a prescribed
spectrum ("ill": singular values / eigenvalues log-spaced over 10 decades, condition 1e10).
"""
import json
import os

import numpy as np
import scipy
import scipy.linalg as sla

rng = np.random.default_rng(20261201)


def ortho(n):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q


def ill(m, n, decades=10):
    k = min(m, n)
    s = np.logspace(0, -decades, k)
    return ortho(m)[:, :k] @ np.diag(s) @ ortho(n)[:k, :]


def spd(n, illc=False):
    if illc:
        q = ortho(n)
        return q @ np.diag(np.logspace(0, -10, n)) @ q.T
    a = rng.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


def sym(n, illc=False):
    if illc:
        q = ortho(n)
        w = np.logspace(0, -10, n) * rng.choice([-1, 1], n)
        return q @ np.diag(w) @ q.T
    a = rng.standard_normal((n, n))
    return (a + a.T) / 2


L = lambda x: np.asarray(x, dtype=np.float64).tolist()
out = {"versions": {"numpy": np.__version__, "scipy": scipy.__version__}}

square = [("well", rng.standard_normal((n, n))) for n in (1, 3, 6)] + [("ill", ill(6, 6))]
out["square"] = [
    {
        "kind": kind,
        "a": L(a),
        "b": L(b),
        "det": float(np.linalg.det(a)),
        "slogdet": [float(v) for v in np.linalg.slogdet(a)],
        "inv": L(np.linalg.inv(a)),
        "solve": L(np.linalg.solve(a, b)),
        "cond": float(np.linalg.cond(a)),
        "conds": {str(p): float(np.linalg.cond(a, p)) for p in ["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]},
        "rank": int(np.linalg.matrix_rank(a)),
    }
    for kind, a in square
    for b in [rng.standard_normal((a.shape[0], 2))]
]
batch = rng.standard_normal((2, 3, 3))
out["batch"] = {"a": L(batch), "det": L(np.linalg.det(batch)), "inv": L(np.linalg.inv(batch)), "eigvalsh": L(np.linalg.eigvalsh((batch + batch.transpose(0, 2, 1)) / 2)), "sv": L(np.linalg.svd(batch, compute_uv=False))}

out["cholesky"] = [{"kind": k, "a": L(a), "l": L(np.linalg.cholesky(a)), "cond": float(np.linalg.cond(a))} for k, a in [("well", spd(1)), ("well", spd(3)), ("well", spd(6)), ("ill", spd(6, True))]]

shapes = [(6, 3), (3, 3), (3, 6), (1, 4)]
out["qr"] = []
for kind, a in [("well", rng.standard_normal(s)) for s in shapes] + [("ill", ill(6, 4))]:
    q, r = np.linalg.qr(a, mode="reduced")
    qc, rc = np.linalg.qr(a, mode="complete")
    out["qr"].append({"kind": kind, "a": L(a), "q": L(q), "r": L(r), "qc": L(qc), "rc": L(rc), "cond": float(np.linalg.cond(a))})

out["eigh"] = []
for kind, a in [("well", sym(1)), ("well", sym(3)), ("well", sym(6)), ("ill", sym(6, True))]:
    w, v = np.linalg.eigh(a)
    out["eigh"].append({"kind": kind, "a": L(a), "w": L(w), "v": L(v)})

out["svd"] = []
for kind, a in [("well", rng.standard_normal(s)) for s in shapes] + [("ill", ill(6, 4)), ("ill", ill(4, 6))]:
    u, s, vt = np.linalg.svd(a, full_matrices=True)
    out["svd"].append({"kind": kind, "a": L(a), "u": L(u), "s": L(s), "vt": L(vt)})

out["lstsq"] = []
rank_def = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 4))
for kind, a in [("well", rng.standard_normal((6, 3))), ("well", rng.standard_normal((3, 5))), ("rank-deficient", rank_def), ("ill", ill(6, 4, 8))]:
    b = rng.standard_normal((a.shape[0], 2))
    x, resid, rank, s = np.linalg.lstsq(a, b, rcond=None)
    out["lstsq"].append({"kind": kind, "a": L(a), "b": L(b), "x": L(x), "resid": L(np.sum((b - a @ x) ** 2, axis=0)), "rank": int(rank), "s": L(s), "pinv": L(np.linalg.pinv(a, rcond=10 * max(a.shape) * np.finfo(np.float64).eps))})

# triangular solves: scipy solves op(A) X = B (left side); X op(A) = B is op(A)^T X^T = B^T.
tri = rng.standard_normal((4, 4)) + 4 * np.eye(4)
bl = rng.standard_normal((4, 3))
br = rng.standard_normal((3, 4))
out["triangular"] = {"a": L(tri), "bl": L(bl), "br": L(br), "cases": []}
for left in (True, False):
    for lower in (True, False):
        for trans in (False, True):
            for unit in (False, True):
                if left:
                    x = sla.solve_triangular(tri, bl, lower=lower, trans=1 if trans else 0, unit_diagonal=unit)
                else:
                    x = sla.solve_triangular(tri, br.T, lower=lower, trans=0 if trans else 1, unit_diagonal=unit).T
                out["triangular"]["cases"].append({"leftSide": left, "lower": lower, "transposeA": trans, "unitDiagonal": unit, "x": L(x)})

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linalg.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("wrote", path, os.path.getsize(path), "bytes")
