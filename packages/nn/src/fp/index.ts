/**
 * `@cotangent/nn/fp`: nn's activations and array functions (and `dotProductAttention`) in data-last form, for `pipe`
 * and `flow` (layers are `{init, apply}` pairs and are not included).
 *
 * ```ts
 * import { flow } from "fp-ts/lib/function.js";
 * import * as fp from "@cotangent/core/fp";
 * import * as nnfp from "@cotangent/nn/fp";
 * const layer = flow(fp.matmul(w), fp.add(b), nnfp.relu);
 * ```
 */
import type {} from "@cotangent/core";
import { type Pipeable, type UnaryKeys, pipeable } from "@cotangent/core/fp";
// By the package's own name, so the built fp entry shares the built main entry (see tsup.base.ts).
import * as nn from "@cotangent/nn";

const activations = { elu: nn.elu, gelu: nn.gelu, leakyRelu: nn.leakyRelu, logSoftmax: nn.logSoftmax, oneHot: nn.oneHot, relu: nn.relu, sigmoid: nn.sigmoid, silu: nn.silu, softmax: nn.softmax, softplus: nn.softplus, swish: nn.swish, tanh: nn.tanh, dotProductAttention: nn.dotProductAttention };
type Activations = typeof activations;
type Names = { [K in keyof Activations]: Activations[K] extends (...args: any[]) => any ? K : never }[keyof Activations] & string;

const UNARY = ["relu", "sigmoid", "silu", "swish", "tanh", "softplus"] as const;
// Compile-time: UNARY is exactly the activations whose type takes one parameter.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const unaryIsExact: Same<(typeof UNARY)[number], UnaryKeys<Pick<Activations, Names>>> = true;
void unaryIsExact;

const names = Object.keys(activations).filter((k) => typeof (activations as Record<string, unknown>)[k] === "function") as Names[];
const forms: Pipeable<Activations, Names> = pipeable(activations, names, new Set(UNARY));

export const { elu, gelu, leakyRelu, logSoftmax, oneHot, relu, sigmoid, silu, softmax, softplus, swish, tanh } = forms;
/** `dotProductAttention(key, value, bias?, mask?, options?)(query)`: attention with the query last, for `pipe`. */
export const { dotProductAttention } = forms;
