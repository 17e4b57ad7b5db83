/**
 * Plain float64 re-derivations of each optimizer's published update rule, written as loops
 * over Float64Arrays (one per pytree leaf). Each reference is a stepper: given the gradient
 * and the current params (leaves in tree.leaves order), it returns the update to add.
 * The tests drive the library and the reference side by side and compare every step.
 */
import { type ArrayBase, np, tree } from "@cotangent/core";

export type Leaves = Float64Array[];
export type Stepper = (g: Leaves, p: Leaves) => Leaves;
/** Learning rate as a function of the 0-based step (a constant is a function too). */
export type LR = number | ((t: number) => number);

const lrAt = (lr: LR, t: number) => (typeof lr === "number" ? lr : lr(t));
const zerosLike = (xs: Leaves): Leaves => xs.map((x) => new Float64Array(x.length));
const fullLike = (xs: Leaves, v: number): Leaves => xs.map((x) => new Float64Array(x.length).fill(v));
const norm = (x: Float64Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
/** Per-leaf trust ratio `c ||p|| / (||u|| + eps)`, or 1 if either norm is 0 (You et al. 2017/2020). */
const trustRatio = (p: Float64Array, u: Float64Array, c = 1, eps = 0) => {
  const pn = norm(p);
  const un = norm(u);
  return pn === 0 || un === 0 ? 1 : (c * pn) / (un + eps);
};

export const toLeaves = (t: unknown): Leaves => tree.leaves<ArrayBase>(t).map((x) => Float64Array.from(x.toTypedArray() as Float64Array));
export const fromLeaves = (like: unknown, leaves: Leaves, dtype: "float32" | "float64" = "float64"): any => {
  const [ls, def] = tree.flatten<ArrayBase>(like);
  return tree.unflatten(def, ls.map((x, i) => np.array(leaves[i]!, { dtype, shape: x.shape })));
};

/** Adam's moments and their bias-corrected direction (Kingma & Ba 2015, Algorithm 1; NAdam per Optax's nesterov form). */
const adamCore = (o: { b1?: number; b2?: number; eps?: number; epsRoot?: number; nesterov?: boolean }, sizes: Leaves) => {
  const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0, nesterov = false } = o;
  const m = zerosLike(sizes);
  const v = zerosLike(sizes);
  let t = 0;
  return (g: Leaves): Leaves => {
    t++;
    return g.map((gk, k) =>
      gk.map((x, i) => {
        m[k]![i] = b1 * m[k]![i]! + (1 - b1) * x;
        v[k]![i] = b2 * v[k]![i]! + (1 - b2) * x * x;
        const mh = nesterov
          ? (b1 * m[k]![i]!) / (1 - b1 ** (t + 1)) + ((1 - b1) * x) / (1 - b1 ** t)
          : m[k]![i]! / (1 - b1 ** t);
        const vh = v[k]![i]! / (1 - b2 ** t);
        return mh / (Math.sqrt(vh + epsRoot) + eps);
      }),
    );
  };
};

const scaleBy = (u: Leaves, s: number) => u.map((x) => x.map((v) => v * s));

/** Heavy-ball / Nesterov momentum as Optax's trace: t = u + mu t; out = nesterov ? u + mu t : t. */
const traceRef = (mu: number, nesterov: boolean, sizes: Leaves) => {
  const tr = zerosLike(sizes);
  return (u: Leaves): Leaves =>
    u.map((x, k) =>
      x.map((v, i) => {
        tr[k]![i] = v + mu * tr[k]![i]!;
        return nesterov ? v + mu * tr[k]![i]! : tr[k]![i]!;
      }),
    );
};

