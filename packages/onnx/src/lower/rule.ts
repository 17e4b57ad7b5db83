/** The shape of a lowering rule: one primitive's equation to ONNX nodes. */
import type { Eqn, Jaxpr, ShapedArray } from "@cotangent/core";
import type { GraphBuilder } from "../builder.js";

/** What a {@link LoweringRule} gets: the builder to emit into, the equation, and helpers. */
export interface LowerArgs<P = any> {
  /** The graph the nodes go into. */
  g: GraphBuilder;
  /** The equation being lowered. */
  eqn: Eqn;
  /** Its params. */
  params: P;
  /** ONNX value names of the equation's inputs. */
  inputs: string[];
  inAvals: ShapedArray[];
  outAvals: ShapedArray[];
  /** Lowers a sub-jaxpr inline into builder `g` on the given input names; returns its output names. */
  lowerJaxpr(g: GraphBuilder, jaxpr: Jaxpr, inputs: readonly string[]): string[];
  /**
   * A shape as a 1-d int64 tensor. With dynamic axes, `alt` is the same shape in the second
   * trace (at other sizes of the dynamic axes): entries that differ are read at run time.
   */
  shapeTensor(dims: readonly number[], alt?: readonly number[]): string;
  /** With dynamic axes: this equation in the second trace (same structure, other sizes). */
  alt: Eqn | null;
}

/** Emits the nodes of one equation into `a.g` and returns the names of its outputs. */
export type LoweringRule<P = any> = (a: LowerArgs<P>) => string[];

/** Lowering rules by primitive name. */
export type LoweringTable = Readonly<Record<string, LoweringRule>>;
