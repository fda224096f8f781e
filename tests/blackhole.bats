#!/usr/bin/env bats
# A black-hole client: every packet dropped both ways, as a pulled cable or a
# machine gone off the network does, with no FIN or RST ever coming. The
# server and its client run in a network namespace of the test's own (its
# loopback), where an nftables rule drops the stream's packets; the
# namespace goes with the test. Needs root, ip and nft (skipped otherwise).
load helper
load serve_helper

setup() {
	if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null ||
		! command -v nft >/dev/null; then
		skip "needs root, ip (iproute2) and nft (nftables)"
	fi
	NS=sse-bh-$$-$BATS_TEST_NUMBER
	ip netns add "$NS" || skip "cannot create a network namespace here"
	ip -n "$NS" link set lo up
	serve_setup
}

teardown() {
	stop_bg
	ip netns del "$NS" 2>/dev/null || true
}

# sockets: how many sockets the server holds.
sockets() {
	find "/proc/$SRV/fd" -lname 'socket:*' 2>/dev/null | wc -l
}

@test "blackhole: a client whose packets all vanish is freed within keepalive + 10 s" {
	exec 8<>"$IN"
	ip netns exec "$NS" sse serve -p 0 --keepalive 1 <"$IN" 2>"$ERR" 8>&- &
	SRV=$!
	BG_PIDS+=("$SRV")
	wait_file "$ERR" 'sse: serving'
	URL=$(sed -n 's/^sse: serving \(http:[^ ]*\).*$/\1/p' "$ERR" | head -1)
	PORT=${URL##*:}
	PORT=${PORT%%/*}
	ip netns exec "$NS" curl -sN "http://127.0.0.1:$PORT/events" \
		>"$BATS_TEST_TMPDIR/out" &
	BG_PIDS+=("$!")
	feed hello
	wait_file "$BATS_TEST_TMPDIR/out" '^data: hello'
	before=$(sockets)
	ip netns exec "$NS" nft -f - <<-NFT
		table inet blackhole {
			chain in {
				type filter hook input priority 0;
				tcp sport $PORT drop
				tcp dport $PORT drop
			}
		}
	NFT
	# The keepalive after 1 s is never acknowledged; 10 s later the kernel
	# gives up on the connection (TCP_USER_TIMEOUT) and the server frees it.
	start=$SECONDS
	for _ in $(seq 150); do
		[ "$(sockets)" -lt "$before" ] && break
		sleep 0.2
	done
	echo "sockets before $before, now $(sockets), after $((SECONDS - start)) s"
	[ "$(sockets)" -lt "$before" ]
	[ $((SECONDS - start)) -ge 5 ] # not some other cause, at once
}