export const ref = {
  /** SGD with momentum (Sutskever et al. 2013, eq. 1-2 in Optax's trace form). */
  sgd: (o: { lr: LR; momentum?: number; nesterov?: boolean }) => (p0: Leaves): Stepper => {
    const tr = o.momentum === undefined ? null : traceRef(o.momentum, o.nesterov ?? false, p0);
    let t = 0;
    return (g) => scaleBy(tr ? tr(g) : g, -lrAt(o.lr, t++));
  },
  /** Adam (Kingma & Ba 2015, Algorithm 1): m, v EMAs; -lr m_hat / (sqrt(v_hat + eps_root) + eps). */
  adam: (o: { lr: LR; b1?: number; b2?: number; eps?: number; epsRoot?: number; nesterov?: boolean }) => (p0: Leaves): Stepper => {
    const core = adamCore(o, p0);
    let t = 0;
    return (g) => scaleBy(core(g), -lrAt(o.lr, t++));
  },
  /** AdamW (Loshchilov & Hutter 2019, Algorithm 2): -lr (adam_dir + wd p). */
  adamw: (o: { lr: LR; b1?: number; b2?: number; eps?: number; weightDecay?: number; maskB?: boolean }) => (p0: Leaves): Stepper => {
    const core = adamCore(o, p0);
    const wd = o.weightDecay ?? 1e-4;
    let t = 0;
    return (g, p) => {
      const d = core(g);
      const lr = lrAt(o.lr, t++);
      // leaf 0 is `b` (keys sorted): masked out when maskB
      return d.map((x, k) => x.map((v, i) => -lr * (v + (o.maskB && k === 0 ? 0 : wd) * p[k]![i]!)));
    };
  },
  /** Adamax (Kingma & Ba 2015, Algorithm 2 / section 7.1): u = max(b2 u, |g| + eps); -lr m_hat / u. */
  adamax: (o: { lr: LR; b1?: number; b2?: number; eps?: number }) => (p0: Leaves): Stepper => {
    const { b1 = 0.9, b2 = 0.999, eps = 1e-8 } = o;
    const m = zerosLike(p0);
    const u = zerosLike(p0);
    let t = 0;
    return (g) => {
      t++;
      return g.map((gk, k) =>
        gk.map((x, i) => {
          m[k]![i] = b1 * m[k]![i]! + (1 - b1) * x;
          u[k]![i] = Math.max(b2 * u[k]![i]!, Math.abs(x) + eps);
          return (-lrAt(o.lr, t - 1) * (m[k]![i]! / (1 - b1 ** t))) / u[k]![i]!;
        }),
      );
    };
  },
  /** AMSGrad (Reddi et al. 2018, Algorithm 2, with Optax's bias correction): v_max = max(v_max, v_hat). */
  amsgrad: (o: { lr: LR; b1?: number; b2?: number; eps?: number; epsRoot?: number }) => (p0: Leaves): Stepper => {
    const { b1 = 0.9, b2 = 0.999, eps = 1e-8, epsRoot = 0 } = o;
    const m = zerosLike(p0);
    const v = zerosLike(p0);
    const vmax = zerosLike(p0);
    let t = 0;
    return (g) => {
      t++;
      return g.map((gk, k) =>
        gk.map((x, i) => {
          m[k]![i] = b1 * m[k]![i]! + (1 - b1) * x;
          v[k]![i] = b2 * v[k]![i]! + (1 - b2) * x * x;
          vmax[k]![i] = Math.max(vmax[k]![i]!, v[k]![i]! / (1 - b2 ** t));
          return (-lrAt(o.lr, t - 1) * (m[k]![i]! / (1 - b1 ** t))) / (Math.sqrt(vmax[k]![i]! + epsRoot) + eps);
        }),
      );
    };
  },
  /** RAdam (Liu et al. 2020, Algorithm 2): rectification r_t when rho_t >= threshold, else momentum only. */
  radam: (o: { lr: LR; b1?: number; b2?: number; eps?: number; threshold?: number }) => (p0: Leaves): Stepper => {
    const { b1 = 0.9, b2 = 0.999, eps = 1e-8, threshold = 5 } = o;
    const m = zerosLike(p0);
    const v = zerosLike(p0);
    const rhoInf = 2 / (1 - b2) - 1;
    let t = 0;
    return (g) => {
      t++;
      const rho = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
      const r = Math.sqrt(((rho - 4) * (rho - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rho));
      return g.map((gk, k) =>
        gk.map((x, i) => {
          m[k]![i] = b1 * m[k]![i]! + (1 - b1) * x;
          v[k]![i] = b2 * v[k]![i]! + (1 - b2) * x * x;
          const mh = m[k]![i]! / (1 - b1 ** t);
          const vh = v[k]![i]! / (1 - b2 ** t);
          return -lrAt(o.lr, t - 1) * (rho >= threshold ? (r * mh) / (Math.sqrt(vh) + eps) : mh);
        }),
      );
    };
  },
  /**
   * RMSProp (Tieleman & Hinton 2012; Optax's rmsprop): v = d v + (1-d) g^2, u = g / sqrt(v + eps);
   * centered (Graves 2013, eq. 38-40): u = g / sqrt(v - m^2 + eps); then -lr u, then momentum.
   */
  rmsprop: (o: { lr: LR; decay?: number; eps?: number; initialScale?: number; centered?: boolean; momentum?: number; nesterov?: boolean }) =>
    (p0: Leaves): Stepper => {
      const { decay = 0.9, eps = 1e-8, initialScale = 0, centered = false } = o;
      const m = zerosLike(p0);
      const v = fullLike(p0, initialScale);
      const tr = o.momentum === undefined ? null : traceRef(o.momentum, o.nesterov ?? false, p0);
      let t = 0;
      return (g) => {
        const lr = lrAt(o.lr, t++);
        const u = g.map((gk, k) =>
          gk.map((x, i) => {
            v[k]![i] = decay * v[k]![i]! + (1 - decay) * x * x;
            m[k]![i] = decay * m[k]![i]! + (1 - decay) * x;
            const denom = centered ? v[k]![i]! - m[k]![i]! ** 2 : v[k]![i]!;
            return (-lr * x) / Math.sqrt(denom + eps);
          }),
        );
        return tr ? tr(u) : u;
      };
    },
  /** AdaGrad (Duchi et al. 2011; Optax's scale_by_rss): s += g^2; -lr g / sqrt(s + eps). */
  adagrad: (o: { lr: LR; initialAccumulatorValue?: number; eps?: number }) => (p0: Leaves): Stepper => {
    const { initialAccumulatorValue = 0.1, eps = 1e-7 } = o;
    const s = fullLike(p0, initialAccumulatorValue);
    let t = 0;
    return (g) => {
      const lr = lrAt(o.lr, t++);
      return g.map((gk, k) =>
        gk.map((x, i) => {
          s[k]![i] = s[k]![i]! + x * x;
          return s[k]![i]! > 0 ? (-lr * x) / Math.sqrt(s[k]![i]! + eps) : 0;
        }),
      );
    };
  },
  /** AdaDelta (Zeiler 2012, Algorithm 1), with Optax's optional weight decay added to g first. */
  adadelta: (o: { lr?: LR; rho?: number; eps?: number; weightDecay?: number }) => (p0: Leaves): Stepper => {
    const { lr = 1, rho = 0.9, eps = 1e-6, weightDecay = 0 } = o;
    const eg = zerosLike(p0);
    const ex = zerosLike(p0);
    let t = 0;
    return (g, p) => {
      const l = lrAt(lr, t++);
      return g.map((gk, k) =>
        gk.map((x0, i) => {
          const x = x0 + weightDecay * p[k]![i]!;
          eg[k]![i] = rho * eg[k]![i]! + (1 - rho) * x * x;
          const dx = (Math.sqrt(ex[k]![i]! + eps) / Math.sqrt(eg[k]![i]! + eps)) * x;
          ex[k]![i] = rho * ex[k]![i]! + (1 - rho) * dx * dx;
          return -l * dx;
        }),
      );
    };
  },
  /** Lion (Chen et al. 2023, Program 1): u = sign((1-b1) g + b1 m) + wd p; m = b2 m + (1-b2) g; -lr u. */
  lion: (o: { lr: LR; b1?: number; b2?: number; weightDecay?: number }) => (p0: Leaves): Stepper => {
    const { b1 = 0.9, b2 = 0.99, weightDecay = 1e-3 } = o;
    const m = zerosLike(p0);
    let t = 0;
    return (g, p) => {
      const lr = lrAt(o.lr, t++);
      return g.map((gk, k) =>
        gk.map((x, i) => {
          const u = Math.sign((1 - b1) * x + b1 * m[k]![i]!);
          m[k]![i] = b2 * m[k]![i]! + (1 - b2) * x;
          return -lr * (u + weightDecay * p[k]![i]!);
        }),
      );
    };
  },
  /** LAMB (You et al. 2020, Algorithm 2): r = adam_dir + wd p; -lr (||p|| / ||r||) r per leaf. */
  lamb: (o: { lr: LR; b1?: number; b2?: number; eps?: number; weightDecay?: number }) => (p0: Leaves): Stepper => {
    const core = adamCore({ ...o, eps: o.eps ?? 1e-6 }, p0);
    const wd = o.weightDecay ?? 0;
    let t = 0;
    return (g, p) => {
      const lr = lrAt(o.lr, t++);
      return core(g).map((d, k) => {
        const r = d.map((v, i) => v + wd * p[k]![i]!);
        const ratio = trustRatio(p[k]!, r);
        return r.map((v) => -lr * ratio * v);
      });
    };
  },
  /** LARS (You et al. 2017, Algorithm 1 in Optax's form): g' = g + wd p; u = -lr c ||p|| / (||g'|| + eps) g'; then momentum. */
  lars: (o: { lr: LR; weightDecay?: number; trustCoefficient?: number; eps?: number; momentum?: number; nesterov?: boolean }) =>
    (p0: Leaves): Stepper => {
      const { weightDecay = 0, trustCoefficient = 0.001, eps = 0, momentum = 0.9, nesterov = false } = o;
      const tr = traceRef(momentum, nesterov, p0);
      let t = 0;
      return (g, p) => {
        const lr = lrAt(o.lr, t++);
        const u = g.map((gk, k) => {
          const gw = gk.map((x, i) => x + weightDecay * p[k]![i]!);
          const ratio = trustRatio(p[k]!, gw, trustCoefficient, eps);
          return gw.map((v) => -lr * ratio * v);
        });
        return tr(u);
      };
    },
  /** Yogi (Zaheer et al. 2018, Algorithm 2): v = v - (1-b2) sign(v - g^2) g^2; moments start at 1e-6. */
  yogi: (o: { lr: LR; b1?: number; b2?: number; eps?: number }) => (p0: Leaves): Stepper => {
    const { b1 = 0.9, b2 = 0.999, eps = 1e-3 } = o;
    const m = fullLike(p0, 1e-6);
    const v = fullLike(p0, 1e-6);
    let t = 0;
    return (g) => {
      t++;
      return g.map((gk, k) =>
        gk.map((x, i) => {
          m[k]![i] = b1 * m[k]![i]! + (1 - b1) * x;
          v[k]![i] = v[k]![i]! - (1 - b2) * Math.sign(v[k]![i]! - x * x) * x * x;
          const mh = m[k]![i]! / (1 - b1 ** t);
          const vh = v[k]![i]! / (1 - b2 ** t);
          return (-lrAt(o.lr, t - 1) * mh) / (Math.sqrt(vh) + eps);
        }),
      );
    };
  },
  /** AdaBelief (Zhuang et al. 2020, Algorithm 2): s = b2 s + (1-b2)(g - m)^2 + eps_root. */
  adabelief: (o: { lr: LR; b1?: number; b2?: number; eps?: number; epsRoot?: number }) => (p0: Leaves): Stepper => {
    const { b1 = 0.9, b2 = 0.999, eps = 1e-16, epsRoot = 1e-16 } = o;
    const m = zerosLike(p0);
    const s = zerosLike(p0);
    let t = 0;
    return (g) => {
      t++;
      return g.map((gk, k) =>
        gk.map((x, i) => {
          m[k]![i] = b1 * m[k]![i]! + (1 - b1) * x;
          s[k]![i] = b2 * s[k]![i]! + (1 - b2) * (x - m[k]![i]!) ** 2 + epsRoot;
          const mh = m[k]![i]! / (1 - b1 ** t);
          const sh = s[k]![i]! / (1 - b2 ** t);
          return (-lrAt(o.lr, t - 1) * mh) / (Math.sqrt(sh) + eps);
        }),
      );
    };
  },
};

/** The test pytree: `{ w: [3, 2], b: [2] }` (leaves in sorted key order: b, w). */
export const initParams = (dtype: "float32" | "float64" = "float64") => ({
  w: np.array([[0.5, -1.2], [2.0, 0.3], [-0.7, 1.1]], { dtype }),
  b: np.array([0.1, -0.4], { dtype }),
});

/** A gradient that varies with the step and the params (signs change, magnitudes differ). */
export const gradAt = (step: number, p: Leaves): Leaves =>
  p.map((x, k) => x.map((v, i) => Math.sin(1.3 * i + 0.7 * k + 2.1 * step) * (1 + 0.5 * step) + 0.3 * v));
