# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# JSON outputs checked against docs/json.md's shapes (check_shape.py), for
# test_ctl_json.sh and test_loader_json.sh.  Source after lib.sh and set
# JS_DIR to a scratch directory the test removes; before case_json, JS_TOOL
# (the tool's name, for the labels) and JS_RUN (the words that run it).

# check_later SHAPE LABEL: the JSON on stdin is checked against SHAPE by
# check_all (one python run for every output)
n_out=0
labels=()
: >"$JS_DIR/list"
check_later() {
	n_out=$((n_out + 1))
	cat >"$JS_DIR/out.$n_out"
	printf '%s %s\n' "$1" "$JS_DIR/out.$n_out" >>"$JS_DIR/list"
	labels+=("$2")
}
check_all() {
	local i=0 line
	while IFS= read -r line; do
		if [ "$line" = ok ]; then
			xt_pass "${labels[i]}"
		else
			xt_fail "${labels[i]}: $line"
		fi
		i=$((i + 1))
	done < <("$XT_PY" "$XT_TOP/selftests/sh/check_shape.py" "$XT_TOP/docs/json.md" "$JS_DIR/list")
	xt_check "every output was checked ($i of $n_out)" $i = $n_out
}


# case_json SHAPE EXIT COMMAND: COMMAND run with -j first and last on the
# line (a change: "first:COMMAND" or "last:COMMAND", run once) exits EXIT
# and prints SHAPE; an error prints nothing on stderr.  covered: the
# commands run.
covered=()
case_json() {
	local shape=$1 want=$2 cmd=$3 out rc where places="first last"
	case $cmd in
	first:* | last:*) places=${cmd%%:*}; cmd=${cmd#*:} ;;
	esac
	covered+=("$cmd")
	for where in $places; do
		if [ $where = first ]; then
			out=$(eval "$JS_RUN -j $cmd" 2>"$JS_DIR/err")
		else
			out=$(eval "$JS_RUN $cmd -j" 2>"$JS_DIR/err")
		fi
		rc=$?
		if [ "$rc" != "$want" ]; then
			xt_fail "$JS_TOOL $cmd (-j $where): exit $rc, want $want: $out $(cat "$JS_DIR/err")"
			continue
		fi
		[ "$shape" != error ] || xt_check "$JS_TOOL $cmd (-j $where): nothing on stderr" \
			"$(cat "$JS_DIR/err")" = ""
		check_later "$shape" "$JS_TOOL $cmd (-j $where): @$shape" <<<"$out"
	done
}
