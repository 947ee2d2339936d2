// --uid takes a number or a user name, as ps and find do. Names come from
// /etc/passwd: a compiled Bun binary has no getpwnam, and the users a
// capture filters on (root, nobody, a service account) are local ones.
import { readFileSync } from "node:fs";

/** The uid of a local user, or undefined when /etc/passwd has no such name. */
export function uidOf(name: string, passwd = "/etc/passwd"): number | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, "utf8");
  } catch {
    return undefined;
  }
  for (const line of text.split("\n")) {
    const [user, , uid] = line.split(":");
    if (user === name && /^\d+$/.test(uid ?? "")) return Number(uid);
  }
  return undefined;
}
