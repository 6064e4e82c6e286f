// @vitest-environment happy-dom
/**
 * The composer (happy-dom): its draft kept in IndexedDB per conversation, the
 * emoji picker from the keyboard (inserted at the caret), a pasted picture's
 * note with the text kept, and Enter / Shift+Enter.
 */

import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { render } from "preact";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { Composer, type Draft, NO_MMS_NOTE } from "../../src/app/Composer";
import { Store } from "../../src/client/storage";
import { until } from "../fakes/setup";

let root: HTMLElement;
let store: Store;
let sent: string[];

beforeEach(async () => {
  root = document.createElement("div");
  document.body.append(root);
  store = await Store.open(new IDBFactory(), IDBKeyRange);
  sent = [];
});

afterEach(() => {
  render(null, root);
  root.remove();
  store.close();
});

function draftOf(peers: string[]): Draft {
  return { load: () => store.draft(peers), save: (body) => void store.saveDraft(peers, body) };
}

function show(peers: string[], mms = false): void {
  act(() => {
    render(
      <Composer
        key={peers.join(",")}
        maxParts={10}
        mms={mms}
        draft={draftOf(peers)}
        onSend={async (body) => {
          sent.push(body);
          return true;
        }}
      />,
      root,
    );
  });
}

const box = (): HTMLTextAreaElement => root.querySelector("textarea")!;

function type(text: string): void {
  act(() => {
    box().value = text;
    box().dispatchEvent(new Event("input", { bubbles: true }));
  });
}

function key(target: Element, name: string, shiftKey = false): void {
  act(() => {
    target.dispatchEvent(new KeyboardEvent("keydown", { key: name, shiftKey, bubbles: true, cancelable: true }));
  });
}

describe("drafts", () => {
  it("stores are per conversation, come back when it is shown again, and go once sent", async () => {
    show(["+15550100"]);
    type("for Ana");
    show(["+15550101"]);
    await until(async () => (await store.draft(["+15550100"])) === "for Ana");
    expect(box().value).toBe("");
    type("for Bo");

    show(["+15550100"]);
    await until(() => box().value === "for Ana");

    expect(await store.draft(["+15550101"])).toBe("for Bo");

    key(box(), "Enter");
    await until(() => sent.length === 1);
    expect(sent).toEqual(["for Ana"]);
    await until(async () => (await store.draft(["+15550100"])) === "");
  });

  it("a group's draft does not depend on the order of its numbers", async () => {
    await store.saveDraft(["+2", "+1"], "hello all");
    expect(await store.draft(["+1", "+2"])).toBe("hello all");
    await store.saveDraft(["+1", "+2"], "   ");
    expect(await store.draft(["+2", "+1"])).toBe("");
  });
});

describe("emoji", () => {
  it("the Emoji button opens a grid; arrows move, Enter inserts at the caret, Escape closes", async () => {
    show(["+15550100"]);
    type("Hello world");
    box().setSelectionRange(6, 6);
    const toggle = root.querySelector<HTMLButtonElement>("button[aria-label='Emoji']")!;
    expect(toggle.getAttribute("aria-expanded")).toBe("false");
    act(() => toggle.click());
    const grid = root.querySelector("[role='dialog']")!;
    expect(grid.getAttribute("aria-label")).toBe("Choose an emoji");
    await until(() => document.activeElement === grid.querySelector("button"));
    key(document.activeElement!, "ArrowRight");
    key(document.activeElement!, "ArrowDown");
    expect(document.activeElement?.getAttribute("aria-label")).toBe("crying face"); // one row (8) down from 😂
    key(document.activeElement!, "Home");
    key(document.activeElement!, "ArrowRight");
    act(() => (document.activeElement as HTMLButtonElement).click());
    expect(box().value).toBe("Hello 😂world");
    expect(root.querySelector("[role='dialog']")).toBeNull();

    act(() => toggle.click());
    key(root.querySelector("[role='dialog'] button")!, "Escape");
    expect(root.querySelector("[role='dialog']")).toBeNull();
    expect(document.activeElement).toBe(toggle);
  });
});

describe("pictures", () => {
  it("a pasted picture shows a note and keeps the text", () => {
    show(["+15550100"]);
    type("keep me");
    const paste = new Event("paste", { bubbles: true, cancelable: true });
    const file = new File(["x"], "a.png", { type: "image/png" });
    Object.defineProperty(paste, "clipboardData", {
      value: { files: [file], items: [{ kind: "file" }], types: ["Files"] },
    });
    act(() => {
      box().dispatchEvent(paste);
    });
    expect(paste.defaultPrevented).toBe(true);
    expect(root.querySelector("[role='status']")?.textContent).toContain(NO_MMS_NOTE);
    expect(box().value).toBe("keep me");
  });
});

describe("keys", () => {
  it("Shift+Enter is a new line, Enter sends", async () => {
    show(["+15550100"]);
    type("one");
    key(box(), "Enter", true);
    expect(sent).toEqual([]);
    key(box(), "Enter");
    await until(() => sent.length === 1);
  });
});
