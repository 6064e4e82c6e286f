/**
 * Keyboard shortcuts in the paired view (the keys: keymap.ts), their help
 * overlay, and the native modal <dialog> both overlays use (focus kept inside,
 * Tab included; Escape closes; focus back where it was).
 */

import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

import { giveFocusBack, trapTab } from "./ConversationMenu";
import { type Command, SHORTCUTS, commandFor, isTyping } from "./keymap";

/** Call `run` for each shortcut pressed anywhere in the page (not while a dialog is open). */
export function useShortcuts(run: (command: Command) => void): void {
  const latest = useRef(run);
  latest.current = run;
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.defaultPrevented || event.isComposing || document.querySelector("dialog[open], [aria-modal='true']")) return;
      const command = commandFor({
        key: event.key,
        code: event.code,
        ctrlKey: event.ctrlKey,
        altKey: event.altKey,
        shiftKey: event.shiftKey,
        metaKey: event.metaKey,
        altGraph: event.getModifierState?.("AltGraph") ?? false,
        typing: isTyping(event.target),
      });
      if (command === null) return;
      event.preventDefault();
      latest.current(command);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
}

let dialogs = 0;

/** A modal dialog labelled by its title, with a Close button. */
export function ModalDialog(props: { title: string; onClose(): void; children: ComponentChildren }) {
  const { title, onClose, children } = props;
  const ref = useRef<HTMLDialogElement | null>(null);
  const id = useRef(`modal-${++dialogs}`);
  useEffect(() => {
    const before = document.activeElement;
    const dialog = ref.current;
    dialog?.showModal();
    return () => giveFocusBack(before, dialog);
  }, []);
  return (
    <dialog
      ref={ref}
      class="modal"
      aria-labelledby={id.current}
      onClose={onClose}
      // The page behind is inert, but Tab would still leave for the browser's own controls.
      onKeyDown={(event) => trapTab(event, ref.current)}
      onClick={(event) => event.target === ref.current && ref.current?.close()}
    >
      <div class="modal-body">
        <h2 id={id.current}>{title}</h2>
        {children}
        <div class="dialog-buttons">
          <button type="button" onClick={() => ref.current?.close()}>Close</button>
        </div>
      </div>
    </dialog>
  );
}

/** The help overlay: every shortcut. */
export function ShortcutsHelp({ onClose }: { onClose(): void }) {
  return (
    <ModalDialog title="Keyboard shortcuts" onClose={onClose}>
      <table class="shortcuts">
        <caption class="sr-only">Keyboard shortcuts</caption>
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.what}>
              <th scope="row">{s.keys.map((k, i) => <>{i > 0 && " or "}<kbd>{k}</kbd></>)}</th>
              <td>{s.what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">Alt and Ctrl+Alt keys also work while you type a text; <kbd>/</kbd> and <kbd>?</kbd> only outside text fields.</p>
    </ModalDialog>
  );
}
