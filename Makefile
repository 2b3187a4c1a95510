# pagemap-bench build.  `make` builds the static binaries into build/bin/,
# `make asan` builds ASan+UBSan binaries into build/asan/ for the tests.
# Quiet by default; `make V=1` shows full commands.

CC      ?= cc
BUILD   ?= build
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wno-missing-field-initializers -Wformat=2 -Wno-format-truncation
CPPFLAGS := -D_GNU_SOURCE -I. -I$(BUILD)/gen -MMD -MP
STD     := -std=gnu11
LDSTATIC := -static
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

ifeq ($(V),1)
Q :=
quiet = @true
else
Q := @
quiet = @printf '  %-6s %s\n'
endif

# Who may use what (no cycles): lib <- catalog <- wire <- {bench, workloads};
# lib, catalog <- harness/schema <- harness/sinks <- harness/{live,offline} <- harness/main.c.
LIB_SRC   := $(sort $(wildcard lib/*.c lib/stats/*.c catalog/*.c wire/*.c))
WORK_SRC  := $(sort $(wildcard workloads/*.c))
SCAN_SRC  := $(sort $(wildcard bench/*.c))
HARN_SRC  := $(sort $(wildcard harness/*.c harness/*/*.c))
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))

BINS := pmwork pmscan pmbench

# $(call objs,variant,sources)
objs = $(patsubst %.c,$(BUILD)/$(1)/obj/%.o,$(2))

all: $(addprefix $(BUILD)/bin/,$(BINS))
asan: $(addprefix $(BUILD)/asan/,$(BINS)) $(patsubst tests/unit/%.c,$(BUILD)/asan/unit/%,$(UNIT_SRC))

LIBS_pmwork  := -lm
LIBS_pmscan  := -luring -lm
LIBS_pmbench := -ljansson -lm

define bin_rules
$(BUILD)/bin/$(1): $(call objs,rel,$(2) $(LIB_SRC))
	$$(quiet) LD $$@
	$(Q)mkdir -p $$(dir $$@)
	$(Q)$$(CC) $(LDSTATIC) -o $$@ $$^ $(LIBS_$(1))
$(BUILD)/asan/$(1): $(call objs,san,$(2) $(LIB_SRC))
	$$(quiet) LD $$@
	$(Q)mkdir -p $$(dir $$@)
	$(Q)$$(CC) $(SAN) -o $$@ $$^ $(LIBS_$(1))
endef
$(eval $(call bin_rules,pmwork,$(WORK_SRC)))
$(eval $(call bin_rules,pmscan,$(SCAN_SRC)))
$(eval $(call bin_rules,pmbench,$(HARN_SRC)))

# Unit tests link the library and the harness (less its main) so they can test either.
UNIT_LINK := $(LIB_SRC) $(filter-out harness/main.c,$(HARN_SRC))
$(BUILD)/asan/unit/%: $(BUILD)/san/obj/tests/unit/%.o $(call objs,san,$(UNIT_LINK))
	$(quiet) LD $@
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(SAN) -o $@ $^ -ljansson -lm

# The default gate policy is compiled in from its documented text.
$(BUILD)/gen/policy-default.inc: docs/policy-default.txt
	$(quiet) GEN $@
	$(Q)mkdir -p $(dir $@)
	$(Q)sed -e 's/\\/\\\\/g; s/"/\\"/g; s/^/\t"/; s/$$/\\n"/' $< > $@
$(BUILD)/rel/obj/harness/offline/policy.o $(BUILD)/san/obj/harness/offline/policy.o: $(BUILD)/gen/policy-default.inc

$(BUILD)/rel/obj/%.o: %.c
	$(quiet) CC $<
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(STD) $(CPPFLAGS) $(CFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/san/obj/%.o: %.c
	$(quiet) CC $<
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(STD) $(CPPFLAGS) -O1 -g $(SAN) $(WARN) -c -o $@ $<

# pmbench(1), printed by pmbench from the same option tables as every --help.
man: $(BUILD)/man/pmbench.1
$(BUILD)/man/pmbench.1: $(BUILD)/bin/pmbench
	$(quiet) GEN $@
	$(Q)mkdir -p $(dir $@)
	$(Q)$< man > $@.tmp && mv -f $@.tmp $@

clean:
	rm -rf $(BUILD)

.PHONY: all asan man clean
.SECONDARY:
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------- fuzz
# libFuzzer targets (tests/fuzz/README.md), built with Debian's clang and
# libclang-rt-14-dev.  `make fuzz-build` builds them into $(BUILD)/fuzz/;
# `make fuzz` runs each of FUZZ_TARGETS for FUZZ_SECONDS on a copy of its seed
# corpus and fails on any crash, hang (10 s) or leak, naming the reproducer.
# `make fuzz FUZZ_SECONDS=900` is the campaign.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_ALL     := rundir compare_gate merge model policy wire
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# The offline half: the library and the harness, less main.c and the live code that needs root.
FUZZ_LINK    := $(LIB_SRC) $(filter-out harness/main.c harness/live/%,$(HARN_SRC))
FUZZ_BINS    := $(addprefix $(BUILD)/fuzz/,$(FUZZ_ALL))

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh --bin $(BUILD)/fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(FUZZ_BINS): $(BUILD)/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/fuzz_%.o \
		$(BUILD)/fuzz/obj/tests/fuzz/fuzz_common.o $(call objs,fuzz,$(FUZZ_LINK))
	$(quiet) LD $@
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -ljansson -lm

# The project's sources as they are (clang's warnings are not gcc's); the targets with -Werror.
$(BUILD)/fuzz/obj/%.o: %.c
	$(quiet) FUZZCC $<
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(STD) $(CPPFLAGS) -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<
$(BUILD)/fuzz/obj/tests/fuzz/%.o: tests/fuzz/%.c
	$(quiet) FUZZCC $<
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(STD) $(CPPFLAGS) -O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
		$(filter-out -Wno-format-truncation,$(WARN)) -c -o $@ $<
$(BUILD)/fuzz/obj/harness/offline/policy.o: $(BUILD)/gen/policy-default.inc

.PHONY: fuzz fuzz-build
