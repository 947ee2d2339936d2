/* The capture's settings, as globals: read by a plain load, where an array
 * map cost every event a lookup call and a NULL check. Each has a section of
 * its own, so its libbpf map holds exactly one struct and the loader
 * (loader/shim.c) sets it whole, by the section's name. */
#ifndef MODTRACE_CONFIG_H
#define MODTRACE_CONFIG_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include "events.h"

/* Set before load (mt_set_config()) and frozen: the verifier takes its
 * fields as constants, so a filter not asked for is a branch never taken and
 * its code is not verified nor run. Every load pass of a capture (the
 * fallback loads again when a program fails) sets it the same way. */
const volatile struct mt_config config SEC(".rodata.config") = {
	.ancestors = MT_ANCESTORS,
};

/* Written after attach (mt_set_attached()), so not read-only: which events
 * attached is known only then, and an event that fails to attach with no
 * mode left is dropped without loading again (loader/session.ts), so a mask
 * fixed at load would keep naming it (a kernel event would then tie itself
 * to a syscall whose exit hook is absent, and the call's entry would never
 * be removed). The same holds of the image hooks: attached or not is known
 * after attach, and a hook left attached after its partner failed must
 * stream nothing. Zero until written: nothing is sent before the capture is
 * whole. */
struct mt_attached attached SEC(".data.attached") = {};

#endif
