#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# The fleet rollout files (dist/fleet/, docs/fleet.md):
#  - the Kubernetes manifest parses, is a ConfigMap and a DaemonSet on the
#    host network with the host's bpffs, the ConfigMap as /etc/xfsm and the
#    capabilities it documents; every command it runs is a real command of
#    the installed tools; its configuration and application pass the tools'
#    own checks;
#  - the pod's command runs for real (with the manifest's capabilities only,
#    the ConfigMap's files, in a namespace): it applies the application
#    (SSH from the management network accepted, from elsewhere refused and
#    the source banned), reloads when the application changes, stops on
#    SIGTERM keeping the flows, and a new pod (a rolling update) finds the
#    banned source still banned;
#  - the Ansible role parses, its playbook passes --syntax-check, and run
#    on this host (configuration into a scratch directory, no package, no
#    systemd: xfsm_install_package and xfsm_manage_service false) it
#    installs checked files,
#    changes nothing when run again, and refuses an application that does
#    not compile, keeping the installed one.

. "$(dirname "$0")/lib.sh"

xt_require_root
xt_require_cmd ip nsenter setpriv jq timeout ping "$XT_PY"
"$XT_PY" -c 'import yaml' 2>/dev/null || xt_skip "python3-yaml is missing (make deps)"
xt_require_file "$XT_BUILD/xfsm-loader" "$XT_BUILD/xfsmctl" "$XT_BUILD/xfsm.bpf.o" \
	"$XT_BUILD/libxfsm.vars"

FLEET="$XT_TOP/dist/fleet"
K8S="$FLEET/kubernetes/xfsm-edge.yaml"
T=$(mktemp -d /tmp/xt-fleet.XXXXXX)
xt_defer "rm -rf '$T'"
# The tools as the Debian package lays them out, under $T/usr.
xt_ok "install.sh PREFIX=$T/usr" "$XT_TOP/scripts/install.sh" "" "$T/usr" "$XT_BUILD" || xt_done
SVC_USAGE=$(sh "$T/usr/lib/xfsm/xfsm-service" --help 2>&1)

# ---- the manifest ---------------------------------------------------------------
facts=$("$XT_PY" - "$K8S" <<'EOF'
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = {d["kind"]: d for d in docs}
cm, ds = kinds["ConfigMap"], kinds["DaemonSet"]
pod = ds["spec"]["template"]["spec"]
c = pod["containers"][0]
vols = {v["name"]: v for v in pod["volumes"]}
mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
out = {
    "kinds": sorted(kinds),
    "api": ds["apiVersion"],
    "selector_ok": all(ds["spec"]["template"]["metadata"]["labels"].get(k) == v
                       for k, v in ds["spec"]["selector"]["matchLabels"].items()),
    "host_network": pod.get("hostNetwork") is True,
    "bpffs": vols.get(mounts.get("/sys/fs/bpf"), {}).get("hostPath", {}).get("path"),
    "etc": vols.get(mounts.get("/etc/xfsm"), {}).get("configMap", {}).get("name"),
    "cm_name": cm["metadata"]["name"],
    "caps_add": sorted(c["securityContext"]["capabilities"]["add"]),
    "caps_drop": c["securityContext"]["capabilities"]["drop"],
    "privileged": c["securityContext"].get("privileged", False),
    "command": c["command"] + c.get("args", []),
    "probe": c["readinessProbe"]["exec"]["command"],
    "data": cm["data"],
}
print(json.dumps(out))
EOF
)
xt_check "manifest: parses as YAML" -n "$facts" || xt_done
f() { jq -r "$1" <<<"$facts"; }
xt_check "manifest: a ConfigMap and a DaemonSet" "$(f '.kinds | join(",")')" = "ConfigMap,DaemonSet"
xt_check "manifest: apps/v1" "$(f .api)" = apps/v1
xt_check "manifest: the selector matches the pod's labels" "$(f .selector_ok)" = true
xt_check "manifest: host network" "$(f .host_network)" = true
xt_check "manifest: the host's /sys/fs/bpf is mounted at /sys/fs/bpf" "$(f .bpffs)" = /sys/fs/bpf
xt_check "manifest: the ConfigMap is /etc/xfsm" "$(f .etc)" = "$(f .cm_name)"
xt_check "manifest: not privileged" "$(f .privileged)" = false
xt_check "manifest: drops every capability" "$(f '.caps_drop | join(",")')" = ALL
xt_check "manifest: adds BPF, NET_ADMIN, PERFMON, SYS_ADMIN" \
	"$(f '.caps_add | join(",")')" = "BPF,NET_ADMIN,PERFMON,SYS_ADMIN"

