/**
 * Desktop notifications for new texts, in the browser: what each one says, the
 * settings kept in this browser, which conversation each tab shows, and the
 * sound. Which texts notify is decided in client/notify.ts.
 *
 * Settings (localStorage "textport:notify", this browser only):
 *   previews  the text's words in the notification (default on; off: "New text")
 *   sound     a short tone, made with WebAudio, with each notification (default on)
 *
 * Permission is asked only when the user clicks "Turn on notifications" (a
 * browser refuses, or remembers as a nuisance, a prompt nobody asked for).
 *
 * Each tab says which conversation it shows while visible on the
 * BroadcastChannel "textport-viewing" (`{tab, conv}`; `{ask: true}` from a tab
 * that has just started, answered by every other): the tab that notifies
 * skips the texts someone is reading already.
 */

import type { Alert } from "../client/notify";
import { Watching } from "../client/notify";
import { conversationTitle } from "./format";

export interface NotifySettings {
  readonly previews: boolean;
  readonly sound: boolean;
}

export const DEFAULT_SETTINGS: NotifySettings = { previews: true, sound: true };
const SETTINGS_KEY = "textport:notify";
const DISMISSED_KEY = "textport:notify-prompt-dismissed";
const VIEWING_CHANNEL = "textport-viewing";

/** The little of localStorage this needs. */
export interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function storage(): KeyValue | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage refused: the defaults, not kept
  }
}

export function loadSettings(store: KeyValue | null = storage()): NotifySettings {
  try {
    const raw: unknown = JSON.parse(store?.getItem(SETTINGS_KEY) ?? "null");
    if (typeof raw !== "object" || raw === null) return DEFAULT_SETTINGS;
    const kept = raw as Record<string, unknown>;
    return {
      previews: typeof kept["previews"] === "boolean" ? kept["previews"] : DEFAULT_SETTINGS.previews,
      sound: typeof kept["sound"] === "boolean" ? kept["sound"] : DEFAULT_SETTINGS.sound,
    };
  } catch {
    return DEFAULT_SETTINGS;
  }
}

export function saveSettings(settings: NotifySettings, store: KeyValue | null = storage()): void {
  try {
    store?.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // storage refused: the setting lasts until the page is closed
  }
}

export function promptDismissed(store: KeyValue | null = storage()): boolean {
  try {
    return store?.getItem(DISMISSED_KEY) === "1";
  } catch {
    return false;
  }
}

export function dismissPrompt(store: KeyValue | null = storage()): void {
  try {
    store?.setItem(DISMISSED_KEY, "1");
  } catch {
    // storage refused: asked again next time
  }
}

/** What a notification says. Without previews, neither the words nor a picture's name. */
export function alertContent(alert: Alert, previews: boolean): { title: string; body: string; tag: string } {
  const { conv, msg } = alert;
  const title = conversationTitle(conv);
  let body = "New text";
  if (previews) {
    const words = msg.body.trim() !== "" ? msg.body : msg.atts.length > 0 ? "Picture" : "New text";
    const i = conv.peers.indexOf(msg.sender);
    const sender = conv.peers.length > 1 ? (i >= 0 ? conv.names[i] ?? msg.sender : msg.sender) : null;
    body = sender !== null ? `${sender}: ${words}` : words;
  }
  return { title, body, tag: `textport-conv-${conv.id}` };
}

/** Whether this browser can show notifications, and what the user said. */
export type Permission = NotificationPermission | "unsupported";

export function permission(): Permission {
  return typeof Notification === "function" ? Notification.permission : "unsupported";
}

