/* The clocks a capture goes by (loader/capture-clock.ts): the kernel stamps
 * its records with the boot clock, which nobody sets and which counts a
 * suspension; the wall clock only places them, once, at the start. */
#include <stdint.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

/* CLOCK_REALTIME - CLOCK_BOOTTIME in ns: what turns the BPF side's boot-time
 * stamps into wall-clock time. */
EXPORT int64_t mt_clock_offset_ns(void)
{
	struct timespec real, boot;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	return (int64_t)(real.tv_sec - boot.tv_sec) * 1000000000LL + (real.tv_nsec - boot.tv_nsec);
}

/* The boot clock in ns: a capture's intervals and its now (offset by the
 * above), which setting the wall clock does not move. */
EXPORT int64_t mt_boot_ns(void)
{
	struct timespec boot;

	clock_gettime(CLOCK_BOOTTIME, &boot);
	return (int64_t)boot.tv_sec * 1000000000LL + boot.tv_nsec;
}
