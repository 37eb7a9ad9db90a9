#!/usr/bin/env bash
# rg-sim's repro line runs the failed seed again, exactly: a canary build (skip_crc) fails seeds
# of a sweep given in every style of option; each failure's repro line must name every option
# given (--seeds replaced by --seed), be accepted, and fail the same way (the same FAILED line,
# and the same repro line again). Then a bad command line exits 64 before any run.
#   check_repro.sh RG_SIM_CANARY_SKIP_CRC RG_SIM
set -u
canary=$1 sim=$2
fail=0

given=(--scenario clean --corrupt 0.01 --loss=0.01 --duration 2 --expect corrupt_accepted
	--seed 3 --seeds 2)
out=$("$canary" "${given[@]}" 2>&1)
echo "$out" | grep -E 'FAILED|repro:|canary'
failed=$(grep -c '^seed [0-9]* FAILED' <<<"$out")
[ "$failed" -ge 1 ] || { echo "FAIL: the canary failed no seed"; exit 1; }
while read -r seed; do
	line=$(grep -m1 "^seed $seed FAILED" <<<"$out")
	repro=$(grep -A1 "^seed $seed FAILED" <<<"$out" | sed -n 's/^  repro: //p')
	for opt in "--scenario clean" "--corrupt 0.01" "--loss 0.01" "--duration 2" \
		"--expect corrupt_accepted" "--seed $seed"; do
		case " $repro " in *" $opt "*) ;; *)
			echo "FAIL: seed $seed: '$opt' not in the repro line: $repro"
			fail=1
			;;
		esac
	done
	case " $repro " in *" --seeds "*)
		echo "FAIL: seed $seed: the repro line keeps --seeds: $repro"
		fail=1
		;;
	esac
	again=$(eval "$repro" 2>&1)
	rc=$?
	if [ $rc -ne 0 ]; then # --expect: 0 when the canary is caught again
		echo "FAIL: seed $seed: the repro line exited $rc: $repro"
		echo "$again" | tail -5
		fail=1
	fi
	if [ "$(grep -m1 '^seed .* FAILED' <<<"$again")" != "$line" ]; then
		echo "FAIL: seed $seed: the repro did not fail the same way"
		echo "  run:   $line"
		echo "  repro: $(grep -m1 '^seed .* FAILED' <<<"$again")"
		fail=1
	fi
	if [ "$(sed -n 's/^  repro: //p' <<<"$again")" != "$repro" ]; then
		echo "FAIL: seed $seed: the repro's own repro line differs: $(grep repro: <<<"$again")"
		fail=1
	fi
	echo "ok: seed $seed reproduced: $repro"
done < <(sed -n 's/^seed \([0-9]*\) FAILED.*/\1/p' <<<"$out")

# Options the simulator cannot run are refused up front, with the reason, as a usage error.
while read -r want args; do
	# shellcheck disable=SC2086 # args is a list of words
	err=$("$sim" $args 2>&1 >/dev/null)
	rc=$?
	if [ $rc -ne 64 ] || ! grep -q -- "$want" <<<"$err"; then
		echo "FAIL: rg-sim $args: exit $rc (want 64), want '$want' in: $err"
		fail=1
	else
		echo "ok: rg-sim $args: exit 64: $(head -1 <<<"$err")"
	fi
done <<'LIST'
3584.streams --gateways 8 --streams 64
1500, --queue 0
at.most.5.gateways --scenario relay --gateways 6
over.1.lane --scenario fairness --lanes 2
2..8 --gateways 9
not.an.anomaly --expect nothing
unrecognized --no-such-option
LIST
exit $fail
