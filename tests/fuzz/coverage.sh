#!/bin/sh
# Line coverage of each harness's parser file by its committed corpus:
# the harnesses built with -fprofile-instr-generate -fcoverage-mapping in
# DIR (make fuzz-coverage) run every input once; llvm-profdata merges the
# profile and llvm-cov reports the parser's file. The file's I/O functions
# (reading, spawning, sockets) are not called by a harness and count as
# missed lines.
#   tests/fuzz/coverage.sh DIR
set -eu
dir=$1
corpora=$(dirname "$0")/corpus
printf '%-10s %-22s %8s %8s\n' harness file lines covered
for bin in "$dir"/fuzz_*; do
	name=${bin##*/fuzz_}
	case $name in
	config) files=monitor/config.c ;;
	query) files=monitor/history.c ;;
	wire) files=monitor/wire.c ;;
	alert) files=monitor/alert.c ;;
	requestline) files=web/requestline.c ;;
	router) files=probes/routermsg.c ;;
	iptables) files=probes/iptsave.c ;;
	sysctl) files="probes/sysctld.c probes/bootfwd.c probes/forwarding.c" ;;
	fetch | state) files=probes/endpoint.c ;;
	wgkernel | rtnl | sockdiag) files="probes/$name.c probes/netlink.c" ;;
	*) files=probes/$name.c ;;
	esac
	rm -f "$dir/$name.profraw"
	find "$corpora/$name" -type f -print0 | sort -z |
		LLVM_PROFILE_FILE="$dir/$name.profraw" xargs -0 "$bin" >/dev/null 2>&1
	llvm-profdata merge -sparse -o "$dir/$name.profdata" "$dir/$name.profraw"
	# Each file's TOTAL row: lines, missed lines, cover (columns 8 to 10).
	for file in $files; do
		llvm-cov report "$bin" -instr-profile="$dir/$name.profdata" "$file" |
			awk -v h="$name" -v f="$file" \
				'$1 == "TOTAL" { printf "%-10s %-22s %8s %8s\n", h, f, $8, $10 }'
	done
done
