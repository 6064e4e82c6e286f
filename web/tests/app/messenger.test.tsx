// @vitest-environment happy-dom
/**
 * The views in a DOM (happy-dom), driven by the accessible names the browser
 * tests use, against the FakeRelay / FakeHost test doubles.
 */

import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { App } from "../../src/app/App";
import { bannerText, filterConversations } from "../../src/app/Messenger";
import { documentTitle } from "../../src/app/format";
import { Client } from "../../src/client/client";
import type { HostOptions } from "../fakes/host";
import { type World, oneHost, pair, startClient, until, world } from "../fakes/setup";

const FLAGS = { pinned: false, archived: false, muted: false, blocked: false, names: [null] };

let root: HTMLElement;
let w: World;
let client: Client;

function byLabel<T extends Element>(label: string): T | null {
  return root.querySelector<T>(`[aria-label="${label}"]`);
}

function button(name: string): HTMLButtonElement {
  const found = [...root.querySelectorAll("button")].find(
    (b) => (b.getAttribute("aria-label") ?? b.textContent?.trim()) === name);
  if (found === undefined) throw new Error(`no button ${name}`);
  return found;
}

function type(el: HTMLInputElement | HTMLTextAreaElement, text: string): void {
  el.value = text;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

/** Let Preact re-render (a person cannot click before the screen updates). */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

function press(el: Element, key: string, shiftKey = false): void {
  el.dispatchEvent(new KeyboardEvent("keydown", { key, shiftKey, bubbles: true, cancelable: true }));
}

async function start(paired: boolean, hostOnline = true, options: HostOptions = {}): Promise<void> {
  w = await world(options);
  if (paired) {
    const pairing = await pair(w);
    await w.host.connect();
    if (!hostOnline) w.host.disconnect();
    await w.store.savePairing(pairing);
  }
  client = await startClient(w, { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0" });
  render(<App hosts={await oneHost(client)} relay={w.relay.url} socket={w.relay.factory} />, root);
}

beforeEach(() => {
  sessionStorage.clear(); // no conversation left open by an earlier test
  root = document.createElement("div");
  document.body.append(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
});

describe("messenger", () => {
  it("lists conversations with name, snippet and unread count; opening one marks it read", async () => {
    await start(true);
    await w.host.receive("+15550100100", "Hi from Alice", "Alice");
    await w.host.receive("+15550100100", "Are you there?");
    await w.host.receive("+15550100200", "Bob here");
    const list = await until(() => byLabel<HTMLUListElement>("Conversations"));
    await until(() => list.querySelectorAll("li").length === 2, 3000, "two conversations");
    const items = [...list.querySelectorAll("li")];
    expect(items[0]?.getAttribute("aria-label")).toMatch(/^\+15550100200, 1 unread, .*: Bob here$/);
    expect(items[1]?.getAttribute("aria-label")).toMatch(/^Alice, 2 unread, .*: Are you there\?$/);
    expect(items[1]?.querySelector(".badge")?.textContent).toBe("2 unread");
    await until(() => document.title === documentTitle(3), 2000, "title");

    items[1]!.querySelector("button")!.click();
    await until(() => root.querySelector('[aria-label="Messages"]')?.textContent?.includes("Are you there?"));
    await until(() => w.host.received.some((m) => m.t === "read"), 2000, "read sent");
    await until(() => document.title === "(1) textport", 2000, "title after read");
  });

  it("composer: counter, Enter sends, Shift+Enter does not; queued then the host's copy, never twice", async () => {
    await start(true);
    await w.host.receive("+15550100100", "hello", "Alice");
    await until(() => byLabel("Conversations")?.querySelectorAll("li").length === 1);
    byLabel("Conversations")!.querySelector("button")!.click();
    const box = await until(() => byLabel<HTMLTextAreaElement>("Message"));
    type(box, "a".repeat(42));
    await until(() => root.querySelector(".counter")?.textContent?.startsWith("42 / 160 · 1 SMS"));
    type(box, "🙂");
    await until(() => root.querySelector(".counter")?.textContent?.startsWith("2 / 70 · 1 SMS"));
    press(box, "Enter", true);
    expect(w.host.received.filter((m) => m.t === "send")).toHaveLength(0);
    type(box, "See you at 6");
    press(box, "Enter");
    await until(() => w.host.received.some((m) => m.t === "send"), 2000, "send");
    const messages = () => byLabel("Messages")!;
    await until(() => [...messages().querySelectorAll(".bubble.out")].some((b) =>
      b.textContent?.includes("See you at 6") && b.querySelector(".status-text")?.textContent === "sending"));
    await until(async () => (await w.store.outbox()).length === 0);
    await until(() => [...messages().querySelectorAll(".bubble.out")].filter((b) => b.textContent?.includes("See you at 6")).length === 1);
    const sent = [...w.host.messages.values()].find((m) => m.body === "See you at 6")!;
    await w.host.setState(sent.id, "delivered");
    await until(() => messages().querySelector(".bubble.out .status-text")?.textContent === "delivered");
    expect(box.value).toBe("");
  });

  it("a text that came without some of its parts says which never arrived", async () => {
    await start(true);
    await w.host.receive("+15550100100", "whole", "Alice");
    await w.host.receive("+15550100100", "…and the end", null, { parts: 3, missing: [1, 2] });
    await until(() => byLabel("Conversations")?.querySelectorAll("li").length === 1);
    byLabel("Conversations")!.querySelector("button")!.click();
    const notes = await until(() => {
      const found = byLabel("Messages")?.querySelectorAll('.bubble [role="note"]');
      return found !== undefined && found.length > 0 ? found : null;
    });
    expect([...notes].map((n) => n.textContent)).toEqual(["Parts 1 and 2 of 3 never arrived: this text is incomplete."]);
    expect(notes[0]!.closest(".bubble")!.textContent).toContain("…and the end");
  });

  it("a source without delivery reports: a sent text says it cannot tell more", async () => {
    const caps = {
      delivery_reports: false, mms: false, max_parts: 10, dual_sim: false, incoming: "polling", text_ttl_ms: null,
    } as const;
    await start(true, true, { caps });
    await w.host.receive("+15550100100", "hello", "Alice");
    await until(() => byLabel("Conversations")?.querySelectorAll("li").length === 1);
    byLabel("Conversations")!.querySelector("button")!.click();
    type(await until(() => byLabel<HTMLTextAreaElement>("Message")), "See you");
    press(byLabel("Message")!, "Enter");
    await until(() => w.host.received.some((m) => m.t === "send"), 2000, "send");
    const sent = await until(() => [...w.host.messages.values()].find((m) => m.body === "See you"));
    await until(async () => (await w.store.outbox()).length === 0, 3000, "the host's copy replaces the local one");
    await w.host.setState(sent.id, "sent");
    const status = await until(() => {
      const el = byLabel("Messages")?.querySelector<HTMLElement>(".bubble.out .status-text");
      return el?.textContent === "sent" ? el : null;
    }, 3000, "sent");
    expect(status.title).toBe("Sent. This phone's SMS source cannot tell whether it was delivered.");
  });

  it("offline phone: banner, the text shows queued, then goes out when the phone is back", async () => {
    await start(true, false);
    await until(() => root.querySelector(".banner")?.textContent
      === "Your phone is offline — texts will wait here and send when it reconnects", 3000, "banner");
    button("New conversation").click();
    const number = await until(() => byLabel<HTMLInputElement>("Phone number"));
    type(number, "555 010 0100");
    const box = byLabel<HTMLTextAreaElement>("Message")!;
    type(box, "hello?");
    await settle();
    button("Send").click();
    await until(() => root.querySelector('[role="alert"]')?.textContent
      === "Enter the number with its country code, like +1 555 010 0100");
    type(number, "+1 (555) 010-0100");
    type(box, "hello?");
    await settle();
    button("Send").click();
    await until(() => root.querySelector(".status-text")?.textContent
      === "queued · Will send when your phone reconnects", 2000, "queued, waiting for the phone");
    await w.host.connect();
    await until(() => root.querySelector(".banner") === null, 3000, "banner gone");
    await until(() => root.querySelector(".status-text")?.textContent === "sending", 3000, "sending");
    await until(() => root.querySelector('section[aria-label="Conversation with +15550100100"]'));
    expect(root.querySelectorAll(".bubble.out")).toHaveLength(1);
  });

  it("a new conversation to a known number opens that conversation", async () => {
    await start(true);
    await w.host.receive("+15550100100", "hi", "Alice");
    await until(() => byLabel("Conversations")?.querySelectorAll("li").length === 1);
    button("New conversation").click();
    const number = await until(() => byLabel<HTMLInputElement>("Phone number"));
    type(number, "+1 555-010-0100");
    number.form!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await until(() => root.querySelector('section[aria-label="Conversation with Alice"]'));
  });

  it("failed sends show the reason", async () => {
    await start(true);
    w.host.options.refuseSends = { code: "invalid_number", message: "Number blocked" };
    button("New conversation").click();
    const number = await until(() => byLabel<HTMLInputElement>("Phone number"));
    type(number, "+15550100999");
    type(byLabel<HTMLTextAreaElement>("Message")!, "x");
    await settle();
    button("Send").click();
    await until(() => root.querySelector(".status-text")?.textContent === "failed: Number blocked", 3000, "failed");
  });

  it("search filters the list", async () => {
    await start(true);
    await w.host.receive("+15550100100", "pizza tonight?", "Alice");
    await w.host.receive("+15550100200", "meeting moved", "Bob");
    await until(() => byLabel("Conversations")?.querySelectorAll("li").length === 2);
    type(byLabel<HTMLInputElement>("Search")!, "pizza");
    await until(() => byLabel("Conversations")?.querySelectorAll("li").length === 1);
    expect(byLabel("Conversations")!.textContent).toContain("Alice");
  });

  it("revoked: back to the pairing screen with the host's name", async () => {
    await start(true);
    await until(() => client.state.status?.ready);
    await w.host.revoke(w.deviceKey.publicKey);
    await until(() => root.textContent?.includes("This browser was unpaired from Test phone."), 3000, "unpaired");
    expect(root.querySelector("h1")?.textContent).toBe("Pair this browser with your phone");
  });
});

describe("pairing screen", () => {
  it("shows the command and code; the host pairs by the typed code; the comparison code shows", async () => {
    await start(false);
    const code = await until(() => root.querySelector(".typed-code")?.textContent, 2000, "code");
    expect(root.textContent).toContain("or type this code on the host:");
    expect(root.querySelector(".uri")?.textContent).toMatch(/^textport pair 'textport-pair:1\?r=/);
    expect(root.querySelector('svg[aria-label="Pairing QR code"] path')).not.toBeNull();
    let hostCode = "";
    w.host.options.confirm = async ({ code: shown }) => {
      hostCode = shown;
      await until(() => root.textContent?.includes(`Check that the host shows ${shown}, then confirm there.`));
      return true;
    };
    await until(() => w.relay.channels.size === 2);
    await w.host.pairWithCode(code);
    expect(hostCode).toMatch(/^\d{3} \d{3}$/);
    await until(() => byLabel("Conversations"), 3000, "messenger");
  });

  it("the host reads the QR offer", async () => {
    await start(false);
    const command = await until(() => root.querySelector(".uri")?.textContent, 2000, "uri");
    const uri = /^textport pair '(.*)'$/.exec(command)![1]!;
    await until(() => w.relay.channels.size === 2);
    await w.host.pairWithOffer(uri);
    await until(() => byLabel("Conversations"), 3000, "messenger");
    expect((await w.store.pairing())?.hostName).toBe("Test phone");
  });

  it("a host link: pairs, shows the confirmation code", async () => {
    await start(false);
    const { link, done } = await w.host.makeLink();
    const pairing = client.pairWithLink(link.slice(link.indexOf("#") + 1), w.relay.url);
    await pairing;
    await done;
    await until(() => byLabel("Conversations"), 3000, "messenger");
  });

  it("an expired host link says what to do", async () => {
    await start(false);
    const { link } = await w.host.makeLink(1);
    await new Promise((r) => setTimeout(r, 1100));
    await client.pairWithLink(link.slice(link.indexOf("#") + 1), w.relay.url);
    await until(() => root.textContent?.includes("This pairing link expired. Run `textport pair --link` again."));
  });
});

describe("pure view helpers", () => {
  it("banner", () => {
    expect(bannerText(null)).toBeNull();
    expect(bannerText({ relay: "up", hostOnline: true, ready: true })).toBeNull();
    expect(bannerText({ relay: "connecting", hostOnline: null, ready: false })).toBeNull();
    expect(bannerText({ relay: "unreachable", hostOnline: null, ready: false })).toBe("Can't reach the relay — retrying…");
    expect(bannerText({ relay: "up", hostOnline: false, ready: false })).toBe(
      "Your phone is offline — texts will wait here and send when it reconnects");
  });

  it("search by name, number (with separators) and snippet", () => {
    const list = [
      { id: 1, peers: ["+15550100100"], name: "Alice", last_at: 2, snippet: "pizza", unread: 0, hist: 0, ...FLAGS },
      { id: 2, peers: ["+15550100200"], name: null, last_at: 1, snippet: "hello", unread: 0, hist: 0, ...FLAGS },
    ];
    expect(filterConversations(list, "alice").map((c) => c.id)).toEqual([1]);
    expect(filterConversations(list, "555 010 0200").map((c) => c.id)).toEqual([2]);
    expect(filterConversations(list, "PIZZA").map((c) => c.id)).toEqual([1]);
    expect(filterConversations(list, "").map((c) => c.id)).toEqual([1, 2]);
  });

  it("title", () => {
    expect(documentTitle(0)).toBe("textport");
    expect(documentTitle(4)).toBe("(4) textport");
  });
});
