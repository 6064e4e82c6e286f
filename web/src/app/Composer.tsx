/** The text box, the Send button and the live SMS counter. */

import { useRef, useState } from "preact/hooks";

import { countSegments, segmentLabel } from "../client/segments";
import { MAX_BODY_CHARS } from "../protocol/messages";

export interface ComposerProps {
  /** Send the text; resolve true when it was taken (the box is then cleared). */
  onSend(body: string): Promise<boolean>;
  /** The host's limit on parts per text, when known. */
  maxParts: number | null;
  autoFocus?: boolean;
  textareaRef?: { current: HTMLTextAreaElement | null };
}

export function Composer({ onSend, maxParts, autoFocus = false, textareaRef }: ComposerProps) {
  const [body, setBody] = useState("");
  const [busy, setBusy] = useState(false);
  const own = useRef<HTMLTextAreaElement | null>(null);
  const ref = textareaRef ?? own;
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
      <div class="composer-row">
        <textarea
          ref={ref}
          aria-label="Message"
          placeholder="Text message"
          rows={1}
          value={body}
          autoFocus={autoFocus}
          onInput={(e) => setBody(e.currentTarget.value)}
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
