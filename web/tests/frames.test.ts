/** Relay frames: limits and validation beyond the vectors. */

import { describe, expect, it } from "vitest";

import { toHex, utf8 } from "../src/protocol/bytes";
import {
  MAX_CONTROL,
  MAX_LINK,
  MAX_PAYLOAD,
  decodeFrame,
  encodeControl,
  encodeData,
} from "../src/protocol/frames";
import { MAX_DEPTH } from "../src/protocol/json";
import { codeOf } from "./helpers";

function control(json: string): Uint8Array {
  return Uint8Array.from([1, ...utf8(json)]);
}

describe("DATA frames", () => {
  it("round-trip at the edges of link and payload", () => {
    for (const [link, length] of [[0, 1], [MAX_LINK, MAX_PAYLOAD], [7, 1000]] as const) {
      const payload = new Uint8Array(length).fill(0xab);
      const frame = decodeFrame(encodeData(link, payload));
      expect(frame).toEqual({ op: "data", link, payload });
    }
  });

  it("refuses bad links and payload sizes", async () => {
    expect(await codeOf(() => encodeData(-1, utf8("x")))).toBe("bad_frame");
    expect(await codeOf(() => encodeData(MAX_LINK + 1, utf8("x")))).toBe("bad_frame");
    expect(await codeOf(() => encodeData(1.5, utf8("x")))).toBe("bad_frame");
    expect(await codeOf(() => encodeData(0, new Uint8Array(0)))).toBe("bad_frame");
    expect(await codeOf(() => encodeData(0, new Uint8Array(MAX_PAYLOAD + 1)))).toBe("too_large");
  });

  it("decodes from a view into a larger buffer", () => {
    const buffer = new Uint8Array([9, 9, 2, 0, 0, 1, 0, 0x61, 9]);
    const frame = decodeFrame(buffer.subarray(2, 8));
    expect(frame).toEqual({ op: "data", link: 256, payload: utf8("a") });
  });
});

describe("CONTROL frames", () => {
  it("ignores unknown fields and accepts any key order", () => {
    expect(decodeFrame(control('{"x":[1,{"y":null}],"channel":"abc","op":"accept"}')))
      .toEqual({ op: "accept", channel: "abc" });
    expect(toHex(encodeControl({ op: "accept", channel: "abc" }))).toBe(toHex(control('{"op":"accept","channel":"abc"}')));
  });

  it("refuses invalid fields as bad_frame", async () => {
    for (const json of [
      '{"op":"ready","online":1}',
      '{"op":"accept","channel":"abc\\n"}', // Python's `$` would accept this one (see the report)
      '{"op":"accept","channel":"' + "c".repeat(65) + '"}',
      '{"op":"offer","channel":"c","ttl":0}',
      '{"op":"offer","channel":"c","ttl":1.0}',
      '{"op":"error","code":"Bad","message":"m"}',
      '{"op":"error","code":"x","message":"' + "é".repeat(201) + '"}',
      '{"op":"host","room":"UlJSUlJSUlJSUlJSUlJSUh","cred":"' + "a".repeat(22) + '"}',
      '{"op":"host","room":"UlJSUlJSUlJSUlJSUlJSUg","cred":"' + "a".repeat(87) + '"}',
      '{"op":"peer","x":' + "[".repeat(MAX_DEPTH) + "]".repeat(MAX_DEPTH) + "}",
    ]) {
      expect(await codeOf(() => decodeFrame(control(json))), json.slice(0, 60)).toBe("bad_frame");
    }
    expect(await codeOf(() => decodeFrame(Uint8Array.from([1, ...utf8('{"op":"accept","channel":"'), 0xff, 0x22, 0x7d]))))
      .toBe("bad_frame");
  });

  it("accepts limits exactly", () => {
    expect(decodeFrame(control('{"op":"error","code":"x","message":"' + "é".repeat(200) + '"}'))).toMatchObject({ op: "error" });
    const padding = " ".repeat(MAX_CONTROL - 1 - '{"op":"peer"}'.length);
    expect(decodeFrame(control(`{"op":"peer"}${padding}`))).toEqual({ op: "peer" });
  });

  it("refuses a control frame over 4096 bytes, on both sides", async () => {
    const padding = " ".repeat(MAX_CONTROL - '{"op":"peer"}'.length);
    expect(await codeOf(() => decodeFrame(control(`{"op":"peer"}${padding}`)))).toBe("too_large");
    expect(await codeOf(() => encodeControl({ op: "error", code: "x", message: "m".repeat(5000) }))).toBe("too_large");
  });
});
