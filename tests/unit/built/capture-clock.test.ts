// A capture's scans and its now, on the boot clock: the wall clock set back
// (what root can do to blind a capture whose schedule followed it) moves
// neither. Date is stepped here through bun:test's setSystemTime; the boot
// clock is the kernel's, read through the shim.
import { afterEach, expect, setSystemTime, test } from "bun:test";
import { CaptureClock } from "../../../loader/capture-clock";
import { native } from "../../../loader/native";

afterEach(() => setSystemTime());

test("the wall clock set back a year: the scans still come due after their interval, and the capture's now stays where it was", async () => {
  const clock = new CaptureClock(BigInt(native().mt_clock_offset_ns()));
  const scans = clock.every(0.05);
  expect(scans.due()).toBe(true);
  scans.done();
  expect(scans.due()).toBe(false);
  const before = clock.nowNs();
  const year = 365 * 86_400_000;
  setSystemTime(new Date(Date.now() - year));
  const start = performance.now();
  while (!scans.due() && performance.now() - start < 10_000) await Bun.sleep(5);
  expect(scans.due()).toBe(true);
  expect(clock.nowNs()).toBeGreaterThanOrEqual(before);
  expect(Number(clock.nowNs() / 1_000_000n) - Date.now()).toBeGreaterThan(year - 60_000);
});
