/**
 * A small prediction server with errors as values: the JSON body is decoded with codecs
 * (params and inputs), the model runs under `attempt`, and every failure, whatever step it
 * comes from, becomes a 400 with the error's name, message and path — no try/catch.
 *
 *   pnpm example http-predict [port]     (listens on 127.0.0.1)
 *
 * POST /predict  {"params": {"w": [[...4x3...]], "b": [...3...]}, "inputs": [[...n x 4...]]}
 *   -> 200 {"outputs": [[...n x 3...]]}  or  400 {"error": {"name", "message", "paths"}}
 */
import { createServer, type Server } from "node:http";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ArrayBase, type CotangentError, DecodeError, ValueError, attempt, codecs, np } from "@cotangent/core";

/** The body: a linear layer's params (4 inputs, 3 outputs) and a batch of inputs. */
const Body = codecs.tree({
  params: { w: codecs.array({ dtype: "float32", shape: [4, 3] }), b: codecs.array({ dtype: "float32", shape: [3] }) },
  inputs: codecs.array({ dtype: "float32", shape: [-1, 4] }),
});
const Outputs = codecs.array({ dtype: "float32" });

/** The model: softmax of a linear layer. */
const predict = (p: { w: ArrayBase; b: ArrayBase }, x: ArrayBase): ArrayBase => {
  const z = np.add(np.matmul(x, p.w), p.b);
  const e = np.exp(np.subtract(z, np.max(z, { axis: 1, keepdims: true })));
  return np.divide(e, np.sum(e, { axis: 1, keepdims: true }));
};

const parseJson = (text: string): E.Either<CotangentError, unknown> =>
  E.tryCatch(
    () => JSON.parse(text) as unknown,
    (e) => new ValueError(`the body is not JSON: ${(e as Error).message}`, { op: "http-predict", hint: "send Content-Type: application/json" }),
  );

/** The whole request as a pure function of the body text: [status, response JSON]. */
export const handle = (text: string): [number, unknown] =>
  pipe(
    parseJson(text),
    E.chainW((json) => codecs.decode(Body, json, "body")),
    E.chain(({ params, inputs }) => attempt(predict)(params, inputs)),
    E.map((y) => codecs.encode(Outputs, y)),
    E.match(
      (e): [number, unknown] => [400, { error: { name: e.name, message: e.detail, paths: e instanceof DecodeError ? e.failures.map((f) => f.path) : [] } }],
      (outputs): [number, unknown] => [200, { outputs }],
    ),
  );

/** A server on 127.0.0.1 answering POST /predict with {@link handle}. Port 0 picks a free port. */
export const serve = (port: number): Promise<Server> =>
  new Promise((resolve) => {
    const server = createServer((req, res) => {
      if (req.method !== "POST" || req.url !== "/predict") {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { name: "NotFound", message: "POST /predict" } }));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (c: Buffer) => {
        size += c.length;
        // A body this large is refused before it is parsed.
        if (size > 1 << 20) req.destroy();
        else chunks.push(c);
      });
      req.on("end", () => {
        const [status, body] = handle(Buffer.concat(chunks).toString("utf8"));
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      });
    });
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

export const main = async (args: string[]) => {
  const server = await serve(Number(args[0] ?? 8080));
  const addr = server.address();
  console.log(`listening on http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : "?"}/predict`);
};
