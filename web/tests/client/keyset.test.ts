/** Keyset positions and cached segments (pure). */

import { describe, expect, it } from "vitest";

import { type Segment, compare, contains, merge, segmentAt, through } from "../../src/client/keyset";
import type { Position } from "../../src/protocol/messages";

const p = (at: number, id: number): Position => [at, id];

describe("positions", () => {
  it("compare as (at, id) pairs", () => {
    expect(compare(p(1, 9), p(2, 0))).toBeLessThan(0);
    expect(compare(p(2, 1), p(2, 0))).toBeGreaterThan(0);
    expect(compare(p(2, 1), p(2, 1))).toBe(0);
  });

  it("through: before it is up to and with the position itself, whatever shares its time", () => {
    const hit = p(100, 7);
    expect(compare(hit, through(hit))).toBeLessThan(0);
    expect(compare(p(100, 8), through(hit))).toBe(0); // the next id at the same time is not included
    expect(compare(p(99, 1_000_000), through(hit))).toBeLessThan(0);
  });
});

describe("segments", () => {
  it("contain positions between their bounds, open where null", () => {
    expect(contains({ low: p(1, 1), high: p(5, 5) }, p(5, 5))).toBe(true);
    expect(contains({ low: p(1, 1), high: p(5, 5) }, p(5, 6))).toBe(false);
    expect(contains({ low: null, high: p(5, 5) }, p(0, 0))).toBe(true);
    expect(contains({ low: p(1, 1), high: null }, p(9e12, 1))).toBe(true);
  });

  it("merge when they overlap, never across a possible gap", () => {
    const newest: Segment = { low: p(50, 1), high: null };
    const hit: Segment = { low: p(10, 1), high: p(20, 1) };
    expect(merge([newest], hit)).toEqual([hit, newest]);
    // The hit's segment grows newer until it reaches the newest one's oldest message.
    expect(merge([newest], { low: p(10, 1), high: p(50, 1) })).toEqual([{ low: p(10, 1), high: null }]);
    expect(merge([newest], { low: p(10, 1), high: null })).toEqual([{ low: p(10, 1), high: null }]);
    expect(merge([hit, newest], { low: null, high: p(15, 0) })).toEqual([{ low: null, high: p(20, 1) }, newest]);
    expect(merge([hit, newest], { low: p(30, 0), high: p(40, 0) })).toEqual([hit, { low: p(30, 0), high: p(40, 0) }, newest]);
    expect(merge([hit], { low: p(5, 0), high: p(12, 0) })).toEqual([{ low: p(5, 0), high: p(20, 1) }]);
  });

  it("the one shown: the newest, or the one holding a hit", () => {
    const segments = merge([{ low: p(50, 1), high: null }], { low: p(10, 1), high: p(20, 1) });
    expect(segmentAt(segments, null)).toEqual({ low: p(50, 1), high: null });
    expect(segmentAt(segments, p(15, 3))).toEqual({ low: p(10, 1), high: p(20, 1) });
    expect(segmentAt(segments, p(30, 3))).toBeNull();
    expect(segmentAt([], null)).toBeNull();
  });
});
