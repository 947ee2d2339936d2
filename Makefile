# The build graph; build.sh installs the tools and calls this. Each artifact
# is rebuilt only when its inputs change, so a second build is quick.
DEPS       ?= .cache/deps/prefix
BUN        := node_modules/.bin/bun
ASC        := node_modules/.bin/asc
GENERATED  := decoder/assembly/generated
CATALOGUE  := catalogue/events.ts catalogue/event-types.ts catalogue/programs.ts catalogue/taints.ts catalogue/fields.ts
BPF_CFLAGS := -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 \
              -I/usr/include/$(shell gcc -dumpmachine) -I$(DEPS)/include -Ibpf
SHIM_LIBS  := $(DEPS)/lib/libbpf.a $(DEPS)/lib/libelf_pic.a $(DEPS)/lib/libz.a

all: dist/modtrace

# The event catalogue, written once in catalogue/, as each layer needs it.
bpf/generated/catalogue.h: catalogue/gen-bpf-header.ts $(CATALOGUE)
	$(BUN) catalogue/gen-bpf-header.ts $@

$(GENERATED)/catalogue.ts: catalogue/gen-decoder-tables.ts $(CATALOGUE)
	$(BUN) catalogue/gen-decoder-tables.ts $@

# The field table, as the decoder's keys and the typed event of a log.
$(GENERATED)/keys.ts record/generated/event.ts &: catalogue/gen-field-tables.ts catalogue/fields.ts rows/schema.ts
	$(BUN) catalogue/gen-field-tables.ts $(GENERATED)/keys.ts record/generated/event.ts

loader/generated/programs.h loader/generated/programs.ts &: catalogue/gen-program-table.ts $(CATALOGUE)
	$(BUN) catalogue/gen-program-table.ts loader/generated/programs.h loader/generated/programs.ts

build/modtrace.bpf.o: bpf/modtrace.bpf.c $(wildcard bpf/*.h) bpf/generated/catalogue.h | build
	clang $(BPF_CFLAGS) -c $< -o $@

$(GENERATED)/layout.ts: build/modtrace.bpf.o decoder/gen-layout.ts bpf/events.h bpf/generated/catalogue.h
	$(BUN) decoder/gen-layout.ts $< $@

$(GENERATED)/names.ts decoder/generated/errnos.ts &: decoder/gen-kernel-names.ts
	$(BUN) decoder/gen-kernel-names.ts $(GENERATED)/names.ts decoder/generated/errnos.ts

# With the wasm, its generated glue and typings (decoder/host.ts says why raw).
DECODER := build/decoder.wasm build/decoder.js build/decoder.d.ts
$(DECODER) &: $(GENERATED)/layout.ts $(GENERATED)/names.ts $(GENERATED)/catalogue.ts $(GENERATED)/keys.ts $(wildcard decoder/assembly/*.ts) decoder/asconfig.json
	$(ASC) decoder/assembly/index.ts --config decoder/asconfig.json --target release --bindings raw -o build/decoder.wasm

# Bun does not typecheck; this is what makes the host and the generated
# typings of the decoder's exports disagree at build time, not at run time.
build/decoder.typechecked: build/decoder.d.ts $(wildcard decoder/*.ts) $(GENERATED)/layout.ts tsconfig.json tsconfig.decoder.json package.json
	$(BUN) run typecheck
	touch $@

build/libmodtrace.so: loader/shim.c loader/libbpf-log.c loader/session-read.c loader/probe.c loader/kernel-btf.c loader/ring.c loader/heartbeat.c loader/bpf-programs.c loader/bpf-links.c loader/clocks.c loader/ring.h loader/session.h loader/libbpf-log.h loader/kernel-btf.h bpf/events.h bpf/generated/catalogue.h \
                      loader/generated/programs.h $(SHIM_LIBS) | build
	gcc -shared -fPIC -O2 -Wall -Werror -fvisibility=hidden -I$(DEPS)/include \
	    -o $@ loader/shim.c loader/libbpf-log.c loader/session-read.c loader/probe.c loader/kernel-btf.c loader/ring.c loader/heartbeat.c loader/bpf-programs.c loader/bpf-links.c loader/clocks.c $(SHIM_LIBS) \
	    -Wl,--no-undefined -Wl,--exclude-libs,ALL -Wl,-z,now

tests/trigger: tests/trigger.c
	gcc -O2 -Wall -Werror -pthread -o $@ $<

# BPF programs that call the helpers an eBPF rootkit uses, loaded (never
# attached) by the host tests: tests/mt_*.bpf.c.
tests/%.bpf.o: tests/%.bpf.c
	clang $(BPF_CFLAGS) -c $< -o $@

# The TypeScript rooms the binary is built from: tsconfig.json's include,
# one list of them (the VM host tier copies the same), but tests and bench.
TS_ROOMS := $(filter-out include tests bench,$(shell grep -o '"include": \[[^]]*\]' tsconfig.json | grep -o '"[a-z]*"' | tr -d '"'))

dist/modtrace: build/libmodtrace.so build/modtrace.bpf.o $(DECODER) build/decoder.typechecked \
               $(wildcard $(addsuffix /*.ts,$(TS_ROOMS)) $(addsuffix /*/*.ts,$(TS_ROOMS)) findings/*.json decoder/*.ts) $(CATALOGUE) \
               $(GENERATED)/layout.ts decoder/generated/errnos.ts loader/generated/programs.ts record/generated/event.ts package.json | dist
	$(BUN) build --compile --minify --sourcemap cmd/entry.ts cmd/main.ts log/tally-worker.ts --outfile $@

build dist:
	mkdir -p $@

.PHONY: all
