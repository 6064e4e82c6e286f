/**
 * Builds the interop harness into dist-harness/ in two passes (see the
 * "build:harness" script):
 *
 * - by default, the browser page: dist-harness/index.html with its bundle
 *   inlined, so it also works opened as a file:// URL (Chromium refuses
 *   module scripts from file://); it sets `window.textportDevice` and then
 *   the title "harness ready";
 * - with `--mode node`, dist-harness/node.js: an ES module for Node 20, run
 *   as `node web/dist-harness/node.js` (JSON lines on stdin and stdout).
 */
import { fileURLToPath } from "node:url";
import { type Plugin, defineConfig } from "vite";

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** Move the page's one JavaScript chunk into its <script> tag. */
function inlineScript(): Plugin {
  return {
    name: "textport-inline-harness-script",
    enforce: "post",
    generateBundle(_options, bundle) {
      const html = Object.values(bundle).find((file) => file.type === "asset" && file.fileName.endsWith(".html"));
      if (html === undefined || html.type !== "asset") return;
      let source = String(html.source);
      for (const [name, chunk] of Object.entries(bundle)) {
        if (chunk.type !== "chunk") continue;
        if (/<\/script/i.test(chunk.code)) this.error(`${name} contains "</script"; cannot inline it`);
        const tag = new RegExp(`<script type="module" crossorigin src="[^"]*${chunk.fileName}"></script>`);
        if (!tag.test(source)) this.error(`no <script> tag for ${chunk.fileName} in ${html.fileName}`);
        source = source.replace(tag, () => `<script type="module">\n${chunk.code}</script>`);
        delete bundle[name];
      }
      html.source = source;
    },
  };
}

export default defineConfig(({ mode }) =>
  mode === "node"
    ? {
        root: here("harness"),
        publicDir: false,
        build: {
          outDir: here("dist-harness"),
          emptyOutDir: false, // keep the page built by the first pass
          ssr: here("harness/node.ts"),
          target: "node20",
          minify: false,
          rollupOptions: { output: { format: "es", entryFileNames: "node.js" } },
        },
      }
    : {
        root: here("harness"),
        base: "./",
        publicDir: false,
        plugins: [inlineScript()],
        build: {
          outDir: here("dist-harness"),
          emptyOutDir: true,
          target: "es2022",
          modulePreload: false,
          rollupOptions: { input: here("harness/index.html") },
        },
      },
);
