/**
 * The devices page's client side against the fake host: the list with this browser
 * marked, unpairing another device or this one, a new pairing announced, and a
 * session-only pairing forgotten (key and all) when its browser session ended.
 */

import { IDBFactory, IDBKeyRange } from "fake-indexeddb";
import { describe, expect, it } from "vitest";

import type { Client } from "../../src/client/client";
import { pairByCode } from "../../src/client/pairing";
import { memoryMarker } from "../../src/client/session";
import { Store } from "../../src/client/storage";
import { toHex } from "../../src/protocol/bytes";
import type { DeviceRecord } from "../../src/protocol/messages";
import { generateKeyPair } from "../../src/protocol/keys";
import { newCode } from "../../src/protocol/pairing";
import { type World, pair, startClient, until, world } from "../fakes/setup";

async function ready(client: Client): Promise<void> {
  await until(() => client.state.status?.ready, 3000, "a synced session");
}

/** Pair a second browser (a store and key of its own) with the same host. */
async function pairAnother(w: World, name: string, session = false): Promise<void> {
  const store = await Store.open(new IDBFactory(), IDBKeyRange);
  const deviceKey = await store.ensureDeviceKey(() => generateKeyPair(false));
  const code = newCode();
  const device = pairByCode(code, w.relay.url, {
    ...w.pairingDeps, deviceKey, name, session: () => session,
  });
  await until(() => w.relay.channels.size > 0, 3000, "the offer");
  await Promise.all([device, w.host.pairWithCode(code)]);
}

describe("devices", () => {
  it("lists every paired device with this browser marked, and announces a new pairing", async () => {
    const w = await world();
    await w.host.connect();
    await pair(w);
    const client = await startClient(w);
    await ready(client);
    expect((await client.devices()).map((d) => [d.name, d.current, d.connected])).toEqual([
      ["Test browser", true, true],
    ]);

    const version = client.state.devicesVersion;
    await pairAnother(w, "Firefox on macOS");
    await until(() => client.state.deviceNotice, 3000, "the notice");
    expect(client.state.deviceNotice).toBe("New device paired: Firefox on macOS");
    expect(client.state.devicesVersion).toBe(version + 1);
    expect((await client.devices()).map((d) => [d.name, d.current, d.connected])).toEqual([
      ["Test browser", true, true],
      ["Firefox on macOS", false, false],
    ]);
    client.dismissDeviceNotice();
    expect(client.state.deviceNotice).toBeNull();
  });

  it("can be asked the moment the client says it is ready (the devices page does)", async () => {
    const w = await world();
    await w.host.connect();
    await pair(w);
    const client = await startClient(w);
    expect(client.state.status?.ready).not.toBe(true); // still connecting: the listener sees it turn
    let asked: Promise<readonly DeviceRecord[]> | null = null;
    client.subscribe((state) => {
      if (asked === null && state.status?.ready === true) asked = client.devices();
    });
    const answer = await until(() => asked, 3000, "ready");
    expect((await answer).map((d) => d.name)).toEqual(["Test browser"]);
  });

  it("unpairs another device on the host, and is refused one that is not paired", async () => {
    const w = await world();
    await w.host.connect();
    await pair(w);
    await pairAnother(w, "Old laptop");
    const client = await startClient(w);
    await ready(client);
    const other = (await client.devices()).find((d) => !d.current)!;

    await client.revoke(other.id);
    expect(w.host.devices.find((d) => d.name === "Old laptop")?.status).toBe("revoked");
    expect((await client.devices()).map((d) => d.name)).toEqual(["Test browser"]);
    await expect(client.revoke(other.id)).rejects.toThrow("not paired");
    expect(client.state.phase).toBe("paired");
  });

  it("unpairing this browser from its own devices page returns it to pairing", async () => {
    const w = await world();
    await w.host.connect();
    await pair(w);
    const client = await startClient(w);
    await ready(client);
    const me = (await client.devices()).find((d) => d.current)!;
    await client.revoke(me.id).catch(() => undefined); // done, or the session ends first
    await until(() => client.state.phase === "pairing", 3000, "the pairing screen");
    expect(client.state.unpairedFrom).toBe(w.host.name);
    expect(await w.store.pairing()).toBeNull();
  });
});

describe("remember this browser", () => {
  it("asks the host for a session-only pairing and forgets it once the browser session ended", async () => {
    const w = await world();
    const marker = memoryMarker();
    const first = await startClient(w, { session: marker });
    expect(first.remember).toBe(true);
    first.setRemember(false);
    const code = newCode();
    const pairing = pairByCode(code, w.relay.url, { ...w.pairingDeps, ...first.pairingDeps() });
    await until(() => w.relay.channels.size > 0, 3000, "the offer");
    const [paired] = await Promise.all([pairing, w.host.pairWithCode(code)]);
    expect(paired.session).toBe(true);
    expect(w.host.devices[0]?.session).toBe(true);
    await first.paired(paired);
    expect(marker.present()).toBe(true);
    const key = toHex(first.pairingDeps().deviceKey.publicKey);

    // Another tab of the same browser session keeps it.
    const sameSession = await startClient(w, { session: marker });
    expect(sameSession.state.phase).toBe("paired");
    expect(toHex(sameSession.pairingDeps().deviceKey.publicKey)).toBe(key);

    // The browser was closed and opened again: no marker, nothing kept, a new key.
    const nextSession = await startClient(w, { session: memoryMarker() });
    expect(nextSession.state.phase).toBe("pairing");
    expect(await w.store.pairing()).toBeNull();
    expect(toHex(nextSession.pairingDeps().deviceKey.publicKey)).not.toBe(key);
  });

  it("keeps a remembered pairing across browser sessions", async () => {
    const w = await world();
    await w.host.connect();
    await pair(w);
    const client = await startClient(w, { session: memoryMarker() });
    expect(client.state.phase).toBe("paired");
    expect(w.host.devices[0]?.session).toBe(false);
  });
});
