/** Shared helpers of the protocol tests: the vector file, keys, expected errors. */

import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

import { type Bytes, concat, fromHex, utf8 } from "../src/protocol/bytes";
import { TextportError } from "../src/protocol/errors";
import { type KeyPair, importPrivateKey } from "../src/protocol/keys";
import type { Random } from "../src/protocol/pairing";

export interface TransportEntry {
  from: "device" | "host";
  body: string;
  ciphertext: string;
}

export interface Vectors {
  version: number;
  identities: Record<
    | "host_static" | "host_public" | "host_id" | "device_static" | "device_public" | "device_id"
    | "token" | "token_hash" | "session_prologue",
    string
  >;
  pairing_offer: {
    offer: string;
    now: number;
    reader_static: string;
    maker_static: string;
    reader_ephemeral: string;
    maker_ephemeral: string;
    messages: string[];
    handshake_hash: string;
    confirmation_code: string;
    transport: TransportEntry[];
  };
  pairing_code: {
    code: string;
    relay: string;
    host_static: string;
    device_static: string;
    host_ephemeral: string;
    device_ephemeral: string;
    commitment: string;
    messages: string[];
    handshake_hash: string;
    comparison_code: string;
    transport: TransportEntry[];
  };
  session: {
    room: string;
    host_static: string;
    device_static: string;
    host_ephemeral: string;
    device_ephemeral: string;
    messages: string[];
    handshake_hash: string;
    transport: TransportEntry[];
  };
  messages: string[];
  invalid_messages: { body: string; code: string }[];
  frames: string[];
  invalid_frames: { frame: string; code: string }[];
  padding: { body_length: number; padded_length: number }[];
  bad_offers: { offer: string; now: number; allowed_relays: string[]; code: string }[];
  typed_codes: { input: string; result: string }[];
}

const VECTOR_FILE = resolve(dirname(fileURLToPath(import.meta.url)), "../../tests/vectors/textport-v1.json");

export function loadVectors(): Vectors {
  return JSON.parse(readFileSync(VECTOR_FILE, "utf8")) as Vectors;
}

export function key(hex: string): Promise<KeyPair> {
  return importPrivateKey(fromHex(hex));
}

/** The error a promise (or function) fails with, or null. */
export async function failure(run: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof run === "function" ? run() : run);
  } catch (err) {
    return err;
  }
  return null;
}

/** The TextportError code a call fails with ("ok" if it succeeds, "not a TextportError" otherwise). */
export async function codeOf(run: Promise<unknown> | (() => unknown)): Promise<string> {
  const err = await failure(run);
  if (err === null) return "ok";
  return err instanceof TextportError ? err.code : `not a TextportError: ${String(err)}`;
}

export async function expectCode(run: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  expect(await codeOf(run)).toBe(code);
}

/**
 * tests/vectors/generate.py's Drbg (SHA-256 in counter mode), made
 * synchronous by computing the outputs of the given calls up front: each call
 * `rng(n)` consumes ceil(n/32) counter blocks.
 */
export async function drbg(seed: string, calls: readonly number[]): Promise<Random> {
  const outputs: Bytes[] = [];
  let counter = 0n;
  for (const n of calls) {
    let out: Bytes = new Uint8Array(0);
    while (out.length < n) {
      const block = new Uint8Array(8);
      new DataView(block.buffer).setBigUint64(0, counter++, false);
      out = concat(out, new Uint8Array(await crypto.subtle.digest("SHA-256", concat(utf8(seed), block))));
    }
    outputs.push(out.slice(0, n));
  }
  return (n) => {
    const next = outputs.shift();
    if (next === undefined || next.length !== n) throw new Error(`unexpected rng(${n})`);
    return next;
  };
}
