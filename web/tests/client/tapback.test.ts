/** iPhone tapbacks over SMS: the parser, and folding them onto the messages they quote. */

import { describe, expect, it } from "vitest";

import { foldTapbacks, parseTapback } from "../../src/client/tapback";

describe("parseTapback", () => {
  it.each([
    ["Liked “See you at 6”", "like", "👍"],
    ["Loved “See you at 6”", "love", "❤️"],
    ["Disliked “See you at 6”", "dislike", "👎"],
    ["Laughed at “See you at 6”", "laugh", "😂"],
    ["Emphasized “See you at 6”", "emphasize", "‼️"],
    ["Questioned “See you at 6”", "question", "❓"],
  ])("%s", (body, kind) => {
    expect(parseTapback(body)).toEqual({ kind, removed: false, quote: "See you at 6", cut: false });
  });

  it.each([
    ["Removed a like from “x”", "like"],
    ["Removed a heart from “x”", "love"],
    ["Removed a dislike from “x”", "dislike"],
    ["Removed a laugh from “x”", "laugh"],
    ["Removed an exclamation from “x”", "emphasize"],
    ["Removed a question mark from “x”", "question"],
  ])("%s takes it back", (body, kind) => {
    expect(parseTapback(body)).toEqual({ kind, removed: true, quote: "x", cut: false });
  });

  it("straight quotes, a cut quote, and a quote over several lines", () => {
    expect(parseTapback('Liked "ok"')).toEqual({ kind: "like", removed: false, quote: "ok", cut: false });
    expect(parseTapback("Loved “A long text that goes on…”")).toEqual({
      kind: "love", removed: false, quote: "A long text that goes on", cut: true,
    });
    expect(parseTapback('Loved "Cut..."')?.quote).toBe("Cut");
    expect(parseTapback("Laughed at “one\ntwo”")?.quote).toBe("one\ntwo");
  });

  it.each([
    "Liked it",
    "I liked “that”",
    "Liked “”",
    "Liked “…”",
    "Liked “that” a lot",
    "liked “lower case”",
    "Loved an image",
    "",
  ])("%j is an ordinary text", (body) => {
    expect(parseTapback(body)).toBeNull();
  });
});

interface M {
  readonly body: string;
  readonly from: string;
}

const fold = (messages: M[]) => foldTapbacks(messages, (m) => m.body, (m) => m.from);

describe("foldTapbacks", () => {
  it("puts a reaction on the nearest earlier message that matches, and hides the text", () => {
    const folded = fold([
      { body: "Dinner at 8?", from: "" },
      { body: "Sure", from: "+1" },
      { body: "Dinner at 8?", from: "" },
      { body: "Loved “Dinner at 8?”", from: "+1" },
    ]);
    expect([...folded.hidden]).toEqual([3]);
    expect(folded.reactions.get(2)).toEqual([{ kind: "love", emoji: "❤️", from: "+1" }]);
    expect(folded.reactions.has(0)).toBe(false);
  });

  it("a cut quote matches the start of a long text", () => {
    const long = "This is a rather long text that an iPhone cuts when it quotes it";
    const folded = fold([{ body: long, from: "" }, { body: "Liked “This is a rather long text…”", from: "+1" }]);
    expect(folded.reactions.get(0)?.map((r) => r.emoji)).toEqual(["👍"]);
  });

  it("one reaction per person: a new one replaces it, a removal takes it back", () => {
    const folded = fold([
      { body: "hi", from: "" },
      { body: "Liked “hi”", from: "+1" },
      { body: "Laughed at “hi”", from: "+2" },
      { body: "Loved “hi”", from: "+1" },
      { body: "Removed a laugh from “hi”", from: "+2" },
    ]);
    expect(folded.reactions.get(0)).toEqual([{ kind: "love", emoji: "❤️", from: "+1" }]);
    expect([...folded.hidden].sort()).toEqual([1, 2, 3, 4]);
  });

  it("a tapback is never the target of another, and one with no target stays a text", () => {
    const folded = fold([
      { body: "Liked “nothing here”", from: "+1" },
      { body: "Liked “Liked “nothing here””", from: "+2" },
    ]);
    expect(folded.hidden.size).toBe(0);
    expect(folded.reactions.size).toBe(0);
  });

  it("only earlier messages are quoted", () => {
    const folded = fold([{ body: "Liked “later”", from: "+1" }, { body: "later", from: "" }]);
    expect(folded.hidden.size).toBe(0);
  });
});
