/**
 * The text box, the Send button, the emoji picker and the live SMS counter. The
 * text being written is kept as the conversation's draft (a reload keeps it). A
 * picture pasted or dropped is not sent (no SMS source sends MMS yet): a note says
 * so and the typed text stays as it was.
 */

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import { countSegments, segmentLabel } from "../client/segments";
import { MAX_BODY_CHARS } from "../protocol/messages";
import { EmojiPicker } from "./EmojiPicker";

/** Where a conversation's draft is kept. */
export interface Draft {
  load(): Promise<string>;
  save(body: string): void;
}

export const NO_MMS_NOTE = "This phone's SMS source cannot send pictures. Your text is kept; send it without the picture.";
export const MMS_LATER_NOTE = "Sending pictures from the browser is not supported yet. Your text is kept.";

function hasFiles(data: DataTransfer | null): boolean {
  return data !== null && (data.files.length > 0 || [...data.items].some((item) => item.kind === "file"));
}

export interface ComposerProps {
  /** Send the text; resolve true when it was taken (the box is then cleared). */
  onSend(body: string): Promise<boolean>;
  /** The host's limit on parts per text, when known. */
  maxParts: number | null;
  autoFocus?: boolean;
  textareaRef?: { current: HTMLTextAreaElement | null };
  /** The conversation's draft (none: nothing is kept). */
  draft?: Draft | undefined;
  /** The host's SMS source can send MMS (welcome's caps.mms). */
  mms?: boolean;
}

export function Composer({ onSend, maxParts, autoFocus = false, textareaRef, draft, mms = false }: ComposerProps) {
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const own = useRef<HTMLTextAreaElement | null>(null);
  const ref = textareaRef ?? own;
  /** Where to put the caret after the next render (an emoji was inserted). */
  const caret = useRef<number | null>(null);
  const typed = useRef(false);

  // The draft comes back unless something was typed in the meantime.
  useEffect(() => {
    if (draft === undefined) return;
    let live = true;
    void draft.load().then((text) => {
      if (live && !typed.current && text !== "") setBody(text);
    });
    return () => {
      live = false;
    };
  }, []);

  // A file dropped anywhere on the page (not only on the box) would replace the page.
  useEffect(() => {
    const over = (e: DragEvent): void => {
      if (hasFiles(e.dataTransfer)) e.preventDefault();
    };
    const drop = (e: DragEvent): void => {
      if (hasFiles(e.dataTransfer)) picture(e);
    };
    window.addEventListener("dragover", over);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragover", over);
      window.removeEventListener("drop", drop);
    };
  }, [mms]);

  useLayoutEffect(() => {
    if (caret.current === null || ref.current === null) return;
    ref.current.focus();
    ref.current.setSelectionRange(caret.current, caret.current);
    caret.current = null;
  });

  const change = (text: string): void => {
    typed.current = true;
    setBody(text);
    draft?.save(text);
  };

  const insert = (emoji: string): void => {
    const box = ref.current;
    const text = box?.value ?? body;
    const start = box?.selectionStart ?? text.length;
    const end = box?.selectionEnd ?? text.length;
    caret.current = start + emoji.length;
    change(text.slice(0, start) + emoji + text.slice(end));
  };

  const picture = (e: { preventDefault(): void }): void => {
    e.preventDefault(); // a dropped file would otherwise replace the page, and the text with it
    setNote(mms ? MMS_LATER_NOTE : NO_MMS_NOTE);
  };
  const count = countSegments(body);
  const length = [...body].length;
  const tooLong = length > MAX_BODY_CHARS;
  const overParts = maxParts !== null && count.parts > maxParts;
  const empty = body.trim() === "";

  const submit = async (): Promise<void> => {
    // Read the box itself: a key may arrive before the last input has re-rendered.
    const text = ref.current?.value ?? body;
    if (text.trim() === "" || [...text].length > MAX_BODY_CHARS || busy) return;
    setBusy(true);
    try {
      if (await onSend(text)) {
        setBody("");
        draft?.save("");
        setNote(null);
        if (ref.current !== null) ref.current.value = "";
      }
    } finally {
      setBusy(false);
      ref.current?.focus();
    }
  };

  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {note !== null && (
        <p class="composer-note" role="status">
          {note}{" "}
          <button type="button" class="link" onClick={() => setNote(null)}>Dismiss</button>
        </p>
      )}
      <div class="composer-row">
        <EmojiPicker onPick={insert} />
        <textarea
          ref={ref}
          aria-label="Message"
          placeholder="Text message"
          rows={1}
          value={body}
          autoFocus={autoFocus}
          onInput={(e) => change(e.currentTarget.value)}
          onPaste={(e) => {
            const data = e.clipboardData;
            // Only a picture: a paste that also has text (from a web page) pastes its text.
            if (hasFiles(data) && !(data?.types.includes("text/plain") ?? false)) picture(e);
          }}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              void submit();
            }
          }}
        />
        <button type="submit" disabled={empty || tooLong || busy}>Send</button>
      </div>
      <div class="counter" title={count.encoding === "UCS-2"
        ? "Unicode text: 70 characters per SMS, 67 per part when split"
        : "GSM-7 text: 160 characters per SMS, 153 per part when split"}>
        <span class="segments">{segmentLabel(count)}</span>
        {count.encoding === "UCS-2" && <span class="encoding"> · Unicode</span>}
        {tooLong && <span class="error" role="alert"> · Too long: at most {MAX_BODY_CHARS} characters</span>}
        {!tooLong && overParts && (
          <span class="error" role="alert"> · Longer than the {maxParts} SMS the phone sends at most</span>
        )}
      </div>
    </form>
  );
}
