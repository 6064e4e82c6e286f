/**
 * Notifications in the paired view: the hook that shows them (in the tab that
 * owns the connection), the "Turn on notifications" banner (the one place the
 * permission is asked, after a click), and the settings dialog (previews,
 * sound). See alerts.ts and client/notify.ts.
 */

import { useEffect, useRef, useState } from "preact/hooks";

import type { Client } from "../client/client";
import { IncomingTexts } from "../client/notify";
import {
  type NotifySettings,
  type Permission,
  Viewing,
  askPermission,
  dismissPrompt,
  loadSettings,
  onWorkerClick,
  permission,
  present,
  promptDismissed,
  saveSettings,
} from "./alerts";
import { ModalDialog } from "./Shortcuts";

/**
 * Notify about new texts: `shown` is the conversation this tab shows while
 * visible (null: none, or the tab is hidden); a click on a notification
 * calls `onOpen` with its conversation.
 */
export function useNotifications(client: Client, shown: number | null, onOpen: (conv: number) => void): void {
  const viewing = useRef<Viewing | null>(null);
  const open = useRef(onOpen);
  open.current = onOpen;
  useEffect(() => {
    const scope = client.state.pairing?.room ?? "";
    const tabs = new Viewing(scope);
    viewing.current = tabs;
    const incoming = new IncomingTexts();
    const opening = (conv: number): void => open.current(conv);
    const stop = client.onLive((events) => {
      for (const alert of incoming.events(events, (conv) => tabs.has(conv))) {
        present(alert, loadSettings(), opening, scope);
      }
    });
    const stopClicks = onWorkerClick(scope, opening);
    const hide = (): void => tabs.show(null);
    addEventListener("pagehide", hide);
    return () => {
      stop();
      stopClicks();
      removeEventListener("pagehide", hide);
      tabs.close();
      viewing.current = null;
    };
  }, [client]);
  useEffect(() => {
    viewing.current?.show(shown);
  }, [shown]);
}

/** The banner that offers notifications, until turned on, refused or dismissed. */
export function NotificationPrompt() {
  const [asked, setAsked] = useState<Permission>(permission);
  const [dismissed, setDismissed] = useState(promptDismissed);
  if (asked !== "default" || dismissed) return null;
  return (
    <div class="notify-prompt" role="region" aria-label="Notifications">
      <p>Get a notification when a text arrives.</p>
      <div class="notify-prompt-buttons">
        <button type="button" class="primary" onClick={() => void askPermission().then(setAsked)}>
          Turn on notifications
        </button>
        <button
          type="button"
          onClick={() => {
            dismissPrompt();
            setDismissed(true);
          }}
        >
          Not now
        </button>
      </div>
    </div>
  );
}

const PERMISSION_WORDS: Record<Permission, string> = {
  granted: "Notifications are on in this browser.",
  denied: "This browser blocks textport's notifications: allow them in the site settings (the icon left of the address).",
  default: "Notifications are off in this browser.",
  unsupported: "This browser cannot show notifications.",
};

/** Notification settings, kept in this browser. */
export function NotificationSettings({ onClose }: { onClose(): void }) {
  const [settings, setSettings] = useState<NotifySettings>(loadSettings);
  const [allowed, setAllowed] = useState<Permission>(permission);
  const update = (change: Partial<NotifySettings>): void => {
    const next = { ...settings, ...change };
    saveSettings(next);
    setSettings(next);
  };
  return (
    <ModalDialog title="Notification settings" onClose={onClose}>
      <p role="status">{PERMISSION_WORDS[allowed]}</p>
      {allowed === "default" && (
        <p>
          <button type="button" class="primary" onClick={() => void askPermission().then(setAllowed)}>
            Turn on notifications
          </button>
        </p>
      )}
      <p class="check">
        <input
          id="notify-previews"
          type="checkbox"
          checked={settings.previews}
          onChange={(e) => update({ previews: e.currentTarget.checked })}
        />
        <label for="notify-previews">Show the text in notifications</label>
      </p>
      <p class="check">
        <input
          id="notify-sound"
          type="checkbox"
          checked={settings.sound}
          onChange={(e) => update({ sound: e.currentTarget.checked })}
        />
        <label for="notify-sound">Play a sound</label>
      </p>
      <p class="muted">
        Kept in this browser only. Muted and blocked conversations never notify, nor the one you are reading.
      </p>
    </ModalDialog>
  );
}
