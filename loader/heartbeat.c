/* The heartbeat's calls (findings/heartbeat.ts): one module syscall per event
 * asked for, each made so that the kernel refuses it at once, before it
 * reads a file, takes a module or stages a kernel, and each carrying the
 * round's nonce in a string its record keeps (the name, the parameters, the
 * command line). Every hook of that event must then report it: a hook that
 * stays silent was detached, switched off (kprobes) or bypassed. Made here,
 * not from JavaScript, so that each is one plain syscall of this thread. */
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "../bpf/events.h"

#define EXPORT __attribute__((visibility("default")))

/* Bits of the events whose call was made. kexec_load is never made: under
 * lockdown the kernel logs every refusal of it before it checks anything. */
EXPORT uint32_t mt_heartbeat(const char *nonce, uint32_t events)
{
	uint32_t made = 0;

	if (events & (1u << MT_EVENT_INIT_MODULE)) {
		/* An image shorter than an ELF header: ENOEXEC before anything is read. */
		syscall(SYS_init_module, NULL, 0UL, nonce);
		made |= 1u << MT_EVENT_INIT_MODULE;
	}
	if (events & (1u << MT_EVENT_FINIT_MODULE)) {
		syscall(SYS_finit_module, -1, nonce, 0); /* EBADF */
		made |= 1u << MT_EVENT_FINIT_MODULE;
	}
	if (events & (1u << MT_EVENT_DELETE_MODULE)) {
		/* A name no module has (the nonce): ENOENT. O_NONBLOCK: never waits. */
		syscall(SYS_delete_module, nonce, 04000);
		made |= 1u << MT_EVENT_DELETE_MODULE;
	}
	if (events & (1u << MT_EVENT_KEXEC_FILE_LOAD)) {
		/* Flags no kernel knows: EINVAL (or EPERM) before any file is read. */
		syscall(SYS_kexec_file_load, -1, -1, strlen(nonce) + 1, nonce, 0x80000000UL);
		made |= 1u << MT_EVENT_KEXEC_FILE_LOAD;
	}
	return made;
}
