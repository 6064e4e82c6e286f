/**
 * The tab's icon: a speech bubble, with the unread count on a red badge when
 * there is any (as the title says "(3) textport"). Drawn on a canvas and set
 * as the page's `<link rel="icon">`; where there is no canvas (tests without
 * one) the icon stays as it is.
 */

import { useEffect } from "preact/hooks";

const SIZE = 64;
const BADGE = "#d93025";

/** The badge's text: the count up to 99, then "99+". */
export function badgeText(unread: number): string {
  return unread > 99 ? "99+" : String(unread);
}

/** A PNG data URL of the icon for `unread` texts, or null without a 2D canvas. */
export function drawFavicon(unread: number, doc: Document = document): string | null {
  const canvas = doc.createElement("canvas");
  canvas.width = SIZE;
  canvas.height = SIZE;
  let ctx: CanvasRenderingContext2D | null = null;
  try {
    ctx = canvas.getContext("2d");
  } catch {
    return null; // a DOM without canvas support
  }
  if (ctx === null) return null;
  // The bubble.
  ctx.fillStyle = "#0b57d0";
  ctx.beginPath();
  ctx.arc(28, 28, 24, 0, 2 * Math.PI);
  ctx.fill();
  ctx.beginPath();
  ctx.moveTo(10, 42);
  ctx.lineTo(4, 60);
  ctx.lineTo(24, 50);
  ctx.fill();
  if (unread > 0) {
    const text = badgeText(unread);
    ctx.fillStyle = BADGE;
    ctx.beginPath();
    ctx.arc(44, 20, 20, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = "#ffffff";
    ctx.font = `bold ${text.length > 2 ? 17 : text.length > 1 ? 22 : 28}px sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, 44, 21);
  }
  return canvas.toDataURL("image/png");
}

/** Keep the tab's icon in step with the unread count. */
export function useFavicon(unread: number): void {
  useEffect(() => {
    const href = drawFavicon(unread);
    if (href === null) return;
    let link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
    if (link === null) {
      link = document.createElement("link");
      link.rel = "icon";
      document.head.append(link);
    }
    link.type = "image/png";
    link.href = href;
    link.dataset["unread"] = String(unread);
  }, [unread]);
}
