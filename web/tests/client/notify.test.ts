/**
 * Which new texts notify (client/notify.ts) and what a notification says
 * (app/alerts.ts): pure, then through two tabs' clients against the fake host.
 */

import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it, vi } from "vitest";

import { Client } from "../../src/client/client";
import { IncomingTexts, Watching } from "../../src/client/notify";
import { Store } from "../../src/client/storage";
import { type Locks, Tabs } from "../../src/client/tabs";
import { generateKeyPair } from "../../src/protocol/keys";
import { randomBytes } from "../../src/protocol/pairing";
import { WORKER_CLICK, alertContent, loadSettings, onWorkerClick, present, saveSettings, type KeyValue } from "../../src/app/alerts";
import type { ConversationRecord, MessageRecord, StoreEvent } from "../../src/protocol/messages";
import { conversationRecord } from "../fakes/host";
import { pair, until, world } from "../fakes/setup";

const ANA = "+15550100";

function msg(fields: Partial<MessageRecord> & Pick<MessageRecord, "id" | "conv">): MessageRecord {
  return {
    dir: "in", peers: [ANA], body: "Hi there", at: 1000, state: "received", reason: null, cmid: null, kind: "sms",
    sender: ANA, subject: null, atts: [], parts: 1, missing: [], ...fields,
  } as MessageRecord;
}

/** The host's order for one new text: its `msg` event, then its conversation's `conv` event. */
function arrival(seq: number, m: MessageRecord, conv: ConversationRecord): StoreEvent[] {
  return [{ k: "msg", seq, msg: m }, { k: "conv", seq: seq + 1, conv }];
}

const nobody = (): boolean => false;

describe("IncomingTexts", () => {
  const ana = conversationRecord({ id: 1, peers: [ANA], names: ["Ana"], unread: 1 });

  it("notifies an incoming text once its conversation's event says how it is now", () => {
    const incoming = new IncomingTexts();
    const m = msg({ id: 7, conv: 1 });
    expect(incoming.events([{ k: "msg", seq: 1, msg: m }], nobody)).toEqual([]);
    expect(incoming.events([{ k: "conv", seq: 2, conv: ana }], nobody)).toEqual([{ conv: ana, msg: m }]);
    // A later change of the conversation (a pin, a read) is not a new text.
    expect(incoming.events([{ k: "conv", seq: 3, conv: { ...ana, pinned: true } }], nobody)).toEqual([]);
  });

  it("does not notify own texts, muted or blocked conversations, or one a visible tab shows", () => {
    const incoming = new IncomingTexts();
    expect(incoming.events(arrival(1, msg({ id: 1, conv: 1, dir: "out" }), ana), nobody)).toEqual([]);
    expect(incoming.events(arrival(3, msg({ id: 2, conv: 1 }), { ...ana, muted: true }), nobody)).toEqual([]);
    expect(incoming.events(arrival(5, msg({ id: 3, conv: 1 }), { ...ana, blocked: true }), nobody)).toEqual([]);
    expect(incoming.events(arrival(7, msg({ id: 4, conv: 1 }), ana), (conv) => conv === 1)).toEqual([]);
    expect(incoming.events(arrival(9, msg({ id: 5, conv: 1 }), ana), (conv) => conv === 2)).toHaveLength(1);
  });

  it("forgets a text whose conversation was deleted", () => {
    const incoming = new IncomingTexts();
    incoming.events([{ k: "msg", seq: 1, msg: msg({ id: 1, conv: 1 }) }, { k: "gone", seq: 2, conv: 1 }], nobody);
    expect(incoming.events([{ k: "conv", seq: 3, conv: ana }], nobody)).toEqual([]);
  });
});

describe("Watching", () => {
  it("knows which conversations visible tabs show", () => {
    const watching = new Watching();
    watching.set("a", 1);
    watching.set("b", 2);
    expect([watching.has(1), watching.has(2), watching.has(3)]).toEqual([true, true, false]);
    watching.set("a", null); // hidden, or closed
    expect(watching.has(1)).toBe(false);
  });
});

describe("alertContent", () => {
  const ana = conversationRecord({ id: 1, peers: [ANA], names: ["Ana"] });
  const group = conversationRecord({ id: 2, peers: [ANA, "+15550101"], names: ["Ana", null] });

  it("shows the words with previews on, never with them off", () => {
    expect(alertContent({ conv: ana, msg: msg({ id: 1, conv: 1 }) }, true)).toEqual({
      title: "Ana", body: "Hi there", tag: "textport-conv-1",
    });
    expect(alertContent({ conv: ana, msg: msg({ id: 1, conv: 1 }) }, false).body).toBe("New text");
  });

  it("names the sender in a group, and a picture without words", () => {
    expect(alertContent({ conv: group, msg: msg({ id: 1, conv: 2 }) }, true)).toMatchObject({
      title: "Ana, +15550101", body: "Ana: Hi there",
    });
    const picture = msg({ id: 2, conv: 1, body: "", atts: [{ id: 1, type: "image/png", size: 3, name: "a.png" }] as never });
    expect(alertContent({ conv: ana, msg: picture }, true).body).toBe("Picture");
    expect(alertContent({ conv: ana, msg: picture }, false).body).toBe("New text");
  });
});

