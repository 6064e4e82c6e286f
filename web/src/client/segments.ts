/**
 * How many SMS a text costs (3GPP TS 23.038 / 23.040), without I/O.
 *
 * A text that fits the GSM 7-bit default alphabet (with its extension table,
 * whose characters take an escape and so count 2) is sent as GSM-7: 160
 * septets in one SMS, 153 per part once it is split (the user data header
 * takes the rest). Anything else goes as UCS-2: 70 UTF-16 units in one SMS,
 * 67 per part; a character outside the BMP (most emoji) takes 2 units. A part
 * never splits an escape pair or a surrogate pair, so a part may hold one
 * unit less than its maximum; and in UCS-2 a combining mark that would begin a
 * part takes the character before it along (libGammu's rule; the host's
 * transports/gsm.py cuts the same way).
 */

/** The GSM 03.38 default alphabet (ESC, 0x1B, is left out: nobody types it). */
const GSM_BASIC = new Set(
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà",
);

/** The GSM 03.38 extension table: each costs an escape plus the character. */
const GSM_EXTENSION = new Set("\f^{}\\[~]|€");

export type Encoding = "GSM-7" | "UCS-2";

export interface SegmentCount {
  readonly encoding: Encoding;
  /** Septets (GSM-7) or UTF-16 units (UCS-2) the text takes. */
  readonly units: number;
  /** How many SMS it is sent as (0 for an empty text). */
  readonly parts: number;
  /** Units that fit in one SMS on its own: 160 or 70. */
  readonly single: number;
  /** Units per part of a split text: 153 or 67. */
  readonly perPart: number;
  /** What the counter shows as the limit: `single`, or `parts × perPart` once split. */
  readonly capacity: number;
}

export const LIMITS: Readonly<Record<Encoding, { single: number; perPart: number }>> = {
  "GSM-7": { single: 160, perPart: 153 },
  "UCS-2": { single: 70, perPart: 67 },
};

/** Septets a character takes in GSM-7: 1, 2 (extension table) or null (not encodable). */
export function gsmWeight(char: string): 1 | 2 | null {
  if (GSM_BASIC.has(char)) return 1;
  if (GSM_EXTENSION.has(char)) return 2;
  return null;
}

/** The combining-mark blocks that stay with the character before them. */
const COMBINING: readonly (readonly [number, number])[] = [
  [0x0300, 0x036f], [0x1ab0, 0x1aff], [0x1dc0, 0x1dff], [0x20d0, 0x20ff], [0xfe20, 0xfe2f],
];

export function isCombining(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return COMBINING.some(([low, high]) => low <= code && code <= high);
}

/** Whether the whole text can be sent in the GSM 7-bit alphabet. */
export function isGsm7(text: string): boolean {
  for (const char of text) if (gsmWeight(char) === null) return false;
  return true;
}

/** Count the SMS a text needs. */
export function countSegments(text: string): SegmentCount {
  const encoding: Encoding = isGsm7(text) ? "GSM-7" : "UCS-2";
  const { single, perPart } = LIMITS[encoding];
  // One weight per code point: septets for GSM-7, UTF-16 units for UCS-2.
  const chars = [...text];
  const weights = chars.map((char) => (encoding === "GSM-7" ? (gsmWeight(char) ?? 1) : char.length));
  const units = weights.reduce((sum, w) => sum + w, 0);
  let parts: number;
  if (units === 0) parts = 0;
  else if (units <= single) parts = 1;
  else {
    parts = 1;
    let used = 0;
    let start = 0;
    weights.forEach((w, i) => {
      if (used + w > perPart) {
        parts += 1;
        // A combining mark does not begin a part: its base character comes along.
        start = encoding === "UCS-2" && isCombining(chars[i]!) && i - 1 > start ? i - 1 : i;
        used = start < i ? weights[i - 1]! : 0;
      }
      used += w;
    });
  }
  const capacity = parts <= 1 ? single : parts * perPart;
  return { encoding, units, parts, single, perPart, capacity };
}

/** The counter under the composer, e.g. "42 / 160 · 1 SMS" or "170 / 306 · 2 SMS". */
export function segmentLabel(count: SegmentCount): string {
  return `${count.units} / ${count.capacity} · ${count.parts} SMS`;
}
