# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of kvm_autoballoon (host module) and its guest driver.
#
#   make                  build the modules for the running kernel (or KDIR=)
#   make install          install them under /lib/modules/$(uname -r)/extra
#   make check            install test dependencies, build, run every test
#   make check-debug      the kselftests, the fuzzer's long form and the QEMU
#                         end to end under a KASAN/lockdep/kmemleak kernel
#   make demo             two guests in a test VM balloon by themselves; PNG plot
#   make demo-module      quicker: the module's decisions alone, no QEMU build
#   make bench            run the benchmarks, figures under bench/

KDIR ?= /lib/modules/$(shell uname -r)/build
KDIR_RELEASE = $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
		$(KDIR)/include/generated/utsrelease.h 2>/dev/null)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	$(MAKE) -C tools/testing/autoballoon clean
	$(MAKE) -C tools/testing/selftests/kvm_autoballoon clean

install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=extra modules_install
	depmod -a $(KDIR_RELEASE)

check:
	tools/testing/check.sh

check-debug:
	tools/testing/check-debug.sh

demo:
	tools/testing/vm/demo.sh

demo-module:
	tools/testing/vm/demo.sh --module-only

bench:
	bench/run.sh

.PHONY: all modules clean install check check-debug demo demo-module bench
