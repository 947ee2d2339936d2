// The values of options: each parser turns what a user typed into what the
// command takes, or says in one line what it wanted (commander reports it as
// a usage error, exit 2).
import { InvalidArgumentError } from "commander";
import { EVENTS, eventByName, type EventInfo } from "../../catalogue/events";
import * as layout from "../../record/layout";
import { parseOutput, type OutputSpec } from "../../output/outputs";
import { uidOf } from "./user-ids";
import { ruleIds } from "../../findings/engine";
import { WATCH_RULES } from "../../findings/live";
import { MODULE_RULES } from "../../scan/module-checks";

export function collect<T>(parse: (v: string) => T) {
  return (value: string, previous: T[] = []) => [...previous, parse(value)];
}

export function nonNegativeInt(what: string) {
  return (v: string) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${what} must be a whole number, got '${v}'`);
    if (!Number.isSafeInteger(Number(v))) throw new InvalidArgumentError(`${what} is too large (at most ${Number.MAX_SAFE_INTEGER}), got '${v}'`);
    return Number(v);
  };
}

// The kernel's uid_t is 32 bits, and (uid_t)-1 means "no uid".
export const MAX_UID = 0xfffffffe;

/** --uid: a number or a local user's name. */
export function userId(v: string): number {
  if (!/^\d+$/.test(v)) {
    const uid = uidOf(v);
    if (uid === undefined) throw new InvalidArgumentError(`unknown user '${v}': not in /etc/passwd; give the numeric uid instead`);
    return uid;
  }
  const uid = Number(v);
  if (uid > MAX_UID) throw new InvalidArgumentError(`--uid is too large (at most ${MAX_UID}), got '${v}'`);
  return uid;
}

export function positiveInt(what: string) {
  return (v: string) => {
    const n = nonNegativeInt(what)(v);
    if (n === 0) throw new InvalidArgumentError(`${what} must be at least 1, got '${v}' (leave it out to capture until stopped)`);
    return n;
  };
}

/** --threads: 1 or 2 (this tool is made for a host's two cores at most). */
export function threadCount(v: string): number {
  if (v !== "1" && v !== "2") throw new InvalidArgumentError(`--threads is 1 or 2, got '${v}'`);
  return Number(v);
}

export function positiveNumber(what: string) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a number above 0, got '${v}'`);
    return n;
  };
}

/** Seconds, 0 allowed (off), fractions too; at most a day. */
export function nonNegativeSeconds(what: string) {
  return (v: string) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < 0 || n > 86400) throw new InvalidArgumentError(`${what} must be a number of seconds from 0 (off) to 86400, got '${v}'`);
    return n;
  };
}

export function eventList(v: string): EventInfo[] {
  const names = v.split(",").filter((name) => name.trim());
  if (!names.length) throw new InvalidArgumentError(`no events given: name one or more of ${EVENTS.map((x) => x.name).join(", ")}, or leave -e out for all`);
  return names.map((name) => {
    const e = eventByName(name.trim());
    if (!e) throw new InvalidArgumentError(`unknown event '${name}': known events are ${EVENTS.map((x) => x.name).join(", ")} (see 'modtrace events')`);
    return e;
  });
}

export function outputSpec(v: string): OutputSpec {
  try {
    return parseOutput(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** A kernel ring's size, given in MiB: a power of two from 1 to 1024; in bytes. */
export function ringMiB(flag: string) {
  return (v: string): number => {
    const mib = Number(v);
    if (!Number.isInteger(mib) || mib < 1 || mib > 1024 || (mib & (mib - 1)) !== 0)
      throw new InvalidArgumentError(`${flag} is in MiB and must be a power of two from 1 to 1024, got '${v}'`);
    return mib << 20;
  };
}

export function byteSize(v: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(v);
  const scale: Record<string, number> = { "": 1, K: 1 << 10, M: 1 << 20, G: 1 << 30 };
  if (!m || Number(m[1]) === 0) throw new InvalidArgumentError(`a size is a whole number of bytes above 0, optionally with K, M or G, got '${v}'`);
  return Number(m[1]) * scale[m[2].toUpperCase()];
}

/** --since/--until to the nanosecond: events carry ns, and a bound given
 * to the microsecond (as text rows show times) must cut exactly there. */
export function instant(what: string) {
  const digits = (frac = "") => BigInt(frac.slice(0, 9).padEnd(9, "0"));
  return (v: string): bigint => {
    const bad = () => new InvalidArgumentError(`${what} takes a date and time (2026-11-22T14:05:00Z, fractions of a second to the ns) or seconds since the epoch, got '${v}'`);
    const epoch = /^(\d+)(?:\.(\d+))?$/.exec(v);
    if (epoch) return BigInt(epoch[1]) * 1_000_000_000n + digits(epoch[2]);
    // Date.parse keeps milliseconds only: the whole seconds from it, the fraction from the text.
    const frac = /T\d{2}:\d{2}:\d{2}\.(\d+)/.exec(v)?.[1];
    const ms = Date.parse(frac === undefined ? v : v.replace(`.${frac}`, ""));
    if (!Number.isFinite(ms)) throw bad();
    return BigInt(ms) * 1_000_000n + digits(frac);
  };
}

export const MAX_ANCESTORS = layout.ANCESTORS;

export function ancestorCount(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > MAX_ANCESTORS) throw new InvalidArgumentError(`--ancestors is a whole number from 0 to ${MAX_ANCESTORS}, got '${v}'`);
  return n;
}

export function ruleList(v: string): string[] {
  const known = [...ruleIds(WATCH_RULES), ...MODULE_RULES];
  return v.split(",").filter(Boolean).map((id) => {
    if (!known.includes(id.trim())) throw new InvalidArgumentError(`unknown rule '${id}': known rules are ${known.join(", ")} (see 'modtrace rules')`);
    return id.trim();
  });
}
