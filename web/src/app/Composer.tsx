/**
 * The text box, the Send button, the emoji picker and the live SMS counter. The
 * text being written is kept as the conversation's draft (a reload keeps it). A
 * picture pasted or dropped is not sent (no SMS source sends MMS yet): a note says
 * so and the typed text stays as it was.
 */

import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";

import { countSegments, segmentLabel } from "../client/segments";
import { MAX_BODY_CHARS } from "../protocol/messages";
import { Dialog } from "./ConversationMenu";
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

/** The `datetime-local` value (local time, to the minute) of `ms`. */
export function localInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Pick when to send: a `datetime-local` box ("Send at"), Schedule or Cancel. */
function ScheduleDialog(props: { onSchedule(at: number): void; onCancel(): void }) {
  const { onSchedule, onCancel } = props;
  const [value, setValue] = useState(() => localInput(Date.now() + 60 * 60_000));
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title="Schedule send" onCancel={onCancel}>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const at = new Date(value).getTime();
          if (Number.isNaN(at)) setError("Pick a date and time.");
          else if (at > Date.now() + 365 * 86_400_000) setError("A text can be scheduled at most a year ahead.");
          else onSchedule(at);
        }}
      >
        <label for="schedule-at">Send at</label>
        <input
          id="schedule-at"
          type="datetime-local"
          step={1}
          data-autofocus
          value={value}
          aria-describedby="schedule-hint"
          onInput={(event) => {
            setValue(event.currentTarget.value);
            setError(null);
          }}
        />
        <p id="schedule-hint" class="muted">Your phone keeps it and sends it then; you can cancel it until then.</p>
        {error !== null && <p class="error" role="alert">{error}</p>}
        <div class="dialog-buttons">
          <button type="button" onClick={onCancel}>Cancel</button>
          <button type="submit" class="primary">Schedule</button>
        </div>
      </form>
    </Dialog>
  );
}

export interface ComposerProps {
  /** Send the text (`at`: scheduled for then); resolve true when it was taken (the box is then cleared). */
  onSend(body: string, at?: number): Promise<boolean>;
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
  const [scheduling, setScheduling] = useState(false);
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

  const submit = async (at?: number): Promise<void> => {
    // Read the box itself: a key may arrive before the last input has re-rendered.
    const text = ref.current?.value ?? body;
    if (text.trim() === "" || [...text].length > MAX_BODY_CHARS || busy) return;
    setBusy(true);
    try {
      if (await (at === undefined ? onSend(text) : onSend(text, at))) {
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
    <>
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
        <button
          type="button"
          class="schedule"
          aria-label="Schedule send"
          title="Schedule send"
          disabled={empty || tooLong || busy}
          onClick={() => setScheduling(true)}
        >
          ⏰
        </button>
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
    {scheduling && (
      <ScheduleDialog
        onCancel={() => setScheduling(false)}
        onSchedule={(at) => {
          setScheduling(false);
          void submit(at);
        }}
      />
    )}
    </>
  );
}
