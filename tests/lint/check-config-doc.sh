#!/bin/sh
# Usage: check-config-doc.sh DOC KNOBS_BIN
# docs/config.md must list every knob of the profile loader's table, and only those: KNOBS_BIN
# (tests/lint/knobs.c) prints the table. Fails, listing every difference, when
#   - a path of `KNOBS_BIN --names` has no row "| <path> | ..." in DOC;
#   - DOC has a knob row (first cell group.key, peers.[].key or peers.[N].key) the table lacks,
#     or has the same knob twice;
#   - a documented row's type, default, range or unit cell differs from KNOBS_BIN's row for
#     that knob (exact match; the last cell, "what it does", is the doc's own prose);
#   - nothing was compared (a check that saw nothing proves nothing).
# Rows inside fenced code blocks are not table rows. Fix a failure by pasting the knob's row
# from `KNOBS_BIN` into its group's table in DOC.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: check-config-doc.sh DOC KNOBS_BIN" >&2
	exit 2
fi
doc=$1
bin=$2
[ -r "$doc" ] || {
	echo "check-config-doc: cannot read $doc" >&2
	exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
"$bin" --names >"$tmp/names" || {
	echo "check-config-doc: $bin --names failed" >&2
	exit 1
}
"$bin" >"$tmp/rows" || {
	echo "check-config-doc: $bin failed" >&2
	exit 1
}

# Three inputs in turn: the names, the program's rows, the doc.
awk -v doc="$doc" '
# The cells of a Markdown row into c[1..n]; an escaped "\|" stays inside its cell.
function cells(line, c,    n, i) {
	gsub(/\\\|/, "\001", line)
	sub(/^[ \t]*[|]/, "", line)
	sub(/[|][ \t]*$/, "", line)
	n = split(line, c, "[|]")
	for (i = 1; i <= n; i++) {
		sub(/^[ \t]+/, "", c[i])
		sub(/[ \t]+$/, "", c[i])
	}
	return n
}
function shown(s,    i) {
	while ((i = index(s, "\001")) > 0)
		s = substr(s, 1, i - 1) "\\|" substr(s, i + 1)
	return "\"" s "\""
}
function problem(msg) {
	msgs[++bad] = "  " msg
}
BEGIN { split("type default range unit", what, " ") }
FILENAME == ARGV[1] {
	if ($0 != "") {
		order[++nnames] = $0
		named[$0] = 1
	}
	next
}
FILENAME == ARGV[2] {
	n = cells($0, c)
	if (n != 6 || !(c[1] in named)) {
		printf "check-config-doc: unexpected line from the knobs program: %s\n", $0
		broken = 1
		exit 1
	}
	for (i = 2; i <= 5; i++)
		want[c[1], i] = c[i]
	rowed[c[1]] = 1
	next
}
/^[ \t]*(```|~~~)/ { fenced = !fenced; next }
fenced { next }
/^[ \t]*[|]/ {
	n = cells($0, c)
	if (c[1] !~ /^[A-Za-z_][A-Za-z0-9_]*[.](\[[0-9]*\][.])?[A-Za-z_][A-Za-z0-9_]*$/)
		next
	at = doc ":" FNR ": " c[1]
	if (!(c[1] in named)) {
		problem(at ": documented, but the knob table has no such knob")
		next
	}
	if (c[1] in seen) {
		problem(at ": documented twice (first at line " seen[c[1]] ")")
		next
	}
	seen[c[1]] = FNR
	if (n != 6) {
		problem(at ": " n " cells, want 6 (path, type, default, range, unit, what it does)")
		next
	}
	for (i = 2; i <= 5; i++)
		if (c[i] != want[c[1], i])
			problem(at ": " what[i - 1] " is " shown(c[i]) ", the table says " \
				shown(want[c[1], i]))
	compared++
}
END {
	if (broken)
		exit 1
	for (i = 1; i <= nnames; i++) {
		if (!(order[i] in rowed)) {
			printf "check-config-doc: the knobs program printed no row for %s\n", order[i]
			exit 1
		}
		if (!(order[i] in seen))
			problem(doc ": " order[i] ": in the knob table, but no row \"| " order[i] \
				" | ...\" in the doc")
	}
	if (nnames == 0 || compared == 0) {
		printf "check-config-doc: compared 0 knob rows (%d knobs in the table, %d rows in %s): nothing was checked\n", \
			nnames, compared, doc
		exit 1
	}
	if (bad > 0) {
		printf "check-config-doc: %s is out of step with the knob table (%d difference(s)):\n", \
			doc, bad
		for (i = 1; i <= bad; i++)
			print msgs[i]
		print "paste the knob rows that the knobs program prints into their group tables"
		exit 1
	}
	printf "check-config-doc: %s: %d knobs documented, type, default, range and unit match the table\n", \
		doc, compared
}
' "$tmp/names" "$tmp/rows" "$doc"
