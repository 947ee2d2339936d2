// The hooks a capture is trying, and what it falls back to: each event
// starts on its planned mode and, when loading or attaching that mode's
// programs fails, moves to the next of its fallbacks (fentry -> kprobe -> raw
// for syscalls; fentry -> kprobe for functions and the image hooks), until
// one works or none is left. Session.open() loads and attaches the current
// choices, reports failures here, and loads again while anything moved.
import type { Plan, Unavailable } from "./attach-plan";
import type { EventInfo } from "../catalogue/events";
import { IMAGE_PROGRAMS, programsFor, type ImageMode, type Mode, type ReadAt } from "../catalogue/programs";
import { readAtFor, type ReadAtRequest } from "./hooks";

interface EventChoice {
  event: EventInfo;
  modes: Mode[]; // the first is the one tried
  failures: string[]; // "fentry: loading fentry_init_module failed: ..."
}

interface ImageChoice {
  modes: ImageMode[];
  failures: string[];
}

export class HookChoices {
  private events: EventChoice[];
  private images: ImageChoice | { why: string };
  readonly unavailable: Unavailable[];
  private compat: boolean;

  constructor(plan: Plan, private readAt: ReadAtRequest) {
    this.compat = plan.compat;
    this.events = plan.planned.map((p) => ({ event: p.event, modes: [p.mode, ...p.fallbacks], failures: [] }));
    this.images = "mode" in plan.images ? { modes: [plan.images.mode, ...plan.images.fallbacks], failures: [] } : plan.images;
    this.unavailable = [...plan.unavailable];
  }

  /** The events still to attach, each with the mode to try now and why the ones before it failed. */
  current(): { event: EventInfo; mode: Mode; readAt: ReadAt; programs: string[]; failures: string[] }[] {
    return this.events.map((c) => {
      const readAt = readAtFor(c.modes[0], this.readAt);
      return { event: c.event, mode: c.modes[0], readAt, programs: programsFor(c.event, c.modes[0], readAt, this.compat), failures: c.failures };
    });
  }

  /** The image hooks to try now, or why there are none. */
  currentImages(): { mode: ImageMode; programs: string[]; failures: string[] } | { why: string } {
    if (!("modes" in this.images)) return this.images;
    return { mode: this.images.modes[0], programs: IMAGE_PROGRAMS[this.images.modes[0]], failures: this.images.failures };
  }

  /** Every program the current choices need loaded. */
  wantedPrograms(): Set<string> {
    const wanted = new Set(this.current().flatMap((c) => c.programs));
    const images = this.currentImages();
    if ("mode" in images) images.programs.forEach((p) => wanted.add(p));
    return wanted;
  }

  /** The kernel (or libbpf) would not load this program: whatever uses it
   * moves on. False when nothing does, so the failure is not one program's. */
  loadFailed(program: string, why: string): boolean {
    const users = this.current().filter((c) => c.programs.includes(program));
    for (const c of users) this.moveOn(c.event, c.mode, `loading ${program} failed: ${why}`);
    const images = this.currentImages();
    const imagesUse = "mode" in images && images.programs.includes(program);
    if (imagesUse) this.imagesFailed(`loading ${program} failed: ${why}`);
    return users.length > 0 || imagesUse;
  }

  /** Attaching the event's current mode failed. True when it has a mode
   * left to try (which takes loading the programs again). */
  attachFailed(event: EventInfo, mode: Mode, why: string): boolean {
    this.moveOn(event, mode, why);
    return this.events.some((c) => c.event === event && c.modes[0] !== mode);
  }

  /** The image hooks' current mode failed. True when another is left to try. */
  imagesFailed(why: string): boolean {
    if (!("modes" in this.images)) return false;
    const mode = this.images.modes.shift()!;
    this.images.failures.push(`${mode}: ${why}`);
    if (!this.images.modes.length) this.images = { why: this.images.failures.join("; ") };
    return "modes" in this.images;
  }

  /** The event's mode failed: next mode, or unavailable. Where it has a next
   * mode, the syscall events that share its modes move with it (see
   * planAttach: raw's programs see every syscall, so the syscall events must
   * not be split between raw and another mode); the move loads again anyway.
   * Nothing happens when the event already left that mode (a program shared
   * by several events failed for each). */
  private moveOn(event: EventInfo, mode: Mode, why: string) {
    const failing = this.events.find((c) => c.event === event);
    if (!failing || failing.modes[0] !== mode) return;
    // An optional syscall event (kexec) never moves the others: it goes
    // without, as planAttach leaves it out where it cannot share their mode.
    if (event.kind === "syscall" && event.optional) failing.modes = [mode];
    const sameModes = (c: EventChoice) => c.modes.join() === failing.modes.join();
    const movers = event.kind === "syscall" && failing.modes.length > 1 ? this.events.filter((c) => c.event.kind === "syscall" && sameModes(c)) : [failing];
    for (const c of movers) {
      c.failures.push(`${mode}: ${why}`);
      c.modes.shift();
      if (!c.modes.length) {
        this.events.splice(this.events.indexOf(c), 1);
        this.unavailable.push({ event: c.event, why: c.failures.join("; ") });
      }
    }
  }
}
