#!/bin/sh
# profiles/base.conf lists every knob of the loader's table (set to its default, or commented out
# when it is required), so it stays the one place that shows them all with their defaults.
#   check-base-profile.sh BASE_CONF KNOBS_BIN
base=$1 knobs=$2
missing=0 checked=0
for path in $("$knobs" --names | grep -v '^peers\.'); do
	group=${path%%.*} key=${path#*.}
	checked=$((checked + 1))
	# the key inside its group: "  key = " or "  # key = ...;  # required"
	if ! awk -v g="$group" -v k="$key" '
		$0 ~ "^" g ": \\{" { in_g = 1; next }
		in_g && /^};/ { in_g = 0 }
		in_g && ($1 == k || ($1 == "#" && $2 == k)) { found = 1 }
		END { exit !found }' "$base"; then
		echo "FAIL: $path is not in $base"
		missing=$((missing + 1))
	fi
done
echo "checked $checked knobs, $missing missing"
[ "$checked" -gt 0 ] && [ "$missing" -eq 0 ]
