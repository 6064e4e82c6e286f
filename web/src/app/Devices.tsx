/**
 * The devices page: every browser and API client paired with the host, with
 * when it was paired, when it was last seen and whether it is connected now;
 * "this browser" is marked. Any of them can be unpaired from here after a
 * confirmation (the host ends its session with bye{revoked}); unpairing this
 * browser returns it to the pairing screen. The list is asked for again when
 * the host says a device was paired or unpaired (`devicesVersion`).
 */

import { useEffect, useState } from "preact/hooks";

import type { Client, ClientState } from "../client/client";
import type { DeviceRecord } from "../protocol/messages";
import { Dialog } from "./ConversationMenu";

/** "3 Dec 2026, 14:05", in the browser's language. */
export function when(ms: number | null): string {
  if (ms === null) return "never";
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A device's accessible name in the list. */
export function deviceLabel(device: DeviceRecord): string {
  const parts = [device.name];
  if (device.current) parts.push("this browser");
  parts.push(device.connected ? "connected now" : "not connected");
  if (device.session) parts.push("this session only");
  return parts.join(", ");
}

function UnpairDialog(props: { device: DeviceRecord; onConfirm(): void; onCancel(): void }) {
  const { device, onConfirm, onCancel } = props;
  return (
    <Dialog title={device.current ? "Unpair this browser?" : `Unpair ${device.name}?`} onCancel={onCancel}>
      <p>
        {device.current
          ? "This browser forgets your texts and stops receiving them. Pair it again to use it."
          : `${device.name} is disconnected and can no longer reach your phone. What it has already shown cannot be taken back from it.`}
      </p>
      <div class="dialog-buttons">
        <button type="button" data-autofocus onClick={onCancel}>Cancel</button>
        <button type="button" class="danger primary" onClick={onConfirm}>Unpair</button>
      </div>
    </Dialog>
  );
}

export function DevicesPage(props: { client: Client; state: ClientState; onBack(): void }) {
  const { client, state, onBack } = props;
  const [devices, setDevices] = useState<readonly DeviceRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<DeviceRecord | null>(null);
  const [asked, setAsked] = useState(0);
  const ready = state.status?.ready === true;

  useEffect(() => {
    if (!ready) return;
    let current = true;
    client.devices().then(
      (found) => {
        if (!current) return;
        setDevices(found);
        setError(null);
      },
      (err: unknown) => {
        if (current) setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => {
      current = false;
    };
  }, [client, ready, state.devicesVersion, asked]);

  const unpair = (device: DeviceRecord): void => {
    setConfirming(null);
    client.revoke(device.id).then(
      () => setAsked((n) => n + 1),
      (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
    );
  };

  return (
    <section class="thread devices" aria-labelledby="devices-title">
      <header class="thread-header">
        <button type="button" class="back" aria-label="Back to conversations" onClick={onBack}>‹</button>
        <h2 id="devices-title">Devices</h2>
      </header>
      <div class="devices-body">
        <p class="muted">Browsers and apps paired with {state.pairing?.hostName ?? "your phone"}.</p>
        {error !== null && <p class="notice" role="alert">{error}</p>}
        {devices === null ? (
          <p class="muted" role="status">{ready ? "Loading devices…" : "Waiting for your phone to connect…"}</p>
        ) : (
          <ul class="device-list" aria-label="Paired devices">
            {devices.map((device) => (
              <li key={device.id} aria-label={deviceLabel(device)} class={device.current ? "current" : ""}>
                <div class="device-top">
                  <span class="device-name">{device.name}</span>
                  {device.current && <span class="tag">This browser</span>}
                  {device.session && <span class="tag">This session only</span>}
                </div>
                <dl class="device-facts">
                  <dt>Paired</dt>
                  <dd>{when(device.created)}</dd>
                  <dt>Last seen</dt>
                  <dd>{device.connected ? "now" : when(device.last_seen)}</dd>
                  <dt>Connection</dt>
                  <dd>{device.connected ? "Connected now" : "Not connected"}</dd>
                </dl>
                <button
                  type="button"
                  class="danger"
                  aria-label={`Unpair ${device.current ? "this browser" : device.name}`}
                  onClick={() => setConfirming(device)}
                >
                  Unpair
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {confirming !== null && (
        <UnpairDialog device={confirming} onCancel={() => setConfirming(null)} onConfirm={() => unpair(confirming)} />
      )}
    </section>
  );
}

/** "New device paired: …", announced politely in every other browser. */
export function DeviceNotice({ client, notice }: { client: Client; notice: string | null }) {
  return (
    <div class="device-notice-slot" role="status" aria-live="polite">
      {notice !== null && (
        <p class="notice info">
          {notice} <button type="button" class="link" onClick={() => client.dismissDeviceNotice()}>Dismiss</button>
        </p>
      )}
    </div>
  );
}
