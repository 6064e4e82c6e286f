/**
 * Text rules of the Python reference, where JavaScript's differ.
 *
 * Python counts a string's length in code points (JavaScript in UTF-16
 * units), and Python's `\s` and `str.strip()` know a slightly different set of
 * white space than JavaScript's `\s` and `trim()` (Python adds U+001C..U+001F
 * and U+0085; JavaScript adds U+FEFF). Limits and patterns of protocol v1 are
 * written in Python's terms, so they are checked with these helpers.
 */

/**
 * Python's white space (`str.isspace()`, and `\s` in a `str` pattern), as the
 * body of a regular-expression character class. Use it with the `u` flag.
 */
export const PY_SPACE =
  "\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

const LEADING_SPACE = new RegExp(`^[${PY_SPACE}]+`, "u");
const TRAILING_SPACE = new RegExp(`[${PY_SPACE}]+$`, "u");

/** Python's `text.strip()`: remove Python white space at both ends. */
export function pyStrip(text: string): string {
  return text.replace(LEADING_SPACE, "").replace(TRAILING_SPACE, "");
}

/** Python's `len(text)`: the number of code points (a lone surrogate counts as one). */
export function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length - 1; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length -= 1;
        i += 1;
      }
    }
  }
  return length;
}
