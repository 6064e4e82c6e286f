/**
 * A conversation's options: a menu button ("Conversation options") whose items
 * pin, archive, mute, block, mark (un)read, name the contact (or a group's
 * members) and delete, as Google Messages offers them; and the dialogs it
 * opens (delete asks for confirmation; "Edit name" and "Edit names" name
 * numbers on the host). It is beside each conversation in the list, and in
 * the header of the open thread. The menu follows
 * the WAI-ARIA menu button pattern: arrow keys move, Escape closes and gives
 * focus back to the button.
 */

import type { ComponentChildren } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import type { Change, Flag } from "../client/pager";
import type { ConversationRecord } from "../protocol/messages";

/** What an item of the menu does. */
export type MenuAction =
  | { readonly kind: "change"; readonly change: Change }
  | { readonly kind: "delete" }
  | { readonly kind: "rename" }
  /** A group's members, each by number. */
  | { readonly kind: "names" };

interface Item {
  readonly label: string;
  readonly action: MenuAction;
}

const flags = (conv: number, change: Partial<Record<Flag, boolean>>): MenuAction =>
  ({ kind: "change", change: { kind: "flags", conv, flags: change } });

/** The menu's items for `conv`, in order (pure: the labels follow its flags). */
export function menuItems(conv: ConversationRecord): Item[] {
  const items: Item[] = [];
  if (!conv.blocked) items.push({ label: conv.pinned ? "Unpin" : "Pin", action: flags(conv.id, { pinned: !conv.pinned }) });
  items.push(
    { label: conv.archived ? "Unarchive" : "Archive", action: flags(conv.id, { archived: !conv.archived }) },
    { label: conv.muted ? "Unmute" : "Mute", action: flags(conv.id, { muted: !conv.muted }) },
    { label: conv.blocked ? "Unblock" : "Block", action: flags(conv.id, { blocked: !conv.blocked }) },
  );
  if (!conv.blocked) {
    items.push(conv.unread > 0
      ? { label: "Mark as read", action: flags(conv.id, { unread: false }) }
      : { label: "Mark as unread", action: flags(conv.id, { unread: true }) });
  }
  items.push(conv.peers.length === 1
    ? { label: "Edit name", action: { kind: "rename" } }
    : { label: "Edit names", action: { kind: "names" } });
  items.push({ label: "Delete", action: { kind: "delete" } });
  return items;
}

