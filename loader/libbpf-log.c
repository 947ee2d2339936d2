/* libbpf's warnings, kept so that a failure can be explained to the user,
 * and the program a failed load stopped at. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "session.h"
#include "libbpf-log.h"

/* libbpf's warnings, kept so a failure can be explained to the user. */
static char libbpf_log[4096];
static size_t libbpf_log_len;

/* The program a failed load stopped at, and libbpf's first word on it:
 * libbpf loads programs in turn and gives up at the first the kernel (or its
 * own preparation) refuses, naming it in each warning ("prog '%s': ..."). So
 * the last program named is the one that failed, and the caller can leave it
 * out and load the rest again. */
static char failed_program[128];
static char failed_reason[512];

static void note_program_warning(const char *fmt, va_list args)
{
	static const char PREFIX[] = "prog '%s': ";
	static const char LIBBPF[] = "libbpf: "; /* what libbpf's pr_warn() puts before each */
	char message[sizeof(failed_reason)];
	const char *name;
	va_list copy;
	size_t len;

	if (!strncmp(fmt, LIBBPF, sizeof(LIBBPF) - 1))
		fmt += sizeof(LIBBPF) - 1;
	if (strncmp(fmt, PREFIX, sizeof(PREFIX) - 1))
		return;
	va_copy(copy, args);
	name = va_arg(copy, const char *);
	va_end(copy);
	if (!strcmp(name, failed_program))
		return; /* the first warning on a program says most: "failed to load" follows */
	snprintf(failed_program, sizeof(failed_program), "%s", name);
	va_copy(copy, args);
	vsnprintf(message, sizeof(message), fmt, copy);
	va_end(copy);
	len = strlen(message);
	while (len && message[len - 1] == '\n')
		message[--len] = 0;
	snprintf(failed_reason, sizeof(failed_reason), "%s", message + strlen(name) + sizeof(PREFIX) - 3);
}

int mt_keep_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args)
{
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	note_program_warning(fmt, args);
	if (libbpf_log_len >= sizeof(libbpf_log) - 1)
		libbpf_log_len = 0;
	n = vsnprintf(libbpf_log + libbpf_log_len, sizeof(libbpf_log) - libbpf_log_len, fmt, args);
	if (n > 0)
		libbpf_log_len += (size_t)n < sizeof(libbpf_log) - libbpf_log_len
					  ? (size_t)n
					  : sizeof(libbpf_log) - libbpf_log_len - 1;
	return 0;
}

void mt_set_error(char *err, uint32_t err_len, const char *what, int code)
{
	if (!err || !err_len)
		return;
	snprintf(err, err_len, "%s: %s%s%.*s", what, strerror(code < 0 ? -code : code),
		 libbpf_log_len ? "\n" : "", (int)libbpf_log_len, libbpf_log);
	libbpf_log_len = 0;
}

void mt_forget_libbpf_log(void)
{
	libbpf_log_len = 0;
}

void mt_forget_load_failure(void)
{
	failed_program[0] = failed_reason[0] = 0;
}

/* After mt_load() failed: the program it stopped at, and why (both empty
 * when the failure was not one program's, e.g. a map the kernel refused). */
EXPORT void mt_load_failure(char *program, uint32_t program_len, char *reason, uint32_t reason_len)
{
	snprintf(program, program_len, "%s", failed_program);
	snprintf(reason, reason_len, "%s", failed_reason);
}
