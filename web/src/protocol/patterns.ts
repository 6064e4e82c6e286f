/**
 * Noise handshake patterns (revision 34, sections 7 and 9) and the parsing
 * of protocol names such as `Noise_XXpsk0+psk2_25519_AESGCM_SHA256`.
 */

import { ProtocolError } from "./errors";

/** A token of a message pattern. */
export type Token = "e" | "s" | "ee" | "es" | "se" | "ss" | "psk";

/** A token of a pre-message pattern. */
export type PreToken = "e" | "s";

/** A handshake pattern with its modifiers applied. */
export interface HandshakePattern {
  /** The pattern's name with modifiers, e.g. `XXpsk0+psk2`. */
  readonly name: string;
  /** Keys the responder knows about the initiator before the handshake (`-> s`). */
  readonly initiatorPreMessage: readonly PreToken[];
  /** Keys the initiator knows about the responder before the handshake (`<- s`). */
  readonly responderPreMessage: readonly PreToken[];
  /** Message patterns; even indices are sent by the initiator, odd ones by the responder. */
  readonly messages: readonly (readonly Token[])[];
  /** One-way patterns (N, K, X) have a single message and only initiator-to-responder transport. */
  readonly oneWay: boolean;
  /** Whether any `pskN` modifier applies (then every `e` token also calls MixKey). */
  readonly psk: boolean;
}

/** A parsed protocol name; only the suite 25519_AESGCM_SHA256 is supported. */
export interface Protocol {
  readonly name: string;
  readonly pattern: HandshakePattern;
}

/**
 * The base patterns in the spec's own notation: lines before "..." are
 * pre-messages; the rest are messages, "->" from the initiator and "<-"
 * from the responder, alternating.
 */
const BASE_PATTERNS: Readonly<Record<string, readonly string[]>> = {
  // 7.4 One-way patterns
  N: ["<- s", "...", "-> e, es"],
  K: ["-> s", "<- s", "...", "-> e, es, ss"],
  X: ["<- s", "...", "-> e, es, s, ss"],
  // 7.5 Interactive (fundamental) patterns
  NN: ["-> e", "<- e, ee"],
  NK: ["<- s", "...", "-> e, es", "<- e, ee"],
  NX: ["-> e", "<- e, ee, s, es"],
  KN: ["-> s", "...", "-> e", "<- e, ee, se"],
  KK: ["-> s", "<- s", "...", "-> e, es, ss", "<- e, ee, se"],
  KX: ["-> s", "...", "-> e", "<- e, ee, se, s, es"],
  XN: ["-> e", "<- e, ee", "-> s, se"],
  XK: ["<- s", "...", "-> e, es", "<- e, ee", "-> s, se"],
  XX: ["-> e", "<- e, ee, s, es", "-> s, se"],
  IN: ["-> e, s", "<- e, ee, se"],
  IK: ["<- s", "...", "-> e, es, s, ss", "<- e, ee, se"],
  IX: ["-> e, s", "<- e, ee, se, s, es"],
  // 18 Deferred patterns
  NK1: ["<- s", "...", "-> e", "<- e, ee, es"],
  NX1: ["-> e", "<- e, ee, s", "-> es"],
  X1N: ["-> e", "<- e, ee", "-> s", "<- se"],
  X1K: ["<- s", "...", "-> e, es", "<- e, ee", "-> s", "<- se"],
  XK1: ["<- s", "...", "-> e", "<- e, ee, es", "-> s, se"],
  X1K1: ["<- s", "...", "-> e", "<- e, ee, es", "-> s", "<- se"],
  X1X: ["-> e", "<- e, ee, s, es", "-> s", "<- se"],
  XX1: ["-> e", "<- e, ee, s", "-> es, s, se"],
  X1X1: ["-> e", "<- e, ee, s", "-> es, s", "<- se"],
  K1N: ["-> s", "...", "-> e", "<- e, ee", "-> se"],
  K1K: ["-> s", "<- s", "...", "-> e, es", "<- e, ee", "-> se"],
  KK1: ["-> s", "<- s", "...", "-> e", "<- e, ee, se, es"],
  K1K1: ["-> s", "<- s", "...", "-> e", "<- e, ee, es", "-> se"],
  K1X: ["-> s", "...", "-> e", "<- e, ee, s, es", "-> se"],
  KX1: ["-> s", "...", "-> e", "<- e, ee, se, s", "-> es"],
  K1X1: ["-> s", "...", "-> e", "<- e, ee, s", "-> se, es"],
  I1N: ["-> e, s", "<- e, ee", "-> se"],
  I1K: ["<- s", "...", "-> e, es, s", "<- e, ee", "-> se"],
  IK1: ["<- s", "...", "-> e, s", "<- e, ee, se, es"],
  I1K1: ["<- s", "...", "-> e, s", "<- e, ee, es", "-> se"],
  I1X: ["-> e, s", "<- e, ee, s, es", "-> se"],
  IX1: ["-> e, s", "<- e, ee, se, s", "-> es"],
  I1X1: ["-> e, s", "<- e, ee, s", "-> se, es"],
};

