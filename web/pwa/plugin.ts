/**
 * What makes the built client an installable app (a Vite plugin, build only):
 * the web app manifest, its icons (drawn here: an SVG and PNGs rasterised at
 * build time, no image files kept), the `<link rel="manifest">` and theme
 * colours in index.html, and the service worker (sw.ts) with this build's
 * file list and version written in. The host serves them (host/web.py).
 */

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { type Plugin, transformWithEsbuild } from "vite";

const ACCENT = "#0b57d0";
const LIGHT_BG = "#ffffff";
const DARK_BG = "#1b1e22";

export const MANIFEST = {
  name: "textport",
  short_name: "textport",
  description: "Text from your browser through your own phone, end to end encrypted.",
  id: "./",
  start_url: "./",
  scope: "./",
  display: "standalone",
  background_color: LIGHT_BG,
  theme_color: ACCENT,
  icons: [
    { src: "icon.svg", sizes: "any", type: "image/svg+xml", purpose: "any" },
    { src: "icon-192.png", sizes: "192x192", type: "image/png", purpose: "any" },
    { src: "icon-512.png", sizes: "512x512", type: "image/png", purpose: "any" },
    { src: "icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
  ],
};

/** The icon, in a 1×1 box: a white speech bubble with three dots on the accent colour. */
const BUBBLE = { cx: 0.5, cy: 0.46, rx: 0.3, ry: 0.23 };
const TAIL: readonly [number, number][] = [[0.3, 0.6], [0.26, 0.8], [0.48, 0.67]];
const DOTS = [0.38, 0.5, 0.62].map((x) => ({ x, y: 0.46, r: 0.045 }));
const CORNER = 0.22;

export function iconSvg(): string {
  const s = (n: number): string => String(Math.round(n * 512));
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">`
    + `<rect width="512" height="512" rx="${s(CORNER)}" fill="${ACCENT}"/>`
    + `<ellipse cx="${s(BUBBLE.cx)}" cy="${s(BUBBLE.cy)}" rx="${s(BUBBLE.rx)}" ry="${s(BUBBLE.ry)}" fill="#fff"/>`
    + `<polygon points="${TAIL.map(([x, y]) => `${s(x)},${s(y)}`).join(" ")}" fill="#fff"/>`
    + DOTS.map((d) => `<circle cx="${s(d.x)}" cy="${s(d.y)}" r="${s(d.r)}" fill="${ACCENT}"/>`).join("")
    + `</svg>\n`;
}

function inTriangle(x: number, y: number, [a, b, c]: readonly [number, number][]): boolean {
  const side = (p: [number, number], q: [number, number]): number => (q[0] - p[0]) * (y - p[1]) - (q[1] - p[1]) * (x - p[0]);
  const d1 = side(a!, b!);
  const d2 = side(b!, c!);
  const d3 = side(c!, a!);
  return !((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0));
}

/** 0: outside the icon, 1: accent, 2: white, at (x, y) in the unit box. */
function paint(x: number, y: number, fullBleed: boolean): number {
  if (!fullBleed) {
    const cx = Math.min(Math.max(x, CORNER), 1 - CORNER);
    const cy = Math.min(Math.max(y, CORNER), 1 - CORNER);
    if ((x - cx) ** 2 + (y - cy) ** 2 > CORNER ** 2) return 0;
  }
  if (DOTS.some((d) => (x - d.x) ** 2 + (y - d.y) ** 2 <= d.r ** 2)) return 1;
  const e = ((x - BUBBLE.cx) / BUBBLE.rx) ** 2 + ((y - BUBBLE.cy) / BUBBLE.ry) ** 2;
  if (e <= 1 || inTriangle(x, y, TAIL)) return 2;
  return 1;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, "latin1");
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** The icon as an RGBA PNG of `size` pixels, 4×4 samples a pixel. */
export function iconPng(size: number, fullBleed: boolean): Buffer {
  const accent = [0x0b, 0x57, 0xd0];
  const rows = Buffer.alloc(size * (size * 4 + 1));
  const n = 4;
  for (let py = 0; py < size; py++) {
    const row = py * (size * 4 + 1);
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const what = paint((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size, fullBleed);
          if (what === 0) continue;
          const [cr, cg, cb] = what === 1 ? accent : [255, 255, 255];
          r += cr!;
          g += cg!;
          b += cb!;
          a += 1;
        }
      }
      const at = row + 1 + px * 4;
      if (a > 0) rows.set([Math.round(r / a), Math.round(g / a), Math.round(b / a), Math.round((255 * a) / (n * n))], at);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8 bits, RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows)),
    chunk("IEND", new Uint8Array(0)),
  ]);
}

export function pwa(): Plugin {
  return {
    name: "textport-pwa",
    apply: "build",
    enforce: "post",
    transformIndexHtml() {
      return [
        { tag: "link", attrs: { rel: "manifest", href: "manifest.webmanifest" }, injectTo: "head" },
        { tag: "link", attrs: { rel: "apple-touch-icon", href: "icon-192.png" }, injectTo: "head" },
        { tag: "meta", attrs: { name: "theme-color", content: LIGHT_BG, media: "(prefers-color-scheme: light)" }, injectTo: "head" },
        { tag: "meta", attrs: { name: "theme-color", content: DARK_BG, media: "(prefers-color-scheme: dark)" }, injectTo: "head" },
      ];
    },
    async generateBundle(_options, bundle) {
      const emit = (fileName: string, source: string | Uint8Array): void => {
        this.emitFile({ type: "asset", fileName, source });
      };
      emit("manifest.webmanifest", `${JSON.stringify(MANIFEST, null, 2)}\n`);
      emit("icon.svg", iconSvg());
      emit("icon-192.png", iconPng(192, false));
      emit("icon-512.png", iconPng(512, false));
      emit("icon-maskable-512.png", iconPng(512, true));
      const files = Object.keys(bundle).sort();
      const hash = createHash("sha256");
      for (const name of files) {
        const item = bundle[name]!;
        hash.update(name);
        hash.update(item.type === "chunk" ? item.code : item.source);
      }
      const source = readFileSync(new URL("./sw.ts", import.meta.url), "utf8");
      const worker = await transformWithEsbuild(source, "sw.ts", {
        loader: "ts",
        target: "es2022",
        define: {
          TEXTPORT_VERSION: JSON.stringify(hash.digest("hex").slice(0, 16)),
          TEXTPORT_ASSETS: JSON.stringify(files),
        },
      });
      emit("sw.js", worker.code);
    },
  };
}
