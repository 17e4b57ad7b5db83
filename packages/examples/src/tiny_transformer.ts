/**
 * A character-level transformer language model (a decoder-only GPT in miniature, after
 * Radford et al. 2018 with pre-layer-norm blocks) trained on seven of Shakespeare's sonnets
 * (public domain, `packages/examples/data/sonnets.txt`, about 4 KB):
 *
 *   token embedding + learned position embedding
 *   × numLayers: x + causal multiHeadAttention(layerNorm(x)), then x + mlp(layerNorm(x))
 *   layerNorm → dense to the vocabulary
 *
 * Trained with Adam on random windows of the text (next-character cross-entropy), the loss
 * printed as it falls, then a sample drawn from the model, one character at a time.
 *
 *   pnpm example tiny-transformer                 # the defaults below
 *   pnpm example tiny-transformer --steps 300 --layers 1 --seed 3
 *
 * The whole training step (forward, backward, Adam, update) is one `jit`-compiled program.
 */
import { readFileSync } from "node:fs";
import { type ArrayBase, jit, np, random, tree, valueAndGrad } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import * as optim from "@cotangent/optim";

export interface TransformerConfig {
  /** Characters the model sees at once (the attention window). */
  context: number;
  /** Width of the residual stream. */
  dModel: number;
  numHeads: number;
  numLayers: number;
  batchSize: number;
  steps: number;
  learningRate: number;
  /** Print the mean training loss every this many steps. */
  logEvery: number;
  /** Characters to sample at the end (0: none). */
  sampleLength: number;
  /** Divides the logits before sampling: below 1 is more conservative. */
  temperature: number;
  seed: number;
  quiet: boolean;
}

export const DEFAULTS: TransformerConfig = {
  context: 32,
  dModel: 48,
  numHeads: 4,
  numLayers: 2,
  batchSize: 16,
  steps: 600,
  learningRate: 3e-3,
  logEvery: 50,
  sampleLength: 300,
  temperature: 0.8,
  seed: 0,
  quiet: false,
};

export const loadText = (): string => readFileSync(new URL("../data/sonnets.txt", import.meta.url), "utf8");

/** The characters of the text, sorted, as the vocabulary; ids are positions in it. */
export const vocabulary = (text: string) => {
  const chars = [...new Set(text)].sort();
  const index = new Map(chars.map((c, i) => [c, i]));
  return {
    size: chars.length,
    encode: (s: string) => Int32Array.from(s, (c) => index.get(c) ?? 0),
    decode: (ids: ArrayLike<number>) => Array.from(ids, (i) => chars[i]).join(""),
  };
};

/** The model: an {init, apply} pair whose apply maps int32 ids [B, T] (T ≤ context) to logits [B, T, vocab]. */
export const transformer = (c: TransformerConfig, vocab: number) => {
  const tokens = nn.embedding(vocab, c.dModel);
  const block = {
    ln1: nn.layerNorm(c.dModel),
    attention: nn.multiHeadAttention(c.numHeads, c.dModel, { isCausal: true }),
    ln2: nn.layerNorm(c.dModel),
    mlp: nn.mlp([c.dModel, 4 * c.dModel, c.dModel], { activation: nn.gelu }),
  };
  const lnFinal = nn.layerNorm(c.dModel);
  // Small output weights (GPT-2's 0.02): the untrained model predicts close to uniform, loss ≈ log(vocab).
  const head = nn.dense(c.dModel, vocab, { kernelInit: nn.normal(0.02) });
  type BlockParams = { ln1: nn.NormParams; attention: nn.MultiHeadAttentionParams; ln2: nn.NormParams; mlp: nn.DenseParams[] };
  type Params = { tokens: nn.EmbeddingParams; positions: ArrayBase; blocks: BlockParams[]; lnFinal: nn.NormParams; head: nn.DenseParams };
  const init = (key: ArrayBase): Params => {
    const [kt, kp, kh, ...kb] = random.split(key, 3 + c.numLayers);
    return {
      tokens: tokens.init(kt!),
      positions: nn.normal(0.02)(kp!, [c.context, c.dModel]),
      blocks: kb.map((k) => {
        const [k1, k2] = random.split(k);
        return { ln1: block.ln1.init(k), attention: block.attention.init(k1!), ln2: block.ln2.init(k), mlp: block.mlp.init(k2!) };
      }),
      lnFinal: lnFinal.init(key),
      head: head.init(kh!),
    };
  };
  const apply = (p: Params, ids: ArrayBase): ArrayBase => {
    const T = ids.shape[1]!;
    let x = np.add(tokens.apply(p.tokens, ids), np.index(p.positions, [np.sl(0, T)]));
    for (const b of p.blocks) {
      x = np.add(x, block.attention.apply(b.attention, block.ln1.apply(b.ln1, x)));
      x = np.add(x, block.mlp.apply(b.mlp, block.ln2.apply(b.ln2, x)));
    }
    return head.apply(p.head, lnFinal.apply(p.lnFinal, x));
  };
  return { init, apply };
};

export interface TrainResult {
  /** Mean training loss of each logged interval, in order. */
  losses: number[];
  /** The loss (nats per character) of the untrained model, on the first batch. */
  initialLoss: number;
  sample: string;
  seconds: number;
}

