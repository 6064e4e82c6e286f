// @vitest-environment happy-dom
/**
 * History in the views (happy-dom) against the FakeHost: the list paged as it
 * is scrolled, a thread paged as it is scrolled up (what is on screen stays
 * put), search with marked snippets opening the thread at the hit, pictures
 * inline with their dialog, files, lost attachments, and a reload painting
 * from the cache while the host is away.
 */

import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { App } from "../../src/app/App";
import { Snippet } from "../../src/app/Search";
import { formatSize, snippetParts } from "../../src/app/format";
import type { Client } from "../../src/client/client";
import type { HistoryMessage } from "../fakes/host";
import { type World, oneHost, pair, startClient, until, world } from "../fakes/setup";

let root: HTMLElement;
let w: World;
let client: Client;

/**
 * happy-dom lays nothing out: give every element a height of 100 px per list
 * item inside it, a 1000 px viewport and a scrollTop that sticks, so "near the
 * end" means what it does in a browser.
 */
const geometry = {
  scrollTop: new WeakMap<Element, number>(),
  saved: [] as [string, PropertyDescriptor | undefined][],
  install(): void {
    const proto = HTMLElement.prototype;
    const tops = this.scrollTop;
    const define = (name: string, descriptor: PropertyDescriptor): void => {
      this.saved.push([name, Object.getOwnPropertyDescriptor(proto, name)]);
      Object.defineProperty(proto, name, { configurable: true, ...descriptor });
    };
    define("scrollHeight", { get(this: HTMLElement) { return 100 * this.querySelectorAll("li").length; } });
    define("clientHeight", { get() { return 1000; } });
    define("scrollTop", {
      get(this: HTMLElement) { return tops.get(this) ?? 0; },
      set(this: HTMLElement, value: number) {
        tops.set(this, Math.max(0, Math.min(value, this.scrollHeight - this.clientHeight)));
      },
    });
    define("scrollIntoView", {
      value(this: HTMLElement) {
        scrolledTo.push(this);
        const list = this.closest("ol");
        if (list !== null) list.scrollTop = 100 * [...list.querySelectorAll("li")].indexOf(this as HTMLLIElement) - 450;
      },
    });
  },
  uninstall(): void {
    for (const [name, descriptor] of this.saved.splice(0).reverse()) {
      if (descriptor === undefined) delete (HTMLElement.prototype as unknown as Record<string, unknown>)[name];
      else Object.defineProperty(HTMLElement.prototype, name, descriptor);
    }
  },
};
let scrolledTo: HTMLElement[] = [];

function byLabel<T extends Element>(label: string): T | null {
  return root.querySelector<T>(`[aria-label="${label}"]`);
}

