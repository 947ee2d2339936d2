// Whether this process may load and attach BPF programs, read from
// /proc/self/status so the answer needs no privileges and no syscall.
import { readFileSync } from "node:fs";

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;
const CAP_BPF = 39n;

export interface Privileges {
  ok: boolean;
  missing: string[];
}

export function bpfPrivileges(): Privileges {
  const status = readFileSync("/proc/self/status", "utf8");
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? "0";
  const caps = BigInt("0x" + hex);
  const has = (bit: bigint) => (caps >> bit) & 1n;
  if (has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))) return { ok: true, missing: [] };
  const missing = [];
  if (!has(CAP_BPF)) missing.push("CAP_BPF");
  if (!has(CAP_PERFMON)) missing.push("CAP_PERFMON");
  return { ok: false, missing };
}
