#!/usr/bin/env bats
# sse serve --redis: several nodes serve one stream through a real
# redis-server (a unix socket in the test's directory, no persistence
# unless the test needs it), with real `sse listen` clients; every process
# is started here and killed by PID.

load helper

setup() {
	command -v redis-server >/dev/null || skip "redis-server is not installed"
	T=$BATS_TEST_TMPDIR
	SOCK=$T/redis.sock
	RURL=unix://$SOCK
}

# redis_up [ARGS...]: start redis-server on $SOCK; RPID its PID.
redis_up() {
	rm -f "$SOCK"
	start_bg redis-server --port 0 --unixsocket "$SOCK" --save '' \
		--appendonly no --dir "$T" --logfile "$T/redis.log" "$@"
	RPID=$BG_PID
	local tries=100
	until [[ $(redis-cli -s "$SOCK" ping 2>/dev/null) =~ ^(PONG|NOAUTH) ]]; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || fail "redis-server did not start"
		sleep 0.05
	done
}

redis_down() {
	kill -TERM "$RPID"
	wait "$RPID" 2>/dev/null || true
}

rcli() { redis-cli -s "$SOCK" "$@"; }

# node N [ARGS...]: start `sse serve --redis` as node N (1 to 4: fds 5 to 8), stdin the
# fifo in$N that the test holds open on fd 4+N; sets PIDN and PORTN.
node() {
	local n=$1 in=$T/in$1 err=$T/err$1 url port
	shift
	[ -p "$in" ] || mkfifo "$in"
	eval "exec $((4 + n))<>\"\$in\""
	: >"$err"
	sse serve -p 0 --redis "$RURL" "$@" <"$in" 2>"$err" &
	BG_PIDS+=("$!")
	eval "PID$n=$!"
	wait_file "$err" 'sse: serving' || {
		cat "$err" >&2
		return 1
	}
	url=$(sed -n 's/^sse: serving \(.*\)$/\1/p' "$err")
	port=${url##*:}
	eval "PORT$n=${port%/}"
}

# feed N LINE...: lines into node N's input.
feed() {
	local n=$1
	shift
	printf '%s\n' "$@" >&$((4 + n))
}

# ev N [LISTEN ARGS...]: `sse listen` on node N, one line an event
# ("TYPE ID DATA"), bounded.
ev() {
	local n=$1 port
	shift
	port=$(eval echo "\$PORT$n")
	timeout 10 sse listen -f '{event} {id} {data}\n' "$@" \
		"http://127.0.0.1:$port/events"
}

# bg_ev OUT N [LISTEN ARGS...]: the same in the background, into OUT.
bg_ev() {
	local out=$1 n=$2 port
	shift 2
	port=$(eval echo "\$PORT$n")
	start_bg timeout 30 sse listen -f '{event} {id} {data}\n' "$@" \
		"http://127.0.0.1:$port/events" >"$out" 2>"$out.err"
}

# numbered FROM TO: "message EPOCH-N N" for N in FROM..TO.
numbered() {
	local e
	e=$(epoch)
	seq "$1" "$2" | sed "s/.*/message $e-& &/"
}

epoch() { rcli get sse:epoch | cut -d' ' -f1; }

@test "redis: one producer and two relays serve the same events with the same ids" {
	redis_up
	node 1
	node 2 --input none
	node 3 --input none
	feed 1 $(seq 1 200)
	run ev 1 -n 200
	assert_success
	want=$(numbered 1 200)
	assert_output "$want"
	run ev 2 -n 200
	assert_output "$want"
	run ev 3 -n 200
	assert_output "$want"
	run rcli xlen sse
	assert_output 200
	[[ $(epoch) =~ ^[0-9a-v]{8}$ ]]
}

@test "redis: Last-Event-ID from one node resumes exactly on another" {
	redis_up
	node 1
	node 2 --input none
	feed 1 $(seq 1 50)
	run ev 1 -n 20 --no-reconnect
	last=$(tail -1 <<<"$output" | cut -d' ' -f2)
	[ "$last" = "$(epoch)-20" ]
	feed 1 $(seq 51 60)
	run ev 2 -n 40 --last-event-id "$last"
	assert_output "$(numbered 21 60)"
	# and ?lastEventId= on a third node started later (prefilled)
	node 3 --input none
	run ev 3 -n 10 --last-event-id "$(epoch)-50"
	assert_output "$(numbered 51 60)"
}

@test "redis: a new node prefills its history from the stream, --history bounds it" {
	redis_up
	node 1 --history 300
	feed 1 $(seq 1 1000)
	run ev 1 -n 1 --last-event-id "$(epoch)-999"
	assert_output "$(numbered 1000 1000)"
	# MAXLEN ~ 300: Redis keeps at least 300, a little more
	n=$(rcli xlen sse)
	[ "$n" -ge 300 ] && [ "$n" -lt 1000 ]
	node 2 --input none --history 300 --backlog 5
	run ev 2 -n 5
	assert_output "$(numbered 996 1000)"
	run ev 2 -n 299 --last-event-id "$(epoch)-701"
	assert_output "$(numbered 702 1000)"
	# older than what the node holds: the loss signal first
	run ev 2 -n 1 --last-event-id "$(epoch)-600"
	assert_output "sse-lost $(epoch)-600 {\"lastEventId\":\"$(epoch)-600\"}"
}

@test "redis: unreachable at start: a clear error and exit status 3" {
	run -3 sse serve -p 0 --redis "unix://$T/nothing.sock" </dev/null
	assert_output --partial "sse: serve: cannot connect to redis 'unix://$T/nothing.sock': No such file or directory"
	port=$(free_port)
	run -3 sse serve -p 0 --redis "redis://127.0.0.1:$port" </dev/null
	assert_output --partial "cannot connect to redis 'redis://127.0.0.1:$port': Connection refused"
	redis_up --requirepass s3cret
	run -3 sse serve -p 0 --redis "unix://:wrong@$SOCK" </dev/null
	assert_output --partial "cannot connect to redis 'unix://***@$SOCK': WRONGPASS"
	refute_output --partial wrong@
	node 1 --input none --redis "unix://:s3cret@$SOCK"
}

@test "redis: bad options: exit status 2" {
	run -2 sse serve --redis http://x </dev/null
	assert_output --partial "sse: serve: --redis: invalid value 'http://x': not a redis:// or unix:// URL"
	run -2 sse serve --redis rediss://x </dev/null
	assert_output --partial "TLS"
	run -2 sse serve --input none </dev/null
	assert_output --partial "sse: serve: --input none needs --redis"
	run -2 sse serve --stream x </dev/null
	assert_output --partial "sse: serve: --stream needs --redis"
}

@test "redis: --stream names the key; streams do not mix" {
	redis_up
	node 1 --stream a
	node 2 --stream b
	feed 1 a1 a2
	feed 2 b1
	run ev 1 -n 2
	assert_output --regexp '^message [0-9a-v]{8}-1 a1
message [0-9a-v]{8}-2 a2$'
	run ev 2 -n 1
	assert_output --regexp '^message [0-9a-v]{8}-1 b1$'
	run rcli xlen a
	assert_output 2
	run rcli exists sse
	assert_output 0
}

@test "redis: event types, producer ids and retry pass through (--input json)" {
	redis_up
	node 1 --input json
	node 2 --input none
	feed 1 '{"event":"tick","data":"x"}' '{"data":"y","id":"p-7","retry":900}' \
		'{"data":"z"}'
	run ev 2 -n 3
	e=$(epoch)
	assert_output "tick $e-1 x
message p-7 y
message $e-3 z"
	port=$PORT2
	run curl -sN --max-time 1 "http://127.0.0.1:$port/events"
	assert_output --partial $'id: p-7\nretry: 900\ndata: y'
}

@test "redis: other programs may publish with XADD KEY 0-*" {
	redis_up
	node 1 --input none
	rcli xadd sse '0-*' data hello event greet >/dev/null
	run ev 1 -n 1
	assert_output "greet $(epoch)-1 hello"
}

@test "redis: Redis away: clients stay, the producer waits, nothing is lost or repeated" {
	redis_up --appendonly yes --appendfsync always
	node 1
	node 2 --input none
	bg_ev "$T/c1" 1 -n 100
	bg_ev "$T/c2" 2 -n 100
	c2=$BG_PID
	feed 1 $(seq 1 40)
	wait_file "$T/c2" ' 40$'
	e=$(epoch)
	redis_down
	wait_file "$T/err1" "cannot read from redis"
	wait_file "$T/err2" "cannot read from redis"
	feed 1 $(seq 41 100)
	wait_file "$T/err1" "cannot publish to redis" ||
		fail "the producer did not notice"
	sleep 1
	# nothing new while Redis is away, and the clients are still there
	run wc -l <"$T/c2"
	assert_output 40
	kill -0 "$c2"
	redis_up --appendonly yes --appendfsync always
	wait_file "$T/err1" "publishing to redis .* again after"
	wait "$c2"
	wait_file "$T/c1" ' 100$'
	[ "$(epoch)" = "$e" ]
	want=$(numbered 1 100)
	assert_equal "$(cat "$T/c1")" "$want"
	assert_equal "$(cat "$T/c2")" "$want"
	run rcli xlen sse
	assert_output 100
	grep -q "reading from redis .* again after" "$T/err2"
}

@test "redis: Redis restarted empty: a new epoch, and clients get the loss signal" {
	redis_up
	node 1
	node 2 --input none
	bg_ev "$T/c2" 2 --until never
	feed 1 a b c
	wait_file "$T/c2" ' c$'
	old=$(epoch)
	redis_down
	redis_up
	wait_file "$T/err2" "lost events this node had read"
	feed 1 d
	wait_file "$T/c2" ' d$'
	new=$(epoch)
	[ "$new" != "$old" ]
	run cat "$T/c2"
	assert_output "message $old-1 a
message $old-2 b
message $old-3 c
sse-lost $old-3 {\"lastEventId\":\"$old-3\"}
message $new-1 d"
	# a node started now knows nothing of the old epoch
	node 3 --input none
	run ev 3 -n 2 --last-event-id "$old-3"
	assert_output "sse-lost $old-3 {\"lastEventId\":\"$old-3\"}
message $new-1 d"
}

@test "redis: a node killed and restarted rejoins; its clients resume exactly" {
	redis_up
	node 1
	node 2 --input none
	node 3 --input none
	feed 1 $(seq 1 30)
	run ev 2 -n 30 --no-reconnect
	last=$(tail -1 <<<"$output" | cut -d' ' -f2)
	kill -KILL "$PID2"
	wait "$PID2" 2>/dev/null || true
	feed 1 $(seq 31 60)
	node 2 --input none
	run ev 2 -n 30 --last-event-id "$last"
	assert_output "$(numbered 31 60)"
	# the producer killed: a relay goes on serving, a new producer goes on
	kill -KILL "$PID1"
	wait "$PID1" 2>/dev/null || true
	node 1
	feed 1 61 62
	run ev 3 -n 32 --last-event-id "$last"
	assert_output "$(numbered 31 62)"
}

@test "redis: two producers, one order on every node" {
	redis_up
	node 1
	node 2
	node 3 --input none
	for i in $(seq 1 20); do
		feed 1 "a$i"
		feed 2 "b$i"
	done
	run ev 3 -n 40
	three=$output
	run ev 1 -n 40
	assert_equal "$output" "$three"
	run ev 2 -n 40
	assert_equal "$output" "$three"
	# every line once, each producer's in its own order
	assert_equal "$(grep -o ' a[0-9]*$' <<<"$three" | tr -d ' ')" "$(seq -f 'a%g' 1 20)"
	assert_equal "$(grep -o ' b[0-9]*$' <<<"$three" | tr -d ' ')" "$(seq -f 'b%g' 1 20)"
	# ids 1..40 in the stream's order
	assert_equal "$(cut -d' ' -f2 <<<"$three" | sed 's/.*-//')" "$(seq 1 40)"
	# one producer killed, the other goes on, the relay serves both
	kill -KILL "$PID1"
	wait "$PID1" 2>/dev/null || true
	feed 2 b21
	run ev 3 -n 1 --last-event-id "$(epoch)-40"
	assert_output "message $(epoch)-41 b21"
}

@test "redis: a node that falls behind what the stream keeps tells its clients" {
	redis_up
	node 1 --history 100
	node 2 --input none --history 100
	bg_ev "$T/c2" 2 --until never
	feed 1 start
	wait_file "$T/c2" ' start$'
	kill -STOP "$PID2"
	# in batches: its XREAD, blocked, gets only the first
	for i in 0 200 400 600 800; do
		feed 1 $(seq $((i + 1)) $((i + 200)))
		sleep 0.2
	done
	run ev 1 -n 1 --last-event-id "$(epoch)-1000"
	assert_output "message $(epoch)-1001 1000"
	kill -CONT "$PID2"
	wait_file "$T/c2" ' 1000$'
	wait_file "$T/err2" "went past events before this node read them"
	# what it had, the signal naming the last id it had, then on from
	# what the stream keeps, further on (the first signal: a client
	# that falls out of the node's history later gets its own)
	e=$(epoch)
	before=$(grep -m1 -B1 '^sse-lost' "$T/c2" | head -1 | cut -d' ' -f2)
	after=$(grep -m1 -A1 '^sse-lost' "$T/c2" | tail -1 | cut -d' ' -f2)
	run grep -m1 '^sse-lost' "$T/c2"
	assert_output "sse-lost $before {\"lastEventId\":\"$before\"}"
	[ "${after#"$e"-}" -gt $((${before#"$e"-} + 1)) ]
	tail -1 "$T/c2" | grep -q "^message $e-1001 1000$"
}

@test "redis: --exit-on-eof exits 0 once its input is in Redis and its clients have it" {
	redis_up
	node 2 --input none
	bg_ev "$T/c2" 2 -n 101
	run -0 timeout 20 sse serve -p 0 --redis "$RURL" --exit-on-eof \
		--end-event done < <(seq 1 100)
	run rcli xlen sse
	assert_output 101
	wait_file "$T/c2" "^done $(epoch)-101 \$"
}

@test "redis: SIGTERM while Redis is away: the producer stops waiting and exits 0" {
	redis_up
	node 1
	redis_down
	feed 1 lost-in-the-wait
	wait_file "$T/err1" "cannot publish to redis"
	kill -TERM "$PID1"
	for _ in $(seq 100); do
		kill -0 "$PID1" 2>/dev/null || break
		sleep 0.05
	done
	! kill -0 "$PID1" 2>/dev/null || fail "still running 5 s after SIGTERM"
	status=0
	wait "$PID1" || status=$?
	[ "$status" = 0 ]
}

@test "redis: --id none on one node: no ids there, the same events; ids on the others" {
	redis_up
	node 1
	node 2 --input none --id none
	feed 1 x y
	run ev 2 -n 2
	assert_output "message  x
message  y"
	run ev 1 -n 2
	assert_output "$(printf 'message %s-1 x\nmessage %s-2 y' "$(epoch)" "$(epoch)")"
}

@test "redis: a listening client rides out its node's restart and resumes exactly" {
	redis_up
	node 1
	node 2 --input none
	port=$PORT2
	bg_ev "$T/c" 2 --retry-delay 0.2 -n 40
	c=$BG_PID
	feed 1 $(seq 1 20)
	wait_file "$T/c" ' 20$'
	kill -KILL "$PID2"
	wait "$PID2" 2>/dev/null || true
	feed 1 $(seq 21 40)
	node 2 --input none -p "$port"
	wait "$c"
	assert_equal "$(cat "$T/c")" "$(numbered 1 40)"
}