/** Ask for permission: call only from a click. */
export async function askPermission(): Promise<Permission> {
  if (typeof Notification !== "function") return "unsupported";
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

/**
 * Show `alert` (if permitted), and play the sound (if on); a click focuses the
 * tab and calls `onOpen`. `scope` names the phone (its room), so that two
 * phones' conversations of the same id keep their own notifications.
 *
 * Where the page may not make notifications itself (Chrome on Android allows
 * only a service worker's), the service worker shows it; its click comes back
 * as a message from sw.ts, routed by `onWorkerClick`.
 */
export function present(alert: Alert, settings: NotifySettings, onOpen: (conv: number) => void, scope = ""): void {
  if (settings.sound) beep();
  if (permission() !== "granted") return;
  const content = alertContent(alert, settings.previews);
  const { title, body } = content;
  const tag = scope === "" ? content.tag : `${content.tag}@${scope}`;
  let notification: Notification;
  try {
    notification = new Notification(title, { body, tag, icon: "icon.svg" });
  } catch {
    void fromWorker(title, { body, tag, icon: "icon.svg", data: { textport: { scope, conv: alert.conv.id } } });
    return;
  }
  notification.addEventListener("click", () => {
    window.focus();
    onOpen(alert.conv.id);
    notification.close();
  });
}

async function fromWorker(title: string, options: NotificationOptions): Promise<void> {
  try {
    const registration = await navigator.serviceWorker?.getRegistration();
    await registration?.showNotification(title, options);
  } catch {
    // no service worker (or it refused): no notification
  }
}

/** What sw.ts posts to the page when one of its notifications is clicked. */
export const WORKER_CLICK = "textport-open";
const openers = new Map<string, (conv: number) => void>();
let listening = false;

/** Route clicks on the service worker's notifications for phone `scope` to `open`; returns the undo. */
export function onWorkerClick(scope: string, open: (conv: number) => void): () => void {
  const worker = typeof navigator !== "undefined" ? navigator.serviceWorker : undefined;
  if (!listening && worker !== undefined) {
    listening = true;
    worker.addEventListener("message", (event: MessageEvent) => {
      const data: unknown = event.data;
      if (typeof data !== "object" || data === null) return;
      const message = data as Record<string, unknown>;
      const conv = message["conv"];
      if (message["type"] === WORKER_CLICK && typeof message["scope"] === "string" && Number.isSafeInteger(conv)) {
        openers.get(message["scope"])?.(conv as number);
      }
    });
    worker.startMessages();
  }
  openers.set(scope, open);
  return () => {
    if (openers.get(scope) === open) openers.delete(scope);
  };
}

let audio: AudioContext | null = null;

/** A short two-note chime, generated (no sound file to download). */
export function beep(): void {
  try {
    audio ??= new AudioContext();
    if (audio.state === "suspended") void audio.resume().catch(() => undefined);
    const start = audio.currentTime + 0.01;
    for (const [i, frequency] of [880, 1320].entries()) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      const at = start + i * 0.09;
      osc.type = "sine";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.15, at + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.12);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + 0.13);
    }
  } catch {
    // no WebAudio (or refused before any user gesture): silent
  }
}

/** Which conversation every tab of this browser shows while visible (see the module comment). */
export class Viewing {
  readonly #tab = Math.random().toString(36).slice(2);
  readonly #watching = new Watching();
  readonly #channel: BroadcastChannel | null;
  #conv: number | null = null;

  /** `scope`: the phone (its room), so that one phone's conversation ids never mute another's. */
  constructor(scope = "") {
    const name = scope === "" ? VIEWING_CHANNEL : `${VIEWING_CHANNEL}:${scope}`;
    this.#channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : null;
    this.#channel?.addEventListener("message", (event: MessageEvent) => {
      const data: unknown = event.data;
      if (typeof data !== "object" || data === null) return;
      const message = data as Record<string, unknown>;
      if (message["ask"] === true) {
        this.#post();
        return;
      }
      const conv = message["conv"];
      if (typeof message["tab"] === "string" && (conv === null || Number.isSafeInteger(conv))) {
        this.#watching.set(message["tab"], conv as number | null);
      }
    });
    this.#channel?.postMessage({ ask: true });
  }

  /** This tab shows `conv` now, visibly (null: nothing, or hidden). */
  show(conv: number | null): void {
    if (conv === this.#conv) return;
    this.#conv = conv;
    this.#watching.set(this.#tab, conv);
    this.#post();
  }

  has(conv: number): boolean {
    return this.#watching.has(conv);
  }

  close(): void {
    this.show(null);
    this.#channel?.close();
  }

  #post(): void {
    this.#channel?.postMessage({ tab: this.#tab, conv: this.#conv });
  }
}
