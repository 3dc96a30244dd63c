#!/bin/bash
# t-manpage — supportgate.conf(5) documents every key of the config table
# (the table is printed by `supportgate config -d`), and the man pages
# render without warnings.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_CLI:=./supportgate}"
[ -x "$SG_CLI" ] || skip_all "supportgate not built"
man5="$top_srcdir/doc/supportgate.conf.5"

keys=$("$SG_CLI" config -d | sed -n 's/^\([a-z_]*\) = .*/\1/p')
n=$(wc -w <<<"$keys")
ok "config table has keys ($n)" test "$n" -gt 10
missing=""
for k in $keys; do
	grep -q "^\.B $k\$" "$man5" || missing="$missing $k"
done
is "$missing" "" "every key is documented in supportgate.conf(5)"

# And the man page documents nothing that is not a key.
extra=""
for k in $(sed -n '/^\.SH KEYS/,/^\.SH EXAMPLE/s/^\.TP$/&/p;/^\.SH KEYS/,/^\.SH EXAMPLE/{/^\.TP$/{n;s/^\.B \([a-z_]*\)$/\1/p}}' "$man5" | grep -v '^\.TP$'); do
	grep -qx "$k" <<<"$keys" || extra="$extra $k"
done
is "$extra" "" "no stale keys in the man page"

pages="supportgated.8 supportgate.1 supportgate.conf.5 supportgate.rules.5 supportgate-commands.5"
for page in $pages; do
	# a control character (a form feed from "\f" gone wrong) renders as garbage
	is "$(tr -d '\n\t' < "$top_srcdir/doc/$page" | tr -d '\040-\176\200-\377' | wc -c)" 0 "$page has no control characters"
	for sec in FILES EXAMPLES; do
		ok "$page has a $sec section" grep -q "^\.SH $sec\$" "$top_srcdir/doc/$page"
	done
done
for page in supportgated.8 supportgate.1; do
	for sec in "EXIT STATUS" ENVIRONMENT; do
		ok "$page has an $sec section" grep -q "^\.SH $sec\$" "$top_srcdir/doc/$page"
	done
done
if command -v man >/dev/null 2>&1; then
	for page in $pages; do
		w=$(MANWIDTH=80 man --warnings -l "$top_srcdir/doc/$page" 2>&1 >/dev/null)
		is "$w" "" "$page renders without warnings"
	done
else
	skip 5 "man not installed (Debian package man-db)"
fi
done_testing
