#!/usr/bin/env bash
# repgate refuses a profile with a mistake before starting anything: FILE:LINE in the message and
# a non-zero exit; and every shipped profile passes --check-profile.
#   check_profiles.sh REPGATE SOURCE_ROOT
set -u
repgate=$1
root=$2
fixtures=$root/tests/unit/profiles
fail=0 checked=0

# fixture, then the FILE:LINE the message must start with (after "repgate: ").
while read -r name where; do
	out=$("$repgate" --check-profile "$fixtures/$name" 2>&1)
	rc=$?
	checked=$((checked + 1))
	if [ $rc -eq 0 ] || ! grep -q "^repgate: .*$where" <<<"$out"; then
		echo "FAIL $name: exit $rc, want non-zero and '$where' in: $out"
		fail=1
	else
		echo "ok   $name: exit $rc: $out"
	fi
done <<'LIST'
typo_key.conf typo_key.conf:4: port.mtuu: unknown key
negative_rate.conf negative_rate.conf:4: load.rate_records_s: out of range
no_peer.conf no_peer.conf:4: peers: at least one gateway peer is required
bad_ipv4.conf bad_ipv4.conf:5: peers.\[0\].ip: not an IPv4 address
syntax_error.conf syntax_error.conf:4: syntax error
LIST

# A bad --set is refused too.
out=$("$repgate" --check-profile "$root/profiles/bench-a.conf" --set port.mtu=99999 2>&1)
rc=$?
checked=$((checked + 1))
if [ $rc -eq 0 ] || ! grep -q "port.mtu=99999: out of range" <<<"$out"; then
	echo "FAIL --set port.mtu=99999: exit $rc: $out"
	fail=1
fi

# Shipped profiles seal (security.mode = "aead"): an operator gives each its key and its peers'
# public keys. Here one made-up key fills them in, one --set per thing the check asks for
# (security.key, then peers.[i].pubkey in turn), so every other rule is still checked.
keydir=$(mktemp -d)
trap 'rm -rf "$keydir"' EXIT
keytool=$(dirname "$repgate")/repgate-key
"$keytool" keygen "$keydir/gw.key" || { echo "FAIL: $keytool keygen"; exit 1; }
pub=$("$keytool" pubkey "$keydir/gw.key")
out=$("$repgate" --check-profile "$root/profiles/bench-a.conf" 2>&1)
checked=$((checked + 1))
if ! grep -q "security.key: required with security.mode = \"aead\"" <<<"$out"; then
	echo "FAIL bench-a.conf without a key: want security.key required, got: $out"
	fail=1
fi
for p in "$root"/profiles/*.conf; do
	case $(basename "$p") in demo.conf | base.conf) continue ;; esac # fragments others include
	checked=$((checked + 1))
	sets=()
	for _ in $(seq 34); do # security.key and up to 32 peers, then one more look
		out=$("$repgate" --check-profile "$p" "${sets[@]}" 2>&1) && break
		if grep -q "security.key: required" <<<"$out"; then
			sets+=(--set "security.key=$keydir/gw.key")
		elif [[ $out =~ (peers\.\[[0-9]+\]\.pubkey):\ required ]]; then
			sets+=(--set "${BASH_REMATCH[1]}=$pub")
		else
			break
		fi
	done
	if ! "$repgate" --check-profile "$p" "${sets[@]}" >/dev/null 2>&1; then
		echo "FAIL shipped profile $p: $(tail -1 <<<"$out")"
		fail=1
	fi
done
echo "checked $checked profiles"
[ $checked -ge 15 ] || { echo "FAIL: checked too few"; exit 1; }
exit $fail