const TOKENS: ReadonlySet<string> = new Set<Token>(["e", "s", "ee", "es", "se", "ss", "psk"]);

/** Split one line of notation into its arrow and tokens. */
function parseLine(line: string): { fromInitiator: boolean; tokens: Token[] } {
  const arrow = line.slice(0, 2);
  const tokens = line.slice(2).split(",").map((t) => t.trim());
  if ((arrow !== "->" && arrow !== "<-") || !tokens.every((t) => TOKENS.has(t))) {
    throw new Error(`malformed pattern line: ${line}`);
  }
  return { fromInitiator: arrow === "->", tokens: tokens as Token[] };
}

/** Build a pattern from the table and apply `pskN` modifiers in the order given. */
function buildPattern(base: string, modifiers: readonly string[]): HandshakePattern {
  const lines = BASE_PATTERNS[base];
  if (lines === undefined) {
    throw new ProtocolError(`unsupported Noise handshake pattern "${base}"`, "version_mismatch");
  }
  const split = lines.indexOf("...");
  const preLines = split < 0 ? [] : lines.slice(0, split);
  const messageLines = lines.slice(split + 1);

  const initiatorPreMessage: PreToken[] = [];
  const responderPreMessage: PreToken[] = [];
  for (const line of preLines) {
    const { fromInitiator, tokens } = parseLine(line);
    (fromInitiator ? initiatorPreMessage : responderPreMessage).push(...(tokens as PreToken[]));
  }
  const messages = messageLines.map((line, index) => {
    const { fromInitiator, tokens } = parseLine(line);
    if (fromInitiator !== (index % 2 === 0)) throw new Error(`pattern ${base} does not alternate`);
    return tokens;
  });

  for (const modifier of modifiers) {
    const match = /^psk(\d+)$/.exec(modifier);
    const position = match?.[1] === undefined ? NaN : Number(match[1]);
    if (!(position <= messages.length)) {
      // Python's noise.py: a pskN past the pattern's last message is bad_message.
      throw new ProtocolError(`unsupported Noise pattern modifier "${modifier}" for ${base}`, "bad_message");
    }
    // psk0 goes at the start of the first message, pskN at the end of the Nth.
    if (position === 0) messages[0]?.unshift("psk");
    else messages[position - 1]?.push("psk");
  }

  return {
    name: base + modifiers.join("+"),
    initiatorPreMessage,
    responderPreMessage,
    messages,
    oneWay: base.length === 1,
    psk: modifiers.length > 0,
  };
}

/** The only cipher suite this implementation speaks. */
export const SUITE = "25519_AESGCM_SHA256";

/**
 * Parse a full protocol name, e.g. `Noise_IK_25519_AESGCM_SHA256`. Throws
 * `ProtocolError("version_mismatch")` for any other suite or an unknown
 * pattern, as Python's noise.py does, and `ProtocolError("bad_message")` for a
 * `pskN` modifier naming a message the pattern lacks.
 */
export function parseProtocolName(name: string): Protocol {
  const parts = name.split("_");
  if (parts.length !== 5 || parts[0] !== "Noise") {
    throw new ProtocolError(`not a Noise protocol name: "${name}"`, "version_mismatch");
  }
  const suite = parts.slice(2).join("_");
  if (suite !== SUITE) {
    throw new ProtocolError(`unsupported Noise suite "${suite}"; only ${SUITE} is supported`, "version_mismatch");
  }
  // One digit per psk modifier, like noise.py (`psk\d`).
  const match = /^([NKXI]1?(?:[NKX]1?)?)((?:psk\d)(?:\+psk\d)*)?$/.exec(parts[1] ?? "");
  if (match === null || match[1] === undefined) {
    throw new ProtocolError(`unsupported Noise handshake pattern "${parts[1] ?? ""}"`, "version_mismatch");
  }
  const modifiers = match[2] === undefined ? [] : match[2].split("+");
  return { name, pattern: buildPattern(match[1], modifiers) };
}
