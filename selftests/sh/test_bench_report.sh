#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# How `make bench`'s report judges the veth figures (bench/report.py), on
# results made up for the purpose (no traffic): each pair's A/A side (the
# reference again, rows IDa / IDap) gives the spread of the run, the
# widest A/A ratio's distance from 1 over the pairs (rates and partial
# drop rates only over the pairs whose DUT was the limit); a target
# missed by less than the spread is "met (inside the A/A spread...)", by
# more "NOT met (outside the A/A spread)"; a rate whose DUT was not the
# limit is not judged; and results without A/A rows (an older run) are
# judged against the goal alone.

. "$(dirname "$0")/lib.sh"

xt_require_cmd jq "$XT_PY"
xt_require_file "$XT_TOP/bench/report.py"
xt_tmpdir T

# row ID MPPS PROG_NS NAPI%: one line of run-bench.sh's results table
# (id, label, Mpps, offered, note, program ns, DUT CPU %, NAPI %).
row() { printf '%s\tlabel of %s\t%s\t%s\truns: %s\t%s\t99\t%s\n' "$1" "$1" "$2" "$2" "$2" "$3" "$4"; }
# pdr ID MPPS: a partial drop rate row.
pdr() { printf '%s\tlabel of %s\t%s\t%s\tprobes\tnan\tnan\tnan\n' "$1" "$1" "$2" "$2"; }

{
	# empty application: the generator was the limit (NAPI 60%); its
	# A/A rate 0.5 must not widen the rate spread
	row s2 2.0 50 60; row s2r 2.0 50 60; row s2a 1.0 50 60
	# opened knock: rate 0.70x, far outside; ns 1.30x, A/A 1.10x
	row s3o 0.70 130 95; row s3or 1.00 100 95; row s3oa 1.00 110 95
	# firewall, 1 flow: rate 0.85x, A/A 0.93x; PDR 0.82x, A/A 0.96x
	row s4_1 0.85 100 95; row s4_1r 1.00 100 95; row s4_1a 0.93 100 95
	pdr s4_1p 0.82; pdr s4_1rp 1.00; pdr s4_1ap 0.96
	# 2 stages: rate 0.95x, A/A 1.02x; ns 1.40x; PDR A/A 0.9x
	row s9 0.95 140 95; row s9r 1.00 100 95; row s9a 1.02 100 95
	pdr s9p 0.97; pdr s9rp 1.00; pdr s9ap 0.90
} >"$T/results.tsv"
: >"$T/cp.tsv"
echo '{}' >"$T/micro.json"

report() {	# RESULTS JSON: the report of RESULTS into JSON
	"$XT_PY" "$XT_TOP/bench/report.py" "$1" "$T/cp.tsv" "$T/out.md" "$2" 3 2 1000000 0 1 \
		"" "$T/micro.json" 1 1 0.005 loop 5
}
xt_ok "report.py writes the report" report "$T/results.tsv" "$T/r.json" || xt_done

# status JSON JOB WHAT: the status of issue 17's target for JOB's WHAT
status() {
	jq -r --arg j "$2" --arg w "$3" '[.targets_issue17[] | select((.target | startswith($j)) and
		(.target | contains($w)))][0].status // "none"' "$1"
}
spread() { jq -r ".aa_spreads.$2 // \"none\" | if type == \"number\" then . * 1000 | round else . end" "$1"; }

J=$T/r.json
xt_check "rate spread: the widest judged A/A (0.93x), not the unjudged 0.5x" \
	"$(spread "$J" veth_rate)" = 70
xt_check "ns spread: the widest A/A (1.10x)" "$(spread "$J" veth_ns)" = 100
xt_check "PDR spread: the widest judged A/A (0.90x)" "$(spread "$J" veth_pdr)" = 100
xt_check "firewall 1 flow, rate 0.85x against 0.9x, spread 0.07: inside" \
	"$(status "$J" 'stateful firewall, 1 flow' 'rate absorbed')" = \
	'met (inside the A/A spread: no measurable difference)'
xt_check "opened knock, rate 0.70x: outside" \
	"$(status "$J" 'port knocking, opened' 'rate absorbed')" = 'NOT met (outside the A/A spread)'
xt_check "2 stages, rate 0.95x: met" "$(status "$J" '2 stages, 16' 'rate absorbed')" = met
xt_match "empty application, NAPI 60%: not judged" '^not comparable: the generator was the limit' \
	"$(status "$J" 'empty application' 'rate absorbed')"
# the NAPI thread's time per packet: 60% of 1 s over 2.0 Mpps = 300 ns on
# both sides, 600 ns for the A/A's 1.0 Mpps
xt_match "empty application: its note projects the rate from the NAPI time (not judged)" \
	"projected from the NAPI thread's time per packet \(not judged\): xfsm 300 ns, reference 300 ns, rate at saturation 1\.00x \(A/A 0\.50x\)" \
	"$(jq -r '[.targets_issue17[] | select(.target | startswith("empty application")) |
		select(.target | contains("rate absorbed"))][0].note' "$J")"
xt_check "a judged rate's note projects nothing" \
	"$(jq -r '[.targets_issue17[] | select(.target | startswith("stateful firewall, 1 flow")) |
		select(.target | contains("rate absorbed"))][0].note | contains("projected")' "$J")" = false
xt_check "opened knock, ns 1.30x against 1.25x, spread 0.10: inside" \
	"$(status "$J" 'port knocking, opened' 'own ns')" = \
	'met (inside the A/A spread: no measurable difference)'
xt_check "2 stages, ns 1.40x: outside" \
	"$(status "$J" '2 stages, 16' 'own ns')" = 'NOT met (outside the A/A spread)'
xt_check "firewall 1 flow, PDR 0.82x, spread 0.10: inside" \
	"$(status "$J" 'stateful firewall, 1 flow' 'partial drop rate')" = \
	'met (inside the A/A spread: no measurable difference)'
xt_match "a target's note gives its own A/A and the spread" \
	"this job's A/A 0\.930x; A/A spread ±0\.070 \(the widest of 3 pairs\)" \
	"$(jq -r '[.targets_issue17[] | select(.target | startswith("stateful firewall, 1 flow")) |
		select(.target | contains("rate absorbed"))][0].note' "$J")"
xt_match "the table has the A/A column" '\| 0\.82x \| 1\.00x / 0\.93x / 0\.96x \|' "$(cat "$T/out.md")"
xt_match "the method names the rounds" '5 rounds, each running xfsm, the reference, the reference again' \
	"$(cat "$T/out.md")"

# An older run's results, without the A/A rows: judged against the goal.
grep -Ev '^[^	]*ap?	' "$T/results.tsv" >"$T/old.tsv"
xt_ok "report.py reads results without A/A rows" report "$T/old.tsv" "$T/old.json" || xt_done
xt_check "no A/A rows: no rate spread" "$(spread "$T/old.json" veth_rate)" = none
xt_check "no A/A rows: firewall 1 flow, rate 0.85x: NOT met" \
	"$(status "$T/old.json" 'stateful firewall, 1 flow' 'rate absorbed')" = 'NOT met'

xt_done
