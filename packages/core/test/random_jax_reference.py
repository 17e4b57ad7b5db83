"""Writes random_jax_values.json: JAX's draws for the cases random_jax.test.ts compares.

Run once, with JAX installed (the values in the repo came from jax 0.10.2 on CPU):

    python packages/core/test/random_jax_reference.py

Each case is evaluated under both threefry layouts (jax_threefry_partitionable False and
True). Only the float64 cases (names in X64) run with jax_enable_x64: it changes the
default dtypes JAX draws in (bernoulli's p = 0.5 becomes float64, randint's int64), which
changes the streams of the float32 samplers built on them.
"""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np

r = jax.random
f32, f64, i32 = jnp.float32, jnp.float64, jnp.int32


def K(seed):
    return r.PRNGKey(seed)


CASES = {
    "split": lambda: r.split(K(0)),
    "split3": lambda: r.split(K(42), 3),
    "foldIn": lambda: r.fold_in(K(7), 5),
    "bits": lambda: np.asarray(r.bits(K(1), (5,), dtype=jnp.uint32)).astype(np.int64),
    "uniform32": lambda: r.uniform(K(1), (5,), dtype=f32),
    "uniform64": lambda: r.uniform(K(1), (5,), dtype=f64),
    "normal": lambda: r.normal(K(0), (3,), dtype=f32),
    "exponential32": lambda: r.exponential(K(2), (6,), dtype=f32),
    "exponential64": lambda: r.exponential(K(2), (4,), dtype=f64),
    "laplace": lambda: r.laplace(K(3), (6,), dtype=f32),
    "logistic": lambda: r.logistic(K(4), (6,), dtype=f32),
    "rademacher": lambda: r.rademacher(K(5), (8,), dtype=i32),
    "gamma32": lambda: r.gamma(K(0), jnp.array([0.3, 1.0, 2.5, 7.0], f32), dtype=f32),
    "gamma64": lambda: r.gamma(K(0), jnp.array([0.3, 1.0, 2.5, 7.0], f64), dtype=f64),
    "gammaShape": lambda: r.gamma(K(6), jnp.array([0.5, 2.0], f32), (3, 2), dtype=f32),
    "loggamma": lambda: r.loggamma(K(0), jnp.array([0.01, 0.3, 1.0, 4.0], f32), dtype=f32),
    "beta": lambda: r.beta(K(7), jnp.array([0.5, 2.0], f32), jnp.array([3.0, 0.7], f32), (4, 2), dtype=f32),
    "dirichlet": lambda: r.dirichlet(K(8), jnp.array([0.2, 1.0, 3.0], f32), (3,), dtype=f32),
    "poisson": lambda: r.poisson(K(9), jnp.array([0.0, 0.5, 3.0, 9.5, 10.0, 50.0, 1000.0], f32), dtype=i32),
    "poissonShape": lambda: r.poisson(K(10), 4.0, (8,), dtype=i32),
    "poissonLarge": lambda: r.poisson(K(11), 25.0, (8,), dtype=i32),
    "choiceInt": lambda: r.choice(K(12), 10, (5,)),
    "choiceNoReplace": lambda: r.choice(K(13), 10, (4,), replace=False),
    "choiceArray": lambda: r.choice(K(14), jnp.arange(12, dtype=f32).reshape(3, 4), (2,), axis=1),
    "choiceP": lambda: r.choice(K(15), 5, (6,), p=jnp.array([0.1, 0.2, 0.3, 0.15, 0.25], f32)),
    "choicePNoReplace": lambda: r.choice(K(16), 6, (4,), replace=False, p=jnp.array([0.1, 0.2, 0.3, 0.05, 0.25, 0.1], f32)),
    "generalizedNormal": lambda: r.generalized_normal(K(17), 1.5, (5,), dtype=f32),
    "ball": lambda: r.ball(K(18), 3, 2, (4,), dtype=f32),
    "ballP1": lambda: r.ball(K(19), 2, 1.5, (3,), dtype=f32),
    "permutationIndependent": lambda: r.permutation(K(20), jnp.arange(12, dtype=i32).reshape(3, 4), axis=1, independent=True),
    "permutationIndependent0": lambda: r.permutation(K(21), jnp.arange(12, dtype=i32).reshape(3, 4), axis=0, independent=True),
    "mvnCholesky": lambda: r.multivariate_normal(K(22), jnp.array([1.0, -1.0], f32), jnp.array([[2.0, 0.5], [0.5, 1.0]], f32), (4,), dtype=f32),
    "orthogonal": lambda: r.orthogonal(K(23), 3, dtype=f64),
    "orthogonalBatch": lambda: r.orthogonal(K(24), 2, (2,), dtype=f32),
    "cauchy": lambda: r.cauchy(K(40), (5,), dtype=f32),
    "lognormal": lambda: r.lognormal(K(41), 0.5, (5,), dtype=f32),
    "pareto": lambda: r.pareto(K(42), 3.0, (5,), dtype=f32),
    "chisquare": lambda: r.chisquare(K(43), 4.0, (5,), dtype=f32),
    "t": lambda: r.t(K(44), 5.0, (5,), dtype=f32),
    "weibullMin": lambda: r.weibull_min(K(45), 2.0, 1.5, (5,), dtype=f32),
    "rayleigh": lambda: r.rayleigh(K(46), 2.0, (5,), dtype=f32),
    "geometric": lambda: r.geometric(K(47), 0.3, (6,), dtype=i32),
    "maxwell": lambda: r.maxwell(K(48), (5,), dtype=f32),
}


X64 = {"uniform64", "exponential64", "gamma64", "orthogonal"}


def run(name, f):
    jax.config.update("jax_enable_x64", name in X64)
    return np.asarray(f()).tolist()


def grads():
    jax.config.update("jax_enable_x64", True)
    a = jnp.array([0.3, 1.0, 2.5, 7.0], f64)
    x = jnp.array([0.05, 1.3, 2.0, 9.0], f64)
    return {
        "randomGammaGrad": np.asarray(jax.lax.random_gamma_grad(a, x)).tolist(),
        "gammaGradSum": np.asarray(jax.grad(lambda al: r.gamma(K(0), al, dtype=f64).sum())(a)).tolist(),
    }


def main():
    out = {"jax": jax.__version__}
    for layout in (False, True):
        jax.config.update("jax_threefry_partitionable", layout)
        name = "partitionable" if layout else "original"
        out[name] = {k: run(k, f) for k, f in CASES.items()}
    jax.config.update("jax_threefry_partitionable", False)
    out["grads"] = grads()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "random_jax_values.json")
    with open(path, "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
