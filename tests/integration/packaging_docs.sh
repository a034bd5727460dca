#!/bin/bash
# What ships besides the binary, checked against the binary so that it
# cannot drift from it:
#
# - man pages: groff -ww and man --warnings render them without a warning;
#   sparkmon.conf(5) documents every key `sparkmon config` prints (and no
#   other), each with the default the program has; sparkmon(8) names every
#   check id `sparkmon --help` lists.
# - the shipped sparkmon.conf (packaging/gen-conf.sh): every key, commented
#   out, and it parses back to the built-in defaults.
# - Prometheus: promtool check rules, promtool test rules on synthetic
#   series, promtool check config on the scrape configuration.
# - cron: the line cron runs.
# - make install with DESTDIR and PREFIX.
set -euo pipefail

: "${SPARKMON:?SPARKMON must point at the sparkmon binary}"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
pkg=$repo/packaging
. "$here/lib/common.sh"
need_tools groff man promtool jq make
tmpdir pkgdocs


# ---- man pages render cleanly --------------------------------------------------
for page in "$pkg/man/sparkmon.8" "$pkg/man/sparkmon.conf.5"; do
	name=$(basename "$page")
	groff -ww -z -man "$page" >"$tmp/groff.err" 2>&1 || true
	[ -s "$tmp/groff.err" ] && fail "groff -ww $name: $(cat "$tmp/groff.err")" ||
		ok "groff -ww -z -man $name: no warnings"
	MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -E UTF-8 -l "$page" >"$tmp/man.txt" \
		2>"$tmp/man.err" || fail "man -l $name failed"
	[ -s "$tmp/man.err" ] && fail "man --warnings -l $name: $(cat "$tmp/man.err")" ||
		ok "man --warnings -l $name: no warnings ($(wc -l <"$tmp/man.txt") lines)"
done

# ---- sparkmon.conf(5) against `sparkmon config` ---------------------------------
# A [peer] section makes `config` print the per-peer keys too.
printf '[peer laptop]\npublic_key = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n' \
	>"$tmp/peer.conf"
: >"$tmp/empty.conf"
"$SPARKMON" -c "$tmp/empty.conf" config >"$tmp/defaults.txt"
"$SPARKMON" -c "$tmp/peer.conf" config >"$tmp/withpeer.txt"
# "section key value" per line; [peer NAME] becomes "peer".
keys_of() {
	awk '/^\[peer /{s="peer"; next} /^\[/{s=substr($0, 2, length($0) - 2); next}
	     /^#/ || !/ = ?/ {next}
	     {k=$1; v=$0; sub(/^[^=]*= ?/, "", v); print s "\t" k "\t" v}' "$1"
}
{
	keys_of "$tmp/defaults.txt"
	keys_of "$tmp/withpeer.txt" | awk -F'\t' '$1 == "peer"'
} | sort -u -t"$(printf '\t')" -k1,2 >"$tmp/program.keys"
# The man page: `.SS [section]` then `\fBkey\fR = \fItype\fR (default: \fBvalue\fR)`.
awk '/^\.SS \[/ {s=$2; gsub(/[][]/, "", s); next}
     /^\.S[HS]/ {s=""}
     s != "" && /^\\fB[a-z_0-9]+\\fR = / {
	k=$0; sub(/^\\fB/, "", k); sub(/\\fR.*/, "", k)
	d=$0
	if (d ~ /\(default: empty\)/) d=""
	else { sub(/.*\(default: \\fB/, "", d); sub(/\\fR\)$/, "", d); gsub(/\\-/, "-", d) }
	print s "\t" k "\t" d
     }' "$pkg/man/sparkmon.conf.5" | sort -u -t"$(printf '\t')" -k1,2 >"$tmp/man.keys"
