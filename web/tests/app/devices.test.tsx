// @vitest-environment happy-dom
/**
 * The devices page in the rendered app against the FakeHost: reached from the
 * conversation list, this browser marked, a new pairing announced politely,
 * unpairing another device only after the confirmation dialog (Cancel and
 * Escape change nothing), and the remember-this-browser choice on the pairing
 * screen.
 */

import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { App } from "../../src/app/App";
import { Client } from "../../src/client/client";
import { pairByCode } from "../../src/client/pairing";
import { Store } from "../../src/client/storage";
import { Tabs } from "../../src/client/tabs";
import { generateKeyPair } from "../../src/protocol/keys";
import { newCode, randomBytes } from "../../src/protocol/pairing";
import { type World, oneHost, pair, until, world } from "../fakes/setup";

let root: HTMLElement;
let w: World;

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 20));

function button(name: string, scope: ParentNode = root): HTMLButtonElement {
  const found = [...scope.querySelectorAll<HTMLButtonElement>("button")]
    .find((b) => (b.getAttribute("aria-label") ?? b.textContent?.trim()) === name);
  if (found === undefined) throw new Error(`no button ${name}`);
  return found;
}

function devices(): string[] {
  return [...root.querySelectorAll("ul.device-list > li")].map((li) => li.getAttribute("aria-label") ?? "");
}

function client(): Client {
  return new Client({
    store: w.store,
    tabs: new Tabs({ channel: null, locks: null }),
    socket: w.relay.factory,
    now: () => Date.now(),
    random: () => 0,
    rng: randomBytes,
    userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0",
    generateKey: () => generateKeyPair(false),
  });
}

async function pairAnother(name: string): Promise<void> {
  const store = await Store.open(new IDBFactory(), IDBKeyRange);
  const deviceKey = await store.ensureDeviceKey(() => generateKeyPair(false));
  const code = newCode();
  const device = pairByCode(code, w.relay.url, { ...w.pairingDeps, deviceKey, name });
  await until(() => w.relay.channels.size > 0, 3000, "the offer");
  await Promise.all([device, w.host.pairWithCode(code)]);
}

beforeEach(() => {
  sessionStorage.clear();
  root = document.createElement("div");
  document.body.append(root);
});

afterEach(() => {
  render(null, root);
  root.remove();
});

describe("the devices page", () => {
  it("lists the devices, announces a new one and unpairs another after confirming", async () => {
    w = await world();
    await w.host.connect();
    const pairing = await pair(w);
    await w.store.savePairing(pairing);
    const app = client();
    await app.init();
    render(<App hosts={await oneHost(app)} relay={w.relay.url} socket={w.relay.factory} />, root);
    await until(() => app.state.status?.ready, 3000, "a synced session");

    button("Devices").click();
    await until(() => devices().length === 1, 3000, "the list");
    expect(devices()).toEqual(["Test browser, this browser, connected now"]);
    expect(root.querySelector("h2#devices-title")?.textContent).toBe("Devices");

    await pairAnother("Firefox on macOS");
    const notice = root.querySelector(".device-notice-slot");
    expect(notice?.getAttribute("role")).toBe("status");
    expect(notice?.getAttribute("aria-live")).toBe("polite");
    await until(() => notice?.textContent?.includes("New device paired: Firefox on macOS"), 3000, "the notice");
    await until(() => devices().length === 2, 3000, "the list to follow");
    expect(devices()[1]).toBe("Firefox on macOS, not connected");

    // Cancel, then Escape: nothing is unpaired.
    button("Unpair Firefox on macOS").click();
    await settle();
    const dialog = (): HTMLElement | null => root.querySelector("[role=dialog]");
    expect(dialog()?.querySelector("h2")?.textContent).toBe("Unpair Firefox on macOS?");
    expect(document.activeElement?.textContent).toBe("Cancel");
    button("Cancel", dialog()!).click();
    await settle();
    expect(dialog()).toBeNull();
    button("Unpair Firefox on macOS").click();
    await settle();
    dialog()!.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true }));
    await settle();
    expect(dialog()).toBeNull();
    expect(w.host.devices.map((d) => d.status)).toEqual(["active", "active"]);

    button("Unpair Firefox on macOS").click();
    await settle();
    button("Unpair", dialog()!).click();
    await until(() => devices().length === 1, 3000, "the device to go");
    expect(w.host.devices.map((d) => d.status)).toEqual(["active", "revoked"]);
    expect(w.host.received.some((m) => m.t === "revoke")).toBe(true);

    button("Dismiss", notice!).click();
    await settle();
    expect(notice?.textContent).toBe("");
  });

  it("offers remember-this-browser on the pairing screen, ticked", async () => {
    w = await world();
    const app = client();
    await app.init();
    render(<App hosts={await oneHost(app)} relay={w.relay.url} socket={w.relay.factory} />, root);
    const box = await until(() => root.querySelector<HTMLInputElement>("#remember-browser"), 3000, "the box");
    expect(root.querySelector("label[for=remember-browser]")?.textContent).toBe("Remember this browser");
    expect(box.checked).toBe(true);
    expect(app.pairingDeps().session()).toBe(false);
    box.click();
    await settle();
    expect(app.remember).toBe(false);
    expect(app.pairingDeps().session()).toBe(true);
    expect(root.querySelector("#remember-hint")?.textContent).toContain("Forgets");
  });
});
