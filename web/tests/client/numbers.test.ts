/** Phone numbers as typed: separators dropped, E.164 or a short code, else a clear hint. */

import { describe, expect, it } from "vitest";

import { NUMBER_HINT, normalizeNumber, samePeers } from "../../src/client/numbers";

describe("normalizeNumber", () => {
  it.each([
    ["+15550100100", "+15550100100"],
    ["+1 555 010 0100", "+15550100100"],
    ["+1-555-010-0100", "+15550100100"],
    ["+1 (555) 010-0100", "+15550100100"],
    ["+1.555.010.0100", "+15550100100"],
    ["  +44 20 7946 0958  ", "+442079460958"],
    ["+49\u00a030\u202f1234567", "+49301234567"],
    ["+12", "+12"],
    ["+123456789012345", "+123456789012345"],
    ["123", "123"],
    ["12345678", "12345678"],
    ["72 404", "72404"],
  ])("%j -> %s", (input, number) => {
    expect(normalizeNumber(input)).toEqual({ ok: true, number });
  });

  it.each([
    ["5550100100"], // national, no country code
    ["0207 946 0958"],
    ["12"], // too short for a short code
    ["123456789"], // too long for a short code, no +
    ["+0123456"], // country codes do not start with 0
    ["+1"], // one digit
    ["+1234567890123456"], // 16 digits
    ["+1 555 CALL NOW"],
    ["++15550100"],
    ["+1555+0100"],
    ["0044 20 7946 0958"],
    ["#123"],
  ])("%j is refused with the hint", (input) => {
    expect(normalizeNumber(input)).toEqual({ ok: false, error: NUMBER_HINT });
  });

  it("empty input asks for a number", () => {
    expect(normalizeNumber(" ")).toEqual({ ok: false, error: "Enter a phone number." });
  });

  it("the hint names the format", () => {
    expect(NUMBER_HINT).toBe("Enter the number with its country code, like +1 555 010 0100");
  });
});

describe("samePeers", () => {
  it("ignores order", () => {
    expect(samePeers(["+1", "+2"], ["+2", "+1"])).toBe(true);
    expect(samePeers(["+1"], ["+1", "+2"])).toBe(false);
    expect(samePeers(["+1"], ["+2"])).toBe(false);
  });
});
