// @vitest-environment happy-dom
/**
 * Managing conversations in the rendered app against the FakeHost: the options
 * menu (by keyboard and by clicks), pinned on top, the Archived and Blocked
 * views, delete with its confirmation dialog, a contact name, and the unread
 * count in the title.
 */

import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { menuItems } from "../../src/app/ConversationMenu";
import { App } from "../../src/app/App";
import { conversationRecord } from "../fakes/host";
import { type World, oneHost, pair, startClient, until, world } from "../fakes/setup";

const ANA = "+15550100100";
const BO = "+15550100200";
let root: HTMLElement;
let w: World;

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

function list(): HTMLElement | null {
  return root.querySelector<HTMLElement>("ul.conversations");
}

/** The list's items' accessible names, in order. */
function items(): string[] {
  return [...(list()?.querySelectorAll(":scope > li") ?? [])].map((li) => li.getAttribute("aria-label") ?? "");
}

function item(start: string): HTMLElement {
  const found = [...(list()?.querySelectorAll<HTMLElement>(":scope > li") ?? [])]
    .find((li) => li.getAttribute("aria-label")?.startsWith(start));
  if (found === undefined) throw new Error(`no conversation ${start} in ${items().join(" | ")}`);
  return found;
}

function buttonIn(scope: ParentNode, name: string, role = "button"): HTMLButtonElement {
  const found = [...scope.querySelectorAll<HTMLButtonElement>("button")].find((b) =>
    (role === "button" ? b.getAttribute("role") === null : b.getAttribute("role") === role)
    && (b.getAttribute("aria-label") ?? b.textContent?.trim()) === name);
  if (found === undefined) throw new Error(`no ${role} ${name}`);
  return found;
}

function press(el: Element, key: string): void {
  el.dispatchEvent(new KeyboardEvent("keydown", { key, bubbles: true, cancelable: true }));
}

async function choose(conv: string, action: string): Promise<void> {
  buttonIn(item(conv), "Conversation options").click();
  await settle();
  buttonIn(item(conv), action, "menuitem").click();
  await settle();
}

