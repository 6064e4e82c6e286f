/**
 * Errors in plain words, with what to do about them. Pure: the views show
 * what these return.
 */

import { TextportError } from "../protocol/errors";
import { SocketClosed, Timeout } from "./socket";

export type PairingSource = "link" | "offer" | "code";

/** What went wrong with a pairing, and what to do next. */
export function pairingError(err: unknown, source: PairingSource): string {
  const again =
    source === "link" ? "Run `textport pair --link` on the host again and open the new link."
    : "Start again with the new code on this page.";
  if (err instanceof SocketClosed) {
    return err.opened
      ? `The connection to the relay closed during pairing. ${again}`
      : "Can't reach the relay. Check that textport is running on the host, then reload this page.";
  }
  if (err instanceof Timeout) return `The host did not answer in time. ${again}`;
  if (!(err instanceof TextportError)) return `Pairing failed because of a bug (${String(err)}). Reload this page.`;
  switch (err.code) {
    case "pairing_expired":
      return source === "link"
        ? "This pairing link expired. Run `textport pair --link` again."
        : "This pairing code expired. Use the new one on this page.";
    case "pairing_used":
      return source === "link"
        ? "This pairing link was already used. Run `textport pair --link` again."
        : "This pairing code was already used. Use the new one on this page.";
    case "pairing_unknown":
      return source === "link"
        ? "The relay doesn't know this pairing link: it may have expired or the host stopped waiting. Run `textport pair --link` again."
        : "The relay doesn't know this pairing code. Use the new one on this page.";
    case "pairing_rejected":
      return "Pairing was declined on the host.";
    case "relay_not_allowed":
      return "This pairing link names another relay than the one serving this page, so it was refused. Open the link printed by your own host.";
    case "bad_pairing_code":
      return source === "link"
        ? "This pairing link is damaged. Copy the whole link again, or run `textport pair --link` again."
        : "The pairing code is damaged. Use the new one on this page.";
    case "version_mismatch":
      return "The host runs another version of textport. Update textport on the host or reload this page.";
    case "decrypt_failed":
    case "bad_key":
    case "commitment_mismatch":
      return `The secure handshake with the host failed: the code may be wrong, or someone may be interfering. ${again}`;
    case "rate_limited":
      return "Too many pairing attempts. Wait a minute, then try again.";
    case "session_closed":
      return `The connection closed during pairing. ${again}`;
    default:
      return `Pairing failed (${err.code}): ${err.message}. ${again}`;
  }
}

const UNITS: readonly (readonly [string, number])[] = [["day", 86_400], ["hour", 3_600], ["minute", 60], ["second", 1]];

/**
 * `86_400_000` -> "1 day", `5_400_000` -> "90 minutes": a duration in ms in
 * its largest whole unit (store.py `duration_words` gives the same words).
 */
export function durationWords(ms: number): string {
  const seconds = Math.max(1, Math.floor((ms + 500) / 1000));
  const [unit, size] = UNITS.find(([, n]) => seconds % n === 0)!;
  const count = seconds / size;
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

/**
 * Why a text was not sent: it could not reach the host within its lifetime
 * `ttl` (ms) after the person pressed Send, or after the time it was scheduled
 * for (`scheduled`). The host's store.py `unreachable_reason` says the same.
 */
export function unreachableReason(ttl: number, scheduled = false): string {
  const since = scheduled ? "the time you scheduled it for" : "you pressed Send";
  return `Not sent: your phone was out of reach for longer than ${durationWords(ttl)} after ${since}.`;
}
