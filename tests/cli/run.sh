#!/bin/sh
# Runs the built sparkmon binary (path in $1) against fixture roots and
# checks exit codes, output formats and usage errors. Run from the project
# root (make cli does).
set -u
bin=$(realpath "$1")
roots=$(realpath tests/fixtures/roots)
command -v jq >/dev/null || { echo "cli: jq is missing (tests/deps/cli.txt)" >&2; exit 1; }
[ -x "$bin" ] || { echo "cli: $bin is not an executable" >&2; exit 1; }

tmp=$(mktemp -d /tmp/sparkmon-cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
failures=0
checks=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run ARGS...: runs the binary, leaving stdout, stderr and the exit code in
# $tmp/out, $tmp/err and $rc.
run() {
	"$bin" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	checks=$((checks + 1))
}

expect_rc() {
	[ "$rc" = "$1" ] || fail "$2: exit $rc, expected $1 (stderr: $(head -c 300 "$tmp/err"))"
}
expect_out() { grep -Eq -- "$1" "$tmp/out" || fail "$2: stdout lacks /$1/: $(head -c 300 "$tmp/out")"; }
expect_err() { grep -Eq -- "$1" "$tmp/err" || fail "$2: stderr lacks /$1/: $(head -c 300 "$tmp/err")"; }
expect_no_out() { [ ! -s "$tmp/out" ] || fail "$1: unexpected stdout: $(head -c 300 "$tmp/out")"; }
expect_no_err() { [ ! -s "$tmp/err" ] || fail "$1: unexpected stderr: $(head -c 300 "$tmp/err")"; }

# A configuration whose root is one of the fixture roots.
for r in ok warning critical unknown; do
	printf '[general]\nroot = %s/cli-%s\n' "$roots" "$r" >"$tmp/$r.conf"
done
only="--only memory,forwarding"
first_line_re="^SPARKMON (OK|WARNING|CRITICAL|UNKNOWN) - [^|]+( \| .+)?$"

# ---- exit codes and the plugin line ----------------------------------------
run -c "$tmp/ok.conf" check $only
expect_rc 0 "check on an OK root"
expect_out "^SPARKMON OK - 3 of 3 checks OK \| 'memory_available'=1354563584B;" "OK line"
expect_out "'ip_forward'=1;;;0;1$" "OK perfdata"
[ "$(wc -l <"$tmp/out")" = 1 ] || fail "OK: more than the status line"
expect_no_err "check OK"

run -c "$tmp/warning.conf" check $only
expect_rc 1 "check with 8% memory available"
expect_out "^SPARKMON WARNING - memory.available: 157.4 MiB available of 1.9 GiB \(8.0%\) \| " "WARNING line"
expect_out "^WARNING memory.available: .* \(fix: .+\)$" "WARNING detail line"

run -c "$tmp/critical.conf" check $only
expect_rc 2 "check with ip_forward 0"
expect_out "^SPARKMON CRITICAL - forwarding.ipv4: " "CRITICAL line"
expect_out "^CRITICAL forwarding.ipv4: .* \(fix: sysctl -w net.ipv4.ip_forward=1\)$" "CRITICAL detail"

run -c "$tmp/unknown.conf" check $only
expect_rc 3 "check without proc/meminfo"
expect_out "^SPARKMON UNKNOWN - memory.available: memory probe failed: .*proc/meminfo: No such file or directory" "UNKNOWN line"
expect_out "^UNKNOWN memory.available: " "UNKNOWN detail"

for r in ok warning critical unknown; do
	run -c "$tmp/$r.conf" check $only
	head -n 1 "$tmp/out" | grep -Eq "$first_line_re" || fail "$r: malformed first line: $(head -n 1 "$tmp/out")"
done

# ---- -q / --quiet -----------------------------------------------------------
run -c "$tmp/ok.conf" check -q $only
expect_rc 0 "check -q OK"
expect_no_out "check -q on OK"
run -c "$tmp/ok.conf" check --quiet $only
expect_no_out "check --quiet on OK"
run -c "$tmp/warning.conf" check -q $only
expect_rc 1 "check -q WARNING"
expect_out "^SPARKMON WARNING - " "check -q on WARNING prints"
run -c "$tmp/unknown.conf" check -q $only
expect_rc 3 "check -q UNKNOWN"
expect_out "^SPARKMON UNKNOWN - " "check -q on UNKNOWN prints"

# ---- --changes ---------------------------------------------------------------
# Each root's configuration with one state folder: a change is printed once.
mkdir "$tmp/changes"
for r in ok critical; do
	printf '[general]\nroot = %s/cli-%s\nstate_dir = %s/changes\n' "$roots" "$r" "$tmp" \
		>"$tmp/changes-$r.conf"
done
run -c "$tmp/changes-critical.conf" check --changes $only
expect_rc 2 "--changes, ip_forward 0"
expect_out "^CRITICAL forwarding.ipv4: .* \(fix: sysctl -w net.ipv4.ip_forward=1\)$" "--changes news"
[ "$(wc -l <"$tmp/out")" = 1 ] || fail "--changes: more than the one change: $(cat "$tmp/out")"
run -c "$tmp/changes-critical.conf" check --changes $only
expect_rc 2 "--changes, unchanged"
expect_no_out "--changes, unchanged"
expect_no_err "--changes, unchanged"
run -c "$tmp/changes-ok.conf" check --changes $only
expect_rc 0 "--changes, recovered"
expect_out "^RECOVERED forwarding.ipv4 \(was CRITICAL for [0-9]+s\): " "--changes recovery"
run -c "$tmp/changes-ok.conf" check --changes --json
expect_rc 3 "--changes --json"
expect_err "--changes prints text" "--changes --json says why"
# A state folder that is a file: the changes are still printed, the exit
# code is the check's, and stderr says what cannot be remembered.
: >"$tmp/not-a-folder"
printf '[general]\nroot = %s/cli-critical\nstate_dir = %s/not-a-folder\n' "$roots" "$tmp" \
	>"$tmp/changes-broken.conf"
run -c "$tmp/changes-broken.conf" check --changes $only
expect_rc 2 "--changes, unusable state folder"
expect_out "^CRITICAL forwarding.ipv4: " "--changes, unusable state folder"
expect_err "not-a-folder/alerts" "--changes, unusable state folder"

# ---- --only -------------------------------------------------------------------
run -c "$tmp/critical.conf" check --only memory
expect_rc 0 "--only memory ignores forwarding"
expect_out "^SPARKMON OK - 1 of 1 checks OK \| 'memory_available'=" "--only memory line"
grep -q "ip_forward" "$tmp/out" && fail "--only memory: forwarding perfdata present"
run -c "$tmp/warning.conf" check --only forwarding
expect_rc 0 "--only forwarding ignores memory"
expect_out "^SPARKMON OK - 2 of 2 checks OK" "--only forwarding line"
run -c "$tmp/critical.conf" check --only forwarding.persistent
expect_rc 0 "--only one check id"
run -c "$tmp/critical.conf" check --only memory.available,forwarding.ipv4
expect_rc 2 "--only two ids"

# Selected checks that all turn out absent: UNKNOWN with the reason, in
# text and JSON, never "0 of 0 checks OK".
printf '[general]\nroot = %s/cli-ok\n[gpu]\nnvidia_smi = /nonexistent/nvidia-smi\n' "$roots" \
	>"$tmp/nogpu.conf"
run -c "$tmp/nogpu.conf" check --only gpu
expect_rc 3 "--only gpu without nvidia-smi"
expect_out "^SPARKMON UNKNOWN - selection: none of the selected checks applies here: gpu.available, gpu.temperature \(each is absent" "--only gpu line"
expect_out "^UNKNOWN selection: .* \(fix: run sparkmon check without --only to see the checks that apply here\)$" "--only gpu detail"
grep -q "0 of 0" "$tmp/out" && fail "--only gpu: '0 of 0' in the output"
run -c "$tmp/nogpu.conf" check --only gpu --json
expect_rc 3 "--only gpu --json"
jq -e '.status == "unknown" and .exit_code == 3 and (.checks | length) == 1 and
       .checks[0].id == "selection" and .checks[0].status == "unknown"' "$tmp/out" >/dev/null ||
	fail "--only gpu --json: $(head -c 300 "$tmp/out")"
run -c "$tmp/nogpu.conf" check -q --only gpu
expect_rc 3 "--only gpu -q"

run -c "$tmp/ok.conf" check --only bogus
expect_rc 3 "--only with an unknown id"
expect_err "unknown check 'bogus'" "--only bogus message"
expect_no_out "--only bogus"
run -c "$tmp/ok.conf" check --only memory.bogus
expect_rc 3 "--only memory.bogus"
run -c "$tmp/ok.conf" check --only ""
expect_rc 3 "--only empty"
expect_err "." "--only empty message"

# ---- --json -------------------------------------------------------------------
run -c "$tmp/warning.conf" check --json $only
expect_rc 1 "check --json WARNING"
if ! jq -e . "$tmp/out" >/dev/null 2>&1; then
	fail "--json: not valid JSON: $(head -c 300 "$tmp/out")"
else
	jq -e '(keys_unsorted | index("status")) != null and
	       ([ "status", "exit_code", "generated_at", "host", "version", "checks", "probes",
	          "memory", "forwarding" ] - keys) == []' "$tmp/out" >/dev/null ||
		fail "--json: top-level keys: $(jq -c keys "$tmp/out")"
	jq -e '.status == "warning" and .exit_code == 1' "$tmp/out" >/dev/null ||
		fail "--json: status/exit_code"
	jq -e '.generated_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})$")' \
		"$tmp/out" >/dev/null || fail "--json: generated_at is not RFC 3339"
	jq -e '.version | test("^[0-9]+\\.[0-9]+\\.[0-9]+")' "$tmp/out" >/dev/null ||
		fail "--json: version"
	jq -e '[.checks[].id] == ["memory.available", "forwarding.ipv4", "forwarding.persistent"]' \
		"$tmp/out" >/dev/null || fail "--json: check ids $(jq -c '[.checks[].id]' "$tmp/out")"
	jq -e '.checks | all(has("id") and has("status") and has("summary") and has("hint"))' \
		"$tmp/out" >/dev/null || fail "--json: check fields"
	jq -e '.checks[0].status == "warning" and (.checks[0].hint | length) > 0' "$tmp/out" \
		>/dev/null || fail "--json: memory check"
	jq -e '.probes.memory.status == "ok" and .probes.memory.error == null and
	       (.probes.memory.duration_seconds | type) == "number"' "$tmp/out" >/dev/null ||
		fail "--json: probes.memory"
	jq -e '.memory.total_bytes == 2014572 * 1024 and .memory.available_bytes == 161165 * 1024 and
	       .memory.used_bytes == (2014572 - 161165) * 1024' "$tmp/out" >/dev/null ||
		fail "--json: memory numbers $(jq -c .memory "$tmp/out")"
	jq -e '.forwarding.ipv4 == true and .forwarding.ipv4_at_boot == true and
	       .forwarding.boot_source_file == "/etc/sysctl.d/99-wireguard.conf"' "$tmp/out" \
		>/dev/null || fail "--json: forwarding $(jq -c .forwarding "$tmp/out")"
fi
run -c "$tmp/unknown.conf" check --json $only
expect_rc 3 "check --json UNKNOWN"
jq -e '.status == "unknown" and .exit_code == 3 and .memory == null and
       .probes.memory.status == "failed" and (.probes.memory.error | test("meminfo"))' \
	"$tmp/out" >/dev/null 2>&1 || fail "--json on UNKNOWN: $(head -c 400 "$tmp/out")"
# Every status: the exit code, "status" and "exit_code" agree.
code=0
for r in ok warning critical unknown; do
	run -c "$tmp/$r.conf" check --json $only
	expect_rc "$code" "check --json on the $r root"
	jq -e --arg s "$r" --argjson rc "$code" '.status == $s and .exit_code == $rc and
	       (.exit_code | type) == "number"' "$tmp/out" >/dev/null 2>&1 ||
		fail "--json on $r: status/exit_code $(jq -c '[.status, .exit_code]' "$tmp/out" 2>&1)"
	code=$((code + 1))
done
run -c "$tmp/ok.conf" check --json --only memory
jq -e '[.checks[].id] == ["memory.available"]' "$tmp/out" >/dev/null 2>&1 ||
	fail "--json --only memory: $(head -c 300 "$tmp/out")"
run -c "$tmp/ok.conf" check --json -q $only
expect_rc 0 "--json -q"

# ---- usage errors -------------------------------------------------------------
run
expect_rc 3 "no command"
expect_err "command is required" "no command message"
run frobnicate
expect_rc 3 "unknown command"
expect_err "unknown command 'frobnicate'" "unknown command message"
run check --frobnicate
expect_rc 3 "unknown check option"
expect_err "." "unknown check option message"
run check extra
expect_rc 3 "extra argument to check"
expect_err "unexpected argument 'extra'" "extra argument message"
run --frobnicate check
expect_rc 3 "unknown global option"
run -c
expect_rc 3 "-c without a file"
run check --only
expect_rc 3 "--only without a value"
run config extra
expect_rc 3 "extra argument to config"
run status extra
expect_rc 3 "extra argument to status"

# ---- config -------------------------------------------------------------------
run -c "$tmp/ok.conf" config
expect_rc 0 "config valid"
expect_out "^# sparkmon configuration, normalized \(source: $tmp/ok.conf\)$" "config source line"
expect_out "^root = $roots/cli-ok$" "config root"
expect_out "^interval = 5s$" "config default interval"
expect_no_err "config valid"
# The printed form is itself a valid configuration that prints the same.
tail -n +2 "$tmp/out" >"$tmp/printed.conf"
run -c "$tmp/printed.conf" config
expect_rc 0 "config of the printed form"
tail -n +2 "$tmp/out" | cmp -s - "$tmp/printed.conf" || fail "config: printed form does not print the same"

printf '[general]\ninterval = 5\n\n[memory]\nwarning_below = 3%%\nbogus = 1\n' >"$tmp/bad.conf"
run -c "$tmp/bad.conf" config
expect_rc 3 "config invalid"
expect_no_out "config invalid"
expect_err "^$tmp/bad.conf:2: interval: '5' is not a duration" "config error line 2"
expect_err "^$tmp/bad.conf:6: unknown key 'bogus' in \[memory\]$" "config error line 6"
expect_err "^$tmp/bad.conf:5: critical_below \(5%\) must be lower than warning_below \(3%\)$" "config error line 5"
[ "$(wc -l <"$tmp/err")" = 3 ] || fail "config invalid: expected 3 error lines, got: $(cat "$tmp/err")"
run -c "$tmp/bad.conf" check $only
expect_rc 3 "check with an invalid config"
expect_err "^$tmp/bad.conf:2: " "check with an invalid config names the line"

run -c "$tmp/missing.conf" config
expect_rc 3 "config with a missing -c file"
expect_err "^$tmp/missing.conf: No such file or directory$" "missing file message"
run -c "$tmp/missing.conf" check
expect_rc 3 "check with a missing -c file"

# ---- --help, --version ----------------------------------------------------------
run --help
expect_rc 0 "--help"
expect_out "^Usage: sparkmon " "--help usage"
expect_out "memory.available" "--help lists check ids"
expect_out "forwarding.persistent" "--help lists check ids"
for cmd in serve check status config; do expect_out "^  $cmd " "--help lists $cmd"; done
expect_no_err "--help"
run -h
expect_rc 0 "-h"
run check --help
expect_rc 0 "check --help"
expect_out "^Usage: sparkmon " "check --help usage"
run --version
expect_rc 0 "--version"
expect_out "^sparkmon [0-9]+\.[0-9]+\.[0-9]+$" "--version format"
run -V
expect_rc 0 "-V"

# ---- status -----------------------------------------------------------------------
run -c "$tmp/warning.conf" status
expect_rc 0 "status"
expect_out "^Checks$" "status checks heading"
expect_out "^  WARNING +memory.available +157.4 MiB available of 1.9 GiB \(8.0%\)$" "status memory check"
expect_out "^  OK +forwarding.ipv4 " "status forwarding check"
expect_out "^Memory$" "status memory heading"
expect_out "^ +total +used +free +buff/cache +available$" "status free -h header"
expect_out "^  Mem: +1.9 GiB +1.8 GiB +167.3 MiB +1.2 GiB +157.4 MiB$" "status Mem row"
expect_out "^  Swap: +975.0 MiB +35.8 MiB +939.2 MiB$" "status Swap row"
expect_out "at boot: +1, from /etc/sysctl.d/99-wireguard.conf:1" "status forwarding at boot"
run -c "$tmp/unknown.conf" status
expect_rc 0 "status on a root without meminfo"
expect_out "^  \(failed: .*meminfo: No such file or directory\)$" "status shows the failed probe"

# ---- the endpoint probe's HTTP helper ----------------------------------------------
# sparkmon-fetch next to the binary (built with it, also under ASan) makes
# the request: a refused connection on loopback comes back as curl's
# message, not as a missing or failing helper.
printf '[general]\nstate_dir = %s\n[endpoint]\nip_urls = http://127.0.0.1:1/\nconnect_timeout = 1s\ntimeout = 2s\n' \
	"$tmp" >"$tmp/fetch.conf"
run -c "$tmp/fetch.conf" check --only endpoint.public_ip
expect_rc 3 "endpoint check on a refused port"
expect_out "^SPARKMON UNKNOWN - endpoint.public_ip: public IP unknown: 1 URL failed, last http://127.0.0.1:1/: [^|]*(onnect|efused)" \
	"sparkmon-fetch ran and relayed curl's message"
expect_no_err "endpoint check through sparkmon-fetch"

# ---- this machine ---------------------------------------------------------------------
# Whatever its state, the line is well formed and the exit code matches it.
if [ -e /etc/sparkmon/sparkmon.conf ]; then
	run check
else
	run check # no config file: built-in defaults
fi
line=$(head -n 1 "$tmp/out")
echo "$line" | grep -Eq "$first_line_re" || fail "real check: malformed first line: $line"
case "$rc" in 0) word=OK ;; 1) word=WARNING ;; 2) word=CRITICAL ;; 3) word=UNKNOWN ;; *) word="exit $rc" ;; esac
case "$line" in "SPARKMON $word - "*) ;; *) fail "real check: exit $rc but line: $line" ;; esac
echo "cli: this machine: exit $rc: $line" | cut -c 1-160
# The JSON of one run against that run's own exit code and status (a
# second run could see another state of this machine).
run check --json
jq -e --argjson rc "$rc" '.exit_code == $rc and
       .status == (["ok", "warning", "critical", "unknown"][$rc])' "$tmp/out" >/dev/null 2>&1 ||
	fail "real check --json: exit $rc but $(jq -c '[.status, .exit_code]' "$tmp/out" 2>&1)"

if [ "$failures" -gt 0 ]; then
	echo "cli tests: $failures failures in $checks runs ($bin)" >&2
	exit 1
fi
echo "cli tests passed: $checks runs ($bin)"
