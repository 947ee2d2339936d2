/* The maps shared by modtrace's BPF programs and read or written by the loader. */
#ifndef MODTRACE_MAPS_H
#define MODTRACE_MAPS_H

/* Two rings, so that a flood cannot blind modtrace. Failed syscall attempts,
 * which anyone can make as fast as they like, go to the bulk ring (resized
 * by --buffer-size). What changes the kernel (a syscall that succeeded) and
 * what the kernel itself reports (module_load, module_free, do_init_module,
 * module_request: only privileged work causes them) go to the priority ring,
 * which a flood of failures cannot fill. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} priority_events SEC(".maps");

/* One call between sys_enter and sys_exit, keyed by thread id: the record is
 * built at entry (user memory is read while the caller still waits) and sent
 * at exit with the return value. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, struct mt_record);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct mt_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MT_COUNTER_COUNT);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u8);
} filter_pid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);
	__type(value, u8);
} filter_uid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, char[MT_COMM_LEN]);
	__type(value, u8);
} filter_comm SEC(".maps");

/* Records are larger than the 512-byte BPF stack: build them here. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct mt_record);
} scratch_record SEC(".maps");

static __always_inline void count(enum mt_counter which)
{
	u32 key = which;
	u64 *value = bpf_map_lookup_elem(&counters, &key);

	if (value)
		*value += 1;
}

#endif
