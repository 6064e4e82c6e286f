/**
 * Phone numbers as people type them, without I/O.
 *
 * The protocol takes E.164 (`+`, then 2…15 digits not starting with 0) or a
 * short code of 3…8 digits (docs/protocol.md section 9). People type spaces,
 * dashes, dots and parentheses; those are dropped. Anything else, or a
 * national number without its country code, is refused with a sentence that
 * says what to type: the client never guesses a country.
 */

import { NUMBER_PATTERN } from "../protocol/messages";

export const NUMBER_HINT = "Enter the number with its country code, like +1 555 010 0100";

export type NumberResult =
  | { readonly ok: true; readonly number: string }
  | { readonly ok: false; readonly error: string };

/** Separators people type inside a number (spaces include no-break and thin spaces). */
const SEPARATORS = /[\s\u00a0\u2007\u202f.()\-\u2010-\u2015]/gu;

/** The canonical number (E.164 or a short code), or the reason it is not one. */
export function normalizeNumber(input: string): NumberResult {
  const compact = input.replace(SEPARATORS, "");
  if (compact === "") return { ok: false, error: "Enter a phone number." };
  if (!/^\+?[0-9]+$/u.test(compact)) return { ok: false, error: NUMBER_HINT };
  if (NUMBER_PATTERN.test(compact)) return { ok: true, number: compact };
  return { ok: false, error: NUMBER_HINT };
}

/** Whether two peer lists name the same people (order does not matter). */
export function samePeers(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...b].sort();
  return [...a].sort().every((value, i) => value === sorted[i]);
}
