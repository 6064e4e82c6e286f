/**
 * The composer's emoji picker: a button "Emoji" that opens a grid of common emoji.
 * Arrow keys, Home and End move between them (one tab stop, roving tabindex),
 * Enter or a click inserts one, Escape closes it and gives the focus back.
 */

import { useEffect, useRef, useState } from "preact/hooks";

export const EMOJI: ReadonlyArray<readonly [string, string]> = [
  ["😀", "grinning face"], ["😂", "face with tears of joy"], ["😊", "smiling face"], ["😍", "heart eyes"],
  ["😘", "face blowing a kiss"], ["😉", "winking face"], ["😎", "smiling face with sunglasses"], ["🤔", "thinking face"],
  ["😅", "grinning face with sweat"], ["😢", "crying face"], ["😭", "loudly crying face"], ["😡", "angry face"],
  ["😮", "face with open mouth"], ["🙄", "face with rolling eyes"], ["😴", "sleeping face"], ["🤗", "hugging face"],
  ["👍", "thumbs up"], ["👎", "thumbs down"], ["👏", "clapping hands"], ["🙏", "folded hands"],
  ["👋", "waving hand"], ["💪", "flexed biceps"], ["🤞", "crossed fingers"], ["👌", "OK hand"],
  ["❤️", "red heart"], ["💔", "broken heart"], ["🔥", "fire"], ["✨", "sparkles"],
  ["🎉", "party popper"], ["🎂", "birthday cake"], ["☕", "hot beverage"], ["🍕", "pizza"],
  ["✅", "check mark"], ["❌", "cross mark"], ["‼️", "double exclamation mark"], ["❓", "question mark"],
  ["🚗", "car"], ["✈️", "airplane"], ["🏠", "house"], ["⏰", "alarm clock"],
];
/** Emoji per row of the grid (what Up and Down move by). */
const COLUMNS = 8;

export function EmojiPicker({ onPick }: { onPick(emoji: string): void }) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const toggle = useRef<HTMLButtonElement | null>(null);
  const grid = useRef<HTMLDivElement | null>(null);

  useEffect(() => {
    if (open) grid.current?.querySelectorAll<HTMLButtonElement>("button")[active]?.focus();
  }, [open, active]);

  const close = (): void => {
    setOpen(false);
    toggle.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent): void => {
    const last = EMOJI.length - 1;
    const moves: Record<string, number> = {
      ArrowRight: Math.min(active + 1, last), ArrowLeft: Math.max(active - 1, 0),
      ArrowDown: Math.min(active + COLUMNS, last), ArrowUp: Math.max(active - COLUMNS, 0),
      Home: 0, End: last,
    };
    if (!open) return;
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      close();
    } else if (e.key in moves && grid.current !== null && grid.current.contains(e.target as Node)) {
      e.preventDefault();
      const next = moves[e.key]!;
      setActive(next);
      // At once, not after the next render: a key pressed right after goes to this one.
      grid.current.querySelectorAll<HTMLButtonElement>("button")[next]?.focus();
    }
  };

  return (
    <div class="emoji-picker" onKeyDown={onKeyDown}>
      <button
        ref={toggle}
        type="button"
        class="emoji-toggle"
        aria-label="Emoji"
        aria-haspopup="dialog"
        aria-expanded={open}
        onClick={() => setOpen(!open)}
      >
        😊
      </button>
      {open && (
        <div ref={grid} class="emoji-grid" role="dialog" aria-label="Choose an emoji">
          {EMOJI.map(([emoji, name], i) => (
            <button
              key={emoji}
              type="button"
              aria-label={name}
              title={name}
              tabIndex={i === active ? 0 : -1}
              onClick={() => {
                setActive(i);
                setOpen(false);
                onPick(emoji);
              }}
            >
              {emoji}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
