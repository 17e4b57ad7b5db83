/** Every nn layer traces cleanly under `jit`: jitted apply (and its gradient) equals eager. */
import { type ArrayBase, grad, jit, np, random } from "@cotangent/core";
import * as nn from "@cotangent/nn";
import { describe, expect, it } from "vitest";
import { expectClose } from "../../core/test/harness.js";

const key = random.key(0);
const LAYERS: [string, nn.Layer<any>, number[]][] = [
  ["dense", nn.dense(5, 3), [4, 5]],
  ["mlp", nn.mlp([5, 8, 3]), [4, 5]],
  ["layerNorm", nn.layerNorm(5), [4, 5]],
  ["rmsNorm", nn.rmsNorm(5), [4, 5]],
  ["groupNorm", nn.groupNorm(2, 4), [2, 3, 4]],
  ["conv2d", nn.conv2d(2, 3, 3, { padding: "SAME" }), [2, 6, 6, 2]],
  ["convTranspose", nn.convTranspose(2, 3, 3, { strides: 2 }), [2, 4, 4, 2]],
  ["multiHeadAttention", nn.multiHeadAttention(2, 4, { isCausal: true }), [2, 5, 4]],
  ["maxPool", nn.maxPool(2), [2, 6, 6, 2]],
  ["avgPool", nn.avgPool(2), [2, 6, 6, 2]],
  ["sequential", nn.sequential(nn.dense(5, 6), nn.activation(nn.gelu), nn.dense(6, 2)), [4, 5]],
  ["residual", nn.residual(nn.dense(5, 5)), [4, 5]],
  ["flatten", nn.flatten(), [2, 3, 4]],
  ["dropout (eval)", nn.dropout(0.5), [4, 5]],
];

describe("nn layers under jit", () => {
  for (const [name, layer, shape] of LAYERS) {
    it(`${name}: jit(apply) and grad through jit equal eager`, () => {
      const params = layer.init(key);
      const x = random.normal(random.key(1), shape);
      const apply = (p: any, x: ArrayBase) => layer.apply(p, x);
      expectClose(jit(apply)(params, x), apply(params, x), 1e-5);
      const loss = (p: any, x: ArrayBase) => np.sum(np.square(layer.apply(p, x)));
      expectClose(jit(grad(loss, { argnums: [0, 1] }))(params, x), grad(loss, { argnums: [0, 1] })(params, x), 1e-4);
    });
  }
  it("dropout in training: the key is a traced argument, so each key gives its own mask without retracing", () => {
    const layer = nn.dropout(0.5);
    const x = np.ones([8, 8]);
    const f = jit((x: ArrayBase, k: ArrayBase) => layer.apply(null, x, { train: true, key: k }));
    expectClose(f(x, random.key(3)), layer.apply(null, x, { train: true, key: random.key(3) }), 0);
    f(x, random.key(4));
    expect(f.cacheInfo().misses).toBe(1);
  });
  it("embedding: integer ids are traced", () => {
    const layer = nn.embedding(10, 4);
    const p = layer.init(key);
    const ids = np.array([1, 3, 9], { dtype: "int32" });
    expectClose(jit((p: any, i: ArrayBase) => layer.apply(p, i))(p, ids), layer.apply(p, ids), 0);
  });
});
