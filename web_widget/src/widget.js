// The widget: DOM, keyboard and focus, messages, quick exit.
//
// Accessibility notes (WCAG 2.2 AA):
// - every control is a native <button>/<textarea> with a visible label;
// - the conversation is a role="log" region (polite live region), inside the
//   panel: nothing is announced, previewed or counted while the panel is closed;
// - connection and typing states go to a separate role="status" region;
// - Escape closes the panel and returns focus to the launcher;
// - sizes in rem/em so text can be enlarged to 200%; a "Larger text" toggle;
// - animations only when the user has not asked for reduced motion (CSS).

import { Connection, newId } from "./connection.js";
import { formatText } from "./format.js";
import { ShiftCounter } from "./quick-exit.js";
import { Store } from "./store.js";

const TIME = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit" });
const NUMBER = new Intl.NumberFormat("en-GB");

function el(doc, tag, attrs = {}, ...children) {
  const node = doc.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  node.append(...children);
  return node;
}

export class Widget {
  constructor(cfg, doc = document) {
    this.cfg = cfg;
    this.doc = doc;
    this.store = new Store(cfg.persist);
    this.exiting = false;
    this.typingTimer = null;
    this.takeInvitation();
    this.conn = new Connection(cfg, this.store, {
      message: (msg) => this.showBot(msg),
      status: (state, detail) => this.setStatus(state, detail),
      ack: (item, ack) => this.acked(item, ack),
      session: (info) => this.sessionStarted(info),
    });
    this.shift = new ShiftCounter(() => this.quickExit(), (n) => this.shiftProgress(n));
  }

  get state() {
    return this.store.state;
  }

