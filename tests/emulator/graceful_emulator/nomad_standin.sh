# A stand-in `nomad` CLI for drain scripts run by the emulated SSM agent; tests set its behaviour via the control API.
# (The emulator installs this as bin/nomad with a `#!` line naming bash.)
#
# Sources its behaviour from the shell file named by GRACEFUL_NOMAD_BEHAVIOUR (written by the emulator), keeps node
# state beside it, and appends every call (argv, exit code, time) as a JSON line to GRACEFUL_NOMAD_CALLS.
# Unsupported commands fail loudly so a script written against a command this stand-in lacks is noticed.
# Plain bash builtins only (no subprocess but the drain's `sleep`): a wave of hundreds of drains starts it thousands
# of times on one machine, where each real instance would have its own CPU.

export LC_ALL=C TZ=UTC
drain_seconds=0 remaining_allocations=0 fail=0 fail_message='drain failed'
behaviour=${GRACEFUL_NOMAD_BEHAVIOUR:-/nonexistent/nomad-behaviour.sh}
[ -r "$behaviour" ] && . "$behaviour"
state_path="${behaviour%/*}/nomad-node.sh"
instance=${AWS_SSM_INSTANCE_ID:-i-unknown}
node_id="node-$instance" node_eligibility=eligible node_drain=False
[ -r "$state_path" ] && . "$state_path"

save() { printf 'node_eligibility=%s node_drain=%s\n' "$node_eligibility" "$node_drain" >"$state_path"; }

