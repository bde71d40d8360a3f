#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# xfsmctl end to end with examples/portknock.xfsm: a client namespace
# talks to a server namespace whose veth end runs the datapath.  TCP 22 is
# refused until the client knocks UDP 1111, 2222, 3333, 4444; then it is
# accepted, the flow shows in state "open" with its hard timeout, the
# counter counts; a wrong knock starts over; rule add/del change the
# running application incrementally; dry runs and show print the tables.

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/../lang/ctl_lib.sh"

ctl_setup
APP="$XT_TOP/examples/portknock.xfsm"

ctl_listen 22
ctl_listen 80
xt_ok "before apply: TCP 22 accepted (no application: pass)" ctl_connect 22

dry_run() { "$CTL" apply --dry-run "$APP" | grep -q 'entry .*udp.dport == 1111'; }
xt_ok "apply --dry-run prints the tables" dry_run

# compiler warnings reach the user and do not stop the compile
warn_out=$("$CTL" apply --dry-run "$XT_TOP/selftests/lang/warn_shadowed_range.xfsm" 2>&1 >/dev/null)
xt_check "apply --dry-run with a warning succeeds" $? -eq 0
xt_match "the warning is printed on stderr" \
	"warn_shadowed_range.xfsm:4:7: warning: rule 'narrow' never matches" "$warn_out"

# the field reference: every field of the compiler's table, one on demand
fields_json=$("$CTL" -j fields)
xt_check "fields -j lists 40 fields" "$(jq '.fields | length' <<<"$fields_json")" -eq 40
xt_match "fields NAME: tcp.seq, 32 bits, TCP" "^tcp.seq +32 +TCP" "$("$CTL" fields tcp.seq)"
xt_check "fields -j: meta.random is 32 bits and not matched" \
	"$(jq -c '.metadata[] | select(.name == "meta.random") | [.bits, .match]' <<<"$fields_json")" = "[32,false]"
xt_match "fields NAME prints that field" "^tcp.dport +16 +TCP" "$("$CTL" fields tcp.dport)"
xt_check "fields NAME prints only that field" "$("$CTL" fields tcp.dport | grep -c '^[a-z]')" -eq 1
fields_bad=$("$CTL" fields ip.srcx 2>&1)
xt_check "an unknown field is a usage error (exit 2)" $? -eq 2
xt_match "and says so" "unknown field 'ip.srcx'" "$fields_bad"
xt_ok "apply portknock" X apply "$APP"
out=$(X show app)
xt_match "show names the application" "^app portknock" "$out"
xt_match "show lists the knock rules" "rule knock4" "$out"
show_json() { X -j show | jq -e '.app.name == "portknock"' >/dev/null; }
xt_ok "show -j is valid JSON" show_json

xt_nok "closed: TCP 22 refused" ctl_connect 22
xt_ok "closed: TCP 80 accepted (miss pass)" ctl_connect 80

for p in 1111 2222 3333; do ctl_udp_send $p; done
out=$(X state list knock)
xt_match "after 3 knocks the source is in k3" "ip.src=$CLI +state k3 +idle [0-9.]+s -> closed" "$out"
xt_nok "k3: TCP 22 still refused" ctl_connect 22
ctl_udp_send 4444
xt_ok "open: TCP 22 accepted" ctl_connect 22
out=$(X state get knock $CLI)
xt_match "state get: open with hard timeout" "state open +hard (2[0-9]|30)\.[0-9]s -> closed" "$out"
xt_check "state list -j: one flow in open" \
	"$(X -j state list knock | jq -r '.flows[] | select(.key["ip.src"] == "'$CLI'") | .state')" = open
out=$(X stats)
xt_match "stats: counter opened counted once" "counter opened: packets 1 " "$out"
xt_match "stats: rule knock1 hit once" "rule knock1 +packets 1 " "$out"
stats_json() { X -j stats | jq -e '.stages[0].rules | length == 9' >/dev/null; }
stats_watch() { X stats --watch -c 2 --interval 0.2 | grep -q '/s)'; }
xt_ok "stats -j is valid JSON" stats_json
xt_ok "stats --watch -c 2 shows rates" stats_watch

# a wrong knock starts over
xt_ok "state set back to closed" X state set knock $CLI state closed
xt_nok "closed again: TCP 22 refused" ctl_connect 22
ctl_udp_send 1111
ctl_udp_send 5555
out=$(X state get knock $CLI)
xt_match "wrong knock: back to closed" "state closed" "$out"
for p in 2222 3333 4444; do ctl_udp_send $p; done
xt_nok "knocks after a wrong one do not open" ctl_connect 22

