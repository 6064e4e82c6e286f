/**
 * Strict JSON decoding against a schema, and encoding in the schema's order.
 *
 * The Python side decodes application messages and control frames with
 * msgspec, which parses and validates in one pass: the first problem met in
 * the input, a syntax error or an invalid field, is the one reported, and its
 * path decides the error code (messages.py `_code_for`). To give the same
 * codes for the same bytes this module does the same, byte by byte:
 *
 * - JSON syntax is RFC 8259 (no BOM, no trailing commas, no leading zeros,
 *   no lone surrogates in `\u` escapes, no raw control characters);
 * - an integer field takes only a JSON number without fraction or exponent
 *   (`1.0` and `1e3` are floats, as for msgspec);
 * - a string is checked for UTF-8 only where its value is used, so invalid
 *   UTF-8 in an ignored field or key passes, as in msgspec;
 * - a scalar of the wrong type is read to its end before the type error (so a
 *   malformed one is a syntax error), an array or object is refused at once;
 * - array lengths are checked after the elements; missing fields at the end
 *   of their object; duplicate keys are each validated and the last one wins;
 * - a tagged union finds its tag first, looking ahead past other fields if it
 *   is not the first key, then reads the object from the start; a repeated
 *   tag must name the same variant;
 * - unknown fields are skipped (but must be well-formed JSON), nested at most
 *   MAX_DEPTH deep.
 *
 * Encoding builds a fresh object per value with keys in schema order (a
 * union's tag first) and hands it to `JSON.stringify`, whose string escaping
 * is byte-identical to msgspec's (`\uXXXX` in lower case for other control
 * characters, everything else as UTF-8).
 */

import { codePointLength } from "./text";

/** Deepest nesting of arrays and objects accepted, counting the outermost value as 1. */
export const MAX_DEPTH = 256;

/** Where in the document a problem is: field names and array indices from the root. */
export type Path = readonly (string | number)[];

/** What was wrong with a well-formed value. */
export type InvalidReason =
  | "type" // a value of another JSON type
  | "too_short" // a string or array under its minimum length
  | "too_long" // a string or array over its maximum length
  | "pattern" // a string not matching its pattern
  | "range" // an integer out of range
  | "enum" // a string not among the allowed values
  | "missing" // a required field is absent (the path is the object's)
  | "tag"; // a tagged union's tag names no variant (or another one than before)

/** Base of the two decode failures; the caller maps them to its error codes. */
export class JsonFailure extends Error {}

/** The input is not well-formed JSON (or not UTF-8 where it had to be). */
export class JsonSyntaxError extends JsonFailure {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`JSON is malformed: ${reason} (byte ${offset})`);
  }
}