  // An invitation link (…/#invite=TOKEN, or ?invite=) ties the chat to an
  // enquiry. Take the token out of the address bar and history entry at once.
  takeInvitation() {
    const loc = this.doc.defaultView.location;
    const hash = new URLSearchParams(loc.hash.replace(/^#/, ""));
    const query = new URLSearchParams(loc.search);
    const token = hash.get("invite") || query.get("invite");
    if (!token) return;
    if (/^[A-Za-z0-9_-]{43}$/.test(token)) {
      this.state.invitation = token;
      this.state.open = true;
      this.store.save();
    }
    hash.delete("invite");
    query.delete("invite");
    const search = query.toString();
    const rest = hash.toString();
    const clean = loc.pathname + (search ? `?${search}` : "") + (rest ? `#${rest}` : "");
    try {
      this.doc.defaultView.history.replaceState(this.doc.defaultView.history.state, "", clean);
    } catch (e) {
      /* sandboxed: nothing to do */
    }
  }

  // --- building ---------------------------------------------------------------------------

  build() {
    const d = this.doc;
    const c = this.cfg;
    const id = (s) => `msp-${s}`;

    this.exitBar = el(d, "button", { type: "button", className: "msp-exit" }, c.exitLabel);
    this.launcher = el(d, "button", {
      type: "button",
      className: "msp-launcher",
      "aria-expanded": "false",
      "aria-controls": id("panel"),
    }, c.launcher);
    this.shiftHint = el(d, "p", { className: "msp-shift-hint", hidden: true, "aria-hidden": "true" });
    const bar = el(d, "div", { className: "msp-bar" }, this.shiftHint, this.exitBar, this.launcher);

    this.title = el(d, "h2", { id: id("title"), className: "msp-title" }, c.title);
    this.subtitle = el(d, "p", { className: "msp-subtitle" }, `${c.council}. An automated helper, not a person.`);
    this.exitHeader = el(d, "button", { type: "button", className: "msp-exit msp-exit--header" }, c.exitLabel);
    this.largeButton = el(d, "button", { type: "button", className: "msp-tool", "aria-pressed": "false" }, "Larger text");
    this.closeButton = el(d, "button", { type: "button", className: "msp-tool" }, "Close chat");
    const header = el(
      d,
      "div",
      { className: "msp-header" },
      el(d, "div", { className: "msp-heading" }, this.title, this.subtitle),
      this.exitHeader,
      el(d, "div", { className: "msp-tools" }, this.largeButton, this.closeButton),
    );

    this.staffBanner = el(d, "p", { className: "msp-staff-banner", hidden: true });
    this.log = el(d, "div", {
      className: "msp-log",
      role: "log",
      "aria-live": "polite",
      "aria-relevant": "additions",
      "aria-label": "Conversation",
      tabindex: "0",
      id: id("log"),
    });
    this.typing = el(d, "p", { className: "msp-typing", hidden: true },
      el(d, "span", { className: "msp-dots", "aria-hidden": "true" }, el(d, "span"), el(d, "span"), el(d, "span")),
      el(d, "span", {}, "The assistant is typing"));
    this.status = el(d, "p", { className: "msp-status", role: "status", id: id("status") });

    this.input = el(d, "textarea", {
      id: id("input"),
      className: "msp-input",
      name: "message",
      rows: "2",
      autocomplete: "off",
      "aria-describedby": `${id("hint")} ${id("count")}`,
    });
    this.error = el(d, "p", { className: "msp-error", id: id("error"), hidden: true });
    this.count = el(d, "p", { className: "msp-count", id: id("count"), "aria-live": "polite" });
    this.sendButton = el(d, "button", { type: "submit", className: "msp-send" }, "Send");
    this.form = el(
      d,
      "form",
      { className: "msp-form", novalidate: true },
      el(d, "label", { for: id("input"), className: "msp-label" }, "Type your message"),
      el(d, "p", { className: "msp-hint", id: id("hint") },
        `Up to ${NUMBER.format(c.maxLength)} characters. Enter sends it.`),
      this.error,
      el(d, "div", { className: "msp-compose" }, this.input, this.sendButton),
      this.count,
    );
    const footer = el(d, "p", { className: "msp-footer" },
      el(d, "strong", {}, "In an emergency, call 999. "),
      "To leave this page quickly, press Shift 3 times.");

    this.panel = el(
      d,
      "section",
      { id: id("panel"), className: "msp-panel", role: "dialog", "aria-modal": "false", "aria-labelledby": id("title"), hidden: true },
      header,
      this.staffBanner,
      this.log,
      this.typing,
      this.status,
      this.form,
      footer,
    );
    this.shiftStatus = el(d, "p", { className: "msp-visually-hidden", role: "status" });
    this.root = el(d, "aside", { id: "msp-widget", className: "msp", "aria-label": c.title, hidden: true },
      bar, this.panel, this.shiftStatus);
    this.root.style.setProperty("--msp-primary", c.colour); // CSSOM: allowed under a strict CSP
    this.wire();
    return this.root;
  }

  wire() {
    this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    this.closeButton.addEventListener("click", () => this.close());
    for (const b of [this.exitBar, this.exitHeader]) b.addEventListener("click", () => this.quickExit());
    this.largeButton.addEventListener("click", () => this.setLarge(!this.state.large));
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => this.updateCount());
    this.panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        this.close();
      }
    });
    this.shift.attach(this.doc);
  }

  mount(onReady) {
    const d = this.doc;
    const root = this.build();
    d.body.append(root);
    const show = () => {
      root.hidden = false;
      this.restore();
      onReady();
    };
    // Show nothing until our stylesheet is in, so there is no unstyled flash.
    const link = el(d, "link", { rel: "stylesheet", href: this.cfg.css, "data-msp": "" });
    link.addEventListener("load", show, { once: true });
    link.addEventListener("error", show, { once: true });
    d.head.append(link);
    this.link = link;
  }

  // After a reload in the same tab: the conversation so far, and reconnect.
  restore() {
    const s = this.state;
    this.setLarge(!!s.large, false);
    for (const entry of s.transcript) this.render(entry);
    for (const item of s.pending) if (!item.hidden) this.markPending(item.id, true);
    if (s.staff) this.showStaff(s.staff);
    if (s.open || this.cfg.open) this.open(false);
    else if (s.token) this.conn.start();
  }

  // --- panel --------------------------------------------------------------------------------

  open(focus = true) {
    this.panel.hidden = false;
    this.root.classList.add("msp--open");
    this.launcher.setAttribute("aria-expanded", "true");
    this.state.open = true;
    this.store.save();
    this.conn.start();
    this.scrollToEnd();
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.root.classList.remove("msp--open");
    this.launcher.setAttribute("aria-expanded", "false");
    this.state.open = false;
    this.store.save();
    this.launcher.focus();
  }

  setLarge(on, save = true) {
    this.state.large = on;
    if (save) this.store.save();
    this.root.classList.toggle("msp--large", on);
    this.largeButton.setAttribute("aria-pressed", on ? "true" : "false");
  }

  // --- sending ------------------------------------------------------------------------------

  updateCount() {
    const n = this.input.value.length;
    const max = this.cfg.maxLength;
    const left = max - n;
    if (n < max * 0.8) {
      this.count.textContent = "";
    } else if (left >= 0) {
      this.count.textContent = `You have ${NUMBER.format(left)} character${left === 1 ? "" : "s"} left`;
    } else {
      this.count.textContent = `You have ${NUMBER.format(-left)} character${left === -1 ? "" : "s"} too many`;
    }
    this.count.classList.toggle("msp-count--over", left < 0);
    if (left >= 0 && !this.error.hidden) this.clearError();
  }

  showError(text) {
    this.error.textContent = text;
    this.error.hidden = false;
    this.input.setAttribute("aria-invalid", "true");
    this.input.setAttribute("aria-describedby", `msp-error msp-hint msp-count`);
  }

  clearError() {
    this.error.hidden = true;
    this.error.textContent = "";
    this.input.removeAttribute("aria-invalid");
    this.input.setAttribute("aria-describedby", "msp-hint msp-count");
  }

  submit() {
    const text = this.input.value;
    if (!text.trim()) {
      this.input.focus();
      return;
    }
    const max = this.cfg.maxLength;
    if (text.length > max) {
      const parts = Math.ceil(text.length / max);
      this.showError(
        `Your message is too long. It has ${NUMBER.format(text.length)} characters and the limit is ` +
          `${NUMBER.format(max)}. Please make it shorter, or send it in ${parts} parts.`,
      );
      this.input.focus();
      return;
    }
    this.clearError();
    this.input.value = "";
    this.updateCount();
    this.sendUser(text, null);
    this.input.focus();
  }

  sendUser(text, payload, hidden = false) {
    this.removeQuickReplies();
    const item = { id: newId(), text, payload, hidden };
    if (!hidden) this.addEntry({ kind: "user", text, ts: Date.now(), id: item.id });
    this.conn.send(item);
    if (!hidden) this.markPending(item.id, !this.conn.ready);
    this.updateTyping();
  }

  acked(item, ack) {
    this.markPending(item.id, false);
    if (!ack.ok) {
      const phone = this.cfg.phone ? ` or call ${this.cfg.phone}` : "";
      let text = `Sorry, something went wrong and your message was not answered. Please try again${phone}. In an emergency, call 999.`;
      if (ack.error === "too_long") text = "That message was too long to send. Please make it shorter.";
      if (ack.error === "slow_down") {
        text = `That message was not sent: too many messages came at once. Please wait ${ack.retry_after || 5} seconds and send it again. In an emergency, call 999.`;
      }
      this.addEntry({ kind: "system", text, ts: Date.now() });
    }
    this.updateTyping();
  }

  markPending(id, pending) {
    const node = this.log.querySelector(`[data-id="${id}"]`);
    if (!node) return;
    node.classList.toggle("msp-msg--pending", pending);
    const note = node.querySelector(".msp-pending");
    if (note) note.hidden = !pending;
  }

  // --- receiving ----------------------------------------------------------------------------

  sessionStarted(info) {
    if (info.restarted) {
      this.addEntry({ kind: "system", text: "Your earlier chat has ended. This is a new conversation.", ts: Date.now() });
    }
    const greeted = this.state.transcript.some((e) => e.kind === "bot" || e.kind === "user");
    if (!info.resumed && !greeted && this.cfg.initPayload && !this.state.pending.length) {
      this.sendUser(this.cfg.initPayload, this.cfg.initPayload, true);
    }
  }

  showBot(msg) {
    const custom = msg.custom && typeof msg.custom === "object" ? msg.custom : null;
    if (custom && custom.handoff === "joined") {
      const name = typeof custom.name === "string" && custom.name.trim() ? custom.name.trim() : null;
      this.state.staff = name || "A member of staff";
      this.showStaff(this.state.staff);
      this.addEntry({ kind: "system", text: `${name ? `${name}, a member of staff,` : "A member of staff"} has joined the chat. You are now talking to a person.`, ts: msg.ts });
    } else if (custom && custom.handoff === "left") {
      this.state.staff = null;
      this.showStaff(null);
      this.addEntry({ kind: "system", text: "The member of staff has left the chat. You are talking to the automated helper again.", ts: msg.ts });
    } else if (custom && custom.from === "staff" && typeof custom.text === "string") {
      this.addEntry({ kind: "staff", text: custom.text, ts: msg.ts, name: custom.name || this.state.staff });
    }
    const replies = (Array.isArray(msg.quick_replies) ? msg.quick_replies : Array.isArray(msg.buttons) ? msg.buttons : [])
      .filter((b) => b && typeof b.title === "string")
      .map((b) => ({ title: b.title, payload: typeof b.payload === "string" ? b.payload : b.title }));
    const text = typeof msg.text === "string" ? msg.text.trim() : "";
    if (text || replies.length) this.addEntry({ kind: "bot", text: text || "Choose an answer:", ts: msg.ts, replies });
    if (msg.attachment && msg.attachment.payload && typeof msg.attachment.payload.src === "string") {
      this.addEntry({ kind: "bot", text: `[Open the picture](${msg.attachment.payload.src})`, ts: msg.ts });
    }
    this.updateTyping();
  }

  showStaff(name) {
    this.root.classList.toggle("msp--staff", !!name);
    this.staffBanner.hidden = !name;
    this.staffBanner.textContent = name ? `You are talking to ${name === "A member of staff" ? "a member of staff" : `${name} (staff)`}.` : "";
  }

  addEntry(entry) {
    this.state.transcript.push(entry);
    if (this.state.transcript.length > 300) this.state.transcript.splice(0, this.state.transcript.length - 300);
    this.store.save();
    this.render(entry);
  }

  render(entry) {
    const d = this.doc;
    const who = {
      bot: "Assistant",
      user: "You",
      staff: entry.name ? `${entry.name} (staff)` : "Staff",
      system: "Notice",
    }[entry.kind];
    const when = new Date(entry.ts || Date.now());
    const meta = el(d, "p", { className: "msp-meta" },
      el(d, "span", { className: "msp-who" }, who),
      " ",
      el(d, "time", { datetime: when.toISOString() }, TIME.format(when)));
    const body = el(d, "div", { className: "msp-body" });
    if (entry.kind === "user") {
      for (const line of entry.text.split("\n")) body.append(el(d, "p", {}, line));
    } else {
      body.append(formatText(d, entry.text));
    }
    const node = el(d, "div", { className: `msp-msg msp-msg--${entry.kind}`, "data-id": entry.id || false }, meta, body);
    if (entry.kind === "user") {
      node.append(el(d, "p", { className: "msp-pending", hidden: true }, "Not sent yet. It will be sent when the connection is back."));
    }
    this.log.append(node);
    if (entry.replies && entry.replies.length && !entry.used) this.renderReplies(entry);
    this.scrollToEnd();
  }

  renderReplies(entry) {
    const d = this.doc;
    const group = el(d, "div", { className: "msp-replies", role: "group", "aria-label": "Choose an answer, or type your own" });
    for (const reply of entry.replies) {
      const b = el(d, "button", { type: "button", className: "msp-reply" }, reply.title);
      b.addEventListener("click", () => {
        entry.used = true;
        this.store.save();
        this.sendUser(reply.title, reply.payload);
        this.input.focus();
      });
      group.append(b);
    }
    this.log.append(group);
  }

  removeQuickReplies() {
    for (const entry of this.state.transcript) if (entry.replies && entry.replies.length) entry.used = true;
    for (const group of this.log.querySelectorAll(".msp-replies")) group.remove();
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  updateTyping() {
    const on = this.conn.busy;
    clearTimeout(this.typingTimer);
    if (on) {
      this.typing.hidden = false;
      // Never leave the dots up for ever if an answer is lost.
      this.typingTimer = setTimeout(() => (this.typing.hidden = true), 30000);
    } else {
      this.typing.hidden = true;
    }
  }

  setStatus(state, detail) {
    const phone = this.cfg.phone ? `, or call ${this.cfg.phone}` : "";
    const text = {
      connecting: "Connecting…",
      online: "",
      reconnecting: "The connection was lost. Trying to reconnect. Your messages will be kept and sent when it is back.",
      offline: `We cannot connect at the moment. We will keep trying. In an emergency, call 999${phone}.`,
      refused: `Sorry, the chat is not available on this page${phone}. In an emergency, call 999.`,
      busy: `Sorry, the chat is very busy just now. We will try again in a moment. In an emergency, call 999${phone}.`,
    }[state];
    this.root.dataset.connection = state;
    if (this.status.textContent !== text) this.status.textContent = text;
    this.status.hidden = !text;
    if (state === "online") for (const item of this.state.pending) this.markPending(item.id, false);
    if (state !== "online") {
      for (const item of this.state.pending) if (!item.hidden) this.markPending(item.id, true);
    }
    if (detail) console.warn(`msp-widget: ${detail}`);
    this.updateTyping();
  }

  // --- quick exit ---------------------------------------------------------------------------

  shiftProgress(n) {
    const left = 3 - n;
    const text = n ? `Shift, press ${left} more time${left === 1 ? "" : "s"} to leave this page.` : "";
    this.shiftStatus.textContent = text;
    this.shiftHint.textContent = text;
    this.shiftHint.hidden = !n;
  }

  // Close the socket, wipe storage and DOM, hide the page, and replace it with
  // a neutral site so that Back does not return here.
  quickExit() {
    if (this.exiting) return;
    this.exiting = true;
    const d = this.doc;
    const win = d.defaultView;
    try {
      this.conn.close();
    } catch (e) {
      /* keep leaving */
    }
    this.store.wipe();
    this.shift.detach(d);
    clearTimeout(this.typingTimer);
    this.root.remove();
    try {
      const cover = el(d, "div", { className: "msp-exit-cover" }, "Loading.");
      d.body.append(cover);
      d.title = "Loading";
    } catch (e) {
      /* the page is going anyway */
    }
    win.location.replace(this.cfg.exitUrl);
  }
}