/** `place`: where the menu is ("list" or "thread"), so that the two menus of one conversation have their own ids. */
export function ConversationMenu(props: {
  conv: ConversationRecord;
  title: string;
  place?: string;
  onAction(action: MenuAction): void;
}) {
  const { conv, title, onAction } = props;
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement | null>(null);
  const menu = useRef<HTMLUListElement | null>(null);
  const items = menuItems(conv);
  const id = `${props.place ?? "list"}-menu-${conv.id}`;

  // The menu opens upwards where it does not fit below its button inside the scrolling
  // list (which clips it) but fits above. Fitting neither, it opens downwards: the list
  // then scrolls to it, which it cannot above its top.
  const [up, setUp] = useState(false);
  useLayoutEffect(() => {
    const box = menu.current;
    const anchor = button.current;
    if (!open || box === null || anchor === null) {
      setUp(false);
      return;
    }
    const area = box.closest(".lists")?.getBoundingClientRect();
    const top = Math.max(area?.top ?? 0, 0);
    const bottom = Math.min(area?.bottom ?? Infinity, window.innerHeight);
    const at = anchor.getBoundingClientRect();
    const height = box.getBoundingClientRect().height;
    const below = bottom - at.bottom;
    const above = at.top - top;
    setUp(height > below && height <= above);
  }, [open]);

  const entries = (): HTMLButtonElement[] => [...(menu.current?.querySelectorAll<HTMLButtonElement>("[role=menuitem]") ?? [])];
  const close = (focus: boolean): void => {
    setOpen(false);
    if (focus) button.current?.focus();
  };

  useEffect(() => {
    if (!open) return;
    entries()[0]?.focus();
    const away = (event: Event): void => {
      const target = event.target as Node | null;
      if (target !== null && !menu.current?.contains(target) && !button.current?.contains(target)) setOpen(false);
    };
    document.addEventListener("pointerdown", away);
    return () => document.removeEventListener("pointerdown", away);
  }, [open]);

  const onKey = (event: KeyboardEvent): void => {
    const all = entries();
    const at = all.indexOf(document.activeElement as HTMLButtonElement);
    const move = (to: number): void => {
      event.preventDefault();
      all[(to + all.length) % all.length]?.focus();
    };
    if (event.key === "ArrowDown") move(at + 1);
    else if (event.key === "ArrowUp") move(at - 1);
    else if (event.key === "Home") move(0);
    else if (event.key === "End") move(all.length - 1);
    else if (event.key === "Escape") {
      event.preventDefault();
      close(true);
    } else if (event.key === "Tab") close(false);
  };

  return (
    <div class="conv-options">
      <button
        ref={button}
        type="button"
        class="options"
        aria-label="Conversation options"
        title={`Options for ${title}`}
        aria-haspopup="menu"
        aria-expanded={open ? "true" : "false"}
        aria-controls={open ? id : undefined}
        onClick={() => setOpen(!open)}
        onKeyDown={(event) => {
          if (event.key === "ArrowDown" || event.key === "ArrowUp") {
            event.preventDefault();
            setOpen(true);
          }
        }}
      >
        ⋮
      </button>
      {open && (
        <ul class={up ? "menu up" : "menu"} role="menu" id={id} aria-label={`Options for ${title}`} ref={menu} onKeyDown={onKey}>
          {items.map((item) => (
            <li role="none" key={item.label}>
              <button
                type="button"
                role="menuitem"
                tabIndex={-1}
                class={item.action.kind === "delete" ? "danger" : undefined}
                onClick={() => {
                  // Back on the button first: a dialog this opens gives the focus back there.
                  close(true);
                  onAction(item.action);
                }}
              >
                {item.label}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

const FOCUSABLE = "button:not(:disabled), input:not(:disabled), textarea:not(:disabled), select:not(:disabled), a[href], [tabindex]:not([tabindex='-1'])";

/** Keep Tab and Shift+Tab inside `box` (a modal dialog): from its last control to its first and back. */
export function trapTab(event: KeyboardEvent, box: HTMLElement | null): void {
  if (event.key !== "Tab" || box === null) return;
  const focusable = [...box.querySelectorAll<HTMLElement>(FOCUSABLE)];
  const first = focusable[0];
  const last = focusable.at(-1);
  if (event.shiftKey && (document.activeElement === first || document.activeElement === box)) {
    event.preventDefault();
    last?.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first?.focus();
  }
}

/**
 * A closing dialog gives the focus back to where it was, unless the focus has
 * moved on meanwhile (a pane that opened as it closed put it in its first field).
 */
export function giveFocusBack(before: Element | null, dialog: Element | null): void {
  const now = document.activeElement;
  if (now === null || now === document.body || (dialog !== null && dialog.contains(now))) {
    (before as HTMLElement | null)?.focus?.();
  }
}

/** A modal dialog: labelled by its heading, focus kept inside, Escape cancels. */
export function Dialog(props: { title: string; onCancel(): void; children: ComponentChildren }) {
  const { title, onCancel, children } = props;
  const box = useRef<HTMLDivElement | null>(null);
  const before = useRef<Element | null>(null);
  useEffect(() => {
    before.current = document.activeElement;
    box.current?.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    return () => giveFocusBack(before.current, box.current);
  }, []);
  const onKey = (event: KeyboardEvent): void => {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
      return;
    }
    trapTab(event, box.current);
  };
  return (
    <div class="scrim" onClick={(event) => event.target === event.currentTarget && onCancel()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title" ref={box} onKeyDown={onKey}>
        <h2 id="dialog-title">{title}</h2>
        {children}
      </div>
    </div>
  );
}

export function DeleteDialog(props: { title: string; onConfirm(): void; onCancel(): void }) {
  const { title, onConfirm, onCancel } = props;
  return (
    <Dialog title="Delete this conversation?" onCancel={onCancel}>
      <p>
        Your conversation with {title} and its texts and pictures are deleted from the host, for every paired
        browser. This cannot be undone.
      </p>
      <div class="dialog-buttons">
        <button type="button" data-autofocus onClick={onCancel}>Cancel</button>
        <button type="button" class="danger primary" onClick={onConfirm}>Delete</button>
      </div>
    </Dialog>
  );
}

/** A naming form's buttons: Cancel, and Save (its submit). */
function CancelSave({ onCancel }: { onCancel(): void }) {
  return (
    <div class="dialog-buttons">
      <button type="button" onClick={onCancel}>Cancel</button>
      <button type="submit" class="primary">Save</button>
    </div>
  );
}

export function NameDialog(props: { number: string; name: string | null; onSave(name: string | null): void; onCancel(): void }) {
  const { number, name, onSave, onCancel } = props;
  const [value, setValue] = useState(name ?? "");
  const trimmed = value.trim();
  return (
    <Dialog title="Edit name" onCancel={onCancel}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          onSave(trimmed === "" ? null : trimmed);
        }}
      >
        <label for="contact-name">Name for {number}</label>
        <input
          id="contact-name"
          type="text"
          aria-label="Name"
          aria-describedby="contact-name-hint"
          maxLength={128}
          autoComplete="off"
          data-autofocus
          value={value}
          onInput={(event) => setValue(event.currentTarget.value)}
        />
        <p id="contact-name-hint" class="muted">Kept on the host, for every paired browser. Leave it empty to show the number.</p>
        <CancelSave onCancel={onCancel} />
      </form>
    </Dialog>
  );
}

/** Name a group's members, each by number; only the names changed are saved (null: the number shows). */
export function NamesDialog(props: {
  peers: readonly string[];
  names: readonly (string | null)[];
  onSave(changes: readonly (readonly [string, string | null])[]): void;
  onCancel(): void;
}) {
  const { peers, names, onSave, onCancel } = props;
  const [values, setValues] = useState(() => peers.map((_, i) => names[i] ?? ""));
  return (
    <Dialog title="Edit names" onCancel={onCancel}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const changes = peers.flatMap((number, i) => {
            const name = values[i]!.trim() === "" ? null : values[i]!.trim();
            return name === (names[i] ?? null) ? [] : [[number, name] as const];
          });
          onSave(changes);
        }}
      >
        {peers.map((number, i) => (
          <p key={number} class="member-name">
            <label for={`member-name-${i}`}>Name for {number}</label>
            <input
              id={`member-name-${i}`}
              type="text"
              maxLength={128}
              autoComplete="off"
              aria-describedby="member-names-hint"
              {...(i === 0 ? { "data-autofocus": true } : {})}
              value={values[i]}
              onInput={(event) => {
                const value = event.currentTarget.value;
                setValues((old) => old.map((v, j) => (j === i ? value : v)));
              }}
            />
          </p>
        ))}
        <p id="member-names-hint" class="muted">Kept on the host, for every paired browser and every conversation with that number. Leave one empty to show the number.</p>
        <CancelSave onCancel={onCancel} />
      </form>
    </Dialog>
  );
}
