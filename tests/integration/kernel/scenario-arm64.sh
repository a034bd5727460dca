# shellcheck shell=sh
# Runs inside the arm64 test VM (busybox sh) as `sh /scenario OUT DATA`.
#
# First what QEMU's user mode cannot give (tests/arm64/user-mode-na.txt):
# each unit-test binary named there runs whole, and so do the CLI tests,
# from a copy of the fixtures; each leaves its output and exit status in
# OUT for the host to judge. Then the WireGuard scenario
# (scenario-wireguard.sh, in DATA) on this real arm64 kernel.
out=$1
data=$2
set -u

uname -m -r | awk '{ print $2, $1 }' >"$out/uname"
mkdir -p /src
tar -xf "$data/fixtures.tar" -C /src || {
	echo "scenario-arm64: cannot unpack the fixtures" >&2
	exit 1
}
# Unit tests run from the project root: fixture paths are relative to it.
# Each in a session of its own, as from a shell with job control: processes
# started by init have no process group of their own (0), and the runner's
# tests move children into their parent's group.
for t in $(cat "$data/units"); do
	(cd /src && /usr/bin/setsid --wait "/usr/bin/$t") >"$out/unit-$t.txt" 2>&1
	echo $? >"$out/unit-$t.rc"
done

(cd /src && sh tests/cli/run.sh /usr/bin/sparkmon) >"$out/cli.txt" 2>&1
echo $? >"$out/cli.rc"

sh "$data/scenario-wireguard.sh" "$out" "$data"
