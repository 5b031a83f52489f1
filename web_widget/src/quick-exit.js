// The GOV.UK "Exit this page" pattern: a button, and Shift pressed three times
// (on its own, not as a modifier) within five seconds, anywhere on the page.
// https://design-system.service.gov.uk/components/exit-this-page/

export const PRESSES = 3;
export const WINDOW_MS = 5000;

export class ShiftCounter {
  constructor(onExit, onProgress) {
    this.onExit = onExit;
    this.onProgress = onProgress;
    this.count = 0;
    this.shiftDown = false;
    this.combined = false;
    this.timer = null;
    this.keydown = this.keydown.bind(this);
    this.keyup = this.keyup.bind(this);
  }

  attach(target) {
    target.addEventListener("keydown", this.keydown, true);
    target.addEventListener("keyup", this.keyup, true);
  }

  detach(target) {
    target.removeEventListener("keydown", this.keydown, true);
    target.removeEventListener("keyup", this.keyup, true);
    clearTimeout(this.timer);
  }

  reset() {
    this.count = 0;
    clearTimeout(this.timer);
    this.onProgress(0);
  }

  keydown(event) {
    if (event.key === "Shift") {
      if (!event.repeat) {
        this.shiftDown = true;
        this.combined = false;
      }
    } else if (this.shiftDown) {
      // Shift used as a modifier (a capital letter, Shift+Tab): not a press.
      this.combined = true;
    } else if (this.count) {
      this.reset();
    }
  }

  keyup(event) {
    if (event.key !== "Shift") return;
    const counts = this.shiftDown && !this.combined;
    this.shiftDown = false;
    if (!counts) return;
    this.count += 1;
    clearTimeout(this.timer);
    if (this.count >= PRESSES) {
      this.count = 0;
      this.onExit();
      return;
    }
    this.onProgress(this.count);
    this.timer = setTimeout(() => this.reset(), WINDOW_MS);
  }
}