function type(el: HTMLInputElement, text: string): void {
  el.value = text;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

function scroll(el: Element, top: number): void {
  (el as HTMLElement).scrollTop = top;
  el.dispatchEvent(new Event("scroll"));
}

const conversationItems = (): HTMLElement[] => [...(byLabel("Conversations")?.querySelectorAll("li") ?? [])] as HTMLElement[];
const bodies = (): string[] => [...root.querySelectorAll('[aria-label="Messages"] .bubble .body')].map((p) => p.textContent ?? "");

async function start(seed: (w: World) => Promise<void>): Promise<void> {
  w = await world();
  await pair(w);
  await w.host.connect();
  await seed(w);
  client = await startClient(w);
  render(<App hosts={await oneHost(client)} relay={w.relay.url} socket={w.relay.factory} />, root);
}

async function open(title: string): Promise<void> {
  const item = await until(() => conversationItems().find((li) => li.getAttribute("aria-label")?.startsWith(`${title},`)));
  item.querySelector("button")!.click();
  await until(() => byLabel(`Conversation with ${title}`));
}

const texts = (count: number, at = 5_000_000): HistoryMessage[] =>
  Array.from({ length: count }, (_, i) => ({ dir: i % 2 ? "in" : "out", body: `text ${i}`, at: at + i * 60_000 }));

/** A 1x1 PNG. */
const PNG = Uint8Array.from(atob(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="), (c) => c.charCodeAt(0));

beforeEach(() => {
  sessionStorage.clear(); // no conversation left open by an earlier test
  root = document.createElement("div");
  document.body.append(root);
  scrolledTo = [];
  geometry.install();
});

afterEach(() => {
  render(null, root);
  root.remove();
  geometry.uninstall();
});

describe("the conversation list", () => {
  it("shows the first 50 after the reset, and the next 50 when scrolled near its end", async () => {
    await start(async (host) => {
      for (let i = 0; i < 120; i++) {
        await host.host.import([`+1555010${String(i).padStart(4, "0")}`], [{ dir: "in", body: `hi ${i}`, at: 1_000_000 + i * 1000 }]);
      }
    });
    await until(() => conversationItems().length === 50, 3000, "the first page");
    expect(root.textContent).toContain("Loading more conversations…");
    await new Promise((r) => setTimeout(r, 50));
    expect(conversationItems()).toHaveLength(50); // not scrolled: nothing more asked
    const lists = root.querySelector(".lists")!;
    // While searching, the list is filtered: its end is no reason to page more.
    const search = byLabel<HTMLInputElement>("Search")!;
    type(search, "+15550100119");
    await until(() => conversationItems().length === 1);
    scroll(lists, 0);
    await new Promise((r) => setTimeout(r, 50));
    expect(w.host.received.filter((m) => m.t === "convs" && m.folder === "inbox")).toHaveLength(1);
    type(search, "");
    await until(() => conversationItems().length === 50);
    scroll(lists, 4100);
    await until(() => conversationItems().length === 100, 3000, "the second page");
    scroll(lists, 9100);
    await until(() => conversationItems().length === 120, 3000, "the last page");
    expect(root.textContent).not.toContain("Loading more conversations…");
    const names = conversationItems().map((li) => li.getAttribute("aria-label")!.split(",")[0]);
    expect(new Set(names).size).toBe(120);
    expect(w.host.received.filter((m) => m.t === "convs" && m.folder === "inbox").map((m) => (m as { before: unknown }).before)).toEqual([
      null, [1_000_000 + 70 * 1000, expect.any(Number)], [1_000_000 + 20 * 1000, expect.any(Number)],
    ]);
  });
});

describe("a thread", () => {
  it("opens at its newest page and pages older ones when scrolled to the top, keeping the view still", async () => {
    await start(async (host) => {
      await host.host.import(["+15550100100"], texts(140), "Ana");
    });
    await open("Ana");
    await until(() => bodies().length === 50, 3000, "the newest page");
    expect(bodies().at(-1)).toBe("text 139");
    const messages = byLabel<HTMLElement>("Messages")!;
    expect(messages.scrollTop).toBe(messages.scrollHeight - messages.clientHeight); // at the bottom
    expect(messages.textContent).toContain("Loading older messages…");

    scroll(messages, 0);
    await until(() => bodies().length === 100, 3000, "an older page");
    expect(messages.scrollTop).toBe(5000); // the 50 added above pushed the view down by their height
    scroll(messages, 0);
    await until(() => bodies().length === 140, 3000, "the first page");
    expect(bodies()).toEqual(texts(140).map((t) => t.body));
    expect(messages.textContent).not.toContain("Loading older messages…");
  });
});

describe("search", () => {
  it("asks the host, marks the matches as text, and opens the thread at the hit, highlighted", async () => {
    await start(async (host) => {
      const old = texts(140);
      old[20] = { ...old[20]!, body: "dinner <b>at</b> 8?" };
      await host.host.import(["+15550100100"], old, "Ana");
      await host.host.import(["+15550100200"], [{ dir: "in", body: "no match here", at: 9_000_000_000 }], "Bo");
    });
    await until(() => conversationItems().length === 2);
    type(byLabel<HTMLInputElement>("Search")!, "dinner");
    const results = await until(() => byLabel("Search results")?.querySelector("li"), 3000, "a hit");
    expect(w.host.received.filter((m) => m.t === "search")).toEqual([
      { t: "search", qid: expect.any(Number), query: "dinner", limit: 50, before: null },
    ]);
    expect(results.getAttribute("aria-label")).toMatch(/^Ana, .*: dinner <b>at<\/b> 8\?$/);
    expect(results.querySelector("mark")?.textContent).toBe("dinner");
    expect(results.querySelector("b")).toBeNull(); // the host's text is never markup
    expect(results.querySelector(".hit-snippet")?.textContent).toBe("dinner <b>at</b> 8?");

    results.querySelector("button")!.click();
    const hit = await until(() => root.querySelector<HTMLElement>(".bubble.hit"), 3000, "the hit shown");
    expect(hit.querySelector(".body")?.textContent).toBe("dinner <b>at</b> 8?");
    expect(scrolledTo).toContain(hit);
    // The page ending with the hit (the first 21 texts), then the newer ones as it is scrolled down.
    const messages = byLabel<HTMLElement>("Messages")!;
    await until(() => bodies().length > 21, 3000, "a newer page, the hit being near the bottom");
    // The hit is still in view: the page added below did not move it.
    const top = 100 * [...messages.querySelectorAll("li")].indexOf(hit as HTMLLIElement);
    expect(top).toBeGreaterThanOrEqual(messages.scrollTop);
    expect(top + 100).toBeLessThanOrEqual(messages.scrollTop + messages.clientHeight);
    while (bodies().at(-1) !== "text 139") {
      const shown = bodies().length;
      scroll(messages, messages.scrollHeight);
      await until(() => bodies().length > shown, 3000, "newer pages");
    }
    expect(bodies()).toEqual(texts(140).map((t, i) => (i === 20 ? "dinner <b>at</b> 8?" : t.body)));
    expect(messages.textContent).not.toContain("Loading newer messages…");
    const asked = w.host.received.filter((m) => m.t === "thread");
    const at = (w.host.thread(asked[0]!.t === "thread" ? asked[0]!.conv : 0)[20])!;
    expect(asked[0]).toMatchObject({ before: [at.at, at.id + 1], after: null });
    expect(asked[1]).toMatchObject({ before: null, after: [at.at, at.id] });
  });

  it("keeps the hit in view when the pages after it reach the newest text", async () => {
    await start(async (host) => {
      const few = texts(30);
      few[5] = { ...few[5]!, body: "the one" };
      await host.host.import(["+15550100100"], few, "Ana");
    });
    type(await until(() => byLabel<HTMLInputElement>("Search")), "the one");
    const result = await until(() => byLabel("Search results")?.querySelector("button"), 3000, "a hit");
    result.click();
    const hit = await until(() => root.querySelector<HTMLElement>(".bubble.hit"), 3000, "the hit shown");
    await until(() => bodies().length === 30, 3000, "the rest, newer");
    const messages = byLabel<HTMLElement>("Messages")!;
    const top = 100 * [...messages.querySelectorAll("li")].indexOf(hit as HTMLLIElement);
    expect(top).toBeGreaterThanOrEqual(messages.scrollTop);
    expect(top + 100).toBeLessThanOrEqual(messages.scrollTop + messages.clientHeight);
  });

  it("says when nothing matches, and when the phone is not connected", async () => {
    await start(async (host) => {
      await host.host.receive("+15550100100", "hello");
    });
    await until(() => client.state.status?.ready);
    type(byLabel<HTMLInputElement>("Search")!, "zebra");
    await until(() => root.textContent?.includes("No messages match."));
    w.host.disconnect();
    await until(() => !client.state.status?.ready);
    type(byLabel<HTMLInputElement>("Search")!, "zebras");
    await until(() => root.textContent?.includes("Search needs the connection to your phone"));
  });
});

describe("attachments", () => {
  it("a picture shows inline from a Blob URL, named by its file; its dialog closes with Escape", async () => {
    await start(async (host) => {
      await host.host.import(["+15550000003"], [{
        dir: "in", body: "look", at: 1000, subject: "Trip",
        atts: [{ type: "image/png", name: "image.png", data: PNG }],
      }], "Contact C");
    });
    await open("Contact C");
    const img = await until(() => root.querySelector<HTMLImageElement>('[aria-label="Messages"] img.thumb'), 3000, "thumbnail");
    expect(img.alt).toBe("image.png");
    expect(img.src).toMatch(/^blob:/);
    expect(root.querySelector(".bubble .subject")?.textContent).toBe("Trip");
    const opener = byLabel<HTMLButtonElement>("Open image.png")!;
    opener.focus();
    opener.click();
    const dialog = await until(() => root.querySelector<HTMLElement>('[role="dialog"]'));
    expect(dialog.getAttribute("aria-label")).toBe("image.png");
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(dialog.querySelector("img")?.getAttribute("src")).toBe(img.getAttribute("src"));
    expect(document.activeElement?.getAttribute("aria-label")).toBe("Close");
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    await until(() => root.querySelector('[role="dialog"]') === null);
    expect(document.activeElement).toBe(opener);
  });

  it("a picture without a name is a Picture; a lost one says why; another file is a download chip", async () => {
    await start(async (host) => {
      await host.host.import(["+15550000004"], [{
        dir: "in", body: "", at: 1000,
        atts: [
          { type: "image/jpeg", name: null, data: PNG },
          { type: "image/png", name: "gone.png", data: null, broken: "the file's copy of this attachment is corrupt" },
          { type: "application/pdf", name: "notes.pdf", data: new Uint8Array(12_345) },
        ],
      }], "Dee");
    });
    await open("Dee");
    await until(() => root.querySelector('[aria-label="Messages"] img[alt="Picture"]'), 3000, "Picture");
    expect(root.textContent).toContain("Attachment missing: the file's copy of this attachment is corrupt");
    const chip = [...root.querySelectorAll("button.chip")].find((b) => b.textContent === "Download notes.pdf (12 KB)");
    expect(chip).toBeDefined();
    expect(w.host.received.filter((m) => m.t === "fetch")).toHaveLength(1); // only the picture, not the file
    (chip as HTMLButtonElement).click();
    const link = await until(() => root.querySelector<HTMLAnchorElement>("a.chip"), 3000, "the file fetched");
    expect(link.getAttribute("download")).toBe("notes.pdf");
    expect(link.href).toMatch(/^blob:/);
  });
});

describe("a reload", () => {
  it("paints the cached list and the open thread at once, with the host away", async () => {
    await start(async (host) => {
      await host.host.import(["+15550100100"], texts(10), "Ana");
      await host.host.import(["+15550100200"], texts(3, 9_000_000), "Bo");
    });
    await open("Bo");
    await until(() => bodies().length === 3);
    await open("Ana");
    await until(() => bodies().length === 10);
    render(null, root);
    w.host.disconnect(); // the phone is away: nothing will answer

    const again = await startClient(w);
    render(<App hosts={await oneHost(again)} relay={w.relay.url} socket={w.relay.factory} />, root);
    await until(() => conversationItems().length === 2, 1000, "the list from the cache");
    // The thread this tab had open opens again, from the cache.
    await until(() => byLabel("Conversation with Ana") !== null && bodies().length === 10, 1000, "the thread");
    expect(again.state.status?.ready).not.toBe(true);
    await open("Bo");
    await until(() => bodies().length === 3, 1000, "another cached thread");
  });
});

describe("view helpers", () => {
  it("split snippets at the host's marks", () => {
    expect(snippetParts("…for \u0002dinner\u0003 at \u00028\u0003")).toEqual([
      { text: "…for ", match: false }, { text: "dinner", match: true }, { text: " at ", match: false },
      { text: "8", match: true },
    ]);
    expect(snippetParts("unclosed \u0002mark")).toEqual([{ text: "unclosed ", match: false }, { text: "mark", match: true }]);
    const el = document.createElement("p");
    render(<Snippet text={"<img src=x onerror=alert(1)>\u0002&amp;\u0003"} />, el);
    expect(el.querySelector("img")).toBeNull();
    expect(el.textContent).toBe("<img src=x onerror=alert(1)>&amp;");
  });

  it("sizes", () => {
    expect(formatSize(1)).toBe("1 byte");
    expect(formatSize(999)).toBe("999 bytes");
    expect(formatSize(48_213)).toBe("48 KB");
    expect(formatSize(2_500_000)).toBe("2.5 MB");
  });
});
