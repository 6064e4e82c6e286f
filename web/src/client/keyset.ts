/**
 * Keyset positions and the spans of history a device has cached (pure).
 *
 * A conversation's position is `[last_at, id]`, a message's `[at, id]`
 * (docs/protocol.md section 9); they compare as pairs. Pages are asked for
 * from a position, so what a device holds of a thread is a few segments, each
 * known to have no gap: the newest one (`high` null) grows with live events,
 * a search hit opens another, and scrolling grows them until they meet.
 */

import type { ConversationRecord, MessageRecord, Position } from "../protocol/messages";

/** A span of a thread cached without gaps; bounds are inclusive, null is open. */
export interface Segment {
  /** The oldest position covered, or null: the thread's first message is in. */
  readonly low: Position | null;
  /** The newest position covered, or null: up to the newest (events keep it so). */
  readonly high: Position | null;
}

export function compare(a: Position, b: Position): number {
  return a[0] - b[0] || a[1] - b[1];
}

export function samePosition(a: Position | null, b: Position | null): boolean {
  return a === null || b === null ? a === b : compare(a, b) === 0;
}

export function messagePosition(message: Pick<MessageRecord, "at" | "id">): Position {
  return [message.at, message.id];
}

export function conversationPosition(conv: Pick<ConversationRecord, "last_at" | "id">): Position {
  return [conv.last_at, conv.id];
}

/** Whether `position` lies in `segment`. */
export function contains(segment: Segment, position: Position): boolean {
  return (segment.low === null || compare(segment.low, position) <= 0)
    && (segment.high === null || compare(position, segment.high) <= 0);
}

/** `segments` with `added`, overlapping ones joined, oldest first. */
export function merge(segments: readonly Segment[], added: Segment): Segment[] {
  const sorted = [...segments, added].sort((a, b) =>
    a.low === null ? -1 : b.low === null ? 1 : compare(a.low, b.low));
  const out: Segment[] = [];
  for (const segment of sorted) {
    const last = out.at(-1);
    const overlaps = last !== undefined
      && (last.high === null || segment.low === null || compare(segment.low, last.high) <= 0);
    if (!overlaps) {
      out.push(segment);
      continue;
    }
    const high = last.high === null || segment.high === null
      ? null
      : compare(last.high, segment.high) >= 0 ? last.high : segment.high;
    out[out.length - 1] = { low: last.low, high };
  }
  return out;
}

/** The segment holding `anchor`, or (anchor null) the newest one; null when not cached. */
export function segmentAt(segments: readonly Segment[], anchor: Position | null): Segment | null {
  return segments.find((s) => (anchor === null ? s.high === null : contains(s, anchor))) ?? null;
}

/** The position just after `position` in keyset order: `before` it includes `position`. */
export function through(position: Position): Position {
  return [position[0], position[1] + 1];
}
