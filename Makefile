# Seam: `make demo` and `make test` set up everything they need on a fresh Debian machine with Swift.
SWIFT      ?= swift
STORE      ?= seam-data
CUSTOMERS  ?= 3000
SEED       ?= 42
DEMO_DATA  ?= data/generated/demo
EVENTS     ?= 10M
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SEAM        = .build/release/seam
## MARCH: the x86-64 level release builds target. x86-64-v3 (AVX2, BMI2, FMA: Intel since 2013, AMD since 2015) gives
## the scan kernels 256-bit vectors; x86-64-v2 (SSE4.2 and POPCNT, every x86-64 CPU since 2009) and x86-64 (the 2003
## baseline) are there for older CPUs. A binary run on a CPU below its level says so and exits. Other architectures
## ignore it.
MARCH      ?= x86-64-v3
RELEASE_FLAGS = $(if $(filter x86_64,$(shell uname -m)),-Xcc -march=$(MARCH))

.PHONY: deps build demo test bench compare sample clean

## deps: install the system libraries Seam links (liblz4-dev; zlib1g-dev for gzip input; libedit-dev for the SQL
## prompt; libpcre2-dev for regular expressions in SQL), once.
deps:
	@if ! pkg-config --exists liblz4 zlib libedit libpcre2-8 2>/dev/null; then \
		echo "installing liblz4-dev, zlib1g-dev, libedit-dev, libpcre2-dev and pkg-config"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq liblz4-dev zlib1g-dev libedit-dev libpcre2-dev pkg-config >/dev/null; \
	fi

build: deps
	$(SWIFT) build -c release --product seam $(RELEASE_FLAGS)