/** The JSON is well formed but a value breaks the schema. */
export class JsonInvalid extends JsonFailure {
  constructor(
    readonly path: Path,
    readonly reason: InvalidReason,
    detail: string,
  ) {
    super(`${detail}${path.length > 0 ? ` - at \`${formatPath(path)}\`` : ""}`);
  }
}

/** `$.events[0].msg`, as msgspec writes paths. */
export function formatPath(path: Path): string {
  return "$" + path.map((part) => (typeof part === "number" ? `[${part}]` : `.${part}`)).join("");
}

/** A path under construction: a linked list, turned into an array only on failure. */
interface PathNode {
  readonly parent: PathNode | null;
  readonly key: string | number;
}

function toPath(node: PathNode | null): Path {
  const out: (string | number)[] = [];
  for (let n = node; n !== null; n = n.parent) out.push(n.key);
  return out.reverse();
}

function at(parent: PathNode | null, key: string | number): PathNode {
  return { parent, key };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenientUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  return -1;
}

/** A lexed JSON string: the bytes between its quotes, and whether it has escapes. */
interface StringToken {
  readonly start: number;
  readonly end: number;
  readonly escaped: boolean;
}

/** A cursor over the input bytes, with the lexical rules of strict JSON. */
export class Parser {
  pos = 0;

  constructor(readonly data: Uint8Array) {}

  syntax(reason: string): never {
    throw new JsonSyntaxError(reason, this.pos);
  }

  /** Skip JSON white space (space, tab, line feed, carriage return only). */
  skipSpace(): void {
    const data = this.data;
    let pos = this.pos;
    for (;;) {
      const b = data[pos];
      if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) pos++;
      else break;
    }
    this.pos = pos;
  }

  /** The next significant byte, or -1 at the end of the input. */
  peek(): number {
    this.skipSpace();
    return this.data[this.pos] ?? -1;
  }

  /** Consume `byte` (after white space) or fail with `reason`. */
  expect(byte: number, reason: string): void {
    if (this.peek() !== byte) this.fail(reason);
    this.pos++;
  }

  /** A syntax error; "truncated" when the input ended. */
  fail(reason: string): never {
    if (this.pos >= this.data.length) this.syntax("input data was truncated");
    this.syntax(reason);
  }

  /** Lex a string at `pos` (on its opening quote), checking escapes and control characters. */
  lexString(): StringToken {
    const data = this.data;
    let pos = this.pos + 1;
    const start = pos;
    let escaped = false;
    for (;;) {
      const b = data[pos];
      if (b === undefined) {
        this.pos = pos;
        this.syntax("input data was truncated");
      }
      if (b === QUOTE) break;
      if (b === BACKSLASH) {
        escaped = true;
        const e = data[pos + 1];
        if (e === 0x75 /* u */) {
          const unit = this.#hex4(pos + 2);
          pos += 6;
          if (unit >= 0xdc00 && unit <= 0xdfff) {
            this.pos = pos;
            this.syntax("invalid utf-16 surrogate pair");
          }
          if (unit >= 0xd800 && unit <= 0xdbff) {
            if (data[pos] !== BACKSLASH || data[pos + 1] !== 0x75) {
              this.pos = pos;
              this.syntax("unexpected end of hex escape");
            }
            const low = this.#hex4(pos + 2);
            pos += 6;
            if (low < 0xdc00 || low > 0xdfff) {
              this.pos = pos;
              this.syntax("invalid utf-16 surrogate pair");
            }
          }
          continue;
        }
        if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66
          || e === 0x6e || e === 0x72 || e === 0x74) {
          pos += 2;
          continue;
        }
        this.pos = pos + 1;
        if (e === undefined) this.syntax("input data was truncated");
        this.syntax("invalid escape character in string");
      }
      if (b < 0x20) {
        this.pos = pos;
        this.syntax("invalid character");
      }
      pos++;
    }
    this.pos = pos + 1;
    return { start, end: pos, escaped };
  }

  #hex4(pos: number): number {
    let unit = 0;
    for (let i = 0; i < 4; i++) {
      const digit = hexValue(this.data[pos + i]);
      if (digit < 0) {
        this.pos = pos + i;
        if (pos + i >= this.data.length) this.syntax("input data was truncated");
        this.syntax("invalid character in unicode escape");
      }
      unit = unit * 16 + digit;
    }
    return unit;
  }

  /** The text of a lexed string; `strict` refuses invalid UTF-8 (else it becomes U+FFFD). */
  text(token: StringToken, strict = true): string {
    const decoder = strict ? strictUtf8 : lenientUtf8;
    const decode = (from: number, to: number): string => {
      try {
        return decoder.decode(this.data.subarray(from, to));
      } catch {
        this.pos = from;
        return this.syntax("invalid UTF-8");
      }
    };
    if (!token.escaped) return decode(token.start, token.end);
    let out = "";
    let run = token.start;
    let pos = token.start;
    while (pos < token.end) {
      if (this.data[pos] !== BACKSLASH) {
        pos++;
        continue;
      }
      out += decode(run, pos);
      const e = this.data[pos + 1];
      if (e === 0x75) {
        let unit = 0;
        for (let i = 0; i < 4; i++) unit = unit * 16 + hexValue(this.data[pos + 2 + i]);
        out += String.fromCharCode(unit); // a surrogate pair comes as two escapes, checked by lexString
        pos += 6;
      } else {
        out += ESCAPES[e ?? 0] ?? "";
        pos += 2;
      }
      run = pos;
    }
    return out + decode(run, token.end);
  }

  /** Lex a number at `pos`; `integer` when it has neither fraction nor exponent. */
  lexNumber(): { integer: boolean; text: string } {
    const data = this.data;
    const start = this.pos;
    let pos = start;
    if (data[pos] === MINUS) pos++;
    if (data[pos] === 0x30) {
      pos++;
      if (isDigit(data[pos])) {
        this.pos = pos;
        this.syntax("invalid number");
      }
    } else if (isDigit(data[pos])) {
      while (isDigit(data[pos])) pos++;
    } else {
      this.pos = pos;
      this.fail("invalid character");
    }
    let integer = true;
    if (data[pos] === 0x2e /* . */) {
      integer = false;
      pos++;
      if (!isDigit(data[pos])) {
        this.pos = pos;
        this.fail("invalid number");
      }
      while (isDigit(data[pos])) pos++;
    }
    if (data[pos] === 0x65 || data[pos] === 0x45 /* e E */) {
      integer = false;
      pos++;
      if (data[pos] === 0x2b || data[pos] === MINUS) pos++;
      if (!isDigit(data[pos])) {
        this.pos = pos;
        this.fail("invalid number");
      }
      while (isDigit(data[pos])) pos++;
    }
    this.pos = pos;
    let text = "";
    for (let i = start; i < pos; i++) text += String.fromCharCode(data[i] ?? 0);
    return { integer, text };
  }

  /** Lex `true`, `false` or `null` at `pos`. */
  lexLiteral(): boolean | null {
    for (const [word, value] of LITERALS) {
      if (this.data[this.pos] !== word.charCodeAt(0)) continue;
      for (let i = 1; i < word.length; i++) {
        if (this.data[this.pos + i] !== word.charCodeAt(i)) {
          this.pos += i;
          this.fail("invalid character");
        }
      }
      this.pos += word.length;
      return value;
    }
    return this.fail("invalid character");
  }

  /** Read an object key (at its opening quote) and the colon after it. */
  key(): string {
    const key = this.text(this.lexString(), false);
    this.expect(COLON, "expected ':'");
    return key;
  }

  /** After a member: `true` if another one follows, `false` at the closing byte. */
  next(close: number): boolean {
    const b = this.peek();
    if (b === COMMA) {
      this.pos++;
      const after = this.peek();
      if (after === close) this.syntax(`trailing comma in ${close === CLOSE_BRACE ? "object" : "array"}`);
      if (close === CLOSE_BRACE && after !== QUOTE) this.fail("object keys must be strings");
      return true;
    }
    if (b === close) {
      this.pos++;
      return false;
    }
    return this.fail(close === CLOSE_BRACE ? "expected ',' or '}'" : "expected ',' or ']'");
  }

  /** Skip one well-formed value of any type. */
  skip(depth: number): void {
    const b = this.peek();
    if (b === QUOTE) {
      this.lexString();
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (depth >= MAX_DEPTH) this.syntax("nested too deeply");
      this.pos++;
      const close = b === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET;
      const first = this.peek();
      if (first === close) {
        this.pos++;
        return;
      }
      if (b === OPEN_BRACE && first !== QUOTE) this.fail("object keys must be strings");
      do {
        if (b === OPEN_BRACE) this.key();
        this.skip(depth + 1);
      } while (this.next(close));
    } else if (b === MINUS || isDigit(b)) {
      this.lexNumber();
    } else {
      this.lexLiteral();
    }
  }

  /**
   * Refuse the value at `pos` as not of type `expected`: a scalar is lexed to
   * its end first (so a malformed one is a syntax error), a container is not.
   */
  mismatch(path: PathNode | null, expected: string): never {
    const b = this.peek();
    let got: string;
    if (b === OPEN_BRACE) got = "object";
    else if (b === OPEN_BRACKET) got = "array";
    else if (b === QUOTE) {
      this.lexString();
      got = "str";
    } else if (b === MINUS || isDigit(b)) {
      got = this.lexNumber().integer ? "int" : "float";
    } else {
      got = this.lexLiteral() === null ? "null" : "bool";
    }
    throw new JsonInvalid(toPath(path), "type", `Expected \`${expected}\`, got \`${got}\``);
  }
}

