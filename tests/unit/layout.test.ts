// The decoder's constants against what a C compiler makes of bpf/events.h
// today: fails when the generated layout is stale or hand-edited.
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as layout from "../../record/layout";

test("generated offsets, sizes and enum values match the header", () => {
  const entries = Object.entries(layout) as [string, number][];
  const checks = entries.map(([name]) => {
    const structs: Record<string, string> = { REC: "mt_record", CONFIG: "mt_config", ATTACHED: "mt_attached", CHUNK: "mt_image_chunk", ANCESTOR: "mt_ancestor" };
    const field = /^(REC|CONFIG|ATTACHED|CHUNK|ANCESTOR)_(OFF|LEN)_(\w+)$/.exec(name);
    if (field) {
      const struct = structs[field[1]];
      const member = field[3].toLowerCase();
      return field[2] === "OFF" ? `offsetof(struct ${struct}, ${member})` : `sizeof(((struct ${struct} *)0)->${member})`;
    }
    if (name === "REC_SIZE") return "sizeof(struct mt_record)";
    if (name === "CONFIG_SIZE") return "sizeof(struct mt_config)";
    if (name === "ATTACHED_SIZE") return "sizeof(struct mt_attached)";
    if (name === "CHUNK_SIZE") return "sizeof(struct mt_image_chunk)";
    if (name === "ANCESTOR_SIZE") return "sizeof(struct mt_ancestor)";
    return `MT_${name}`;
  });
  const dir = mkdtempSync(join(tmpdir(), "modtrace-layout-"));
  const source = `#include <stdio.h>
#include <stddef.h>
#include "events.h"
int main(void) {
${checks.map((c) => `  printf("%lld\\n", (long long)(${c}));`).join("\n")}
  return 0;
}
`;
  writeFileSync(join(dir, "probe.c"), source);
  const build = Bun.spawnSync(["gcc", "-Ibpf", "-o", join(dir, "probe"), join(dir, "probe.c")], { stderr: "pipe" });
  expect(build.stderr.toString()).toBe("");
  const values = Bun.spawnSync([join(dir, "probe")]).stdout.toString().trim().split("\n").map(Number);
  expect(Object.fromEntries(entries.map(([n], i) => [n, values[i]]))).toEqual(Object.fromEntries(entries));
});