[ "$(wc -l <"$tmp/program.keys")" -gt 20 ] || fail "too few keys parsed from sparkmon config"
cut -f1,2 "$tmp/program.keys" >"$tmp/p"
cut -f1,2 "$tmp/man.keys" >"$tmp/m"
missing=$(comm -23 "$tmp/p" "$tmp/m" | awk -F'\t' '{printf " [%s] %s;", $1, $2}')
stale=$(comm -13 "$tmp/p" "$tmp/m" | awk -F'\t' '{printf " [%s] %s;", $1, $2}')
if [ -n "$missing" ]; then
	fail "packaging/man/sparkmon.conf.5 does not document$missing" \
		"add each as '\\fBkey\\fR = \\fItype\\fR (default: \\fBvalue\\fR)' under '.SS [section]'"
fi
[ -n "$stale" ] && fail "packaging/man/sparkmon.conf.5 documents keys sparkmon does not have: $stale"
# Defaults: for the keys in both, the man page's default is the program's.
join -t"$(printf '\t')" <(awk -F'\t' '{print $1"."$2"\t"$3}' "$tmp/program.keys") \
	<(awk -F'\t' '{print $1"."$2"\t"$3}' "$tmp/man.keys") |
	awk -F'\t' '$2 != $3 && $1 !~ /^peer\./ {print "  " $1 ": program \"" $2 "\", man page \"" $3 "\""}' \
		>"$tmp/defaults.diff"
[ -s "$tmp/defaults.diff" ] && fail "sparkmon.conf.5 defaults differ:
$(cat "$tmp/defaults.diff")"
[ -z "$missing" ] && [ -z "$stale" ] && ! [ -s "$tmp/defaults.diff" ] &&
	ok "sparkmon.conf.5 documents all $(wc -l <"$tmp/p") keys of sparkmon config, defaults equal"

# ---- sparkmon(8) names every check -----------------------------------------------
ids=$("$SPARKMON" --help | sed -n 's/^Check ids: *//p')
[ -n "$ids" ] || fail "no 'Check ids:' line in sparkmon --help"
undocumented=""
# The section once, into a file: with pipefail, awk piped into grep -q
# fails whenever grep finds the id before awk has written everything.
awk '/^\.SH CHECKS/{on=1; next} /^\.SH/{on=0} on' "$pkg/man/sparkmon.8" >"$tmp/checks.man"
for id in $ids; do
	grep -qx "\.B $id" "$tmp/checks.man" || undocumented="$undocumented $id"
done
[ -z "$undocumented" ] && ok "sparkmon.8 describes all $(echo $ids | wc -w) check ids" ||
	fail "packaging/man/sparkmon.8 section CHECKS lacks:$undocumented"

# ---- the shipped configuration file ----------------------------------------------
"$pkg/gen-conf.sh" "$SPARKMON" >"$tmp/sparkmon.conf"
if grep -Eq '^[a-z_]+ *=' "$tmp/sparkmon.conf"; then
	fail "the shipped sparkmon.conf sets a key instead of showing it commented out"
fi
"$SPARKMON" -c "$tmp/sparkmon.conf" config | sed 1d >"$tmp/shipped.norm" ||
	fail "the shipped sparkmon.conf does not parse"
sed 1d "$tmp/defaults.txt" >"$tmp/defaults.norm"
cmp -s "$tmp/shipped.norm" "$tmp/defaults.norm" && ok "shipped sparkmon.conf parses to the defaults" ||
	fail "shipped sparkmon.conf does not parse to the defaults"
unlisted=""
while IFS=$'\t' read -r section key _; do
	[ "$section" = peer ] && continue
	awk -v s="[$section]" -v k="#$key =" '$0 == s {on=1; next} /^\[/{on=0}
		on && index($0, k) == 1 {found=1} END {exit !found}' "$tmp/sparkmon.conf" ||
		unlisted="$unlisted [$section]$key"
done <"$tmp/program.keys"
[ -z "$unlisted" ] && ok "shipped sparkmon.conf lists every key, commented out" ||
	fail "shipped sparkmon.conf lacks:$unlisted"
# Uncommenting a key gives that value: the commented lines are real syntax.
sed 's/^#interval = 5s/interval = 7s/' "$tmp/sparkmon.conf" >"$tmp/edited.conf"
"$SPARKMON" -c "$tmp/edited.conf" config | grep -x 'interval = 7s' >/dev/null &&
	ok "an uncommented line takes effect" || fail "uncommenting 'interval' had no effect"