const ESCAPES: Readonly<Record<number, string>> = {
  0x22: '"', 0x5c: "\\", 0x2f: "/", 0x62: "\b", 0x66: "\f", 0x6e: "\n", 0x72: "\r", 0x74: "\t",
};

const LITERALS: readonly (readonly [string, boolean | null])[] = [["true", true], ["false", false], ["null", null]];

// ---------------------------------------------------------------- schemas

/** How to read one value of type `T` from JSON and write it back. */
export interface Schema<T> {
  /** Read the value at the parser's position; `depth` counts enclosing containers. */
  read(p: Parser, path: PathNode | null, depth: number): T;
  /** A fresh JSON-ready value (keys in wire order) for `JSON.stringify`. */
  write(value: T): unknown;
  /** As a struct field: the value when the field is absent (else the field is required). */
  readonly absent?: { readonly value: T };
}

/** Decode `data` as exactly one value of `schema` (white space around it allowed). */
export function decodeJson<T>(schema: Schema<T>, data: Uint8Array): T {
  const p = new Parser(data);
  if (p.peek() < 0) p.syntax("input data was truncated");
  const value = schema.read(p, null, 0);
  if (p.peek() >= 0) p.syntax("trailing characters");
  return value;
}

/** Encode `value` with `schema` as UTF-8 JSON. */
export function encodeJson<T>(schema: Schema<T>, value: T): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify(schema.write(value), wellFormed));
}

