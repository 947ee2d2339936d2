/* The verifier's work on BPF programs, by id: for each, the instructions it
 * processed (bpf_prog_info.verified_insns, which bpftool 7.1 does not print)
 * and the sizes of its translated and JIT-compiled code; then the totals.
 *   verifier-work ID... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

int main(int argc, char **argv)
{
	unsigned long long verified = 0, xlated = 0, jited = 0;

	for (int i = 1; i < argc; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_prog_get_fd_by_id(atoi(argv[i]));

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
			perror(argv[i]);
			return 1;
		}
		printf("%-24s verified_insns %7u  xlated %6u B  jited %6u B\n", info.name, info.verified_insns,
		       info.xlated_prog_len, info.jited_prog_len);
		verified += info.verified_insns;
		xlated += info.xlated_prog_len;
		jited += info.jited_prog_len;
		close(fd);
	}
	printf("%-24s verified_insns %7llu  xlated %6llu B  jited %6llu B\n", "total", verified, xlated, jited);
	return 0;
}
