/**
 * The device harness under Node: JSON lines on stdin,
 * `{"id": n, "cmd": "...", "args": {...}}`, one JSON line per request on
 * stdout, `{"id": n, "result": {...}}`, in request order. Exits at EOF once
 * every request is answered. Build: `npm run build:harness`, then
 * `node web/dist-harness/node.js`.
 */

import { createInterface } from "node:readline";

import { createDevice } from "./device";

const device = createDevice();
const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
let pending: Promise<void> = Promise.resolve();

function reply(id: unknown, result: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ id, result }) + "\n");
}

lines.on("line", (line) => {
  if (line.trim() === "") return;
  let request: { id?: unknown; cmd?: unknown; args?: unknown };
  try {
    request = JSON.parse(line) as typeof request;
  } catch {
    pending = pending.then(() => reply(null, { error: { code: "internal", message: "request is not JSON" } }));
    return;
  }
  const id = request.id ?? null;
  const cmd = typeof request.cmd === "string" ? request.cmd : "";
  const args = typeof request.args === "object" && request.args !== null ? (request.args as Record<string, unknown>) : {};
  const answer = device.call(cmd, args);
  pending = pending.then(async () => reply(id, await answer));
});

lines.on("close", () => {
  void pending.then(() => process.exit(0));
});
