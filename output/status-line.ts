// One line of progress on stderr, redrawn in place, for a person watching a
// terminal: offline work over big logs (log/progress.ts) and a capture's
// --status. Never in pipes or files (stderr not a terminal): there it would
// be noise in a log, and a line a script might parse.
export class StatusLine {
  private drawn = false;
  private lastMs = -Infinity;

  private constructor(private everyMs: number) {}

  /** A status line if stderr is a terminal, else undefined (nothing to do). */
  static onTerminal(everyMs: number): StatusLine | undefined {
    return process.stderr.isTTY ? new StatusLine(everyMs) : undefined;
  }

  /** Whether it is time to draw again: the caller builds the text only then. */
  due(): boolean {
    return performance.now() - this.lastMs >= this.everyMs;
  }

  draw(text: string) {
    this.lastMs = performance.now();
    // Cut to the width: a wrapped line cannot be redrawn in place.
    const width = (process.stderr.columns || 80) - 1;
    const fitted = Array.from(text).length > width ? Array.from(text).slice(0, Math.max(0, width - 1)).join("") + "…" : text;
    process.stderr.write(`\r\x1b[K${fitted}`);
    this.drawn = true;
  }

  /** Erases the line before anything else is written to the terminal; the
   * next draw puts it back below. */
  clear() {
    if (!this.drawn) return;
    process.stderr.write("\r\x1b[K");
    this.drawn = false;
  }
}

/** 1234567 as "1,234,567": counts a person reads at a glance. */
export const grouped = (n: number) => Math.round(n).toLocaleString("en-US");

/** Bytes as MB with one decimal (the unit `ls -h`-readers expect for logs). */
export const megabytes = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Seconds as "42 s", "3 min 5 s" or "2 h 10 min". */
export function duration(sec: number): string {
  if (!Number.isFinite(sec)) return "?";
  if (sec < 60) return `${Math.ceil(sec)} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.floor(sec % 60)} s`;
  return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`;
}
