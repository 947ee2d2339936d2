// Text output shows strings the traced side chose (module names, paths,
// parameters, comm, executables, cgroups) and strings read back from logs
// anyone may have edited. Escaped, none of them can start a line of its own,
// hide what follows (ESC sequences) or reorder it (bidi controls): the same
// set the decoder escapes in event lines (decoder/assembly/utf8.ts
// writeEscaped), written the same way, \xNN per UTF-8 byte, and a backslash
// doubled so an escape cannot be faked either.

// C0 and C1 controls, DEL, U+061C, U+200E/F, U+2028-U+202E, U+2066-U+2069.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\\]/g;

function escapeChar(c: string): string {
  if (c === "\\") return "\\\\";
  return [...Buffer.from(c, "utf8")].map((b) => `\\x${b.toString(16).padStart(2, "0")}`).join("");
}

/** s with every character that could forge or hide text output escaped. */
export function escapeText(s: string): string {
  return s.replace(UNSAFE, escapeChar);
}
