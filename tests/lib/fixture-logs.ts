// The real logs the fixtures hold: one captured on this machine's kernel,
// one of an older record layout, and the VM fleet's (tests/fixtures/vm,
// one folder per host, a rotated set among them).
import { readdirSync } from "node:fs";
import { join } from "node:path";

const VM = "tests/fixtures/vm";

export const FIXTURE_LOGS = [
  "tests/fixtures/kernel-6.18.cbor",
  "tests/fixtures/layout-3.cbor",
  ...readdirSync(VM).flatMap((host) => readdirSync(join(VM, host)).map((f) => join(VM, host, f))),
];
