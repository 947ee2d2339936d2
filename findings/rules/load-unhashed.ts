// Rule 16: a module the kernel loaded whose image modtrace could not hash:
// the image ring was full, or chunks were lost on the way. Nothing else
// about that load can be checked against a known file or package, which a
// flood that fills the ring at the right moment could be meant to achieve.
// (A kernel or capture with no image hook at all is said once, at start.)
import * as layout from "../../record/layout";
import { actor, evidence, type RuleUnit } from "../rule";

export const loadUnhashed: RuleUnit = {
  ids: ["load_unhashed"],
  events: [layout.EVENT_MODULE_LOAD],
  make: (ctx) => ({
    event(e, report) {
      if (e.id !== layout.EVENT_MODULE_LOAD) return;
      const state = e.imageState;
      if (state !== layout.IMAGE_RING_FULL && state !== layout.IMAGE_LOST) return;
      const why = state === layout.IMAGE_LOST
        ? "chunks of its image were lost on their way to modtrace"
        : `the image ring was full after ${e.imageSent} of ${e.imageSize} bytes (--image-buffer-size)`;
      report({
        rule: "load_unhashed",
        severity: ctx.severity("load_unhashed"),
        techniques: ["T1547.006"],
        description: `module ${e.moduleName ?? "?"} was loaded without a hash: ${why}`,
        timestamp: e.timestamp,
        evidence: [evidence(e)],
        moduleName: e.moduleName,
        actor: actor(e),
        details: { reason: state === layout.IMAGE_LOST ? "lost" : "ring_full", size: Number(e.imageSize) },
      });
    },
  }),
};
