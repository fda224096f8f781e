#!/bin/sh
# Installs what sse needs on Debian, by group: build, test, bench.
# As root it runs apt-get; otherwise it prints the exact command to run.
# Usage: tools/deps.sh [build] [test] [bench]
set -eu

build="gcc make pkg-config libc6-dev libcurl4-openssl-dev libmicrohttpd-dev
libjansson-dev libhiredis-dev"
test="bats bats-support bats-assert mandoc shellcheck clang clang-format
libclang-rt-14-dev python3 python3-flask python3-prometheus-client curl openssl perl chromium nodejs
ca-certificates zsh fish jq strace iproute2 nftables procps bsdextrautils
man-db debhelper dpkg-dev fakeroot lintian redis-server nghttp2-server"
bench="nginx libnginx-mod-nchan pushpin zurl libzmq3-dev linux-perf valgrind"

want=""
[ $# -gt 0 ] || set -- build
for group in "$@"; do
	case $group in
	build) want="$want $build" ;;
	test) want="$want $test" ;;
	bench) want="$want $bench" ;;
	*) echo "deps.sh: unknown group '$group' (build, test, bench)" >&2; exit 2 ;;
	esac
done

missing=""
for pkg in $want; do
	# nodejs may come from elsewhere (e.g. NodeSource); a working node is enough
	if [ "$pkg" = nodejs ] && command -v node >/dev/null 2>&1; then
		continue
	fi
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -n "$missing" ] || exit 0
# Debian's nodejs package does not bring npm along.
case $missing in *nodejs*) missing="$missing npm" ;; esac

if [ "$(id -u)" -ne 0 ]; then
	echo "sse: missing packages:$missing" >&2
	echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "sse: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
