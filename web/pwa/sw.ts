/**
 * The service worker: it pins the client's code to one version.
 *
 * Installing caches this build's files (TEXTPORT_ASSETS, written into this file
 * at build time by plugin.ts, with TEXTPORT_VERSION, a hash of them); the page
 * and those files are then served from that cache, so a tab always runs one
 * build, whole, also with the host down. A new build installs beside it and
 * waits: it takes over when the user chooses "Reload" on the update banner
 * (install.tsx posts "activate"), or when every textport tab has closed.
 *
 * It caches nothing else: no request to the relay (a WebSocket is never seen by
 * a service worker anyway), no attachment, no decrypted data (those are in
 * IndexedDB). Requests it does not know go to the network untouched.
 */

declare const TEXTPORT_VERSION: string;
declare const TEXTPORT_ASSETS: readonly string[];

/** The little of the worker's global scope this needs (the DOM lib has no worker types). */
interface WaitUntil extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends WaitUntil {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface WorkerScope {
  readonly registration: { readonly scope: string };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", listener: (event: WaitUntil) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
}

const worker = self as unknown as WorkerScope;
const PREFIX = "textport-app-";
const CACHE = `${PREFIX}${TEXTPORT_VERSION}`;
const scope = new URL(worker.registration.scope);
/** The page itself is cached under the scope's URL ("/"), fetched as index.html. */
const PAGE = scope.href;
const FILES = new Set(TEXTPORT_ASSETS.filter((name) => name !== "index.html").map((name) => new URL(name, scope).href));

worker.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // "reload": from the server, not the HTTP cache, so the set is this build's.
    await cache.addAll([PAGE, ...FILES].map((url) => new Request(url, { cache: "reload" })));
  })());
});

worker.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== CACHE) await caches.delete(name);
    }
    await worker.clients.claim();
  })());
});

worker.addEventListener("message", (event) => {
  if (event.data === "activate") void worker.skipWaiting();
});

worker.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  url.hash = "";
  let key: string | null = null;
  if (request.mode === "navigate" && url.origin === scope.origin
    && (url.pathname === scope.pathname || url.pathname === `${scope.pathname}index.html`)) {
    key = PAGE; // whatever its query: the pairing offer is in the fragment, never sent
  } else if (url.search === "" && FILES.has(url.href)) {
    key = url.href;
  }
  if (key === null) return;
  const cached = key;
  event.respondWith((async () => {
    const hit = await caches.match(cached, { cacheName: CACHE });
    return hit ?? fetch(request);
  })());
});
