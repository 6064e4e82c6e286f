/**
 * Keyboard shortcuts: which key does what (pure), and the list the help
 * overlay shows (also in web/README.md).
 *
 * Keys that type a character (`?`, `/`) work only outside text fields. The
 * others use Alt or Ctrl+Alt, which browsers leave to pages, and work while
 * typing too (the draft is kept per conversation); a Ctrl+Alt key that types
 * a letter (AltGr on many keyboards, e.g. AltGr+N for "ń") is left alone.
 */

export type Command = "next" | "previous" | "search" | "new" | "archive" | "help";

/** The little of a KeyboardEvent this needs, and whether focus is in a text field. */
export interface KeyPress {
  readonly key: string;
  readonly code: string;
  readonly ctrlKey: boolean;
  readonly altKey: boolean;
  readonly shiftKey: boolean;
  readonly metaKey: boolean;
  /** AltGr is down (KeyboardEvent.getModifierState("AltGraph")). */
  readonly altGraph: boolean;
  /** Focus is in an input, textarea or editable element. */
  readonly typing: boolean;
}

/** The help overlay's rows, in order. */
export const SHORTCUTS: readonly { readonly keys: readonly string[]; readonly what: string }[] = [
  { keys: ["Alt+↓"], what: "Next conversation" },
  { keys: ["Alt+↑"], what: "Previous conversation" },
  { keys: ["/", "Ctrl+K"], what: "Search" },
  { keys: ["Ctrl+Alt+N"], what: "New conversation" },
  { keys: ["Ctrl+Alt+E"], what: "Archive the open conversation" },
  { keys: ["?", "Ctrl+/"], what: "Show these shortcuts" },
  { keys: ["Esc"], what: "Close a dialog or menu" },
];

export function commandFor(press: KeyPress): Command | null {
  const { key, code, ctrlKey, altKey, shiftKey, metaKey, altGraph, typing } = press;
  if (altGraph) return null;
  if (altKey && !ctrlKey && !metaKey && !shiftKey) {
    if (key === "ArrowDown") return "next";
    if (key === "ArrowUp") return "previous";
    return null;
  }
  if (ctrlKey && altKey && !metaKey && !shiftKey) {
    // By position (code), so it works on any layout, unless the keys typed a letter of their own.
    if (key.length === 1 && !/^[a-z]$/i.test(key)) return null;
    if (code === "KeyN") return "new";
    if (code === "KeyE") return "archive";
    return null;
  }
  if ((ctrlKey || metaKey) && !altKey && !shiftKey) {
    if (key === "k" || key === "K") return "search";
    if (key === "/") return "help";
    return null;
  }
  if (typing || ctrlKey || metaKey || altKey) return null;
  if (key === "/") return "search";
  if (key === "?") return "help";
  return null;
}

/** Whether `target` takes typed text (then single keys are left to it). */
export function isTyping(target: EventTarget | null): boolean {
  if (typeof HTMLElement === "undefined" || !(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag !== "INPUT") return false;
  const type = (target as HTMLInputElement).type;
  return !["button", "checkbox", "radio", "submit", "reset", "range", "color", "file", "image"].includes(type);
}

/** The next (or previous) of `ids` after `current`; from none, the first (or last). */
export function step(ids: readonly number[], current: number | null, by: 1 | -1): number | null {
  if (ids.length === 0) return null;
  const at = current === null ? -1 : ids.indexOf(current);
  if (at < 0) return by === 1 ? ids[0]! : ids.at(-1)!;
  const next = at + by;
  return next < 0 || next >= ids.length ? ids[at]! : ids[next]!;
}
