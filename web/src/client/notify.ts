/**
 * Which new texts notify, decided in the tab that owns the connection (so one
 * tab notifies however many are open). Pure: events in, alerts out.
 *
 * A text notifies when it arrives as a live event (not in a sync batch: texts
 * caught up after time offline show as unread, not as a burst of
 * notifications), is incoming, its conversation is neither muted nor blocked,
 * and no visible tab shows that conversation (each tab tells the others what
 * it shows on the BroadcastChannel "textport-viewing": app/alerts.ts).
 *
 * The host sends a text's `msg` event and then its conversation's `conv` event
 * (store.py `_insert`): the decision waits for the `conv` event, which carries
 * the flags as they are now.
 */

import type { ConversationRecord, MessageRecord, StoreEvent } from "../protocol/messages";

/** One notification to show: the newest text of `conv`. */
export interface Alert {
  readonly conv: ConversationRecord;
  readonly msg: MessageRecord;
}

export function notifies(conv: ConversationRecord, watched: (conv: number) => boolean): boolean {
  return !conv.muted && !conv.blocked && !watched(conv.id);
}

export class IncomingTexts {
  /** The newest incoming text of each conversation, until its `conv` event. */
  readonly #pending = new Map<number, MessageRecord>();

  /** Live events, in order; `watched(conv)`: a visible tab shows it. */
  events(events: readonly StoreEvent[], watched: (conv: number) => boolean): Alert[] {
    const alerts: Alert[] = [];
    for (const event of events) {
      switch (event.k) {
        case "msg":
          if (event.msg.dir === "in") this.#pending.set(event.msg.conv, event.msg);
          break;
        case "conv": {
          const msg = this.#pending.get(event.conv.id);
          if (msg === undefined) break;
          this.#pending.delete(event.conv.id);
          if (notifies(event.conv, watched)) alerts.push({ conv: event.conv, msg });
          break;
        }
        case "gone":
          this.#pending.delete(event.conv);
          break;
        case "status":
          break;
      }
    }
    return alerts;
  }

  /** A sync started: what was pending is caught up, not live. */
  clear(): void {
    this.#pending.clear();
  }
}

/** Which conversation each tab shows while visible (null: none, or hidden). */
export class Watching {
  readonly #tabs = new Map<string, number | null>();

  set(tab: string, conv: number | null): void {
    if (conv === null) this.#tabs.delete(tab);
    else this.#tabs.set(tab, conv);
  }

  has(conv: number): boolean {
    for (const shown of this.#tabs.values()) if (shown === conv) return true;
    return false;
  }
}
