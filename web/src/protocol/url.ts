/**
 * The few pieces of Python's `urllib.parse` that pairing offers depend on,
 * reproduced so that an offer is read exactly as pairing.py reads it:
 * `quote(s, safe="")`, `unquote`, `parse_qsl(strict_parsing=True)` and the
 * checks `urlsplit(relay).hostname` makes (Python 3.11).
 */

import { ProtocolError } from "./errors";
import { PY_SPACE, codePointLength } from "./text";

/** Python's `quote(text, safe="")`: percent-encode everything but `A-Za-z0-9_.-~`. */
export function quote(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

const lenientUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** Python's `unquote`: `%XX` escapes become UTF-8 bytes (invalid UTF-8 becomes U+FFFD); bad escapes stay. */
export function unquote(text: string): string {
  if (!text.includes("%")) return text;
  // Python decodes each run of ASCII characters on its own and keeps other characters as they are.
  return text.replace(/[\x00-\x7f]+/g, (run) => {
    const out: number[] = [];
    for (let i = 0; i < run.length; i++) {
      const hex = run.slice(i + 1, i + 3);
      if (run[i] === "%" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
        out.push(parseInt(hex, 16));
        i += 2;
      } else {
        out.push(run.charCodeAt(i));
      }
    }
    return lenientUtf8.decode(Uint8Array.from(out));
  });
}

/**
 * Python's `parse_qsl(query, strict_parsing=True, max_num_fields=max)`:
 * `&`-separated `name=value` pairs, `+` as space, percent-decoded. A field
 * without `=` (or empty) is an error; one with an empty value is dropped.
 * Throws `RangeError` where Python raises `ValueError`.
 */
export function parseQsl(query: string, maxFields: number): [string, string][] {
  if (query === "") return [];
  if (query.split("&").length > maxFields) throw new RangeError("Max number of fields exceeded");
  const out: [string, string][] = [];
  for (const field of query.split("&")) {
    const eq = field.indexOf("=");
    if (eq < 0) throw new RangeError("bad query field");
    const value = field.slice(eq + 1);
    if (value.length > 0) {
      out.push([unquote(field.slice(0, eq).replace(/\+/g, " ")), unquote(value.replace(/\+/g, " "))]);
    }
  }
  return out;
}

/** A relay URL as pairing.py accepts it: `ws://` or `wss://`, a host, an optional path. */
const RELAY = new RegExp(`^wss?://[^${PY_SPACE}/?#]+(/[^${PY_SPACE}?#]*)?$`, "u");

/** Throw `ProtocolError("bad_pairing_code")` unless `relay` is a valid relay URL. */
export function checkRelay(relay: string): void {
  if (codePointLength(relay) > 512 || !RELAY.test(relay) || !hasHostname(relay)) {
    throw new ProtocolError("the relay must be a ws:// or wss:// URL", "bad_pairing_code");
  }
}

/**
 * Whether Python's `urlsplit(relay).hostname` is a non-empty string (and
 * `urlsplit` raises no ValueError), for a `relay` that matched RELAY.
 */
function hasHostname(relay: string): boolean {
  const netloc = relay.slice(relay.indexOf("//") + 2).split("/")[0] ?? "";
  const open = netloc.includes("[");
  if (open !== netloc.includes("]")) return false; // "Invalid IPv6 URL"
  if (open && !validBracketedHost(afterFirst(netloc, "[").split("]")[0] ?? "")) return false;
  if (!validUnderNfkc(netloc)) return false;
  const hostinfo = netloc.slice(netloc.lastIndexOf("@") + 1);
  const hostname = hostinfo.includes("[")
    ? (afterFirst(hostinfo, "[").split("]")[0] ?? "")
    : (hostinfo.split(":")[0] ?? "");
  return hostname.length > 0;
}

function afterFirst(text: string, separator: string): string {
  return text.slice(text.indexOf(separator) + separator.length);
}

/** urllib's `_check_bracketed_host`: an IPvFuture literal or an IPv6 address (not IPv4). */
function validBracketedHost(host: string): boolean {
  if (host.startsWith("v")) return /^v[a-fA-F0-9]+\..+$/u.test(host);
  return isIPv6(host);
}

/** urllib's `_checknetloc`: no `/?#@:` may appear by NFKC normalization. */
function validUnderNfkc(netloc: string): boolean {
  if (/^[\x00-\x7f]*$/.test(netloc)) return true;
  const stripped = netloc.replace(/[@:#?]/g, "");
  const normalized = stripped.normalize("NFKC");
  return stripped === normalized || !/[/?#@:]/.test(normalized);
}

/** Python's `ipaddress.IPv6Address(text)` succeeds (scope ids allowed). */
function isIPv6(text: string): boolean {
  if (text.includes("/")) return false;
  const percent = text.indexOf("%");
  const address = percent < 0 ? text : text.slice(0, percent);
  if (percent >= 0) {
    const scope = text.slice(percent + 1);
    if (scope === "" || scope.includes("%")) return false;
  }
  if (address === "") return false;
  const parts = address.split(":");
  if (parts.length < 3) return false;
  const last = parts[parts.length - 1] ?? "";
  if (last.includes(".")) {
    if (!isIPv4(last)) return false;
    parts.splice(parts.length - 1, 1, "0", "0"); // two valid hextets in its place
  }
  if (parts.length > 9) return false;
  let skip = -1;
  for (let i = 1; i < parts.length - 1; i++) {
    if (parts[i] === "") {
      if (skip >= 0) return false;
      skip = i;
    }
  }
  let hi: number;
  let lo: number;
  if (skip >= 0) {
    hi = skip;
    lo = parts.length - skip - 1;
    if (parts[0] === "" && --hi > 0) return false;
    if (parts[parts.length - 1] === "" && --lo > 0) return false;
    if (8 - (hi + lo) < 1) return false;
  } else {
    if (parts.length !== 8 || parts[0] === "" || parts[7] === "") return false;
    hi = 8;
    lo = 0;
  }
  const hextets = [...parts.slice(0, hi), ...parts.slice(parts.length - lo)];
  return hextets.every((h) => /^[0-9a-fA-F]{1,4}$/.test(h));
}

/** Python's `ipaddress.IPv4Address(text)` succeeds: four decimal octets, no leading zeros. */
function isIPv4(text: string): boolean {
  const octets = text.split(".");
  return octets.length === 4
    && octets.every((o) => /^(0|[1-9][0-9]{0,2})$/.test(o) && Number(o) <= 255);
}
