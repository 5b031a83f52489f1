// Configuration from the one script tag's data-* attributes (no inline script
// needed, so the host page can keep a strict Content-Security-Policy).
//
//   <script src="/widget/msp-widget.js" defer
//           data-server="https://chat.example.gov.uk"
//           data-council="Exampleshire Council"
//           data-exit-url="https://www.bbc.co.uk/weather"></script>

export const DEFAULTS = Object.freeze({
  server: "",
  socketPath: "/socket.io",
  council: "the council",
  title: "Safeguarding chat",
  launcher: "Chat with us",
  exitLabel: "Leave this page",
  exitUrl: "https://www.bbc.co.uk/weather",
  colour: "#1d4f91",
  maxLength: 2000,
  phone: "",
  persist: "session",
  initPayload: "/greet",
  transports: ["websocket"],
  css: "",
  open: false,
});

const HEX = /^#[0-9a-f]{6}$/i;

function luminance(hex) {
  const channel = (i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

// WCAG contrast ratio of a colour against white text.
export function contrastWithWhite(hex) {
  return 1.05 / (luminance(hex) + 0.05);
}

function httpUrl(value, base) {
  try {
    const url = new URL(value, base);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch (e) {
    return null;
  }
}

export function readConfig(script) {
  const d = (script && script.dataset) || {};
  const cfg = { ...DEFAULTS };
  const base = script && script.src ? script.src : document.baseURI;
  const server = d.server && httpUrl(d.server, document.baseURI);
  cfg.server = server ? server.origin : "";
  for (const key of ["council", "title", "launcher", "exitLabel", "phone", "initPayload"]) {
    if (typeof d[key] === "string" && d[key].trim()) cfg[key] = d[key].trim();
  }
  if (d.socketPath && d.socketPath.startsWith("/")) cfg.socketPath = d.socketPath;
  const exit = d.exitUrl && httpUrl(d.exitUrl, document.baseURI);
  if (exit) cfg.exitUrl = exit.href;
  if (d.colour && HEX.test(d.colour)) {
    // Keep WCAG AA contrast for the white text on coloured controls.
    if (contrastWithWhite(d.colour) >= 4.5) cfg.colour = d.colour;
    else console.warn(`msp-widget: colour ${d.colour} is too light for white text; using ${DEFAULTS.colour}`);
  }
  const max = parseInt(d.maxLength, 10);
  if (max > 0 && max <= 10000) cfg.maxLength = max;
  if (d.persist === "none") cfg.persist = "none";
  if (d.transports) {
    const t = d.transports.split(/[\s,]+/).filter((x) => x === "websocket" || x === "polling");
    if (t.length) cfg.transports = t;
  }
  cfg.css = (d.css && httpUrl(d.css, base)?.href) || new URL("msp-widget.css", base).href;
  cfg.open = d.open === "true";
  return cfg;
}