/**
 * Replace lone UTF-16 surrogates (a broken paste, a cut emoji) with U+FFFD, as UTF-8
 * requires; JSON.stringify would escape them as `\udXXX`, which the host must refuse.
 */
function wellFormed(_key: string, value: unknown): unknown {
  return typeof value === "string" ? value.replace(/\p{Surrogate}/gu, "\uFFFD") : value;
}

function invalid(path: PathNode | null, reason: InvalidReason, detail: string): never {
  throw new JsonInvalid(toPath(path), reason, detail);
}

/** An integer from `min` to `max` (both within ±2^53). */
export function int(min: number, max: number): Schema<number> {
  return {
    read(p, path) {
      const b = p.peek();
      if (b !== MINUS && !isDigit(b)) p.mismatch(path, "int");
      const { integer, text } = p.lexNumber();
      if (!integer) invalid(path, "type", "Expected `int`, got `float`");
      // Rounding is monotonic, so comparing the nearest double is exact for safe bounds.
      const value = Number(text);
      if (value < min) invalid(path, "range", `Expected \`int\` >= ${min}`);
      if (value > max) invalid(path, "range", `Expected \`int\` <= ${max}`);
      return value + 0; // -0 is 0
    },
    write: (value) => value,
  };
}

/** Constraints of a string; lengths count code points, as Python does. */
export interface StrOptions {
  readonly min?: number;
  readonly max?: number;
  /** Tested against the whole string; give it the `u` flag. */
  readonly pattern?: RegExp;
}

/** A string. */
export function str(options: StrOptions = {}): Schema<string> {
  const { min, max, pattern } = options;
  return {
    read(p, path) {
      if (p.peek() !== QUOTE) p.mismatch(path, "str");
      const value = p.text(p.lexString());
      if (min !== undefined || max !== undefined) {
        const length = codePointLength(value);
        if (min !== undefined && length < min) invalid(path, "too_short", `Expected \`str\` of length >= ${min}`);
        if (max !== undefined && length > max) invalid(path, "too_long", `Expected \`str\` of length <= ${max}`);
      }
      if (pattern !== undefined && !pattern.test(value)) {
        invalid(path, "pattern", `Expected \`str\` matching regex '${pattern.source}'`);
      }
      return value;
    },
    write: (value) => value,
  };
}

