# shellcheck shell=sh
# What the integration tests (tests/integration/*.sh) share. Sourced, never
# run: it lives below lib/ because run.sh runs every *.sh next to it. POSIX
# sh, so that both the sh and the bash tests can use it:
#
#     . "$(dirname "$0")/lib/common.sh"
#
# Sourcing it requires $SPARKMON and installs the teardown: at exit (also
# after a failure, INT or TERM) the processes, network namespaces,
# wireguard-go sockets and the scratch folder registered below are removed.

: "${SPARKMON:?SPARKMON must point at the sparkmon binary}"

t_name=$(basename "$0" .sh)
t_failures=0 # fail's count, read by finish
t_pids=""    # background processes to stop at exit
t_netns=""   # network namespaces to empty and delete at exit
t_socks=""   # wireguard-go UAPI sockets to remove at exit
t_tmp=""     # the scratch folder (tmpdir)
# Set by the test: t_fail_fast=yes makes fail stop the test (die); die
# shows the end of the logs in t_logs (paths or glob patterns) and runs
# t_die_also, a command line that shows more.
t_fail_fast=no
t_logs=""
t_die_also=""

# ---- reporting ----------------------------------------------------------------

# ok MSG...: one assertion held.
ok() {
	echo "ok: $*"
}

# fail MSG...: one assertion did not hold; the test goes on, and finish
# makes it fail. With t_fail_fast=yes it stops at once instead (die).
fail() {
	[ "$t_fail_fast" = yes ] && die "$@"
	echo "FAIL: $*" >&2
	t_failures=$((t_failures + 1))
}

# die MSG...: one assertion did not hold and nothing after it can be
# trusted: shows the last lines of each log in $t_logs, then exits 1.
die() {
	echo "FAIL: $*" >&2
	for f in $t_logs; do
		[ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }
	done
	[ -z "$t_die_also" ] || eval "$t_die_also" >&2 || true
	exit 1
}

# finish: the last line of a test; exits 1 when fail was called.
finish() {
	if [ "$t_failures" -ne 0 ]; then
		echo "$t_name: $t_failures failure(s)" >&2
		exit 1
	fi
	echo "$t_name: all passed"
}

# ---- preconditions: a missing component fails, never skips --------------------

# need_tools TOOL...: each TOOL must be on PATH.
need_tools() {
	for t_tool in "$@"; do
		command -v "$t_tool" >/dev/null || {
			echo "FAIL: $t_tool is missing (make deps; tests/deps/*.txt)" >&2
			exit 1
		}
	done
}

# need_root WHY: the test must run as root, for WHY.
need_root() {
	[ "$(id -u)" = 0 ] || {
		echo "FAIL: needs root ($1)" >&2
		exit 1
	}
}

# ---- secrets ------------------------------------------------------------------------

# key_leaks KEY FILE...: prints where any piece of KEY (a base64 WireGuard
# key) appears in the FILEs and returns 1; returns 0 when none does. A
# piece is any 8-byte window of the key's 32 bytes, raw, in hex (either
# case) or in base64 (any 11 characters at each of the three alignments,
# also with '/' written as JSON may write it). A FILE that cannot be read
# is an error (another non-zero status), never a pass.
key_leaks() {
	perl -MMIME::Base64 -e '
		my $key = decode_base64(shift);
		die "not a 32-byte key\n" unless length($key) == 32;
		my @pieces;
		for my $i (0 .. 24) {
			my $w = substr($key, $i, 8);
			push @pieces, ["raw bytes $i-" . ($i + 7), $w, 0];
			push @pieces, ["hex of bytes $i-" . ($i + 7), unpack("H*", $w), 1];
		}
		for my $shift (0 .. 2) {
			(my $enc = encode_base64(substr($key, $shift), "")) =~ s/=+$//;
			chop $enc; # its last character can hold padding bits
			for my $i (0 .. length($enc) - 11) {
				my $run = substr($enc, $i, 11);
				push @pieces, ["base64 $run", $run, 0];
				(my $esc = $run) =~ s{/}{\\/}g;
				push @pieces, ["base64 $esc", $esc, 0] if $esc ne $run;
			}
		}
		my $found = 0;
		for my $f (@ARGV) {
			open(my $fh, "<:raw", $f) or die "$f: $!\n";
			my $data = do { local $/; <$fh> } // "";
			my $lower = lc $data;
			for my $p (@pieces) {
				next if index($p->[2] ? $lower : $data, $p->[1]) < 0;
				print "$f: $p->[0]\n";
				$found = 1;
				last;
			}
		}
		exit $found;' "$@" || return $?
}

# ---- resources, removed at exit --------------------------------------------------

# tmpdir NAME: makes the scratch folder /tmp/sparkmon-NAME.XXXXXX and sets
# $tmp to it.
tmpdir() {
	t_tmp=$(mktemp -d "/tmp/sparkmon-$1.XXXXXX")
	tmp=$t_tmp
}

# kill_at_exit PID...: background processes to stop at exit.
kill_at_exit() {
	t_pids="$t_pids $*"
}

