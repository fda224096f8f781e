# fish completion for sse(1)

set -l sse_commands listen serve replay help
complete -c sse -f
complete -c sse -n "not __fish_seen_subcommand_from $sse_commands" -a listen -d 'receive a stream and print its events'
complete -c sse -n "not __fish_seen_subcommand_from $sse_commands" -a serve -d 'broadcast lines from stdin to SSE clients'
complete -c sse -n "not __fish_seen_subcommand_from $sse_commands" -a replay -d 'play a recorded stream back'
complete -c sse -n "not __fish_seen_subcommand_from $sse_commands" -a help -d 'show the help of a command'
complete -c sse -n "not __fish_seen_subcommand_from $sse_commands" -s h -l help -d 'show help and exit'
complete -c sse -n "not __fish_seen_subcommand_from $sse_commands" -s V -l version -d 'show version and exit'
complete -c sse -n "__fish_seen_subcommand_from help" -a 'listen serve replay'

# listen
complete -c sse -n "__fish_seen_subcommand_from listen" -s h -l help -d 'show help and exit'
complete -c sse -n "__fish_seen_subcommand_from listen" -s f -l format -x -a 'raw json data data0 pretty' -d 'output format'
complete -c sse -n "__fish_seen_subcommand_from listen" -s e -l event -x -d 'print only events of this type'
complete -c sse -n "__fish_seen_subcommand_from listen" -s n -l max-events -x -d 'exit 0 after N printed events'
complete -c sse -n "__fish_seen_subcommand_from listen" -l until -x -d 'exit 0 after an event of this type'
complete -c sse -n "__fish_seen_subcommand_from listen" -l timeout -x -d 'exit 5 after SECS in all'
complete -c sse -n "__fish_seen_subcommand_from listen" -s H -l header -x -d 'add a request header'
complete -c sse -n "__fish_seen_subcommand_from listen" -s X -l request -x -a 'GET POST PUT PATCH REPORT' -d 'request method'
complete -c sse -n "__fish_seen_subcommand_from listen" -s d -l data -r -d 'request body (@file, @- for stdin)'
complete -c sse -n "__fish_seen_subcommand_from listen" -l data-binary -r -d 'request body, file bytes kept'
complete -c sse -n "__fish_seen_subcommand_from listen" -l json -r -d 'JSON request body'
complete -c sse -n "__fish_seen_subcommand_from listen" -s u -l user -x -d 'basic authentication USER:PASS'
complete -c sse -n "__fish_seen_subcommand_from listen" -l oauth2-bearer -x -d 'bearer token'
complete -c sse -n "__fish_seen_subcommand_from listen" -s A -l user-agent -x -d 'User-Agent header'
complete -c sse -n "__fish_seen_subcommand_from listen" -s k -l insecure -d 'do not verify the TLS certificate'
complete -c sse -n "__fish_seen_subcommand_from listen" -l cacert -r -F -d 'CA certificates (PEM)'
complete -c sse -n "__fish_seen_subcommand_from listen" -l proxy -x -d 'proxy URL'
complete -c sse -n "__fish_seen_subcommand_from listen" -l connect-timeout -x -d 'give up connecting after SECS'
complete -c sse -n "__fish_seen_subcommand_from listen" -l max-redirs -x -d 'follow at most N redirects'
complete -c sse -n "__fish_seen_subcommand_from listen" -l no-reconnect -d 'exit when the stream ends'
complete -c sse -n "__fish_seen_subcommand_from listen" -l max-reconnects -x -d 'reconnect at most N times'
complete -c sse -n "__fish_seen_subcommand_from listen" -l retry-delay -x -d 'reconnection time before retry:'
complete -c sse -n "__fish_seen_subcommand_from listen" -l retry-max-delay -x -d 'cap of the backoff'
complete -c sse -n "__fish_seen_subcommand_from listen" -l retry-on-http-error -d 'reconnect after 5xx or 429'
complete -c sse -n "__fish_seen_subcommand_from listen" -l last-event-id -x -d 'send Last-Event-ID on the first request'
complete -c sse -n "__fish_seen_subcommand_from listen" -l idle-timeout -x -d 'exit 6 after SECS without a byte'
complete -c sse -n "__fish_seen_subcommand_from listen" -l max-event-size -x -d 'exit 7 on a larger event'
complete -c sse -n "__fish_seen_subcommand_from listen" -s v -l verbose -d 'report connections and headers on stderr'
complete -c sse -n "__fish_seen_subcommand_from listen" -s q -l quiet -d 'print errors only'

# serve
complete -c sse -n "__fish_seen_subcommand_from serve" -s h -l help -d 'show help and exit'

# replay
complete -c sse -n "__fish_seen_subcommand_from replay" -s h -l help -d 'show help and exit'
