# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# libxfsm as a library others link (docs/libxfsm.md):
#
#   $(BUILD)/libxfsm.a			static (the in-tree tools link it)
#   $(BUILD)/libxfsm.so.$(LIBXFSM_VERSION)	shared, soname libxfsm.so.$(LIBXFSM_MAJOR),
#					exporting only the symbols that
#					lib/libxfsm.map lists (node LIBXFSM_0.1)
#   $(BUILD)/include/xfsm/*.h		the public headers, as installed
#
# Both libraries are built from the same position-independent objects.
# The public headers are the ones in LIBXFSM_HDRS; they include each other
# and nothing else of the tree, which building the examples against
# $(BUILD)/include alone checks on every build.  `make install` puts the
# headers into PREFIX/include/xfsm/, the libraries and libxfsm.pc into
# LIBDIR (scripts/install.sh).
#
# LIBXFSM_MAJOR changes when a function of the API changes its signature or
# a structure the caller allocates changes its layout; new functions go
# into a new version node of lib/libxfsm.map (LIBXFSM_0.2, ...).

LIBXFSM_MAJOR   := 0
LIBXFSM_VERSION := $(LIBXFSM_MAJOR).1.0
LIBXFSM_SONAME  := libxfsm.so.$(LIBXFSM_MAJOR)
LIBXFSM_SO      := $(BUILD)/libxfsm.so.$(LIBXFSM_VERSION)
LIBXFSM_MAP     := lib/libxfsm.map
LIBXFSM_HDRS    := include/xfsm/abi.h lib/libxfsm.h lib/xfsm_lang.h lib/xfsm_acl.h lib/xfsm_num.h \
		   lib/xfsm_group.h lib/xfsm_xsk.h
LIBXFSM_PUBHDRS := $(addprefix $(BUILD)/include/xfsm/,$(notdir $(LIBXFSM_HDRS)))

# Examples are external programs: they see the public headers only.
EXAMPLE_CFLAGS  := -g -O2 -std=gnu11 -Wall -Wextra -Werror -I$(BUILD)/include $(CPPFLAGS) $(CFLAGS)

$(LIB_OBJS): USER_CFLAGS += -fPIC

# The library's objects are rebuilt when the flags they were compiled with
# change (CFLAGS, or PREFIX, which lib/attach.o bakes in): $(BUILD)/lib/flags
# holds them and is rewritten only when they differ.
LIB_FLAGS := $(CC) $(USER_CFLAGS) -fPIC PREFIX=$(PREFIX)

$(LIB_OBJS): $(BUILD)/lib/flags

$(BUILD)/lib/flags: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)if [ "$$(cat $@ 2>/dev/null)" != '$(LIB_FLAGS)' ]; then \
		printf '%s\n' '$(LIB_FLAGS)' > $@; fi

.PHONY: FORCE

installable: $(LIBXFSM_SO) $(BUILD)/libxfsm.so.$(LIBXFSM_MAJOR) $(BUILD)/libxfsm.so $(LIBXFSM_PUBHDRS)

$(LIBXFSM_SO): $(LIB_OBJS) $(LIBXFSM_MAP)
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared -Wl,-soname,$(LIBXFSM_SONAME) -Wl,--version-script=$(LIBXFSM_MAP) \
		-Wl,-z,defs $(LDFLAGS) $(LIB_OBJS) $(USER_LIBS) -o $@

$(BUILD)/libxfsm.so.$(LIBXFSM_MAJOR): $(LIBXFSM_SO)
	$(Q)ln -sf $(notdir $<) $@

$(BUILD)/libxfsm.so: $(BUILD)/libxfsm.so.$(LIBXFSM_MAJOR)
	$(Q)ln -sf $(notdir $<) $@

$(BUILD)/include/xfsm/%.h: include/xfsm/%.h
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

$(BUILD)/include/xfsm/%.h: lib/%.h
	$(Q)mkdir -p $(@D)
	$(Q)cp $< $@

# What scripts/install.sh needs to know about the library.
$(BUILD)/libxfsm.vars: mk/libxfsm.mk | $(BUILD)
	$(Q)printf 'LIBXFSM_VERSION=%s\nLIBXFSM_SONAME=%s\nLIBXFSM_HDRS="%s"\n' \
		'$(LIBXFSM_VERSION)' '$(LIBXFSM_SONAME)' '$(notdir $(LIBXFSM_HDRS))' > $@

installable: $(BUILD)/libxfsm.vars

$(BUILD)/examples/%: examples/%.c $(LIBXFSM) $(LIBXFSM_PUBHDRS)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(EXAMPLE_CFLAGS) $< $(LDFLAGS) $(LIBXFSM) $(USER_LIBS) -o $@
