# mod_cnca: build (apxs), deps, run, test, install. See README.md.
APXS      ?= apxs
PKGS      := openssl libxml-2.0 libcurl jansson libmemcached gdlib libpng zlib libdeflate
PORT      ?= 8080
BUILD     := build

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Debian's lodepng has no pkg-config file
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -llodepng
APR_CFLAGS := $(shell apr-1-config --cflags --cppflags --includes 2>/dev/null) \
              $(shell apu-1-config --includes 2>/dev/null)
APR_LIBS   := $(shell apr-1-config --link-ld --libs 2>/dev/null) \
              $(shell apu-1-config --link-ld --libs 2>/dev/null)

WARN      := -Wall -Wextra
CFLAGS    ?= -O2 -g
# hidden: each module keeps its own copy of the core (log sink, keys), so
# mod_cnca and mod_cnca_sandbox never resolve each other's core symbols
CORE_CFLAGS := $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -std=gnu11 $(APR_CFLAGS) $(PKG_CFLAGS)

CORE_SRC  := $(sort $(wildcard mod_cnca/cnca_*.c))
# C++ only where a library is C++ (cnca_image_lodepng.cc): no exceptions,
# no RTTI, no standard library, so nothing of libstdc++ is linked for it
CORE_CXX_SRC := $(sort $(wildcard mod_cnca/cnca_*.cc))
CORE_CXXFLAGS := $(CFLAGS) $(WARN) -fPIC -fvisibility=hidden -fno-exceptions -fno-rtti $(PKG_CFLAGS)
CORE_OBJ  := $(patsubst mod_cnca/%.c,$(BUILD)/core/%.o,$(CORE_SRC)) \
             $(patsubst mod_cnca/%.cc,$(BUILD)/core/%.o,$(CORE_CXX_SRC))
HEADERS   := $(wildcard mod_cnca/*.h)
SANDBOX_SRC := $(sort $(wildcard mod_cnca/mod_cnca_sandbox*.c))
GLUE_SRC  := $(filter-out $(SANDBOX_SRC),$(sort $(wildcard mod_cnca/mod_cnca*.c)))
UNIT_SRC  := $(sort $(wildcard t/unit/test_*.c))
UNIT_BIN  := $(patsubst t/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))

comma     := ,
APXS_FLAGS := -Wc,-std=gnu11 $(addprefix -Wc$(comma),$(WARN)) -Wc,-O2 -Wc,-g \
              $(addprefix -Wc$(comma),$(PKG_CFLAGS))

.PHONY: all deps run test test-unit unit install clean format bench

all: $(BUILD)/mod_cnca.so $(BUILD)/mod_cnca_sandbox.so

$(BUILD)/core/%.o: mod_cnca/%.c $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -c -o $@ $<

$(BUILD)/core/%.o: mod_cnca/%.cc $(HEADERS) Makefile
	@mkdir -p $(dir $@)
	$(CXX) $(CORE_CXXFLAGS) -c -o $@ $<

$(BUILD)/libcnca.a: $(CORE_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# apxs compiles the glue with libtool; the core archive and the libraries go
# to the linker as -Wl arguments, in that order, so that libtool neither drops
# the archive nor lets --as-needed drop libraries before the archive needs them.
define apxs_module
	@mkdir -p $(BUILD)/$(1)
	$(APXS) -c -o $(BUILD)/$(1)/$(1).la $(APXS_FLAGS) -Wc,-I$(CURDIR)/mod_cnca \
	    $(2) -Wl,$(CURDIR)/$(BUILD)/libcnca.a $(addprefix -Wl$(comma),$(PKG_LIBS)) \
	    >$(BUILD)/$(1).log 2>&1 \
	    || { cat $(BUILD)/$(1).log; exit 1; }
	@grep -E 'warning:|error:' $(BUILD)/$(1).log | grep -v '^libtool' || true
	cp $(BUILD)/$(1)/.libs/$(1).so $(BUILD)/$(1).so.new && mv -f $(BUILD)/$(1).so.new $(BUILD)/$(1).so
endef

$(BUILD)/mod_cnca.so: $(GLUE_SRC) $(HEADERS) $(BUILD)/libcnca.a
	$(call apxs_module,mod_cnca,$(GLUE_SRC))

$(BUILD)/mod_cnca_sandbox.so: $(SANDBOX_SRC) $(HEADERS) $(BUILD)/libcnca.a
	$(call apxs_module,mod_cnca_sandbox,$(SANDBOX_SRC))

$(BUILD)/unit/%: t/unit/%.c t/unit/tap.h t/unit/testlib.h $(BUILD)/libcnca.a
	@mkdir -p $(dir $@)
	$(CC) $(CORE_CFLAGS) -Imod_cnca -It/unit -o $@ $< $(BUILD)/libcnca.a $(PKG_LIBS) $(APR_LIBS)

deps:
	@sh tools/deps.sh

run: deps all
	@sh tools/run.sh $(PORT)

unit: $(UNIT_BIN)

test-unit: $(UNIT_BIN)
	prove --exec '' $(UNIT_BIN)

# The whole suite: unit tests, then Apache::Test against real httpd,
# memcached and SQLite. As root it runs as the unprivileged user `cnca`.
test: deps all $(UNIT_BIN)
	@sh tools/test.sh

bench: deps all
	@sh tools/bench.sh

# Debian layout: modules with apxs, cnca.load/cnca.conf in mods-available
# (`a2enmod cnca`), pages, schema and site config in /usr/share/mod_cnca,
# keys in /etc/mod_cnca (made when missing), the database in /var/lib/mod_cnca.
install: all
	$(APXS) -i -n cnca $(BUILD)/mod_cnca.so
	$(APXS) -i -n cnca_sandbox $(BUILD)/mod_cnca_sandbox.so
	install -m 644 conf/cnca.load conf/cnca.conf /etc/apache2/mods-available/
	install -d /usr/share/mod_cnca/conf /usr/share/mod_cnca/sql
	install -m 644 conf/gateway.xsd conf/cnca-site.conf /usr/share/mod_cnca/conf/
	install -m 644 sql/*.sql /usr/share/mod_cnca/sql/
	rm -rf /usr/share/mod_cnca/htdocs && cp -r htdocs /usr/share/mod_cnca/htdocs
	install -d -m 700 /etc/mod_cnca
	test -s /etc/mod_cnca/master.key || (umask 077 && openssl rand -hex 32 >/etc/mod_cnca/master.key)
	test -s /etc/mod_cnca/gateway.secret || (umask 077 && openssl rand -hex 24 >/etc/mod_cnca/gateway.secret)
	install -d -o www-data -g www-data -m 750 /var/lib/mod_cnca
	test -s /var/lib/mod_cnca/cnca.db || sqlite3 /var/lib/mod_cnca/cnca.db <sql/schema.sqlite.sql
	chown www-data:www-data /var/lib/mod_cnca/cnca.db*
	@echo "Installed. Put the issuing CA in /etc/mod_cnca/ca.crt and ca.key, set CNCAGatewayURL in"
	@echo "/etc/apache2/mods-available/cnca.conf, then: a2enmod cnca && apachectl configtest"

format:
	clang-format -i mod_cnca/*.[ch] t/unit/*.[ch]

clean:
	rm -rf $(BUILD) mod_cnca/*.lo mod_cnca/*.slo mod_cnca/*.la mod_cnca/*.o mod_cnca/.libs
