// Whether a kind of hook really works on this kernel, judged by loading and
// attaching a stub of the very program type capture uses (loader/probe.c,
// mt_probe_hook), in three states: `modtrace doctor` prints them and the
// attach plan picks a mode only on a yes.
import { cString, cText, native } from "./native";

export type Verdict =
  | { state: "yes" }
  | { state: "no"; why: string }
  // The probe failed for a reason that says nothing about the hook (no privileges, no memory).
  | { state: "unknown"; why: string };

/** The program types capture uses: fentry/fexit, kprobe/kretprobe (ksyscall
 * too), and tp_btf, the tracing program behind raw mode and the module tracepoints. */
export type StubKind = "fentry" | "kprobe" | "tp_btf";
const KIND: Record<StubKind, number> = { fentry: 0, kprobe: 1, tp_btf: 2 }; // enum mt_hook_probe

const WHY_LEN = 1024;

/** The stubs' answers, each target probed once per instance. */
export class HookProbes {
  private cache = new Map<string, Verdict>();

  probe(kind: StubKind, target: string): Verdict {
    const key = `${kind}:${target}`;
    let verdict = this.cache.get(key);
    if (!verdict) {
      const why = Buffer.alloc(WHY_LEN);
      const rc = native().mt_probe_hook(KIND[kind], cString(target), why, WHY_LEN);
      const text = cText(why);
      verdict = rc > 0 ? { state: "yes" } : rc === 0 ? { state: "no", why: text } : { state: "unknown", why: text };
      this.cache.set(key, verdict);
    }
    return verdict;
  }

  /** yes when a stub attaches to every target (see allOf()). */
  every(kind: StubKind, targets: string[]): Verdict {
    return allOf(targets.map((t) => this.probe(kind, t)));
  }

  /** Frees what the probes cached in the shim (the parsed kernel BTF). */
  done() {
    native().mt_probe_done();
  }
}

/** What several verdicts that must all be yes come to: the first no, else the
 * first cannot tell, else yes. */
export function allOf(verdicts: Verdict[]): Verdict {
  return verdicts.find((v) => v.state === "no") ?? verdicts.find((v) => v.state === "unknown") ?? { state: "yes" };
}

/** Why a verdict is not a yes, as the plan and doctor say it. */
export function whyNotYes(v: Verdict): string | undefined {
  if (v.state === "yes") return undefined;
  return v.state === "no" ? v.why : `cannot tell: ${v.why}`;
}

/** doctor --json's ok: true, false, or null for cannot tell. */
export function verdictOk(v: Verdict): boolean | null {
  return v.state === "yes" ? true : v.state === "no" ? false : null;
}
