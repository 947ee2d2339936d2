// The findings in the summary on stderr, at the end of a capture or of
// `modtrace findings`: counts per severity, then the most severe, one a line.
import { findingText } from "./format";
import { severityRank, type Finding } from "./finding";

function say(line: string) {
  process.stderr.write(`modtrace: ${line}\n`);
}

// The summary lists findings one per line, the most severe first, up to this many.
const SUMMARY_FINDINGS = 50;

/** list: false where the findings themselves were just printed (modtrace
 * findings): the count alone then, not the same findings a second time. */
export function sayFindings(kept: Finding[], total: number, list = true) {
  if (!total) return say("findings: none");
  const bySeverity = new Map<string, number>();
  for (const f of kept) bySeverity.set(f.severity, (bySeverity.get(f.severity) ?? 0) + 1);
  say(`findings: ${total} (${[...bySeverity].map(([s, n]) => `${s} ${n}`).join(", ")}${total > kept.length ? ` among the first ${kept.length}` : ""})${list ? ":" : ""}`);
  if (!list) return;
  const sorted = [...kept].sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
  for (const f of sorted.slice(0, SUMMARY_FINDINGS)) process.stderr.write(`  ${findingText(f)}`);
  if (total > SUMMARY_FINDINGS) say(`  … and ${total - SUMMARY_FINDINGS} more, in the outputs`);
}