async function start(): Promise<void> {
  w = await world();
  const pairing = await pair(w);
  await w.host.connect();
  await w.store.savePairing(pairing);
  await w.host.receive(ANA, "from Ana", "Ana");
  await w.host.receive(BO, "from Bo");
  const client = await startClient(w, { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0" });
  render(<App hosts={await oneHost(client)} relay={w.relay.url} socket={w.relay.factory} />, root);
  await until(() => items().length === 2, 3000, "the list");
}

const hostConv = (peer: string) => [...w.host.conversations.values()].find((c) => c.peers.join(",") === peer)!;

beforeEach(() => {
  sessionStorage.clear();
  root = document.createElement("div");
  document.body.append(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
});

describe("the options menu", () => {
  it("names its items after the conversation's flags", () => {
    const labels = (extra: object) => menuItems(conversationRecord({ id: 1, peers: [ANA], ...extra })).map((i) => i.label);
    expect(labels({})).toEqual(["Pin", "Archive", "Mute", "Block", "Mark as unread", "Edit name", "Delete"]);
    expect(labels({ pinned: true, muted: true, unread: 2 }))
      .toEqual(["Unpin", "Archive", "Unmute", "Block", "Mark as read", "Edit name", "Delete"]);
    expect(labels({ blocked: true })).toEqual(["Archive", "Mute", "Unblock", "Edit name", "Delete"]);
    expect(menuItems(conversationRecord({ id: 1, peers: [ANA, BO] })).map((i) => i.label))
      .toEqual(["Pin", "Archive", "Mute", "Block", "Mark as unread", "Edit names", "Delete"]);
  });

  it("is driven by keys: arrows move, Enter picks, Escape closes and gives focus back", async () => {
    await start();
    const options = buttonIn(item("Ana"), "Conversation options");
    options.focus();
    press(options, "ArrowDown");
    await settle();
    const menu = item("Ana").querySelector('[role="menu"]')!;
    expect(document.activeElement?.textContent).toBe("Pin");
    press(menu, "ArrowDown");
    expect(document.activeElement?.textContent).toBe("Archive");
    press(menu, "ArrowUp");
    press(menu, "ArrowUp");
    expect(document.activeElement?.textContent).toBe("Delete");
    press(menu, "Escape");
    await settle();
    expect(item("Ana").querySelector('[role="menu"]')).toBeNull();
    expect(document.activeElement).toBe(options);
    expect(options.getAttribute("aria-expanded")).toBe("false");
  });

  it("pins to the top, archives to the Archived view, blocks to the Blocked view", async () => {
    await start();
    expect(items()[0]).toMatch(/^\+15550100200,/); // Bo wrote last
    await choose("Ana", "Pin");
    await until(() => items()[0]?.startsWith("Ana, pinned"), 3000, "Ana pinned on top");
    expect(hostConv(ANA).pinned).toBe(true);
    expect(item("Ana").querySelector('[role="img"][aria-label="Pinned"]')).not.toBeNull();

    await choose("Ana", "Mute");
    await until(() => items()[0]?.startsWith("Ana, pinned, muted"), 3000, "muted");

    await choose("Ana", "Archive");
    await until(() => items().length === 1, 3000, "Ana left the inbox");
    buttonIn(root, "Archived").click();
    await until(() => list()?.getAttribute("aria-label") === "Archived conversations" && items().length === 1);
    expect(items()[0]).toMatch(/^Ana, muted/);
    expect(hostConv(ANA)).toMatchObject({ archived: true, pinned: false });

    buttonIn(root, "Inbox").click();
    await until(() => list()?.getAttribute("aria-label") === "Conversations");
    expect(document.title).toBe("(2) textport");
    await choose("+15550100200", "Block");
    await until(() => items().length === 0, 3000, "Bo left the inbox");
    await until(() => document.title === "(1) textport", 3000, "a blocked text is not unread");
    buttonIn(root, "Blocked").click();
    await until(() => items().length === 1 && items()[0]!.startsWith("+15550100200, blocked"));
  });

  it("marks unread and read, with the count in the title", async () => {
    await start();
    await until(() => document.title === "(2) textport");
    await choose("Ana", "Mark as read");
    await until(() => document.title === "(1) textport", 3000, "read");
    await choose("Ana", "Mark as unread");
    await until(() => document.title === "(2) textport", 3000, "unread again");
    expect(hostConv(ANA).unread).toBe(1);
  });

  it("deletes only after the dialog is confirmed, and Cancel keeps it", async () => {
    await start();
    await choose("Ana", "Delete");
    const dialog = root.querySelector<HTMLElement>('[role="dialog"]')!;
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(root.querySelector(`#${dialog.getAttribute("aria-labelledby")}`)?.textContent).toBe("Delete this conversation?");
    expect(document.activeElement?.textContent).toBe("Cancel");
    buttonIn(dialog, "Cancel").click();
    await settle();
    expect(root.querySelector('[role="dialog"]')).toBeNull();
    expect(w.host.received.some((m) => m.t === "conv_delete")).toBe(false);

    await choose("Ana", "Delete");
    buttonIn(root.querySelector('[role="dialog"]')!, "Delete").click();
    await until(() => items().length === 1, 3000, "gone from the list");
    expect(w.host.conversations.size).toBe(1);
  });

  it("edits a contact name on the host, and shows the host's refusal", async () => {
    await start();
    await choose("+15550100200", "Edit name");
    const field = root.querySelector<HTMLInputElement>('[role="dialog"] input[aria-label="Name"]')!;
    field.value = "  Bo Smith ";
    field.dispatchEvent(new Event("input", { bubbles: true }));
    await settle();
    field.form!.dispatchEvent(new Event("submit", { bubbles: true, cancelable: true }));
    await until(() => items().some((label) => label.startsWith("Bo Smith,")), 3000, "renamed");
    expect(w.host.received.find((m) => m.t === "contact")).toMatchObject({ number: BO, name: "Bo Smith" });

    // A group with Bo: its title and Bo's texts in it show his name.
    await w.host.import([ANA, BO], [{ dir: "in", body: "group hello", at: Date.now() + 1000, sender: BO }]);
    await until(() => items().some((label) => label.startsWith("+15550100100, Bo Smith,")), 3000, "group title");
    item("+15550100100, Bo Smith").querySelector<HTMLButtonElement>("button.conv")!.click();
    await until(() => root.querySelector(".bubble .sender")?.textContent === "Bo Smith", 3000, "sender name");
    expect(root.querySelector("section.thread .thread-title p")?.textContent).toBe("+15550100100, +15550100200");

    for (let i = 0; i < 5; i++) {
      const conv = await w.host.import([`+1555020000${i}`], [{ dir: "in", body: "x", at: 2000 + i }]);
      w.host.conversations.set(conv.id, { ...conv, pinned: true });
    }
    await choose("Ana", "Pin");
    await until(() => root.querySelector('[role="alert"]')?.textContent?.includes("You can pin up to 5"), 3000, "refusal");
  });
});