describe("settings", () => {
  it("are kept, with defaults for what is missing or broken", () => {
    const kept = new Map<string, string>();
    const store: KeyValue = { getItem: (k) => kept.get(k) ?? null, setItem: (k, v) => void kept.set(k, v) };
    expect(loadSettings(store)).toEqual({ previews: true, sound: true });
    saveSettings({ previews: false, sound: true }, store);
    expect(loadSettings(store)).toEqual({ previews: false, sound: true });
    kept.set("textport:notify", "{not json");
    expect(loadSettings(store)).toEqual({ previews: true, sound: true });
  });
});

describe("through the client", () => {
  it("only the tab holding the connection hears live texts, and one becomes one alert", async () => {
    const w = await world();
    const pairing = await pair(w);
    await w.host.connect();
    const factory = new IDBFactory();
    const seed = await Store.open(factory, IDBKeyRange);
    await seed.ensureDeviceKey(async () => w.deviceKey);
    await seed.savePairing(pairing);
    const tab = async (locks: Locks): Promise<Client> => {
      const client = new Client({
        store: await Store.open(factory, IDBKeyRange),
        tabs: new Tabs({ channel: null, locks }),
        socket: w.relay.factory,
        now: () => Date.now(),
        random: () => 0,
        rng: randomBytes,
        userAgent: "test",
        generateKey: () => generateKeyPair(false),
      });
      await client.init();
      return client;
    };
    const owner = await tab({ request: (_name, held) => held(null).then(() => undefined) });
    const other = await tab({ request: () => new Promise(() => undefined) }); // waits for the lock
    const heard: { owner: StoreEvent[]; other: StoreEvent[] } = { owner: [], other: [] };
    owner.onLive((events) => heard.owner.push(...events));
    other.onLive((events) => heard.other.push(...events));
    await until(() => owner.state.status?.ready, 3000, "owner ready");

    await w.host.receive("+15550100200", "hello there");
    await until(() => heard.owner.some((e) => e.k === "msg"), 3000, "the live text");
    await until(() => heard.owner.at(-1)?.k === "conv", 3000, "its conversation after it");
    const alerts = new IncomingTexts().events(heard.owner, () => false);
    expect(alerts.map((a) => a.msg.body)).toEqual(["hello there"]);
    expect(heard.other).toEqual([]);
  });
});

describe("notifications through the service worker (Chrome on Android)", () => {
  const ana = conversationRecord({ id: 1, peers: ["+15550101"], names: ["Ana"] });
  const worker = Object.assign(new EventTarget(), {
    shown: [] as { title: string; options: NotificationOptions }[],
    startMessages: () => undefined,
    getRegistration() {
      return Promise.resolve({
        showNotification: (title: string, options: NotificationOptions) => {
          worker.shown.push({ title, options });
          return Promise.resolve();
        },
      });
    },
  });

  it("has the service worker show what the page may not, with its phone and conversation", async () => {
    vi.stubGlobal("navigator", { serviceWorker: worker });
    vi.stubGlobal("Notification", class {
      static permission = "granted";
      constructor() {
        throw new TypeError("Illegal constructor. Use ServiceWorkerRegistration.showNotification() instead.");
      }
    });
    try {
      present({ conv: ana, msg: msg({ id: 5, conv: 1 }) }, { previews: true, sound: false }, () => undefined, "roomA");
      await until(() => worker.shown.length === 1, 1000, "the worker's notification");
      expect(worker.shown[0]).toEqual({
        title: "Ana",
        options: { body: "Hi there", tag: "textport-conv-1@roomA", icon: "icon.svg", data: { textport: { scope: "roomA", conv: 1 } } },
      });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it("routes a click, as the worker posts it, to the phone it came from", () => {
    vi.stubGlobal("navigator", { serviceWorker: worker });
    try {
      const opened: string[] = [];
      const stopA = onWorkerClick("roomA", (conv) => opened.push(`A${conv}`));
      onWorkerClick("roomB", (conv) => opened.push(`B${conv}`));
      const post = (data: unknown): void => void worker.dispatchEvent(new MessageEvent("message", { data }));
      post({ type: WORKER_CLICK, scope: "roomB", conv: 7 });
      post({ type: WORKER_CLICK, scope: "roomA", conv: 3 });
      post({ type: "something else", scope: "roomA", conv: 3 });
      post({ type: WORKER_CLICK, scope: "roomA", conv: "3" });
      post({ type: WORKER_CLICK, scope: "nobody", conv: 3 });
      stopA();
      post({ type: WORKER_CLICK, scope: "roomA", conv: 4 });
      expect(opened).toEqual(["B7", "A3"]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
