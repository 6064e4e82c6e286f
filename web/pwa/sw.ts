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
 *
 * Where a page may not make notifications itself (Chrome on Android), the page
 * has this worker show them (alerts.ts); a click focuses a textport tab and
 * tells it which phone and conversation to open, or opens a new one.
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
interface NotificationClick extends WaitUntil {
  readonly notification: { readonly data: unknown; close(): void };
}
interface WindowClient {
  readonly url: string;
  focus(): Promise<WindowClient>;
  postMessage(message: unknown): void;
}
interface WorkerScope {
  readonly registration: { readonly scope: string };
  readonly clients: {
    claim(): Promise<void>;
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<readonly WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate", listener: (event: WaitUntil) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  addEventListener(type: "notificationclick", listener: (event: NotificationClick) => void): void;
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

/** What alerts.ts put in a notification's data: which phone, which conversation. */
function target(data: unknown): { scope: string; conv: number } | null {
  const inner = typeof data === "object" && data !== null ? (data as Record<string, unknown>)["textport"] : null;
  if (typeof inner !== "object" || inner === null) return null;
  const { scope, conv } = inner as Record<string, unknown>;
  return typeof scope === "string" && Number.isSafeInteger(conv) ? { scope, conv: conv as number } : null;
}

async function openFrom(data: unknown): Promise<void> {
  const open = target(data);
  const tabs = await worker.clients.matchAll({ type: "window", includeUncontrolled: true });
  const tab = tabs.find((client) => client.url.startsWith(scope.href));
  if (tab === undefined) {
    await worker.clients.openWindow(PAGE);
    return;
  }
  // The tab is told what to open even where focusing it is refused.
  if (open !== null) tab.postMessage({ type: "textport-open", ...open }); // alerts.ts WORKER_CLICK
  await tab.focus().catch(() => undefined);
}

worker.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openFrom(event.notification.data));
});
