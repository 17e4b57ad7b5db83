/** Degenerate cases of the transforms. */
import { it, expect } from "vitest";
import { np, grad, vmap, jvp, jacrev, hessian, vjp, makeJaxpr, typecheck } from "@cotangent/core";
it("constant outputs, unused inputs, identities, size-0 arrays and repeated gather indices", () => {
  const x = np.array([1, 2]);
  expect(grad(() => np.array(3))(x).toArray()).toEqual([0, 0]);
  expect(grad((x: any) => np.sum(np.multiply(x, 0)))(x).toArray()).toEqual([0, 0]);
  expect(grad((x: any, y: any) => np.sum(y), { argnums: 0 })(x, x).toArray()).toEqual([0, 0]);
  expect(jvp((x: any) => x, [x], [x])[1].toArray()).toEqual([1, 2]);
  expect(vmap((x: any) => np.array(5))(x).toArray()).toEqual([5, 5]);
  expect(jacrev((x: any) => x)(x).toArray()).toEqual([[1, 0], [0, 1]]);
  expect(hessian((x: any) => np.sum(x))(x).toArray()).toEqual([[0, 0], [0, 0]]);
  const [o, b] = vjp((x: any) => [x, np.sum(x)], x);
  expect(b([np.ones([2]), np.array(2)])[0].toArray()).toEqual([3, 3]);
  typecheck(makeJaxpr(grad(() => np.array(3)))(x));
  expect(grad((x: any) => np.sum(np.zeros([0])))(np.zeros([0])).shape).toEqual([0]);
  expect(vmap((x: any) => np.sum(x))(np.zeros([0, 3])).shape).toEqual([0]);
  expect(grad((x: any) => np.sum(np.take(x, np.array([0, 0, 1], { dtype: "int32" }))))(x).toArray()).toEqual([2, 1]);
});
