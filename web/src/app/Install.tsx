/**
 * The service worker (web/pwa/sw.ts) from the page's side: registered once the
 * app has started, and the banner that offers a new version once it has
 * installed beside the running one ("Reload" lets it take over, then reloads).
 */

import { useEffect, useState } from "preact/hooks";

/** Register the service worker; failures only log (the app works without it). */
export function registerServiceWorker(onLog: (message: string) => void): void {
  if (!("serviceWorker" in navigator)) return; // also where sw.js is not built (vite dev): it only logs
  navigator.serviceWorker.register("sw.js", { scope: "./" }).catch((err: unknown) => {
    onLog(`no service worker: ${err instanceof Error ? err.message : String(err)}`);
  });
}

/** The waiting new version, if one has installed while this page runs an older one. */
function useWaitingWorker(): ServiceWorker | null {
  const [waiting, setWaiting] = useState<ServiceWorker | null>(null);
  useEffect(() => {
    if (!("serviceWorker" in navigator)) return;
    let live = true;
    void navigator.serviceWorker.getRegistration().then((registration) => {
      if (!live || registration === undefined) return;
      const check = (): void => {
        if (live && registration.waiting !== null && navigator.serviceWorker.controller !== null) {
          setWaiting(registration.waiting);
        }
      };
      check();
      registration.addEventListener("updatefound", () => {
        registration.installing?.addEventListener("statechange", check);
      });
    });
    return () => {
      live = false;
    };
  }, []);
  return waiting;
}

export function UpdateBanner() {
  const waiting = useWaitingWorker();
  if (waiting === null) return null;
  return (
    <p class="banner update" role="status">
      A new version of textport is ready.{" "}
      <button
        type="button"
        class="link"
        onClick={() => {
          navigator.serviceWorker.addEventListener("controllerchange", () => location.reload());
          waiting.postMessage("activate");
        }}
      >
        Reload
      </button>
    </p>
  );
}
