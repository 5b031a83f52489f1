// The socket.io link to the Rasa server's widget channel (bot/channels/widget.py).
//
// Delivery is exact across drops: bot messages carry (epoch, seq) and are shown
// once each; after a reconnect the server replays whatever came after the last
// number we saw. User messages carry an id and stay "pending" until the server
// acknowledges them (after the bot has answered); pending ones are sent again
// after a reconnect and the server answers a repeat without processing it twice.

import { io } from "socket.io-client";

export function newId() {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Connection {
  constructor(cfg, store, handlers) {
    this.cfg = cfg;
    this.store = store;
    this.h = handlers; // {message(msg), status(state, detail), ack(item, ack), session(info)}
    this.socket = null;
    this.ready = false; // session confirmed on the current socket
    this.closed = false;
    this.failures = 0;
  }

  get state() {
    return this.store.state;
  }

  start() {
    if (this.socket || this.closed || !this.cfg.server) return;
    const socket = io(this.cfg.server, {
      path: this.cfg.socketPath,
      transports: this.cfg.transports,
      autoConnect: false,
      reconnectionDelay: 500,
      reconnectionDelayMax: 4000,
      randomizationFactor: 0.3,
      timeout: 8000,
      withCredentials: false,
    });
    this.socket = socket;
    socket.on("connect", () => {
      this.failures = 0;
      this.requestSession();
    });
    socket.on("session_confirm", (data) => this.confirmed(data || {}));
    // Too many new chats at once (the server's rate limit): wait, then ask again.
    socket.on("session_refused", (data) => {
      const wait = Math.min(120, Math.max(1, Number((data && data.retry_after) || 5)));
      this.h.status("busy");
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.requestSession(), wait * 1000);
    });
    socket.on("bot_uttered", (msg) => this.receive(msg));
    socket.on("disconnect", (reason) => {
      this.ready = false;
      socket.sendBuffer = []; // pending messages are re-sent by us, once, after the session is back
      if (!this.closed && reason !== "io client disconnect") this.h.status("reconnecting");
    });
    socket.on("connect_error", (err) => {
      this.ready = false;
      this.failures += 1;
      if (!socket.active) this.h.status("refused", err && err.message);
      else if (this.failures >= 3) this.h.status("offline");
      else this.h.status("connecting");
    });
    this.h.status("connecting");
    socket.connect();
  }

  requestSession() {
    if (!this.socket || !this.socket.connected || this.closed) return;
    this.socket.emit("session_request", {
      session_id: this.state.token,
      epoch: this.state.epoch,
      last_seq: this.state.contiguous,
      invitation: this.state.invitation || undefined,
    });
  }

  confirmed(data) {
    const s = this.state;
    const hadConversation = s.token !== null;
    if (!data.resumed || data.epoch !== s.epoch) {
      s.epoch = data.epoch || null;
      s.contiguous = 0;
      s.ahead = [];
    }
    s.token = data.session_id || null;
    s.invitation = null; // the server keeps it with the session now
    this.store.save();
    this.ready = true;
    this.h.session({ resumed: !!data.resumed, restarted: hadConversation && !data.resumed });
    for (const msg of data.messages || []) this.receive(msg);
    this.h.status("online");
    this.flush();
  }

  // Show a bot message once, in order of arrival; note gaps and fill them.
  receive(msg) {
    if (!msg || typeof msg !== "object" || typeof msg.seq !== "number") return;
    const s = this.state;
    if (msg.epoch && msg.epoch !== s.epoch) {
      s.epoch = msg.epoch;
      s.contiguous = 0;
      s.ahead = [];
    }
    if (msg.seq <= s.contiguous || s.ahead.includes(msg.seq)) return; // already shown
    s.ahead.push(msg.seq);
    s.ahead.sort((a, b) => a - b);
    while (s.ahead[0] === s.contiguous + 1) s.contiguous = s.ahead.shift();
    this.h.message(msg);
    this.store.save();
    if (s.ahead.length) this.sync();
  }

  sync() {
    if (!this.ready || this.syncing) return;
    this.syncing = true;
    this.socket.emit("sync", { epoch: this.state.epoch, last_seq: this.state.contiguous }, (reply) => {
      this.syncing = false;
      if (reply && reply.ok) for (const msg of reply.messages || []) this.receive(msg);
    });
  }

  // Queue a user message; it is sent now if we are connected, or after reconnecting.
  send(item) {
    this.state.pending.push(item);
    this.store.save();
    if (this.ready) this.emit(item);
    else this.start();
  }

  emit(item) {
    this.socket.emit("user_uttered", { message: item.payload || item.text, id: item.id }, (ack) => {
      this.acknowledged(item, ack || {});
    });
  }

  acknowledged(item, ack) {
    const s = this.state;
    const before = s.pending.length;
    s.pending = s.pending.filter((p) => p.id !== item.id);
    if (s.pending.length === before && ack.ok) return; // already settled
    if (ack.error === "no_session") {
      // Raced a reconnect: it will go again once the session is confirmed.
      s.pending.unshift(item);
      return;
    }
    this.store.save();
    this.h.ack(item, ack);
    if (typeof ack.seq === "number" && ack.seq > s.contiguous) this.sync();
  }

  flush() {
    for (const item of this.state.pending) this.emit(item);
  }

  get busy() {
    return this.ready && this.state.pending.length > 0;
  }

  // Quick exit: tell the server to revoke the session, then close the socket.
  close() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.ready = false;
    if (!this.socket) return;
    try {
      if (this.socket.connected) this.socket.emit("leave");
      this.socket.disconnect();
      this.socket.io.engine && this.socket.io.engine.close();
    } catch (e) {
      /* closing anyway */
    }
    this.socket.removeAllListeners();
    this.socket = null;
  }
}
