// Progress of offline work over logs (read, stats, findings): bytes and
// events done, rate and time left, on a terminal's stderr, so a 200 MB log
// that takes 20 s does not look hung. Reading is by item, so the position
// in the files is exact; time left assumes the rate so far holds.
import { statSync } from "node:fs";
import { duration, grouped, megabytes, StatusLine } from "../output/status-line";

const CHECK_EVERY = 4096; // items between looks at the clock: it costs more than an item

export class OfflineProgress {
  private total = 0;
  private before = new Map<string, number>(); // bytes of the files before each
  private sinceLook = 0;
  private events = 0;
  private startMs = performance.now();

  private constructor(private what: string, files: string[], private line: StatusLine) {
    for (const file of files) {
      this.before.set(file, this.total);
      try {
        this.total += statSync(file).size;
      } catch {
        // Unreadable files are the reader's to report; they add nothing here.
      }
    }
  }

  /** Progress for `what` over files, when stderr is a terminal and the
   * work's own output does not stream to that terminal (rows are sign of
   * life enough there, and a status line between them would garble them). */
  static start(what: string, files: string[], outputStreamsToTerminal = false): OfflineProgress | undefined {
    if (outputStreamsToTerminal) return undefined;
    const line = StatusLine.onTerminal(250);
    return line && new OfflineProgress(what, files, line);
  }

  /** After each item read (or each run of `count` events): the file and the offset it began at. */
  item(file: string, offset: number, isEvent: boolean, count = 1) {
    if (isEvent) this.events += count;
    if ((this.sinceLook += count) < CHECK_EVERY) return;
    this.sinceLook = 0;
    if (!this.line.due()) return;
    const done = (this.before.get(file) ?? 0) + offset;
    const sec = (performance.now() - this.startMs) / 1000;
    const rate = done / Math.max(sec, 1e-3);
    const left = rate > 0 ? (this.total - done) / rate : Infinity;
    const percent = this.total ? Math.floor((100 * done) / this.total) : 0;
    this.line.draw(`modtrace ${this.what}: ${percent}% of ${megabytes(this.total)}, ${grouped(this.events)} events, ${megabytes(rate)}/s, ${duration(left)} left`);
  }

  /** A step after the reading (writing a Parquet file), shown at once. */
  step(text: string) {
    this.line.draw(`modtrace ${this.what}: ${text}`);
  }

  /** Erase it before writing to the terminal (findings as they are made). */
  clear() {
    this.line.clear();
  }

  /** Done: the line goes, leaving the terminal as it was. */
  end() {
    this.line.clear();
  }
}
