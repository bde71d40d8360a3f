# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# JSON outputs checked against docs/json.md's shapes (check_shape.py), for
# test_ctl_json.sh and test_loader_json.sh.  Source after lib.sh and set
# JS_DIR to a scratch directory the test removes.

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