# state set / del / flush
xt_ok "state set open by hand" X state set knock $CLI state open hard 20s -\> closed
xt_ok "hand-opened: TCP 22 accepted" ctl_connect 22
xt_ok "state del" X state del knock $CLI
xt_nok "deleted flow: TCP 22 refused" ctl_connect 22
xt_ok "state flush" X state flush knock
xt_check "no flow left" "$(X -j state list knock | jq -r .count)" = 0

# The exact text of several flows, in the order the table lists them:
# listings take a fast path of their own (ctl/print.c), which must print
# byte for byte what printf would.  Times are normalised to their format.
X state set knock 198.18.20.11 state open >/dev/null
X state set knock 198.18.20.12 state k2 idle 50s -\> closed reg0 7 >/dev/null
X state set knock 198.18.20.13 state k3 hard 40s -\> closed reg1 18446744073709551615 >/dev/null
declare -A want_txt=(
	[198.18.20.11]="knock ip.src=198.18.20.11  state open  age N.Ns"
	[198.18.20.12]="knock ip.src=198.18.20.12  state k2  idle N.Ns -> closed  reg0=7  age N.Ns"
	[198.18.20.13]="knock ip.src=198.18.20.13  state k3  hard N.Ns -> closed  reg1=18446744073709551615  age N.Ns"
)
declare -A want_json=(
	[198.18.20.11]='{"stage":"knock","key":{"ip.src":"198.18.20.11"},"exists":true,"state_id":4,"state":"open","regs":[0,0,0,0],"age_s":N.N}'
	[198.18.20.12]='{"stage":"knock","key":{"ip.src":"198.18.20.12"},"exists":true,"state_id":2,"state":"k2","idle":{"remaining_s":N.N,"expired":false,"rollback":"closed"},"regs":[7,0,0,0],"age_s":N.N}'
	[198.18.20.13]='{"stage":"knock","key":{"ip.src":"198.18.20.13"},"exists":true,"state_id":3,"state":"k3","hard":{"remaining_s":N.N,"expired":false,"rollback":"closed"},"regs":[0,18446744073709551615,0,0],"age_s":N.N}'
)
order=$(X -j state list knock | jq -r '.flows[].key["ip.src"]')
exp_txt="" exp_json=""
for ip in $order; do
	exp_txt+="${want_txt[$ip]}"$'\n'
	exp_json+="${exp_json:+,}${want_json[$ip]}"
done
exp_txt+="3 flow(s)"
xt_check "state list: the three flows" "$(echo $order)" != "" -a "$(wc -w <<<"$order")" = 3
xt_check "state list prints each flow's exact text, in table order" \
	"$(X state list knock | sed -E 's/[0-9]+\.[0-9]s/N.Ns/g')" = "$exp_txt"
xt_check "state list -j prints each flow's exact JSON, in the same order" \
	"$(X -j state list knock | sed -E 's/"(remaining_s|age_s)":[0-9]+\.[0-9]{3}/"\1":N.N/g')" = \
	"{\"flows\":[$exp_json],\"count\":3}"
X state flush knock >/dev/null

# incremental rules
xt_ok "rule add blocks TCP 80" X rule add knock 'rule no_http when tcp.dport == 80 => drop'
xt_match "show rules lists the new rule" "rule no_http" "$(X show rules)"
xt_nok "TCP 80 refused after rule add" ctl_connect 80
xt_ok "rule del" X rule del knock no_http
xt_ok "TCP 80 accepted after rule del" ctl_connect 80
xt_nok "rule add with a syntax error fails" X rule add knock 'rule bad when tcp.dport = 80 => drop'
xt_match "rule add error points into the rule text" "^rule:1:25: error: '=' assigns: to compare write '==' .tcp.dport == VALUE." \
	"$(X rule add knock 'rule bad when tcp.dport = 80 => drop' 2>&1)"
xt_match "same column without the leading 'rule'" "^rule:1:20: error: '=' assigns" \
	"$(X rule add knock 'bad when tcp.dport = 80 => drop' 2>&1)"
xt_nok "rule del of an unknown rule fails" X rule del knock nope

# globals
xt_ok "global set" X global set 3 42
xt_check "global get" "$(X -j global get 3 | jq -r '.globals[0].value')" = 42

# prefix matching: a unique prefix works, an ambiguous one is a usage
# error naming the candidates (never the first match)
xt_match "prefix matching: 'state li'" "flow\\(s\\)" "$(X state li knock)"
xt_match "prefix matching: 'sh st'" '"name":"knock"' "$(X -j sh st)"
out=$(X st li knock 2>&1)
xt_check "ambiguous prefix 'st': exit 2" $? = 2
xt_match "ambiguous prefix 'st' lists the candidates" "'st' is ambiguous: state, stats" "$out"
xt_done
