#!/bin/sh
# Password guessing stalls no one: 64 wrong passwords at once, again and
# again, from one address, against a cost-12 bcrypt hash; meanwhile a
# scraper whose login is remembered (as Prometheus's is: it logged in
# before) gets a 200 within 2 s each time (100 times, each on a new
# connection), from its own address and from a new one, and the guessing address gets 429 with Retry-After. The
# backoff of an address doubles with each wrong password and a right one
# resets it.
set -eu
. "$(dirname "$0")/lib/abuse.sh"
hash=$(perl -e 'print crypt("s3cret", "\$2b\$12\$abcdefghijklmnopqrstuu")')
case $hash in '$2b$12$'*) ;; *) echo "FAIL: this libcrypt cannot make bcrypt hashes" >&2; exit 1 ;; esac
extra_http="auth_user = admin
auth_bcrypt = $hash"
right="Authorization: Basic $(printf admin:s3cret | base64)"
abuse_setup auth
wrong="Authorization: Basic $(printf admin:guess | base64)"

"$abuse" guess 127.0.0.1 "$port" 127.70.0.1 64 8 "$wrong" >"$tmp/guess.out" &
guesser=$!
kill_at_exit "$guesser"
sleep 1
"$abuse" get 127.0.0.1 "$port" 127.71.0.1 100 2000 "$right" >"$tmp/get.out" ||
	fail "right credentials during the guessing: not a 200 within 2 s: $(tr '\n' ' ' <"$tmp/get.out")"
ok "right credentials during the guessing: 200 each, slowest in $(sort -n -k2 "$tmp/get.out" | tail -1 | cut -d' ' -f2) ms"
"$abuse" get 127.0.0.1 "$port" 127.71.0.2 3 2000 "$right" >"$tmp/get2.out" ||
	fail "right credentials from a new address during the guessing: $(tr '\n' ' ' <"$tmp/get2.out")"
ok "right credentials from a new address during the guessing: $(tr '\n' ' ' <"$tmp/get2.out")"
kill -0 "$guesser" || fail "the guessing ended before the right requests did"
wait "$guesser"
grep -q '^429 ' "$tmp/guess.out" || fail "the guessing address never got 429: $(tr '\n' ' ' <"$tmp/guess.out")"
grep -q '^200 ' "$tmp/guess.out" && fail "a wrong password was let in"
ok "the guessing address got (status count): $(tr '\n' ' ' <"$tmp/guess.out")"

# The backoff, one address: 401, then 429 for 1 s, 2 s, 4 s; a right
# password (remembered: it is not checked, so it is let in at once)
# resets it.
try() { # SRC USER:PASS -> "status retry-after"
	curl -s -o /dev/null -D "$tmp/h" -w '%{http_code}' -m 5 --interface "$1" -u "$2" \
		"http://127.0.0.1:$port/metrics" || true
	printf ' %s\n' "$(tr -d '\r' <"$tmp/h" | awk -F': ' 'tolower($1)=="retry-after"{print $2}')"
}
src=127.72.0.1
for wait in 1 2 4; do
	got=$(try $src admin:guess)
	[ "$got" = "401 " ] || fail "wrong password after the backoff: expected '401 ', got '$got'"
	got=$(try $src admin:guess)
	[ "$got" = "429 $wait" ] || fail "at once after it: expected '429 $wait', got '$got'"
	ok "wrong password -> 401, then 429 with Retry-After: $wait"
	sleep "$wait.1"
done
# Another wrong one now would wait 8 s; a right one first resets that.
got=$(try $src admin:s3cret)
[ "$got" = "200 " ] || fail "right password: expected '200 ', got '$got'"
got=$(try $src admin:guess)
[ "$got" = "401 " ] || fail "wrong password after a right one: expected '401 ', got '$got'"
got=$(try $src admin:guess)
[ "$got" = "429 1" ] || fail "the backoff did not start again at 1 s: got '$got'"
ok "a right password resets the backoff to 1 s"
finish
