/**
 * Reactions as iPhones send them over SMS ("tapbacks"): a text such as
 * `Loved “See you at 6”` or `Removed a like from “See you at 6”` stands for a
 * reaction to an earlier message whose text it quotes (cut with "…" when long).
 *
 * Pure: no I/O. The host keeps such texts verbatim (searchable, exported as they
 * came); the browser matches them to the message they quote among the messages
 * it shows (docs/protocol.md section 9, "Reactions").
 */

export type TapbackKind = "like" | "love" | "dislike" | "laugh" | "emphasize" | "question";

export const TAPBACK_EMOJI: Readonly<Record<TapbackKind, string>> = {
  like: "👍",
  love: "❤️",
  dislike: "👎",
  laugh: "😂",
  emphasize: "‼️",
  question: "❓",
};

export interface Tapback {
  readonly kind: TapbackKind;
  /** "Removed a like from …": takes that reaction back. */
  readonly removed: boolean;
  /** The quoted text, without its quotes and without a trailing "…". */
  readonly quote: string;
  /** The quote ended with "…" (or "..."): the message only starts with it. */
  readonly cut: boolean;
}

const ADDED: ReadonlyArray<readonly [string, TapbackKind]> = [
  ["Liked", "like"],
  ["Loved", "love"],
  ["Disliked", "dislike"],
  ["Laughed at", "laugh"],
  ["Emphasized", "emphasize"],
  ["Emphasised", "emphasize"],
  ["Questioned", "question"],
];

const REMOVED: ReadonlyArray<readonly [string, TapbackKind]> = [
  ["a like", "like"],
  ["a heart", "love"],
  ["a dislike", "dislike"],
  ["a laugh", "laugh"],
  ["an exclamation", "emphasize"],
  ["a question mark", "question"],
];

const VERBS = new Map<string, { kind: TapbackKind; removed: boolean }>([
  ...ADDED.map(([verb, kind]) => [verb, { kind, removed: false }] as const),
  ...REMOVED.map(([what, kind]) => [`Removed ${what} from`, { kind, removed: true }] as const),
]);

const PATTERN = new RegExp(
  `^(${[...VERBS.keys()].join("|")}) [“"]([\\s\\S]+)[”"]$`,
);
const ELLIPSIS = /(…|\.\.\.)$/;

/** The reaction a text stands for, or null when it is an ordinary text. */
export function parseTapback(body: string): Tapback | null {
  const match = PATTERN.exec(body.trim());
  if (match === null) return null;
  const verb = VERBS.get(match[1]!)!;
  const quoted = match[2]!;
  const cut = ELLIPSIS.test(quoted);
  const quote = cut ? quoted.replace(ELLIPSIS, "") : quoted;
  if (quote.trim() === "") return null;
  return { kind: verb.kind, removed: verb.removed, quote, cut };
}

/** Whether `body` is the text a tapback's quote names: equal, or starting with it. */
export function quotes(tapback: Tapback, body: string): boolean {
  const text = body.trim();
  const quote = tapback.quote.trim();
  return text === quote || (quote !== "" && text.startsWith(quote));
}

export interface Reaction {
  readonly kind: TapbackKind;
  readonly emoji: string;
  /** Who reacted: a sender's number, or "" for this phone's own. */
  readonly from: string;
}

export interface Folded {
  /** Indexes of the messages that are tapbacks shown on their target (not as bubbles). */
  readonly hidden: ReadonlySet<number>;
  /** Reactions on each target message, by its index, in the order they were made. */
  readonly reactions: ReadonlyMap<number, readonly Reaction[]>;
}

/**
 * Fold the tapbacks among `messages` (oldest first) onto the messages they quote:
 * for each, the nearest earlier message that is not itself a tapback and whose text
 * matches or starts with the quote. One reaction per person per message (a new one
 * replaces it, a "Removed …" takes it back). A tapback whose message is not among
 * `messages` stays an ordinary text.
 */
export function foldTapbacks<M>(
  messages: readonly M[],
  body: (message: M) => string,
  from: (message: M) => string,
): Folded {
  const hidden = new Set<number>();
  const reactions = new Map<number, Reaction[]>();
  const parsed = messages.map((m) => parseTapback(body(m)));
  parsed.forEach((tapback, index) => {
    if (tapback === null) return;
    for (let at = index - 1; at >= 0; at--) {
      if (parsed[at] !== null || !quotes(tapback, body(messages[at]!))) continue;
      const who = from(messages[index]!);
      const others = (reactions.get(at) ?? []).filter((r) => r.from !== who);
      const mine = (reactions.get(at) ?? []).find((r) => r.from === who);
      if (tapback.removed) {
        reactions.set(at, mine !== undefined && mine.kind !== tapback.kind ? [...others, mine] : others);
      } else {
        reactions.set(at, [...others, { kind: tapback.kind, emoji: TAPBACK_EMOJI[tapback.kind], from: who }]);
      }
      hidden.add(index);
      return;
    }
  });
  for (const [at, list] of reactions) if (list.length === 0) reactions.delete(at);
  return { hidden, reactions };
}