# Every command the manifest runs exists in the installed tree and uses
# the tools' real commands and options.
cmd=$(f '.command | join(" ")')
read -r prog sub name <<<"$cmd"
xt_check "pod command: $prog is installed" -x "$T$prog"
xt_check "pod command: 'xfsm-service $sub' is a command of its usage" \
	"$(grep -Ec "^usage: xfsm-service ([a-z]+\|)*$sub(\|[a-z]+)* NAME$" <<<"$SVC_USAGE")" = 1
xt_check "pod command: the ConfigMap holds $name.conf" "$(f ".data[\"$name.conf\"] != null")" = true
probe=$(f '.probe | join(" ")')
read -r pprog psub pname <<<"$probe"
xt_check "probe: $pprog is installed" -x "$T$pprog"
xt_check "probe: 'xfsm-service $psub' is a command of its usage" \
	"$(grep -Ec "^usage: xfsm-service ([a-z]+\|)*$psub(\|[a-z]+)* NAME$" <<<"$SVC_USAGE")" = 1
xt_check "probe: the instance is the pod's" "$pname" = "$name"

# The ConfigMap's files, where the pod sees them (/etc/xfsm), moved to a
# scratch directory, with the node's interface replaced by the test's.
ETC="$T/etc-k8s"
mkdir -p "$ETC"
for k in $(f '.data | keys[]'); do
	f ".data[\"$k\"]" | sed "s|/etc/xfsm/|$ETC/|" > "$ETC/$k"
done
xt_ok "ConfigMap: $name.xfsm compiles (xfsmctl apply --dry-run)" \
	"$T/usr/sbin/xfsmctl" apply --dry-run "$ETC/$name.xfsm"
xt_ok "ConfigMap: $name.conf passes xfsm-service check" \
	env XFSM_CONF_DIR="$ETC" "$T/usr/lib/xfsm/xfsm-service" check "$name"
xt_check "the Ansible role's application is the ConfigMap's" \
	"$(grep -v '^# SPDX' "$FLEET/ansible/files/edge.xfsm")" = "$(f '.data["edge.xfsm"]' | sed '$d')"
sed -i 's/^XFSM_INTERFACES=.*/XFSM_INTERFACES="b0"/' "$ETC/$name.conf"

# ---- the pod's command, for real --------------------------------------------------
xt_bpffs || xt_skip "cannot mount bpffs"
xt_netns_add A
xt_netns_add B
# 198.18.0.0/24 is the manifest's management network; 198.18.31.0/24 is not.
xt_veth A a0 "198.18.0.1/24 198.18.31.1/24" B b0 "198.18.0.2/24 198.18.31.2/24" ||
	{ xt_fail "veth"; xt_done; }
INST=$name
[ -e "/sys/fs/bpf/xfsm/$INST" ] && xt_skip "an instance '$INST' exists on this machine already"
xt_defer "rm -rf '/sys/fs/bpf/xfsm/$INST'"
xt_defer "xt_in B '$T/usr/sbin/xfsm-loader' unload --instance '$INST'"
SETPRIV=(setpriv --bounding-set="-all$(for c in $(f '.caps_add[]'); do printf ',+%s' "${c,,}"; done)" --inh-caps=-all)

listen() {	# ADDR: accept TCP 22 connections on ADDR in B
	xt_in B timeout 120 "$XT_PY" -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 22))
s.listen(16)
while True:
    c, a = s.accept()
    c.close()
