/**
 * "Remember this browser" or not (docs/protocol.md section 9, *Expiry*).
 *
 * A session-only pairing is kept in IndexedDB like any other, marked
 * `session: true`, and a session cookie says the browser session that made it
 * is still running. Cookies without an expiry are shared by every tab and end
 * with the browser, which `sessionStorage` (one tab's) does not. A start that
 * finds a session-only pairing but no cookie forgets the pairing, the cache
 * and the device key before connecting; the host unpairs the device on its own
 * once it stays disconnected (`session_grace`).
 */

export const COOKIE = "textport_session";

/** Where the marker lives: the page's cookies, or a fake in tests. */
export interface SessionMarker {
  present(): boolean;
  set(): void;
}

/**
 * The marker as a session cookie of `doc` (it names nothing and authorises
 * nothing); each host slot (hosts.ts) has its own cookie `name`.
 */
export function cookieMarker(doc: { cookie: string }, name = COOKIE): SessionMarker {
  return {
    present: () => doc.cookie.split(";").some((part) => part.trim() === `${name}=1`),
    set: () => {
      doc.cookie = `${name}=1; path=/; SameSite=Strict`;
    },
  };
}

/** A marker in memory: a "browser session" that lasts as long as the object. */
export function memoryMarker(): SessionMarker {
  let present = false;
  return {
    present: () => present,
    set: () => {
      present = true;
    },
  };
}
