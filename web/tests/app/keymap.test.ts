/** Which key does what (app/keymap.ts). Pure. */

import { describe, expect, it } from "vitest";

import { type KeyPress, commandFor, step } from "../../src/app/keymap";

function press(key: string, fields: Partial<KeyPress> = {}): KeyPress {
  const code = /^[a-z]$/i.test(key) ? `Key${key.toUpperCase()}` : key;
  return {
    key, code, ctrlKey: false, altKey: false, shiftKey: false, metaKey: false, altGraph: false, typing: false, ...fields,
  };
}

describe("commandFor", () => {
  it("maps the documented keys", () => {
    expect(commandFor(press("ArrowDown", { altKey: true }))).toBe("next");
    expect(commandFor(press("ArrowUp", { altKey: true }))).toBe("previous");
    expect(commandFor(press("/"))).toBe("search");
    expect(commandFor(press("k", { ctrlKey: true }))).toBe("search");
    expect(commandFor(press("n", { ctrlKey: true, altKey: true }))).toBe("new");
    expect(commandFor(press("e", { ctrlKey: true, altKey: true }))).toBe("archive");
    expect(commandFor(press("?", { shiftKey: true }))).toBe("help"); // "?" comes with Shift on most layouts
    expect(commandFor(press("?"))).toBe("help");
    expect(commandFor(press("/", { ctrlKey: true }))).toBe("help");
  });

  it("leaves typed characters to the composer and the search box", () => {
    expect(commandFor(press("/", { typing: true }))).toBe(null);
    expect(commandFor(press("?", { typing: true }))).toBe(null);
    expect(commandFor(press("a", { typing: true }))).toBe(null);
    expect(commandFor(press("ArrowDown", { typing: true }))).toBe(null);
    expect(commandFor(press("Enter", { typing: true }))).toBe(null);
    // The documented modifier keys work while typing.
    expect(commandFor(press("ArrowDown", { altKey: true, typing: true }))).toBe("next");
    expect(commandFor(press("n", { ctrlKey: true, altKey: true, typing: true }))).toBe("new");
  });

  it("leaves AltGr letters alone (AltGr+N types ń on a Polish keyboard)", () => {
    expect(commandFor(press("n", { ctrlKey: true, altKey: true, altGraph: true, typing: true }))).toBe(null);
    expect(commandFor({ ...press("n", { ctrlKey: true, altKey: true, typing: true }), key: "ń" })).toBe(null);
    expect(commandFor({ ...press("e", { ctrlKey: true, altKey: true }), key: "ę" })).toBe(null);
  });

  it("does not take what browsers and systems use", () => {
    expect(commandFor(press("ArrowLeft", { altKey: true }))).toBe(null); // Back
    expect(commandFor(press("n", { ctrlKey: true }))).toBe(null); // new window
    expect(commandFor(press("ArrowDown", { altKey: true, shiftKey: true }))).toBe(null);
  });
});

describe("step", () => {
  it("moves through the list, starting at an end and stopping at the other", () => {
    expect(step([4, 5, 6], null, 1)).toBe(4);
    expect(step([4, 5, 6], null, -1)).toBe(6);
    expect(step([4, 5, 6], 4, 1)).toBe(5);
    expect(step([4, 5, 6], 5, -1)).toBe(4);
    expect(step([4, 5, 6], 6, 1)).toBe(6);
    expect(step([4, 5, 6], 9, 1)).toBe(4); // the open one is not in this view
    expect(step([], null, 1)).toBe(null);
  });
});
