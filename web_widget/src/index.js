// Entry point: one <script src=".../msp-widget.js" data-server="..." defer>.
// Marks "msp-ready" (performance timeline) and fires "msp:ready" on document
// once the launcher is on screen.

import { readConfig } from "./config.js";
import { Widget } from "./widget.js";

(function start() {
  const script = document.currentScript;
  const cfg = readConfig(script);
  if (!cfg.server) {
    console.error("msp-widget: data-server (the chat server's address) is missing or not a web address.");
    return;
  }
  const boot = () => {
    if (document.getElementById("msp-widget")) return; // loaded twice
    new Widget(cfg).mount(() => {
      try {
        performance.mark("msp-ready");
      } catch (e) {
        /* old browser */
      }
      document.dispatchEvent(new CustomEvent("msp:ready"));
    });
  };
  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot, { once: true });
})();