/** A small seeded generator for the batch offsets (mulberry32), so runs repeat exactly. */
const rng = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export const train = (options: Partial<TransformerConfig> = {}): TrainResult => {
  const c = { ...DEFAULTS, ...options };
  const log = c.quiet ? () => {} : (s: string) => console.log(s);
  const text = loadText();
  const vocab = vocabulary(text);
  const data = vocab.encode(text);
  const model = transformer(c, vocab.size);
  let params = model.init(random.key(c.seed));
  const parameters = tree.leaves<ArrayBase>(params).reduce((n, p) => n + p.size, 0);
  log(`tiny-transformer: ${text.length} characters, vocabulary ${vocab.size}; ${c.numLayers} blocks of ${c.numHeads}-head causal attention, width ${c.dModel}, context ${c.context}; ${parameters} parameters`);
  log(`Adam, learning rate ${c.learningRate}, batch ${c.batchSize} windows, ${c.steps} steps`);

  const opt = optim.adam({ learningRate: c.learningRate });
  let optState = opt.init(params);
  type P = typeof params;
  const loss = (p: P, x: ArrayBase, y: ArrayBase) => np.mean(optim.softmaxCrossEntropyWithIntegerLabels(model.apply(p, x), y));
  const step = jit(
    (p: P, s: unknown, x: ArrayBase, y: ArrayBase) => {
      const [l, g] = valueAndGrad(loss)(p, x, y);
      const [updates, next] = opt.update(g, s as never, p);
      return [l, optim.applyUpdates(p, updates), next] as const;
    },
    { donateArgnums: [0, 1] },
  );
  const random01 = rng(c.seed);
  const batch = () => {
    const x = new Int32Array(c.batchSize * c.context);
    const y = new Int32Array(c.batchSize * c.context);
    for (let b = 0; b < c.batchSize; b++) {
      const start = Math.floor(random01() * (data.length - c.context - 1));
      x.set(data.subarray(start, start + c.context), b * c.context);
      y.set(data.subarray(start + 1, start + c.context + 1), b * c.context);
    }
    return { x: np.array(x, { dtype: "int32", shape: [c.batchSize, c.context] }), y: np.array(y, { dtype: "int32", shape: [c.batchSize, c.context] }) };
  };

  const t0 = performance.now();
  const first = batch();
  const initialLoss = loss(params, first.x, first.y).item();
  log(`step     0  loss ${initialLoss.toFixed(3)}  (uniform guessing: ${Math.log(vocab.size).toFixed(3)})`);
  const losses: number[] = [];
  let sum = 0;
  let n = 0;
  for (let s = 1; s <= c.steps; s++) {
    const { x, y } = s === 1 ? first : batch();
    const [l, p, st] = step(params, optState, x, y);
    params = p;
    optState = st as typeof optState;
    sum += l.item();
    n++;
    if (s % c.logEvery === 0 || s === c.steps) {
      losses.push(sum / n);
      log(`step ${String(s).padStart(5)}  loss ${(sum / n).toFixed(3)}  ${"#".repeat(Math.round((sum / n) * 10))}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      sum = 0;
      n = 0;
    }
  }
  const trained = (performance.now() - t0) / 1000;

  // Sampling: the window is always `context` long (one compiled program); positions past the
  // prompt are padding that causal attention keeps from influencing the positions before it.
  const logitsOf = jit((p: P, ids: ArrayBase) => model.apply(p, ids));
  const prompt = "Shall I";
  const out = Array.from(vocab.encode(prompt));
  let key = random.key(c.seed + 1);
  for (let i = 0; i < c.sampleLength; i++) {
    const window = out.slice(-c.context);
    const ids = new Int32Array(c.context);
    ids.set(window);
    const logits = np.index(logitsOf(params, np.array(ids, { dtype: "int32", shape: [1, c.context] })), [0, window.length - 1]);
    const [k1, k2] = random.split(key);
    key = k2!;
    out.push(random.categorical(k1!, np.divide(logits, c.temperature)).item());
  }
  const sample = vocab.decode(out);
  if (c.sampleLength > 0) log(`\nsample (temperature ${c.temperature}):\n${sample}\n`);
  const seconds = (performance.now() - t0) / 1000;
  log(`trained in ${trained.toFixed(1)} s; ${seconds.toFixed(1)} s with sampling`);
  return { losses, initialLoss, sample, seconds };
};

const parseArgs = (args: string[]): Partial<TransformerConfig> => {
  const flags: Record<string, keyof TransformerConfig> = {
    "--steps": "steps",
    "--layers": "numLayers",
    "--heads": "numHeads",
    "--width": "dModel",
    "--context": "context",
    "--batch": "batchSize",
    "--lr": "learningRate",
    "--seed": "seed",
    "--sample": "sampleLength",
    "--temperature": "temperature",
  };
  const out: Partial<Record<keyof TransformerConfig, number>> = {};
  for (let i = 0; i < args.length; i += 2) {
    const key = flags[args[i]!];
    const v = Number(args[i + 1]);
    if (!key || !Number.isFinite(v)) {
      console.error(`usage: pnpm example tiny-transformer [${Object.keys(flags).join(" N | ")} N]`);
      process.exit(2);
    }
    out[key] = v;
  }
  return out as Partial<TransformerConfig>;
};

export const main = (args: string[]) => {
  train(parseArgs(args));
};
