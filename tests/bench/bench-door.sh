#!/bin/bash
# bench-door — the process-per-mail door (`supportgate ingest` run once per
# mail, as from Postfix's pipe(8), procmail or fetchmail) beside the
# in-daemon path (the same mails through sg_ingest() in one process) and
# beside the floor of starting the tool at all (`supportgate version`),
# interleaved in one run. Every mail is a durable (synced) commit on both
# paths. Mix: 60% new tickets, 30% replies by References, 10% by token.
# Usage: bench-door.sh BUILD_DIR [MAILS_PER_ROUND] [ROUNDS]
set -u
build=$(cd "${1:?usage: bench-door.sh BUILD_DIR [MAILS] [ROUNDS]}" && pwd)
n=${2:-200}
rounds=${3:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
cli=$build/supportgate
door=$build/tests/bench/bench-door
work=$(mktemp -d "${TMPDIR:-/tmp}/sg-bench-door.XXXXXX")
trap 'rm -rf "$work"' EXIT

conf() {  # NAME
	cat > "$work/$1.conf" <<CONF
state_dir = "$work/$1"
support_address = {"support@example.com"}
ticket_tag = "ACME"
rules_file = "$top/rules/examples/supportgate.rules"
template_dir = "$top/templates"
smtp_relay = "smtp://127.0.0.1:1"
log_level = "error"
CONF
}

mails() {  # DIR PREFIX: n mails of the mix, each with its own Message-ID
	mkdir -p "$1"
	for i in $(seq 1 "$n"); do
		k=$((i % 10))
		if [ "$k" -lt 6 ] || [ "$i" -le 10 ]; then
			hdr="Subject: printer $i does not print"
		elif [ "$k" -lt 9 ]; then
			hdr="Subject: Re: printer $((i - 3)) does not print
In-Reply-To: <$2-$((i - 3))@customer.example>
References: <$2-$((i - 3))@customer.example>"
		else
			hdr="Subject: Re: [ACME #1] printer"
		fi
		{
			printf 'From: Customer %s <c%s@customer.example>\nTo: support@example.com\n' "$((i % 50))" "$((i % 50))"
			printf 'Message-ID: <%s-%s@customer.example>\nDate: Wed, 02 Dec 2026 10:00:00 +0000\n%s\n\n' "$2" "$i" "$hdr"
			for l in $(seq 1 50); do echo "line $l of a support request of about four kilobytes, written by a customer"; done
		} > "$1/$i.eml"
	done
}

rate() {  # START_NS END_NS
	awk -v n="$n" -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", n / ((b - a) / 1e9) }'
}

make -C "$build" supportgate tests/bench/bench-door >/dev/null || exit 1
echo "bench-door: $n mails per round, $rounds rounds, interleaved"
for r in $(seq 1 "$rounds"); do
	conf "p$r"; conf "i$r"
	mails "$work/mp$r" "p$r"; mails "$work/mi$r" "i$r"
	"$cli" -c "$work/p$r.conf" tickets >/dev/null 2>&1   # the environment exists on both sides
	"$cli" -c "$work/i$r.conf" tickets >/dev/null 2>&1
	t0=$(date +%s%N)
	for i in $(seq 1 "$n"); do "$cli" version >/dev/null; done
	t1=$(date +%s%N)
	for i in $(seq 1 "$n"); do "$cli" -c "$work/p$r.conf" ingest "$work/mp$r/$i.eml" >/dev/null 2>&1 || echo "ingest $i failed" >&2; done
	t2=$(date +%s%N)
	inproc=$("$door" "$work/i$r.conf" $(for i in $(seq 1 "$n"); do echo "$work/mi$r/$i.eml"; done) | awk '{print $2}')
	floor=$(rate "$t0" "$t1"); proc=$(rate "$t1" "$t2")
	echo "round $r: process door $proc mails/s; in-process $inproc mails/s; start-up floor $floor starts/s;" \
		"door/in-process $(awk -v a="$proc" -v b="$inproc" 'BEGIN { printf "%.2f", a / b }')"
done
