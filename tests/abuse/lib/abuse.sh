# shellcheck shell=sh
# What the abuse tests (tests/abuse/*.sh) share, on top of the integration
# tests' helpers. Sourced, never run.
#
# abuse_setup NAME: a scratch folder, the attack client built there
# ($abuse), room for a thousand connections on each side, and a daemon on
# a free loopback port ($port, $pid) with the default [http] limits plus
# the lines of $extra_http; $listen, when set, replaces the address (its
# port is $port, which may be set before).
. "$(dirname "$0")/../integration/lib/common.sh"

abuse_setup() {
	need_tools cc curl perl
	need_root "many 127.x.y.z source addresses and a raised descriptor limit"
	tmpdir "abuse-$1"
	t_fail_fast=yes t_logs="$tmp/serve.log"
	# The attack client holds about 1000 sockets, the daemon up to its
	# caps plus those it is refusing.
	ulimit -n 8192
	cc -O2 -Wall -Wextra -Werror -o "$tmp/abuse" "$(dirname "$0")/abuse.c" ||
		die "cannot build the attack client"
	abuse=$tmp/abuse
	port=${port:-$(free_port)}
	cat >"$tmp/serve.conf" <<CONF
[general]
interval = 1s
[http]
listen = ${listen:-127.0.0.1:$port}
listen_wireguard = no
allow_wireguard = no
${extra_http:-}
CONF
	serve "$tmp/serve.conf" "$tmp/serve.log"
	pid=$serve_pid
	# /metrics answers 503 until the first round is published.
	wait_http "http://127.0.0.1:$port/metrics" -f ${right:+-H "$right"}
}

# fd_count: open descriptors of the web process.
fd_count() {
	ls "/proc/$pid/fd" | wc -l
}

# rss_kib: resident memory of the web process, KiB.
rss_kib() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"
}

# raw SRC TIMEOUT_MS [bytewise]: sends stdin from SRC, prints each
# response's status code and whether the server closed ("closed"/"open").
raw() {
	"$abuse" raw 127.0.0.1 "$port" "$@"
}

# expect_raw WHAT EXPECTED SRC TIMEOUT_MS [bytewise] < request
expect_raw() {
	t_what=$1 t_want=$2
	shift 2
	t_got=$(raw "$@" | sed 's/ *$//')
	[ "$t_got" = "$t_want" ] || fail "$t_what: expected '$t_want', got '$t_got'"
	ok "$t_what -> $t_got"
}
