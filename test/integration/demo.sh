#!/bin/sh
# make demo's non-interactive run is part of make check.
. "$(dirname "$0")/lib.sh"
if sh test/demo.sh >"$T_TMP/demo.log" 2>&1 && grep -q "^demo: ok$" "$T_TMP/demo.log"; then
	ok "make demo: cloud, MEN broker bridged over TLS, three nodes, list and rcmd"
else
	fail "make demo" "$(tail -15 "$T_TMP/demo.log")"
fi
finish
