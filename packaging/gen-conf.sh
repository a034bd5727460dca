#!/bin/sh
# Writes the shipped /etc/sparkmon/sparkmon.conf to standard output: the
# normalized built-in defaults that `sparkmon config` prints, each key
# commented out, so that the file lists every option and never drifts from
# the program.
#
#   packaging/gen-conf.sh path/to/sparkmon > sparkmon.conf
set -eu
bin=$1
empty=$(mktemp)
trap 'rm -f "$empty"' EXIT
# An empty file, not the default path: a configuration installed on the
# build machine must not leak into the shipped one.
printed=$("$bin" -c "$empty" config)
cat <<'HEAD'
# /etc/sparkmon/sparkmon.conf: configuration of sparkmon, see sparkmon.conf(5).
#
# Every option is listed with its built-in default, commented out. Uncomment
# and change what you need, check with `sparkmon config`, then apply with
# `systemctl reload sparkmon`.
HEAD
printf '%s\n' "$printed" | sed -e '1d' -e 's/^\([a-z_][a-z_0-9]* =\) *$/\1/' \
	-e 's/^\([a-z_][a-z_0-9]* =\)/#\1/'
cat <<'TAIL'

# One section per WireGuard peer to know by name; `required = yes` makes a
# peer that stops talking a WARNING (stale) or CRITICAL (down).
#[peer laptop]
#public_key = <the peer's public key, as `wg show` prints it>
#required = yes
TAIL
