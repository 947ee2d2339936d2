// The offline commands as filters and on terminals: a reader that goes
// away, binary output, the findings summary, colour.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Capture, findingLines, intoGoneReader, MODTRACE, notAModule, onTerminal, scratchDir, trigger, TRIGGER } from "./harness";
import { runModtrace } from "../lib/modtrace";

// A log with events and findings, written by a capture in a VM.
const LOG = "tests/fixtures/kernel-6.18.cbor";

/** A live capture on a terminal (script), given calls until it has --count 1
 * (a fact, not a wait): what the screen shows, stderr and stdout together. */
function liveOnTerminal(args: string[], columns?: number): string {
  const line = `${columns ? `stty cols ${columns}; ` : ""}'${MODTRACE}' ${args.join(" ")} --comm mt-trigger --count 1 -o text & while kill -0 $! 2>/dev/null; do '${TRIGGER}' uid 65534 >/dev/null; done; wait $!`;
  const r = Bun.spawnSync(["script", "-qec", line, "/dev/null"], { stdin: "ignore", stdout: "pipe", stderr: "pipe", timeout: 60_000 });
  expect(r.exitCode).toBe(0);
  return r.stdout.toString();
}

describe("pipes and terminals", () => {
  test("live text on a terminal: the column header comes with the first row, below the start-up lines", () => {
    const screen = liveOnTerminal([]);
    const header = screen.indexOf("TIME(UTC)");
    expect(header).toBeGreaterThan(screen.indexOf("modtrace: capturing"));
    expect(screen.indexOf("delete_module", header)).toBeGreaterThan(header);
  });

  test("text rows fit the terminal's width, cut with …; --wide, pipes and files get them whole", () => {
    const whole = runModtrace(["read", LOG]).stdout.split("\n").filter(Boolean);
    const longest = Math.max(...whole.map((l) => Array.from(l).length));
    expect(longest).toBeGreaterThan(150);
    const rows = (screen: string) => screen.split(/\r?\n/).filter((l) => l && !l.startsWith("modtrace: "));
    const cut = rows(onTerminal(["read", LOG], {}, 100).screen);
    expect(cut.length).toBe(whole.length);
    cut.forEach((l, i) => {
      const chars = Array.from(l);
      expect(chars.length).toBeLessThanOrEqual(100);
      // The start of the row as a pipe gets it, and … where the rest was cut.
      if (chars.at(-1) === "…") expect(whole[i].startsWith(chars.slice(0, -1).join(""))).toBe(true);
      else expect(l).toBe(whole[i]);
    });
    expect(cut.filter((l) => l.endsWith("…")).length).toBe(whole.filter((l) => Array.from(l).length > 100).length);
    expect(rows(onTerminal(["read", "--wide", LOG], {}, 100).screen)).toEqual(whole);
    // Live rows too.
    const live = rows(liveOnTerminal([], 100)).filter((l) => / delete_module /.test(l));
    expect(live.length).toBeGreaterThan(0);
    for (const l of live) expect(Array.from(l).length).toBeLessThanOrEqual(100);
    expect(live.some((l) => l.endsWith("…"))).toBe(true);
  });

  test("long offline work shows its progress on a terminal's stderr (bytes, events, rate, time left), never in pipes or files", async () => {
    const dir = scratchDir();
    const big = join(dir, "big.cbor");
    const capture = await Capture.start(["--comm", "mt-trigger", "--no-findings", "-o", `cbor:${big}`]);
    const [burst] = trigger("burst", "5000");
    expect((await capture.stop()).exitCode).toBe(0);
    expect(burst.calls).toBe(5000);
    // Progress is drawn every 4,096 items read: a 5,000-event log shows it
    // whatever the speed (and stays small: the VM tier runs this under emulation).
    const progress = (what: string) => new RegExp(`modtrace ${what}: \\d+% of [\\d.]+ MB, [\\d,]+ events, [\\d.]+ MB/s, .* left`);
    const runs: [string[], string][] = [
      [["stats", big], "stats"],
      [["findings", big], "findings"],
      [["read", big, "-o", "json:" + join(dir, "big.json")], "read"],
      [["read", big, "-o", `parquet:${join(dir, "pq")}`], "read -o parquet"],
    ];
    for (const [args, what] of runs) {
      const r = onTerminal(args);
      expect([args, r.code]).toEqual([args, 0]);
      expect(r.screen).toMatch(progress(what));
      // Erased when done: after the last one, the line is cleared.
      expect(r.screen.slice(r.screen.lastIndexOf(" left"))).toContain("\r\x1b[K");
      if (what === "read -o parquet") expect(r.screen).toContain("wrote 5,000 rows to");
      const piped = runModtrace([...args.slice(0, -1), args.at(-1)!.replace("pq", "pq2").replace("big.json", "big2.json")]);
      expect([args, piped.exitCode, piped.stderr]).toEqual([args, 0, expect.not.stringContaining(`modtrace ${what}:`)]);
    }
    // Rows streaming to the terminal are their own sign of life.
    expect(onTerminal(["read", big]).screen).not.toMatch(progress("read"));
  });

  test("--status: a live status line on a terminal; elsewhere it says there is none", async () => {
    expect(liveOnTerminal(["--status"])).toMatch(/modtrace: \d+ s: [\d,]+ events \([\d,]+\/s\), [\d,]+ lost, [\d,]+ filtered/);
    const capture = await Capture.start(["--status", "--comm", "mt-trigger", "-o", "json"]);
    trigger("uid", "65534");
    const done = await capture.stop();
    expect(done.stderr).toContain("--status: standard error is not a terminal, so no status line is shown");
    expect(done.stderr).not.toMatch(/modtrace: \d+ s: /);
  });

  test("--quiet: on stderr only warnings and the seal key; the rows as ever", () => {
    const screen = liveOnTerminal(["-q"]);
    expect(screen).not.toContain("modtrace: ");
    expect(screen).toContain("TIME(UTC)");
    expect(screen).toContain("mt_unprivileged");
  });

  test("read and findings end quietly with exit 0 when the reader goes away (| head), in every format", () => {
    const runs = [
      ...["text", "json", "rows", "captures", "cbor"].map((f) => ["read", LOG, "-o", f]),
      ...["text", "json", "cbor"].map((f) => ["findings", LOG, "-o", f]),
    ];
    for (const args of runs) {
      const r = intoGoneReader(args);
      expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 0, err: expect.not.stringContaining("went away") });
    }
  });

  test("read and findings refuse CBOR to a terminal, as capture does", () => {
    for (const command of ["read", "findings"]) {
      const r = onTerminal([command, LOG, "-o", "cbor"]);
      expect(r.code).toBe(2);
      expect(r.screen).toContain("cbor is binary and standard output is a terminal");
      expect(r.screen).not.toContain("modtrace-log");
    }
  });

  test("findings prints each finding once, and one line with the count on stderr", () => {
    const screen = onTerminal(["findings", LOG]).screen;
    const total = Number(/findings: (\d+) \(/.exec(screen)?.[1]);
    expect(total).toBeGreaterThan(1);
    expect(screen.split("FINDING ").length - 1).toBe(total);
    const json = runModtrace(["findings", LOG, "-o", "json"]);
    expect(findingLines(json.stdout).length).toBe(total);
    const stderr = json.stderr.trimEnd().split("\n");
    expect(stderr.length).toBe(1);
    expect(stderr[0]).toStartWith(`modtrace: findings: ${total} (`);
  });

  test("colour: on a terminal by default, never with NO_COLOR or --color=never, and --color=always into a pipe", async () => {
    // A log with findings in it, for read (the fixture's are made by findings).
    const logged = join(scratchDir(), "log.cbor");
    const capture = await Capture.start(["--comm", "mt-trigger", "-o", `cbor:${logged}`]);
    trigger("basic", notAModule());
    await capture.stop();
    const RED = "\x1b[1;31m";
    for (const args of [["read", logged], ["findings", LOG]]) {
      expect(onTerminal(args).screen).toContain(RED);
      expect(onTerminal(args, { NO_COLOR: "1" }).screen).not.toContain(RED);
      expect(onTerminal([...args, "--color=never"]).screen).not.toContain(RED);
      expect(runModtrace([...args, "--color=always"]).stdout).toContain(RED);
    }
    const bad = runModtrace(["read", LOG, "--color=sometimes"]);
    expect(bad.exitCode).toBe(2);
  });
});
