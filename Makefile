# Thin wrapper so the README's two commands work on a fresh Debian machine.
#   make demo   install what is needed, build, analyse a bundled core
#   make check  install what is needed, build with ASan+UBSan, run every test

BUILD      ?= build
CHECKBUILD ?= build-check
PYTHON     ?= /usr/bin/python3
DEMO_CORE  ?= corefiles/cores/go1.26/subslice
DEMO_CMD   ?= report

DEB_PACKAGES = gcc pkg-config meson ninja-build libelf-dev libdw-dev libzstd-dev \
               libjansson-dev libncurses-dev zstd binutils python3 python3-jsonschema

.PHONY: deps build demo check clean

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD) --buildtype=debugoptimized
	ninja -C $(BUILD)

demo: build
	./$(BUILD)/goautopsy $(DEMO_CMD) $(DEMO_CORE)/core.zst --exe $(DEMO_CORE)/exe.zst

check: deps
	@[ -f $(CHECKBUILD)/build.ninja ] || meson setup $(CHECKBUILD) --buildtype=debug \
	  -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true
	ninja -C $(CHECKBUILD)
	$(PYTHON) tests/run.py --build $(CHECKBUILD)

clean:
	rm -rf $(BUILD) $(CHECKBUILD)
