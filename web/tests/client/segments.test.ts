/** The SMS segment counter: GSM-7 (with the extension table) vs UCS-2, part boundaries. */

import { describe, expect, it } from "vitest";

import { countSegments, gsmWeight, isGsm7, segmentLabel } from "../../src/client/segments";

const count = (text: string): [string, number, number] => {
  const c = countSegments(text);
  return [c.encoding, c.units, c.parts];
};

describe("encoding", () => {
  it.each([
    ["", "GSM-7"],
    ["Hello, world!", "GSM-7"],
    ["@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", "GSM-7"],
    ["line\nbreak\rreturn", "GSM-7"],
    ["€ [x] {y} ~z | \\ ^", "GSM-7"],
    ["tab\there", "UCS-2"], // TAB is not in the GSM alphabet
    ["ç", "UCS-2"], // only the capital Ç is
    ["naïve", "UCS-2"],
    ["“smart quotes”", "UCS-2"],
    ["emoji 🙂", "UCS-2"],
    ["Привет", "UCS-2"],
    ["你好", "UCS-2"],
    ["`backtick`", "UCS-2"],
  ])("%j is %s", (text, encoding) => {
    expect(countSegments(text).encoding).toBe(encoding);
    expect(isGsm7(text)).toBe(encoding === "GSM-7");
  });

  it("weights", () => {
    expect(gsmWeight("a")).toBe(1);
    expect(gsmWeight("€")).toBe(2);
    expect(gsmWeight("\f")).toBe(2);
    expect(gsmWeight("á")).toBeNull();
  });
});

describe("GSM-7 counts", () => {
  it.each([
    ["", 0, 0],
    ["a", 1, 1],
    ["a".repeat(159), 159, 1],
    ["a".repeat(160), 160, 1],
    ["a".repeat(161), 161, 2],
    ["a".repeat(306), 306, 2],
    ["a".repeat(307), 307, 3],
    ["a".repeat(459), 459, 3],
    ["a".repeat(460), 460, 4],
  ])("%# (%i units)", (text, units, parts) => {
    expect(count(text)).toEqual(["GSM-7", units, parts]);
  });

  it("extension characters count 2", () => {
    expect(count("€")).toEqual(["GSM-7", 2, 1]);
    expect(count("{}[]~|^\\")).toEqual(["GSM-7", 16, 1]);
    expect(count("€".repeat(80))).toEqual(["GSM-7", 160, 1]);
    expect(count("€".repeat(80) + "a")).toEqual(["GSM-7", 161, 2]);
    expect(count("a".repeat(159) + "€")).toEqual(["GSM-7", 161, 2]);
  });

  it("never splits an escape pair across parts", () => {
    // 152 septets then "€": the pair does not fit in part 1's last septet, so it moves to part 2.
    // 306 septets would fit in 2 parts, but the wasted septet makes it 3.
    expect(count("a".repeat(152) + "€" + "a".repeat(152))).toEqual(["GSM-7", 306, 3]);
    expect(count("a".repeat(151) + "€" + "a".repeat(153))).toEqual(["GSM-7", 306, 2]);
  });
});

describe("UCS-2 counts", () => {
  it.each([
    ["ç", 1, 1],
    ["ç".repeat(70), 70, 1],
    ["ç".repeat(71), 71, 2],
    ["ç".repeat(134), 134, 2],
    ["ç".repeat(135), 135, 3],
    ["ç".repeat(201), 201, 3],
    ["ç".repeat(202), 202, 4],
  ])("%# (%i units)", (text, units, parts) => {
    expect(count(text)).toEqual(["UCS-2", units, parts]);
  });

  it("one non-GSM character turns the whole text to UCS-2", () => {
    expect(count("a".repeat(100))).toEqual(["GSM-7", 100, 1]);
    expect(count("a".repeat(99) + "ç")).toEqual(["UCS-2", 100, 2]);
  });

  it("emoji outside the BMP count 2 units", () => {
    expect(count("🙂")).toEqual(["UCS-2", 2, 1]);
    expect(count("🙂".repeat(35))).toEqual(["UCS-2", 70, 1]);
    expect(count("🙂".repeat(35) + "a")).toEqual(["UCS-2", 71, 2]);
    expect(count("👍🏽")).toEqual(["UCS-2", 4, 1]); // with a skin-tone modifier
    expect(count("👨‍👩‍👧")).toEqual(["UCS-2", 8, 1]); // ZWJ sequence: 3 emoji + 2 joiners
  });

  it("never splits a surrogate pair across parts", () => {
    // 66 units then an emoji: it does not fit in the 67th unit, so it starts part 2.
    expect(count("ç".repeat(66) + "🙂" + "ç".repeat(66))).toEqual(["UCS-2", 134, 3]);
    expect(count("ç".repeat(65) + "🙂" + "ç".repeat(67))).toEqual(["UCS-2", 134, 2]);
  });

  it("a combining mark never begins a part: its character goes along (as libGammu cuts)", () => {
    // 66 + e + U+0301 fill 68 units: the accent would begin part 2, so "e" moves there too,
    // and part 2 then holds 2 + 66 units: a 3rd part for the last one.
    expect(count("ç".repeat(66) + "e\u0301" + "ç".repeat(66))).toEqual(["UCS-2", 134, 3]);
    expect(count("ç".repeat(67) + "e\u0301" + "ç".repeat(64))).toEqual(["UCS-2", 133, 2]);
    // Only one character goes along, even when it is a mark itself.
    expect(count("\u0300".repeat(134))).toEqual(["UCS-2", 134, 3]);
  });

  it("extension characters count 1 in UCS-2", () => {
    expect(count("€ç")).toEqual(["UCS-2", 2, 1]);
  });
});

describe("label", () => {
  it.each([
    ["", "0 / 160 · 0 SMS"],
    ["a".repeat(42), "42 / 160 · 1 SMS"],
    ["a".repeat(160), "160 / 160 · 1 SMS"],
    ["a".repeat(161), "161 / 306 · 2 SMS"],
    ["a".repeat(400), "400 / 459 · 3 SMS"],
    ["ç", "1 / 70 · 1 SMS"],
    ["ç".repeat(71), "71 / 134 · 2 SMS"],
  ])("%#", (text, label) => {
    expect(segmentLabel(countSegments(text))).toBe(label);
  });
});
