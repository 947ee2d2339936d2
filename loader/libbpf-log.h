/* libbpf-log.c: libbpf's warnings kept for the error a call returns. */
#ifndef MODTRACE_LIBBPF_LOG_H
#define MODTRACE_LIBBPF_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include <bpf/libbpf.h>

/* libbpf's print callback (libbpf_set_print). */
int mt_keep_libbpf_log(enum libbpf_print_level level, const char *fmt, va_list args);
/* err = "what: strerror(code)", then libbpf's warnings since the last error. */
void mt_set_error(char *err, uint32_t err_len, const char *what, int code);
void mt_forget_libbpf_log(void);
/* Before a load: no program has failed yet. */
void mt_forget_load_failure(void);

#endif
