/**
 * The errors-as-values HTTP example (docs/functional.md): a real server on 127.0.0.1,
 * good and bad bodies, each bad one answered with a 400 that names what and where.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Server } from "node:http";
import { serve } from "../packages/examples/src/http_predict.js";

let server: Server;
let url: string;
beforeAll(async () => {
  server = await serve(0);
  const addr = server.address();
  url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}/predict`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const post = async (body: string) => {
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
  return { status: res.status, json: (await res.json()) as any };
};

const params = { w: [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], b: [0, 0, 0] };

describe("http-predict", () => {
  it("answers a good body with softmax outputs", async () => {
    const { status, json } = await post(JSON.stringify({ params, inputs: [[0, 0, 0, 5], [1, 0, 0, 0]] }));
    expect(status).toBe(200);
    expect(json.outputs).toHaveLength(2);
    for (const v of json.outputs[0]) expect(v).toBeCloseTo(1 / 3, 6);
    expect(json.outputs[1][0]).toBeGreaterThan(json.outputs[1][1]);
  });

  it("answers bad bodies with 400 and the error's name, message and paths", async () => {
    const notJson = await post("{oops");
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.name).toBe("ValueError");
    expect(notJson.json.error.message).toMatch(/not JSON/);

    const wrongShape = await post(JSON.stringify({ params: { ...params, w: [[1, 2]] }, inputs: [[1, 2, 3, 4]] }));
    expect(wrongShape.status).toBe(400);
    expect(wrongShape.json.error.name).toBe("DecodeError");
    expect(wrongShape.json.error.message).toBe("body.params.w: expected float32[4,3], got float32[1,2]");
    expect(wrongShape.json.error.paths).toEqual(["body.params.w"]);

    const several = await post(JSON.stringify({ params: { w: params.w, b: [0, 0, "x"] }, inputs: [[1, 2, 3]], extra: 1 }));
    expect(several.status).toBe(400);
    expect(several.json.error.paths).toEqual(["body.params.b", "body.inputs", "body.extra"]);

    const empty = await post("");
    expect(empty.status).toBe(400);
  });
});