/** `true` or `false`. */
export function bool(): Schema<boolean> {
  return {
    read(p, path) {
      const b = p.peek();
      if (b !== 0x74 && b !== 0x66) p.mismatch(path, "bool");
      return p.lexLiteral() === true;
    },
    write: (value) => value,
  };
}

/** One of a few strings. */
export function literal<const V extends string>(...values: readonly V[]): Schema<V> {
  const allowed: ReadonlySet<string> = new Set(values);
  return {
    read(p, path) {
      if (p.peek() !== QUOTE) p.mismatch(path, "str");
      const value = p.text(p.lexString());
      if (!allowed.has(value)) invalid(path, "enum", "Invalid enum value");
      return value as V;
    },
    write: (value) => value,
  };
}

/** `inner`, or `null`. */
export function nullable<T>(inner: Schema<T>): Schema<T | null> {
  return {
    read(p, path, depth) {
      if (p.peek() === 0x6e /* n */) {
        p.lexLiteral(); // `null`, or a syntax error
        return null;
      }
      return inner.read(p, path, depth);
    },
    write: (value) => (value === null ? null : inner.write(value)),
  };
}

/** An array of `item`, with `min`..`max` elements. */
export function array<T>(item: Schema<T>, min = 0, max = Infinity): Schema<readonly T[]> {
  return {
    read(p, path, depth) {
      if (p.peek() !== OPEN_BRACKET) p.mismatch(path, "array");
      if (depth >= MAX_DEPTH) p.syntax("nested too deeply");
      p.pos++;
      const out: T[] = [];
      if (p.peek() === CLOSE_BRACKET) p.pos++;
      else {
        do out.push(item.read(p, at(path, out.length), depth + 1));
        while (p.next(CLOSE_BRACKET));
      }
      if (out.length < min) invalid(path, "too_short", `Expected \`array\` of length >= ${min}`);
      if (out.length > max) invalid(path, "too_long", `Expected \`array\` of length <= ${max}`);
      return out;
    },
    write: (value) => value.map((element) => item.write(element)),
  };
}

/** A fixed-length array of the given element schemas (Python's `tuple[A, B]`). */
export function tuple<const T extends readonly unknown[]>(
  ...items: { readonly [K in keyof T]: Schema<T[K]> }
): Schema<Readonly<T>> {
  const schemas = items as readonly Schema<unknown>[];
  const length = (path: PathNode | null, reason: InvalidReason): never =>
    invalid(path, reason, `Expected \`array\` of length ${schemas.length}`);
  return {
    read(p, path, depth) {
      if (p.peek() !== OPEN_BRACKET) p.mismatch(path, "array");
      if (depth >= MAX_DEPTH) p.syntax("nested too deeply");
      p.pos++;
      const out: unknown[] = [];
      if (p.peek() === CLOSE_BRACKET) p.pos++;
      else {
        // As msgspec: an element past the last is refused before it is read.
        do {
          const schema = schemas[out.length];
          if (schema === undefined) return length(path, "too_long");
          out.push(schema.read(p, at(path, out.length), depth + 1));
        } while (p.next(CLOSE_BRACKET));
      }
      if (out.length < schemas.length) length(path, "too_short");
      return out as unknown as Readonly<T>;
    },
    write: (value) => schemas.map((schema, i) => schema.write((value as readonly unknown[])[i])),
  };
}

/** `inner` as a struct field that may be absent: it then reads as `value` (msgspec's default). */
export function optional<T>(inner: Schema<T>, value: T): Schema<T> {
  return { ...inner, absent: { value } };
}

/** The fields of a struct, in wire order: one schema per property of `T`. */
export type Fields<T> = { readonly [K in keyof T]-?: Schema<T[K]> };

/** An object with the given fields (required unless `optional`; unknown ones are skipped). */
export interface StructSchema<T> extends Schema<T> {
  /** Read the members after the opening brace; `tag` is a union's tag field and value. */
  readBody(p: Parser, path: PathNode | null, depth: number, tag?: TagCheck): T;
}