' "$1" >/dev/null 2>&1 &
	xt_defer "kill $! 2>/dev/null"
}
ssh_from() {	# SRC DST: a TCP 22 connection from SRC to DST completes
	xt_in A timeout 3 "$XT_PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[2], 22), timeout=1, source_address=(sys.argv[1], 0))
' "$1" "$2" >/dev/null 2>&1
}
ping_from() { xt_in A ping -q -c 1 -W 1 -I "$1" "$2" >/dev/null 2>&1; }
pod_start() {	# a pod: the manifest's command with its capabilities, in B
	# nsenter, setpriv and env exec: $! is xfsm-service itself
	nsenter --net="/run/netns/$XT_NS_B" "${SETPRIV[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin XFSM_CONF_DIR="$ETC" \
		XFSM_WATCH_INTERVAL=1 "$T$prog" "$sub" "$name" > "$T/pod.log" 2>&1 &
	POD=$!
	xt_defer "kill $POD 2>/dev/null"
}
ready() {	# the manifest's readiness probe passes within 10 s
	# (it fails while the kept maps are there but nothing is attached)
	local i
	for i in $(seq 50); do
		xt_in B env XFSM_CONF_DIR="$ETC" "$T$pprog" "$psub" "$pname" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
listen 198.18.0.2
listen 198.18.31.2
xt_wait_tcp B 198.18.0.2:22
xt_wait_tcp B 198.18.31.2:22

# Attached, but the application not applied yet (start attaches, then
# applies): the probe must not call that ready, the interface passes
# everything until the apply.
if xt_ok "datapath attached without an application" \
	xt_in B "$T/usr/sbin/xfsm-loader" load --instance "$INST" b0; then
	out=$(xt_in B env XFSM_CONF_DIR="$ETC" "$T$pprog" "$psub" "$pname" 2>&1)
	xt_check "probe: not ready (exit 3) before the application is applied" $? = 3
	xt_match "probe: says the application does not run yet" "does not run .* yet" "$out"
	xt_in B "$T/usr/sbin/xfsm-loader" unload --instance "$INST" >/dev/null 2>&1
fi

pod_start
xt_ok "pod: ready (the readiness probe passes)" ready || { cat "$T/pod.log"; xt_done; }
xt_ok "pod: SSH from the management network accepted" ssh_from 198.18.0.1 198.18.0.2
xt_nok "pod: SSH from elsewhere refused" ssh_from 198.18.31.1 198.18.31.2
xt_nok "pod: that source is banned (ping dropped)" ping_from 198.18.31.1 198.18.31.2
xt_ok "pod: the management source still pings" ping_from 198.18.0.1 198.18.0.2

# A ConfigMap update: the pod reloads by itself.
sed -i 's|^\(\trule ssh_mgmt .*\)$|\1\n\trule ssh_lab   when tcp.dport == 22, ip.src == 198.18.32.0/24 => pass|' "$ETC/$name.xfsm"
changed() {
	local i
	for i in $(seq 50); do
		xt_in B "$T/usr/sbin/xfsmctl" --instance "$INST" show rules 2>/dev/null | grep -q ssh_lab &&
			return 0
		sleep 0.2
	done
	return 1
}
xt_ok "pod: reloads the changed application by itself" changed
xt_nok "pod: after the reload the source is still banned" ping_from 198.18.31.1 198.18.31.2

# A rolling update: SIGTERM, then a new pod.
kill -TERM "$POD"
timeout 15 tail --pid="$POD" -f /dev/null
xt_check "pod: exits on SIGTERM" "$(kill -0 "$POD" 2>/dev/null && echo running || echo gone)" = gone
xt_check "pod: b0 detached" -z "$(xt_xfsm_prog_id B b0)"
xt_check "pod: the instance's maps are kept" -e "/sys/fs/bpf/xfsm/$INST/xfsm_flows"
xt_in B env XFSM_CONF_DIR="$ETC" "$T$pprog" "$psub" "$pname" >/dev/null 2>&1
xt_check "probe: not ready (exit 3) while nothing is attached" $? = 3
pod_start
xt_ok "new pod: ready" ready
xt_nok "new pod: the banned source is still banned (flows kept)" ping_from 198.18.31.1 198.18.31.2
xt_ok "new pod: SSH from the management network accepted" ssh_from 198.18.0.1 198.18.0.2
kill -TERM "$POD"
timeout 15 tail --pid="$POD" -f /dev/null

# ---- the Ansible role ---------------------------------------------------------------
for y in "$FLEET"/ansible/site.yml "$FLEET"/ansible/roles/xfsm/*/main.yml; do
	xt_ok "$(basename "$(dirname "$y")")/$(basename "$y") parses as YAML" \
		"$XT_PY" -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$y"
done
tasks=$("$XT_PY" -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' \
	"$FLEET/ansible/roles/xfsm/tasks/main.yml")
handlers=$("$XT_PY" -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' \
	"$FLEET/ansible/roles/xfsm/handlers/main.yml")
xt_check "role: every notify names a handler" \
	"$(jq -r '.[].notify // empty' <<<"$tasks" | sort -u)" = "$(jq -r '.[].name' <<<"$handlers" | sort -u)"
xt_check "role: the unit it starts and reloads is xfsm@NAME.service" \
	"$(jq -r '[.[] | .["ansible.builtin.systemd"].name // empty] | unique | join(",")' <<<"$tasks")" = \
	"xfsm@{{ xfsm_instance }}.service"
xt_check "role: the package has the unit (xfsm@.service)" -e "$T/usr/lib/systemd/system/xfsm@.service"
xt_check "role: validates the application with xfsmctl apply --dry-run" \
	"$(jq -r '.[] | .["ansible.builtin.copy"].validate // empty' <<<"$tasks")" = \
	"{{ xfsm_sbin_dir }}/xfsmctl apply --dry-run %s"
xt_check "role: validates the configuration with xfsm-service check NAME FILE" \
	"$(jq -r '.[] | .["ansible.builtin.template"].validate // empty' <<<"$tasks")" = \
	"{{ xfsm_lib_dir }}/xfsm-service check {{ xfsm_instance }} %s"
xt_check "xfsm-service's usage has 'check NAME FILE'" \
	"$(grep -c "xfsm-service check NAME FILE" <<<"$SVC_USAGE")" = 1

if ! command -v ansible-playbook >/dev/null; then
	xt_log "ansible-playbook is missing (make deps installs ansible-core): the role was not run"
	xt_fail "ansible-playbook available"
	xt_done
fi
export ANSIBLE_HOME="$T/ansible" ANSIBLE_LOCAL_TEMP="$T/ansible/tmp" ANSIBLE_REMOTE_TEMP="$T/ansible/tmp" \
	ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ANSIBLE_ROLES_PATH="$FLEET/ansible/roles" \
	ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3
xt_ok "site.yml: ansible-playbook --syntax-check" \
	ansible-playbook -i localhost, --syntax-check "$FLEET/ansible/site.yml"
cp "$FLEET/ansible/files/edge.xfsm" "$T/app.xfsm"
cat > "$T/play.yml" <<EOF
- hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: xfsm
      vars:
        xfsm_instance: lab
        xfsm_interfaces: [b0, b1]
        xfsm_application_src: $T/app.xfsm
        xfsm_install_package: false
        xfsm_manage_service: false
        xfsm_conf_dir: $T/etc-ansible
        xfsm_sbin_dir: $T/usr/sbin
        xfsm_lib_dir: $T/usr/lib/xfsm
EOF
play() { ansible-playbook -i localhost, "$T/play.yml" 2>&1; }
recap() { grep -oE 'localhost +: .*' <<<"$1" | sed 's/  */ /g'; }
out=$(play)
xt_match "role: first run makes the directory and installs both files" "changed=3 .*failed=0" \
	"$(recap "$out")" ||
	printf '%s\n' "$out" | tail -20 | sed 's/^/    /'
xt_check "role: the application is installed" -e "$T/etc-ansible/lab.xfsm"
xt_match "role: the configuration names the interfaces" '^XFSM_INTERFACES="b0 b1"$' \
	"$(cat "$T/etc-ansible/lab.conf" 2>/dev/null)"
xt_ok "role: the installed configuration passes xfsm-service check" \
	env XFSM_CONF_DIR="$T/etc-ansible" "$T/usr/lib/xfsm/xfsm-service" check lab
out=$(play)
xt_match "role: a second run changes nothing (no reload)" "changed=0 .*failed=0" "$(recap "$out")"
printf 'app broken\nstage s {\n\trule r when tcp.dport == => drop\n}\n' > "$T/app.xfsm"
before=$(cat "$T/etc-ansible/lab.xfsm")
out=$(play)
xt_match "role: an application that does not compile fails the play" "failed=1" "$(recap "$out")"
xt_check "role: ... and the installed application is kept" "$(cat "$T/etc-ansible/lab.xfsm")" = "$before"
xt_done
