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

# serve
complete -c sse -n "__fish_seen_subcommand_from serve" -s h -l help -d 'show help and exit'

# replay
complete -c sse -n "__fish_seen_subcommand_from replay" -s h -l help -d 'show help and exit'
