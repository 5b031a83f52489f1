// Bundle the widget and its socket.io client into dist/ (one JS, one CSS file).
//   node build.mjs           minified build
//   node build.mjs --watch   rebuild on change (development)
import { build, context } from "esbuild";

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  legalComments: "none",
  target: ["es2020", "chrome90", "firefox90", "safari15"],
  logLevel: "warning",
  banner: { js: "/*! MSP Assistant chat widget (MIT). Bundles socket.io-client, engine.io-client, socket.io-parser, engine.io-parser and @socket.io/component-emitter (MIT, (c) Guillermo Rauch and contributors). */" },
};
const targets = [
  { ...common, entryPoints: ["src/index.js"], outfile: "dist/msp-widget.js", format: "iife",
    define: { "process.env.NODE_ENV": '"production"' } },
  { ...common, entryPoints: ["src/widget.css"], outfile: "dist/msp-widget.css", banner: {} },
];

if (process.argv.includes("--watch")) {
  for (const t of targets) await (await context(t)).watch();
} else {
  await Promise.all(targets.map((t) => build(t)));
}