# ---- Prometheus -----------------------------------------------------------------
promtool check rules "$pkg/prometheus/alerts.yml" >"$tmp/rules.txt" 2>&1 &&
	ok "promtool check rules: $(grep -o '[0-9]* rules found' "$tmp/rules.txt")" ||
	fail "promtool check rules: $(cat "$tmp/rules.txt")"
(cd "$pkg/prometheus" && promtool test rules alerts_test.yml) >"$tmp/rtest.txt" 2>&1 &&
	ok "promtool test rules: SUCCESS" || fail "promtool test rules: $(cat "$tmp/rtest.txt")"
promtool check config --syntax-only "$pkg/prometheus/scrape.yml" >"$tmp/cfg.txt" 2>&1 &&
	ok "promtool check config scrape.yml" || fail "promtool check config: $(cat "$tmp/cfg.txt")"
# One job, several servers.
jobs=$(grep -c '^  - job_name:' "$pkg/prometheus/scrape.yml")
targets=$(grep -c "^      - targets:" "$pkg/prometheus/scrape.yml")
[ "$jobs" = 1 ] && [ "$targets" -ge 2 ] && ok "scrape.yml: one job, $targets servers" ||
	fail "scrape.yml: $jobs jobs, $targets target groups"
# Every alert that names a check names a real one.
for id in $(grep -o 'check="[a-z_.]*"' "$pkg/prometheus/alerts.yml" | sed 's/check="//; s/"//' |
	sort -u); do
	echo " $ids " | grep -q " $id " || fail "alerts.yml names an unknown check '$id'"
done

# ---- cron -------------------------------------------------------------------------
grep -qx '\*/5 \* \* \* \* root sparkmon check --changes' "$pkg/cron/sparkmon" &&
	grep -q '^#.*chronic sparkmon check' "$pkg/cron/sparkmon" &&
	grep -q '^#.*No MTA installed' "$pkg/cron/sparkmon" &&
	ok "cron: */5 ... root sparkmon check --changes, MTA and chronic variant documented" ||
	fail "packaging/cron/sparkmon"
# The file names no option sparkmon does not have.
"$SPARKMON" check --help | grep -q -- '--changes' || fail "sparkmon check --help has no --changes"

# ---- make install -----------------------------------------------------------------
build=$(dirname "$SPARKMON")
root=$tmp/root
if make -s -C "$repo" BUILD="$build" DESTDIR="$root" PREFIX=/usr/local install \
	>"$tmp/install.log" 2>&1; then
	for f in usr/local/bin/sparkmon usr/local/lib/sparkmon/sparkmon-fetch \
		usr/local/share/man/man8/sparkmon.8 \
		usr/local/share/man/man5/sparkmon.conf.5 usr/local/lib/systemd/system/sparkmon.service \
		etc/sparkmon/sparkmon.conf etc/cron.d/sparkmon; do
		[ -f "$root/$f" ] || fail "make install: no /$f"
	done
	[ -x "$root/usr/local/lib/sparkmon/sparkmon-fetch" ] ||
		fail "make install: /usr/local/lib/sparkmon/sparkmon-fetch is not executable"
	grep -qx 'ExecStart=/usr/local/bin/sparkmon serve' \
		"$root/usr/local/lib/systemd/system/sparkmon.service" &&
		ok "make install: files in place, unit runs /usr/local/bin/sparkmon" ||
		fail "make install: ExecStart does not follow PREFIX"
	echo "# edited by the admin" >>"$root/etc/sparkmon/sparkmon.conf"
	make -s -C "$repo" BUILD="$build" DESTDIR="$root" PREFIX=/usr/local install >/dev/null 2>&1
	grep -q 'edited by the admin' "$root/etc/sparkmon/sparkmon.conf" &&
		ok "make install keeps an existing configuration" ||
		fail "make install overwrote /etc/sparkmon/sparkmon.conf"
else
	fail "make install: $(tail -5 "$tmp/install.log")"
fi

finish
