# shellcheck shell=sh
# Runs inside the arm64 test VM (busybox sh) as `sh /scenario OUT DATA`,
# in a Debian arm64 userland with gcc, make and the build's -dev packages:
# the README's build on the machine itself, `make` then `make install`, from
# the source tree in DATA/source.tar. Logs, exit statuses and what was
# installed are left in OUT for the host to judge.
out=$1
data=$2
set -u

uname -m >"$out/uname"
gcc --version | head -n 1 >"$out/gcc"
# Debian's gcc package leaves cc to update-alternatives, which did not run.
[ -e /usr/bin/cc ] || ln -s gcc /usr/bin/cc
mkdir -p /src /tmp/dest
tar -xf "$data/source.tar" -C /src || exit 1
cd /src || exit 1

step() { # NAME COMMAND...: runs it, keeping its log, exit status and time
	name=$1
	shift
	t0=$(cut -d' ' -f1 /proc/uptime)
	"$@" >"$out/$name.log" 2>&1
	echo $? >"$out/$name.rc"
	echo "$t0 $(cut -d' ' -f1 /proc/uptime)" | awk '{ printf "%.0f\n", $2 - $1 }' \
		>"$out/$name.seconds"
}
step make make -j"$(nproc)"
step install make install DESTDIR=/tmp/dest PREFIX=/usr
(cd /tmp/dest && find . -type f | sort) >"$out/installed"
/tmp/dest/usr/bin/sparkmon --version >"$out/version" 2>&1
/tmp/dest/usr/bin/sparkmon -c /tmp/dest/etc/sparkmon/sparkmon.conf config >"$out/config" 2>&1
echo $? >"$out/config.rc"
/tmp/dest/usr/lib/sparkmon/sparkmon-fetch --help >"$out/fetch-help" 2>&1
echo $? >"$out/fetch-help.rc"