json_string() {  # $1 as a JSON string, into $json
  local s=$1
  s=${s//\\/\\\\} s=${s//\"/\\\"} s=${s//$'\n'/\\n} s=${s//$'\r'/\\r} s=${s//$'\t'/\\t}
  json="\"$s\""
}

record() {  # appends {"argv": [...], "exit_code": N, "time": T} to the calls file
  [ -n "${GRACEFUL_NOMAD_CALLS:-}" ] || return 0
  local line='{"argv": [' sep='' arg
  for arg in "${argv[@]}"; do
    json_string "$arg"
    line+="$sep$json" sep=', '
  done
  printf '%s], "exit_code": %s, "time": %s}\n' "$line" "$1" "$EPOCHREALTIME" >>"$GRACEFUL_NOMAD_CALLS"
}

allocations_json() {  # the running service allocations of this node, as a JSON list, into $json
  local i list='' sep=''
  for ((i = 0; i < remaining_allocations; i++)); do
    printf -v alloc '{"ID": "alloc-%04d", "NodeID": "%s", "ClientStatus": "running", "JobType": "service", "JobID": "job-%d"}' \
      "$i" "$node_id" "$i"
    list+="$sep$alloc" sep=', '
  done
  json="[$list]"
}

node_json() {
  json="{\"ID\": \"$node_id\", \"Name\": \"$instance\", \"Status\": \"ready\", \"SchedulingEligibility\": \"$node_eligibility\", \"Drain\": ${node_drain,,}"
}

now() { printf -v stamp '%(%Y-%m-%dT%H:%M:%SZ)T' -1; }

run() {
  # Flags that take a value: the value is not a positional word (`operator api -filter EXPR PATH`).
  local filter='' words=() flags=() rest=("$@") i
  for ((i = 0; i < ${#rest[@]}; i++)); do
    if [ "${rest[i]}" = -filter ] && ((i + 1 < ${#rest[@]})) && [ -z "$filter" ]; then
      filter=${rest[i + 1]} i=$((i + 1))
    elif [ "${rest[i]:0:1}" = - ]; then
      flags+=("${rest[i]}")
    else
      words+=("${rest[i]}")
    fi
  done
  local command="${words[0]:-} ${words[1]:-}" all=" ${flags[*]} "

  case "${1:-version}" in version | -version | --version)
    echo "Nomad v1.9.0 (graceful emulator stand-in)"
    return 0 ;;
  esac
  if [ "$command" = "node eligibility" ]; then
    [[ $all == *" -disable "* ]] && node_eligibility=ineligible || node_eligibility=eligible
    save
    echo "Node \"$node_id\" scheduling eligibility set: $node_eligibility"
    return 0
  fi
  if [ "$command" = "node drain" ]; then
    if [[ $all == *" -disable "* ]]; then
      node_drain=False
      save
      echo "Node \"$node_id\" drain strategy unset"
      return 0
    fi
    if [[ $all == *" -monitor "* ]]; then
      # Follows the drain another call started until it ends (the node state says so), or fails as it would.
      while [ "$node_drain" = True ] && [ "$fail" != 1 ]; do
        sleep 0.1
        . "$state_path"
      done
      if [ "$fail" = 1 ]; then
        echo "Error: $fail_message" >&2
        return 1
      fi
      now
      echo "$stamp: Drain complete for node $node_id"
      return 0
    fi
    node_drain=True node_eligibility=ineligible
    save
    now
    echo "$stamp: Ctrl-C to stop monitoring: will not cancel the node drain"
    sleep "$drain_seconds"
    if [ "$fail" = 1 ]; then
      echo "Error: $fail_message" >&2
      return 1
    fi
    node_drain=False
    save
    now
    echo "$stamp: Drain complete for node $node_id"
    return 0
  fi
  if [ "$command" = "node status" ]; then
    local args=("$@")
    for ((i = 0; i < ${#args[@]}; i++)); do
      [ "${args[i]}" = -t ] || continue
      if ((i + 1 < ${#args[@]})); then
        # Go template output, as real Nomad: only `{{ .Field }}` of the node's top-level fields.
        local template=${args[i + 1]} out='' value pattern='\{\{[[:space:]]*\.([A-Za-z0-9_]+)[[:space:]]*\}\}'
        while [[ $template =~ $pattern ]]; do
          case ${BASH_REMATCH[1]} in
            ID) value=$node_id ;; Name) value=$instance ;; Status) value=ready ;;
            SchedulingEligibility) value=$node_eligibility ;; Drain) value=${node_drain,,} ;; *) value='<no value>' ;;
          esac
          out+="${template%%"${BASH_REMATCH[0]}"*}$value"
          template=${template#*"${BASH_REMATCH[0]}"}
        done
        echo "$out$template"
        return 0
      fi
      break
    done
    if [[ $all == *" -json "* ]]; then
      node_json
      local node=$json
      if [[ $all == *" -allocs "* ]]; then
        allocations_json
        echo "$node, \"Allocations\": $json}"
      else
        echo "$node}"
      fi
    else
      printf 'ID              = %s\nName            = %s\nStatus          = ready\nDrain           = %s\nEligibility     = %s\n' \
        "$node_id" "$instance" "${node_drain,,}" "$node_eligibility"
      if [[ $all == *" -allocs "* ]]; then
        printf '\nAllocations\nID  Node ID  Task Group  Version  Desired  Status   Created  Modified\n'
        for ((i = 0; i < remaining_allocations; i++)); do
          printf 'alloc-%04d  %s  web  0  run  running  1m ago  1m ago\n' "$i" "$node_id"
        done
      fi
    fi
    return 0
  fi
  if [ "$command" = "operator api" ] && [[ ${words[2]:-} == */allocations ]]; then
    allocations_json
    # Every stand-in allocation is a running service job on this node; a filter naming another node matches none.
    local named='NodeID[[:space:]]*==[[:space:]]*"([^"]*)"'
    if [[ $filter =~ $named ]] && [ "${BASH_REMATCH[1]}" != "$node_id" ]; then
      json='[]'
    fi
    echo "$json"
    return 0
  fi
  echo "nomad stand-in: unsupported command: nomad $*" >&2
  return 127
}

argv=("$@")
run "$@"
code=$?
record "$code"
exit "$code"