interface TagCheck {
  readonly field: string;
  readonly value: string;
}

/** A struct (a JSON object) with the given fields, in wire order. */
export function struct<T extends object>(fields: Fields<T>): StructSchema<T> {
  const entries = Object.entries(fields) as [string, Schema<unknown>][];
  const byName = new Map(entries);
  return {
    read(p, path, depth) {
      if (p.peek() !== OPEN_BRACE) p.mismatch(path, "object");
      return this.readBody(p, path, depth);
    },
    readBody(p, path, depth, tag) {
      if (depth >= MAX_DEPTH) p.syntax("nested too deeply");
      p.expect(OPEN_BRACE, "expected '{'");
      const out: Record<string, unknown> = {};
      const first = p.peek();
      if (first === CLOSE_BRACE) p.pos++;
      else {
        if (first !== QUOTE) p.fail("object keys must be strings");
        do {
          const key = p.key();
          const schema = byName.get(key);
          if (tag !== undefined && key === tag.field) {
            const value = readTag(p, at(path, key));
            if (value !== tag.value) invalid(at(path, key), "tag", `Invalid value '${value}'`);
          } else if (schema !== undefined) {
            out[key] = schema.read(p, at(path, key), depth + 1);
          } else {
            p.skip(depth + 1);
          }
        } while (p.next(CLOSE_BRACE));
      }
      for (const [name, schema] of entries) {
        if (name in out) continue;
        if (schema.absent === undefined) invalid(path, "missing", `Object missing required field \`${name}\``);
        out[name] = schema.absent.value;
      }
      return out as T;
    },
    write(value) {
      const out: Record<string, unknown> = {};
      for (const [name, schema] of entries) out[name] = schema.write((value as Record<string, unknown>)[name]);
      return out;
    },
  };
}

function readTag(p: Parser, path: PathNode): string {
  if (p.peek() !== QUOTE) p.mismatch(path, "str");
  return p.text(p.lexString());
}

/** The variants of a tagged union `T` whose tag is `F`: one struct (without the tag) per tag value. */
export type Variants<F extends string, T extends { readonly [K in F]: string }> = {
  readonly [V in T[F]]: StructSchema<Omit<Extract<T, { readonly [K in F]: V }>, F>>;
};

/** A tagged union of structs: the field `tag` names the variant and is written first. */
export function union<F extends string, T extends { readonly [K in F]: string }>(
  tag: F,
  variants: Variants<F, T>,
): Schema<T> {
  const byTag = new Map(Object.entries(variants) as [string, StructSchema<object>][]);
  return {
    read(p, path, depth) {
      if (p.peek() !== OPEN_BRACE) p.mismatch(path, "object");
      if (depth >= MAX_DEPTH) p.syntax("nested too deeply");
      const start = p.pos;
      // Find the tag: usually the first key, else look ahead past the others.
      p.pos++;
      let value: string | undefined;
      const b = p.peek();
      if (b !== CLOSE_BRACE) {
        if (b !== QUOTE) p.fail("object keys must be strings");
        do {
          if (p.key() === tag) {
            value = readTag(p, at(path, tag));
            break;
          }
          p.skip(depth + 1);
        } while (p.next(CLOSE_BRACE));
      }
      if (value === undefined) invalid(path, "missing", `Object missing required field \`${tag}\``);
      const variant = byTag.get(value);
      if (variant === undefined) invalid(at(path, tag), "tag", `Invalid value '${value}'`);
      p.pos = start;
      const body = variant.readBody(p, path, depth, { field: tag, value });
      return { [tag]: value, ...body } as unknown as T;
    },
    write(value) {
      const name = value[tag];
      const variant = byTag.get(name);
      if (variant === undefined) throw new TypeError(`unknown ${tag} ${JSON.stringify(name)}`);
      const body = variant.write(value as never) as Record<string, unknown>;
      return { [tag]: name, ...body };
    },
  };
}
