// @vitest-environment happy-dom
/**
 * Scheduled send in the rendered app (happy-dom) against the FakeHost: the
 * composer's "Schedule send" dialog, the bubble's "scheduled for …" and its
 * Cancel, and a text scheduled while the phone is offline.
 */

import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { App } from "../../src/app/App";
import { localInput } from "../../src/app/Composer";
import { fullTime } from "../../src/app/format";
import { Client } from "../../src/client/client";
import type { Send } from "../../src/protocol/messages";
import { type World, oneHost, pair, startClient, until, world } from "../fakes/setup";

let root: HTMLElement;
let w: World;
let client: Client;

function byLabel<T extends Element>(label: string): T | null {
  return root.querySelector<T>(`[aria-label="${label}"]`);
}

function button(name: string, within: ParentNode = root): HTMLButtonElement {
  const found = [...within.querySelectorAll("button")].find(
    (b) => (b.getAttribute("aria-label") ?? b.textContent?.trim()) === name);
  if (found === undefined) throw new Error(`no button ${name}`);
  return found;
}

function type(el: HTMLInputElement | HTMLTextAreaElement, text: string): void {
  el.value = text;
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

async function start(hostOnline = true): Promise<void> {
  w = await world({});
  const pairing = await pair(w);
  await w.host.connect();
  if (!hostOnline) w.host.disconnect();
  await w.store.savePairing(pairing);
  client = await startClient(w, { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0" });
  render(<App hosts={await oneHost(client)} relay={w.relay.url} socket={w.relay.factory} />, root);
}

/** Open the dialog for `body`, pick `at` (to the minute) in "Send at", and press Schedule. */
async function schedule(body: string, at: number): Promise<void> {
  type(byLabel<HTMLTextAreaElement>("Message")!, body);
  await settle();
  button("Schedule send").click();
  const dialog = await until(() => root.querySelector<HTMLElement>('[role="dialog"]'));
  expect(dialog.getAttribute("aria-modal")).toBe("true");
  expect(root.querySelector(`#${dialog.getAttribute("aria-labelledby")}`)?.textContent).toBe("Schedule send");
  const input = dialog.querySelector<HTMLInputElement>("input")!;
  expect(input.type).toBe("datetime-local");
  expect(dialog.querySelector(`label[for="${input.id}"]`)?.textContent).toBe("Send at");
  type(input, localInput(at));
  await settle();
  button("Schedule", dialog).click();
}

const sends = (): Send[] => w.host.received.filter((m): m is Send => m.t === "send");
/** A time `minutes` ahead, to the minute (what a datetime-local box holds). */
const ahead = (minutes: number): number => Math.floor((Date.now() + minutes * 60_000) / 60_000) * 60_000;

beforeEach(() => {
  sessionStorage.clear();
  root = document.createElement("div");
  document.body.append(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
});

describe("scheduled send", () => {
  it("the dialog schedules the text on the host; the bubble says when; Cancel cancels it, and Retry sends it now", async () => {
    await start();
    await w.host.receive("+15550100100", "hello", "Alice");
    await until(() => byLabel("Conversations")?.querySelectorAll("li").length === 1);
    byLabel("Conversations")!.querySelector("button")!.click();
    await until(() => byLabel<HTMLTextAreaElement>("Message"));
    expect(button("Schedule send").disabled).toBe(true);
    const at = ahead(30);
    await schedule("Happy birthday!", at);

    await until(() => sends().length === 1, 3000, "send");
    expect(sends()[0]).toMatchObject({ body: "Happy birthday!", to: ["+15550100100"], at });
    expect(root.querySelector('[role="dialog"]')).toBeNull();
    expect(byLabel<HTMLTextAreaElement>("Message")!.value).toBe("");
    const bubble = () => [...root.querySelectorAll(".bubble.out")].find((b) => b.textContent?.includes("Happy birthday!"));
    await until(() => bubble()?.querySelector(".status-text")?.textContent === `scheduled for ${fullTime(at)}`, 3000, "scheduled");
    expect(bubble()!.querySelector(".status.queued")).not.toBeNull();

    button(`Cancel the text scheduled for ${fullTime(at)}`).click();
    await until(() => w.host.received.some((m) => m.t === "unschedule"), 2000, "unschedule");
    const [msg] = [...w.host.messages.values()].filter((m) => m.body === "Happy birthday!");
    expect(w.host.received.find((m) => m.t === "unschedule")).toMatchObject({ msg_id: msg!.id });
    await until(() => bubble()?.querySelector(".status-text")?.textContent === "failed: Cancelled before it was sent.", 3000, "cancelled");
    expect(bubble()!.textContent).not.toContain("Cancel the text");

    button("Retry", bubble()!).click();
    await until(() => sends().length === 2, 3000, "resend");
    expect(sends()[1]).toMatchObject({ body: "Happy birthday!", at: null });
  });

  it("Escape or Cancel in the dialog sends nothing and keeps the text; Send still sends now", async () => {
    await start();
    await w.host.receive("+15550100100", "hello", "Alice");
    await until(() => byLabel("Conversations")?.querySelectorAll("li").length === 1);
    byLabel("Conversations")!.querySelector("button")!.click();
    const box = await until(() => byLabel<HTMLTextAreaElement>("Message"));
    type(box, "not yet");
    await settle();
    button("Schedule send").click();
    const dialog = await until(() => root.querySelector<HTMLElement>('[role="dialog"]'));
    dialog.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true, cancelable: true }));
    await until(() => root.querySelector('[role="dialog"]') === null, 2000, "closed by Escape");
    button("Schedule send").click();
    button("Cancel", await until(() => root.querySelector<HTMLElement>('[role="dialog"]'))).click();
    await until(() => root.querySelector('[role="dialog"]') === null, 2000, "closed by Cancel");
    await settle();
    expect(sends()).toHaveLength(0);
    expect(box.value).toBe("not yet");
    button("Send").click();
    await until(() => sends().length === 1, 3000, "send");
    expect(sends()[0]!.at).toBeNull();
    const bubble = () => [...root.querySelectorAll(".bubble.out")].find((b) => b.textContent?.includes("not yet"));
    await until(() => bubble()?.querySelector(".status-text")?.textContent === "sending", 3000, "sending");
    expect(bubble()!.textContent).not.toContain("Cancel");
  });

  it("a Cancel the host refuses (the text is already going out) says so", async () => {
    await start();
    await w.host.receive("+15550100100", "hello", "Alice");
    await until(() => byLabel("Conversations")?.querySelectorAll("li").length === 1);
    byLabel("Conversations")!.querySelector("button")!.click();
    await until(() => byLabel<HTMLTextAreaElement>("Message"));
    const at = ahead(10);
    await schedule("too late to stop", at);
    const label = `Cancel the text scheduled for ${fullTime(at)}`;
    await until(() => byLabel(label), 3000, "Cancel shown");
    const [msg] = [...w.host.messages.values()].filter((m) => m.body === "too late to stop");
    w.host.messages.set(msg!.id, { ...msg!, state: "sending" }); // claimed, its event not yet out
    button(label).click();
    await until(() => root.querySelector('.bubble [role="alert"]')?.textContent?.includes("no longer waiting"), 3000, "refused");
  });

  it("scheduled while the phone is offline: kept in this browser with its time, then sent scheduled", async () => {
    await start(false);
    await until(() => root.querySelector(".banner") !== null, 3000, "banner");
    button("New conversation").click();
    type(await until(() => byLabel<HTMLInputElement>("Phone number")), "+15550100100");
    const at = ahead(20);
    await schedule("while away", at);
    await until(async () => (await w.store.outbox()).length === 1, 2000, "in the outbox");
    expect((await w.store.outbox())[0]).toMatchObject({ body: "while away", at, state: "queued" });
    expect(sends()).toHaveLength(0);
    await w.host.connect();
    await until(() => sends().length === 1, 3000, "sent on reconnect");
    expect(sends()[0]).toMatchObject({ body: "while away", at });
    await until(() => root.querySelector(".status-text")?.textContent === `scheduled for ${fullTime(at)}`, 3000, "scheduled");
  });
});
