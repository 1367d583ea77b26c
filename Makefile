# copass: PGXS build, tests, demo.
EXTENSION = copass
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = copass
OBJS = $(patsubst %.c,%.o,$(wildcard src/*.c))
DATA = $(wildcard sql/$(EXTENSION)--*.sql)
PG_CFLAGS += -Wall -Wextra -Werror -Wno-unused-parameter -Wno-sign-compare -Wno-missing-field-initializers

# pg_regress reads test/sql/*.sql and compares with expected/*.out;
# isolation specs are test/specs/*.spec; pgTAP files are test/pgtap/*.sql.
REGRESS = $(sort $(basename $(notdir $(wildcard test/sql/*.sql))))
REGRESS_OPTS = --inputdir=test --outputdir=.
ISOLATION = $(sort $(basename $(notdir $(wildcard test/specs/*.spec))))
ISOLATION_OPTS = --inputdir=test --outputdir=. --load-extension=copass
PGTAP = $(sort $(wildcard test/pgtap/*.sql))

PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
ifeq ($(wildcard $(PG_CONFIG)),)
PG_CONFIG = pg_config
endif
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(PGXS),)
include $(PGXS)
endif

.PHONY: deps test demo pgtap maintenance fuzz valgrind bench

# Debian's packages: PostgreSQL 15, its server headers, pgTAP, pg_prove.
deps:
	@scripts/install-deps

# Build warning-free, install, and run every suite in a throwaway cluster.
test: deps
	$(MAKE) all
	$(MAKE) install
	pg_virtualenv -t -v 15 $(MAKE) installcheck pgtap
	scripts/test-maintenance

# pgTAP files through pg_prove, in a database of their own.
pgtap:
	dropdb --if-exists copass_tap
	createdb copass_tap
	psql -X -q -d copass_tap -c 'CREATE EXTENSION pgtap'
	pg_prove -d copass_tap --failures $(PGTAP)

# The main job: replay a request log through PostgREST-shaped transactions.
demo: deps
	$(MAKE) all
	$(MAKE) install
	pg_virtualenv -t -v 15 scripts/demo

# Longer runs, each in its own throwaway cluster (see the README for times).
fuzz: deps
	$(MAKE) all
	$(MAKE) install
	scripts/fuzz

valgrind: deps
	$(MAKE) all
	$(MAKE) install
	scripts/valgrind

bench: deps
	$(MAKE) all
	$(MAKE) install
	bench/run
