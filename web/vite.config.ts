/// <reference types="vitest/config" />
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

import { pwa } from "./pwa/plugin";

/**
 * The web client. `npm run build` writes it into the Python package
 * (src/textport/web/dist), which the host serves at `/` with a strict CSP:
 * no inline scripts or styles, no eval, no third-party origins. The pwa plugin
 * adds the manifest, its icons and the service worker (pwa/plugin.ts).
 */
export default defineConfig({
  base: "./",
  publicDir: false,
  plugins: [pwa()],
  esbuild: {
    jsx: "automatic",
    jsxImportSource: "preact",
  },
  build: {
    target: "es2022",
    outDir: fileURLToPath(new URL("../src/textport/web/dist", import.meta.url)),
    emptyOutDir: true,
    // The polyfill would add code that builds <link> tags at run time; modern browsers need none.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  test: {
    environment: "node",
    include: ["tests/**/*.test.ts", "tests/**/*.test.tsx"],
  },
});