## demo: generate a few thousand customers' raw exports, ingest them (identity, consent, quarantine), show it.
demo: build
	rm -rf $(DEMO_DATA) $(STORE)
	$(SEAM) generate --customers $(CUSTOMERS) --seed $(SEED) --out $(DEMO_DATA)
	gzip -f $(DEMO_DATA)/mobile_events.jsonl
	@echo; echo "== ingest the raw exports (mobile_events.jsonl.gz is read compressed, as it comes)"
	$(SEAM) ingest --store $(STORE) $(DEMO_DATA)
	@echo; echo "== ingest the same files again: nothing new lands"
	$(SEAM) ingest --store $(STORE) $(DEMO_DATA)
	@echo; echo "== identity resolution against the generator's truth"
	$(SEAM) identity evaluate --store $(STORE) --truth $(DEMO_DATA)/truth
	@echo; echo "== which records made one customer of the first CRM contact, and what was held back"
	$(SEAM) identity explain --store $(STORE) crm_id:$$(sed -n 2p $(DEMO_DATA)/crm_contacts.csv | cut -d, -f1) | head -24
	@echo; echo "== SQL over the one customer view (seam sql; seam sql --store $(STORE) opens the prompt)"
	$(SEAM) sql --store $(STORE) "SELECT channel, count(*) AS events, count(DISTINCT customer_id) AS customers, \
		sum(amount) FILTER (WHERE event_type = 'purchase') AS purchases_amount \
		FROM events GROUP BY channel ORDER BY events DESC"
	$(SEAM) sql --store $(STORE) "SELECT country, count(*) AS customers, count(*) FILTER (WHERE consent_email) AS email_ok, \
		round(avg(orders), 2) AS avg_orders, sum(revenue) AS revenue FROM customers GROUP BY ALL ORDER BY revenue DESC NULLS LAST"
	$(SEAM) sql --store $(STORE) "SELECT customer_id, revenue, sum(revenue) OVER (ORDER BY revenue DESC, customer_id \
		ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_revenue FROM customers WHERE revenue IS NOT NULL \
		ORDER BY revenue DESC, customer_id LIMIT 5"
	$(SEAM) sql --store $(STORE) "SELECT customer_id, ts, amount, sum(amount) OVER (PARTITION BY customer_id ORDER BY ts \
		RANGE BETWEEN INTERVAL 1 MONTH PRECEDING AND CURRENT ROW) AS spend_last_month FROM events \
		WHERE event_type = 'purchase' AND customer_id IS NOT NULL ORDER BY spend_last_month DESC, customer_id, ts LIMIT 5"
	$(SEAM) sql --store $(STORE) "SELECT customer_id, count(*) FILTER (WHERE gap IS NULL OR gap > INTERVAL 30 MINUTE) AS sessions, \
		max(ts) - min(ts) AS active_span, arg_max(channel, ts) AS last_channel FROM (SELECT customer_id, ts, channel, \
		ts - lag(ts) OVER (PARTITION BY customer_id ORDER BY ts, event_id) AS gap FROM events WHERE customer_id IS NOT NULL) \
		GROUP BY customer_id ORDER BY sessions DESC, customer_id LIMIT 5"
	$(SEAM) sql --store $(STORE) "SELECT c.customer_id, c.email, (SELECT max(e.ts)::DATE FROM events e \
		WHERE e.customer_id = c.customer_id AND e.event_type = 'purchase') AS last_purchase_day, (SELECT e.amount FROM events e \
		WHERE e.customer_id = c.customer_id AND e.event_type = 'purchase' ORDER BY e.ts DESC, e.event_id LIMIT 1) AS last_line_amount \
		FROM customers c WHERE EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.customer_id AND e.event_type = 'add_to_cart' \
		AND e.ts > c.first_seen + INTERVAL 30 DAY) \
		AND NOT EXISTS (SELECT 1 FROM events e WHERE e.customer_id = c.customer_id AND e.event_type = 'return') \
		AND c.consent_email ORDER BY last_purchase_day DESC NULLS LAST, c.customer_id LIMIT 5"
	@echo; echo "== subtotals (ROLLUP), medians, regular expressions, a customer's usual channel (mode) and journey (string_agg)"
	$(SEAM) sql --store $(STORE) "SELECT CASE WHEN grouping(channel) = 1 THEN 'all channels' ELSE channel END AS channel, \
		count(*) AS purchases, median(amount) AS median_amount, quantile_cont(amount, 0.9) AS p90_amount FROM events \
		WHERE event_type = 'purchase' GROUP BY ROLLUP (channel) ORDER BY grouping(channel), purchases DESC"
	$(SEAM) sql --store $(STORE) "SELECT regexp_extract(email, '@(.+)$$', 1) AS email_domain, count(*) AS customers \
		FROM customers WHERE email IS NOT NULL GROUP BY 1 ORDER BY customers DESC, 1 LIMIT 3"
	$(SEAM) sql --store $(STORE) "SELECT customer_id, mode(channel) AS usual_channel, string_agg(DISTINCT channel, ', ' ORDER BY channel) AS channels, \
		left(string_agg(event_type, ' > ' ORDER BY ts, event_id), 60) AS journey_start FROM events \
		WHERE customer_id IS NOT NULL GROUP BY 1 ORDER BY count(DISTINCT channel) DESC, customer_id LIMIT 3"
	@echo; echo "== a script on standard input: dot commands and statements, csv written while the query runs"
	printf '%s\n' '.mode csv' "SELECT ts::DATE AS day, count(*) AS purchases, round(avg(amount::DOUBLE), 2) AS avg_amount \
		FROM events WHERE event_type = 'purchase' GROUP BY 1 ORDER BY 1 DESC LIMIT 5;" '.mode line' \
		"SELECT count(*) AS events, min(ts)::DATE AS first_day, max(ts)::DATE AS last_day FROM events;" \
		| $(SEAM) sql --store $(STORE)
	@echo; echo "== the quarantine"
	$(SEAM) quarantine list --store $(STORE) --limit 1
	@echo
	$(SEAM) stats --store $(STORE) | grep -E '^[a-z_]+:'
	@echo; echo "== how the events are stored, per column (+sparse: only the non-NULL values are kept; vfor: bit-packed in four lanes)"
	$(SEAM) stats --store $(STORE) --columns | awk '/^[a-z_]+:/ { on = /^events:/; col = 0 } on && /^  column/ { col = 1 } on && col'
	$(SEAM) sql --store $(STORE) "EXPLAIN ANALYZE SELECT count(*) FROM events WHERE amount > 100"
	$(SEAM) sql --store $(STORE) "EXPLAIN ANALYZE SELECT sum(amount) AS revenue, avg(amount) AS average FROM events WHERE amount > 100"
	$(SEAM) sql --store $(STORE) "EXPLAIN ANALYZE SELECT sum(quantity) AS units FROM events WHERE channel = 'web'"
	$(SEAM) verify --store $(STORE)
	@echo
	@echo "Raw exports: $(DEMO_DATA) (formats: data/README.md). Store: $(STORE)."
	@echo "Not built yet: audiences and predictions (no issue filed for them yet)."

## test: the whole suite (Swift Testing).
test: deps
	./.ci/check-layers
	./.ci/check-cpu-refusal
	$(SWIFT) build --build-tests --explicit-target-dependency-import-check error
	$(SWIFT) test --skip-build --disable-xctest

## bench: storage (encode/decode, LZ4), ingest (whole ingests, parse stage) and engine (kernels, operators) benchmarks,
## a nested package under Benchmarks/.
bench: deps
	cd Benchmarks && $(SWIFT) package $(RELEASE_FLAGS) --disable-sandbox benchmark

## compare: Seam vs DuckDB 2.0.1 on the same EVENTS rows (10M, 100M, 500K, …), 1 and 2 threads, plus ingest and size:
## makes the data under .build/compare, installs DuckDB into .build/duckdb-venv on first use, writes Benchmarks/results/.
compare: build
	@python3 -c 'import venv, ensurepip' 2>/dev/null || { echo "installing python3-venv"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv >/dev/null; }
	@command -v cc >/dev/null || command -v clang >/dev/null || { echo "installing gcc (for the bandwidth probe)"; $(SUDO) apt-get install -y -qq gcc >/dev/null; }
	SEAM_BUILD="swift build -c release $(RELEASE_FLAGS)" python3 Benchmarks/compare/compare.py --events $(EVENTS)

## sample: regenerate the committed sample under data/sample (after a generator change).
sample: build
	rm -rf data/sample
	$(SEAM) generate --customers 150 --seed 1 --out data/sample

clean:
	rm -rf .build Benchmarks/.build data/generated $(STORE)
