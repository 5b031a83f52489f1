// The widget's only state on the device: one sessionStorage entry, gone when
// the tab closes and wiped by the quick exit. With data-persist="none" it is
// kept in memory only (a reload then starts a new conversation).

const KEY = "msp-chat";

function emptyState() {
  return {
    token: null, // opaque session token issued by the server
    epoch: null, // the server's numbering of bot messages
    contiguous: 0, // every bot message up to this number has been shown
    ahead: [], // numbers above `contiguous` already shown
    transcript: [], // what is on screen
    pending: [], // user messages not yet acknowledged by the server
    invitation: null, // from #invite=..., until the server has it
    open: false,
    large: false,
    staff: null, // name of the member of staff who joined, if any
  };
}

export class Store {
  constructor(persist) {
    this.storage = null;
    if (persist !== "none") {
      try {
        this.storage = window.sessionStorage;
      } catch (e) {
        this.storage = null; // storage blocked: memory only
      }
    }
    this.state = emptyState();
    if (this.storage) {
      try {
        const saved = JSON.parse(this.storage.getItem(KEY) || "null");
        if (saved && typeof saved === "object") Object.assign(this.state, saved);
      } catch (e) {
        /* corrupt entry: start afresh */
      }
    }
  }

  save() {
    if (!this.storage) return;
    try {
      this.storage.setItem(KEY, JSON.stringify(this.state));
    } catch (e) {
      /* quota or privacy mode: keep going in memory */
    }
  }

  // Forget everything, on the device and in memory.
  wipe() {
    this.state = emptyState();
    if (this.storage) {
      try {
        this.storage.removeItem(KEY);
      } catch (e) {
        /* nothing more we can do */
      }
    }
  }
}
