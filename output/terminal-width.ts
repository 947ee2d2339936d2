// Text rows on a terminal, cut to its width: a row is about 250 characters
// (its long fields, the arguments and the caller's chain, come last), and a
// terminal that wraps each into three lines makes a capture unreadable. Files
// and pipes get whole lines, and so does a terminal with --wide. FINDING
// lines are never cut: they are few, and each word of them matters.
import type { OutputSpec } from "./outputs";

const ELLIPSIS = "…";

/** The width to cut text rows to, or undefined for whole lines. Read at each
 * write: the terminal may have been resized since (Node follows SIGWINCH). */
export function rowWidth(spec: OutputSpec, wide: boolean): number | undefined {
  if (wide || spec.path || spec.format !== "text" || !process.stdout.isTTY) return undefined;
  const columns = process.stdout.columns;
  // A width too small to show even TIME and EVENT is not worth cutting to.
  return columns && columns >= 40 ? columns : undefined;
}

const text = new TextDecoder();
const bytes = new TextEncoder();

/** Each line of text cut to `columns` characters, its last one "…" when cut. */
export function fitLines(out: Uint8Array, columns: number | undefined): Uint8Array {
  if (columns === undefined) return out;
  let changed = false;
  const lines = text.decode(out).split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    // A line no longer in UTF-16 units than the width has no more characters either.
    if (line.length <= columns) continue;
    const chars = Array.from(line);
    if (chars.length <= columns) continue;
    lines[i] = chars.slice(0, columns - 1).join("") + ELLIPSIS;
    changed = true;
  }
  return changed ? bytes.encode(lines.join("\n")) : out;
}