# free_port: a TCP port that was free on 127.0.0.1 a moment ago (the kernel
# picks one and it is released again).
free_port() {
	perl -MIO::Socket::INET -e \
		'print IO::Socket::INET->new(Listen=>1,LocalAddr=>"127.0.0.1",LocalPort=>0)->sockport'
}

# netns_add NS: a network namespace with its loopback up.
netns_add() {
	ip netns add "$1"
	t_netns="$t_netns $1"
	ip -n "$1" link set lo up
}

# netns_pair NS_A NS_B VETH_A VETH_B NET: two namespaces joined by a veth
# pair, VETH_A in NS_A with NET.1/24 and VETH_B in NS_B with NET.2/24 (NET
# is three octets: 192.168.247), both up.
netns_pair() {
	netns_add "$1"
	netns_add "$2"
	ip link add "$3" netns "$1" type veth peer name "$4" netns "$2"
	ip -n "$1" addr add "$5.1/24" dev "$3"
	ip -n "$2" addr add "$5.2/24" dev "$4"
	ip -n "$1" link set "$3" up
	ip -n "$2" link set "$4" up
}

# wg_go NS IFNAME LOG: a wireguard-go interface IFNAME in NS, its output in
# LOG. wireguard-go daemonizes; this waits (up to 5 s) for its UAPI socket,
# which lives in /var/run/wireguard, shared by every namespace, and dies
# without it.
wg_go() {
	ip netns exec "$1" wireguard-go "$2" >"$3" 2>&1
	t_socks="$t_socks /var/run/wireguard/$2.sock"
	for _ in $(seq 50); do
		[ -S "/var/run/wireguard/$2.sock" ] && return 0
		sleep 0.1
	done
	die "wireguard-go made no socket for $2"
}

# ping_tunnel NS ADDR: pings ADDR from NS until it answers, at most 20
# times. The first handshake initiation may go out before the other side
# knows the peer and be dropped; WireGuard retries after REKEY_TIMEOUT (5 s).
ping_tunnel() {
	for _ in $(seq 20); do
		ip netns exec "$1" ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
	done
	return 1
}

# ---- a browser ---------------------------------------------------------------------

# chromium_in NS PROFILE ARG...: headless Chromium (at most 60 s) in
# network namespace NS with the fresh profile folder $tmp/profile-PROFILE,
# its messages (console lines included) appended to $tmp/chromium.log; no
# background traffic of its own that can be switched off.
chromium_in() {
	t_ns=$1 t_profile=$2
	shift 2
	timeout 60 ip netns exec "$t_ns" chromium --headless --no-sandbox --disable-gpu \
		--disable-background-networking --disable-component-update --no-first-run \
		--disable-sync --disable-dev-shm-usage --user-data-dir="$tmp/profile-$t_profile" \
		--enable-logging=stderr --v=0 "$@" 2>>"$tmp/chromium.log"
}

# chromium_page NS PROFILE ARG...: chromium_in that gives the page 4 s of
# virtual time to load its data before --dump-dom or --screenshot.
chromium_page() {
	t_ns=$1 t_profile=$2
	shift 2
	chromium_in "$t_ns" "$t_profile" --virtual-time-budget=4000 "$@"
}

# ---- sparkmon serve ----------------------------------------------------------------

# serve CONF LOG [NS]: starts `sparkmon -c CONF serve` in the background (in
# network namespace NS when given), its stderr in LOG; its pid in
# $serve_pid, stopped at exit.
serve() {
	if [ -n "${3:-}" ]; then
		ip netns exec "$3" "$SPARKMON" -c "$1" serve 2>"$2" &
	else
		"$SPARKMON" -c "$1" serve 2>"$2" &
	fi
	serve_pid=$!
	kill_at_exit "$serve_pid"
}

# wait_http [-n NS] URL [CURL-OPTION...]: waits up to 5 s for URL to answer
# (curl run in NS when given); dies when it does not. Any HTTP status is an
# answer; the option -f asks for a success.
wait_http() {
	t_in=""
	if [ "$1" = -n ]; then
		t_in="ip netns exec $2"
		shift 2
	fi
	t_url=$1
	shift
	for _ in $(seq 50); do
		$t_in curl -s -o /dev/null "$@" "$t_url" && return 0
		sleep 0.1
	done
	die "nobody answers at $t_url"
}

# ---- teardown ------------------------------------------------------------------------

# Runs at exit: stops the processes, then whatever still runs in the
# namespaces (TERM, then KILL), deletes the namespaces, sockets and folder.
t_teardown() {
	set +e
	for p in $t_pids; do kill "$p" 2>/dev/null; done
	for ns in $t_netns; do
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null; done
	done
	if [ -n "$t_netns" ]; then
		sleep 0.2
		for ns in $t_netns; do
			for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
			ip netns del "$ns" 2>/dev/null
		done
	fi
	for p in $t_pids; do wait "$p" 2>/dev/null; done
	for s in $t_socks; do rm -f "$s"; done
	[ -n "$t_tmp" ] && rm -rf "$t_tmp"
}
trap t_teardown EXIT
# Without this, sh dies of the signal and skips the EXIT trap.
trap 'exit 1' INT TERM
