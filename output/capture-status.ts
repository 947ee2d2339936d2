// --status: a capture's live status line on a terminal's stderr, once a
// second: how long, events and their rate, losses, findings. Losses are read
// from the kernel's counters here too, so a ring that starts to overflow
// shows while it happens, not only in the summary at the end.
import { duration, grouped, StatusLine } from "./status-line";

export interface CaptureFigures {
  captured: number;
  lost: number;
  filtered: number;
  findings: number;
}

export class CaptureStatus {
  private startMs = performance.now();
  private lastMs = this.startMs;
  private lastCaptured = 0;

  private constructor(private line: StatusLine) {}

  /** The status line, or why there is none (stderr is no terminal). */
  static start(): CaptureStatus | string {
    const line = StatusLine.onTerminal(1000);
    return line ? new CaptureStatus(line) : "--status: standard error is not a terminal, so no status line is shown (the summary at the end still is)";
  }

  /** Once per loop turn; figures() is called only when the line is redrawn. */
  tick(figures: () => CaptureFigures) {
    if (!this.line.due()) return;
    const f = figures();
    const now = performance.now();
    const rate = ((f.captured - this.lastCaptured) * 1000) / Math.max(now - this.lastMs, 1);
    this.lastMs = now;
    this.lastCaptured = f.captured;
    const findings = f.findings ? `, ${grouped(f.findings)} finding${f.findings === 1 ? "" : "s"}` : "";
    this.line.draw(
      `modtrace: ${duration((now - this.startMs) / 1000)}: ${grouped(f.captured)} events (${grouped(rate)}/s), ${grouped(f.lost)} lost, ${grouped(f.filtered)} filtered${findings}`,
    );
  }

  /** Erased before anything else reaches the terminal; back within a second. */
  clear() {
    this.line.clear();
  }
}
