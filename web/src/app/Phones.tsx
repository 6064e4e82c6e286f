/**
 * The switcher between phones paired in this browser (hosts.ts), shown once
 * there are two: each with its name and unread count, the one on screen pressed.
 */

import type { Hosts, HostView } from "../client/hosts";

/** A phone's name in the switcher; two of the same name are told apart by their relay. */
export function phoneName(host: HostView, all: readonly HostView[]): string {
  const pairing = host.client.state.pairing;
  if (pairing === null) return "New phone, not paired";
  const twin = all.some((other) => other.id !== host.id && other.client.state.pairing?.hostName === pairing.hostName);
  if (!twin) return pairing.hostName;
  let where = pairing.relay;
  try {
    where = new URL(pairing.relay).host;
  } catch {
    // not a URL: show it whole
  }
  return `${pairing.hostName} (${where})`;
}

export function Phones({ hosts, all, active }: { hosts: Hosts; all: readonly HostView[]; active: string }) {
  return (
    <div class="phones" role="group" aria-label="Phones">
      {all.map((host) => {
        const name = phoneName(host, all);
        return (
          <button
            key={host.id}
            type="button"
            class="phone"
            aria-pressed={host.id === active ? "true" : "false"}
            // "Pixel, 3 unread"; the count shows as a badge drawn by CSS from data-unread.
            aria-label={host.unread > 0 ? `${name}, ${host.unread} unread` : undefined}
            data-unread={host.unread > 0 ? host.unread : undefined}
            onClick={() => hosts.select(host.id)}
          >
            {name}
          </button>
        );
      })}
    </div>
  );
}
