# A stand-in `nomad` CLI for drain scripts run by the emulated SSM agent: one Nomad client node per instance, with the
# allocations, ACL token, TLS and failures a test sets through the control API (see nomad_world.py).
# (The emulator installs this as bin/nomad with a `#!` line naming bash.)
#
# Every rule cites the hashicorp/nomad source it follows. Node state is evaluated lazily from the few facts commands
# change (when the drain started, its deadline, a cancel): plain bash builtins only, no subprocess but `sleep` in a
# blocking monitor, because a wave of hundreds of drains starts this thousands of times on one machine.
# Every call (argv, exit code, time) is appended as a JSON line to GRACEFUL_NOMAD_CALLS.
# Unsupported commands fail loudly so a script written against a command this stand-in lacks is noticed.

export LC_ALL=C TZ=UTC
INF=999999999999999999
# --- the world the test set (nomad_world.py writes these) ---
agent=up acl_token='' token_agent_read=1 token_node_write=1 token_read_job='*'
tls_verify_client=0 tls_dns_names='client.global.nomad localhost' tls_ip_names=127.0.0.1
# times in microseconds: allocations' runs/stop, cancel_after and the leader loss (after the drain started)
drain_set_error=''  # set: UpdateDrain answers 500 with it
cancel_after='' leader_loss_after='' leader_loss_seconds=0 leader_loss_message='No cluster leader' already_drained=0
alloc_name=() alloc_ns=() alloc_type=() alloc_runs=() alloc_stop=()
behaviour=${GRACEFUL_NOMAD_BEHAVIOUR:-/nonexistent/nomad-behaviour.sh}
[ -r "$behaviour" ] && . "$behaviour"
state_path="${behaviour%/*}/nomad-node.sh"
instance=${AWS_SSM_INSTANCE_ID:-i-unknown}
# client/client.go nodeID: the node ID is a UUID (helper.HashUUID of the host ID, or helper/uuid Generate), formatted
# %08x-%04x-%04x-%04x-%12x, and kept in the client-id file; here derived from the instance so every call agrees.
node_hex="${instance#i-}00000000000000000000000000000000"
node_id="${node_hex:0:8}-${node_hex:8:4}-${node_hex:12:4}-${node_hex:16:4}-${node_hex:20:12}"
now_us() { now=${EPOCHREALTIME/./}; }
now_us

# --- node state: what commands changed; all else is derived at `now` (see evaluate) ---
load_state() {
  local try
  for ((try = 0; try < 50; try++)); do
    t0='' state_complete=0 base_end=()
    [ -r "$state_path" ] && . "$state_path"
    [ -z "$t0" ] || [ "$state_complete" = 1 ] && return 0
    sleep 0.01  # another call is rewriting it
  done
}
load_state
if [ -z "$t0" ]; then  # first sight of this node
  t0=$now elig=eligible d_start='' force_at=$INF ignore_sys=0 cancel_at=$INF keep_inel=0 prev_last='' base_end=()
  for i in "${!alloc_name[@]}"; do
    runs=${alloc_runs[i]}
    ((runs < 0)) && base_end[i]=$INF || base_end[i]=$((t0 + runs))
  done
  if [ "$already_drained" = 1 ]; then  # drained earlier (nomad-autoscaler): ineligible, LastDrain complete
    elig=ineligible prev_last=complete
  fi
fi
save() {
  local line
  printf -v line 't0=%s elig=%s d_start=%s force_at=%s ignore_sys=%s cancel_at=%s keep_inel=%s prev_last=%s base_end=(%s)' \
    "$t0" "$elig" "$d_start" "$force_at" "$ignore_sys" "$cancel_at" "$keep_inel" "$prev_last" "${base_end[*]}"
  printf '%s state_complete=1\n' "$line" >"$state_path"
}

# evaluate: each allocation's end time (a_end, told-to-stop time a_told) and the drain's outcome at `now`.
# nomad/drainer/watch_jobs.go handleTaskGroup: service allocs are migrated at once (max_parallel not modelled); batch
# and sysbatch are not migrated and run until they end or the deadline; system allocs are left to the end.
# nomad/drainer/draining_node.go IsDone: the drain is done when every non-system alloc is client-terminal; then
# drainer.go handleMigratedAllocs stops the system allocs (unless IgnoreSystemJobs) and marks the drain complete.
# drainer.go handleDeadlinedNodes: at the deadline the remaining allocs are told to stop and the drain is marked
# complete at once, while they are still stopping (each needs its stop time: kill_timeout / shutdown_delay).
# nomad/state/state_store.go: a drain unset by `-disable` leaves LastDrain.Status "canceled".
evaluate() {
  local i end told nonsys_done cancel=$cancel_at
  a_end=() a_told=()
  # The operator's cancel the test scheduled (`nomad node drain -disable`, so the node becomes eligible again).
  [ -n "$cancel_after" ] && [ -n "$d_start" ] && ((d_start + cancel_after < cancel)) && cancel=$((d_start + cancel_after))
  drain_status=$prev_last drain_on=0 done_at=$INF
  if [ -z "$d_start" ]; then
    for i in "${!alloc_name[@]}"; do a_end[i]=${base_end[i]} a_told[i]=$INF; done
    return
  fi
  nonsys_done=$d_start
  for i in "${!alloc_name[@]}"; do
    end=${base_end[i]} told=$INF
    case ${alloc_type[i]} in
      service) told=$d_start ;;
      batch | sysbatch) ((end > force_at && force_at < cancel)) && told=$force_at ;;
    esac
    ((told < end && told + alloc_stop[i] < end)) && end=$((told + alloc_stop[i]))
    a_end[i]=$end a_told[i]=$told
    [ "${alloc_type[i]}" != system ] && ((end > nonsys_done)) && nonsys_done=$end
  done
  done_at=$((nonsys_done < force_at ? nonsys_done : force_at))
  if ((cancel <= done_at)); then
    done_at=$INF
    if ((now >= cancel)); then drain_status=canceled; else drain_status=draining drain_on=1; fi
    return
  fi
  for i in "${!alloc_name[@]}"; do  # system allocs go last, unless -ignore-system
    if [ "${alloc_type[i]}" = system ] && [ "$ignore_sys" = 0 ]; then
      a_told[i]=$done_at
      ((done_at + alloc_stop[i] < a_end[i])) && a_end[i]=$((done_at + alloc_stop[i]))
    fi
  done
  if ((now >= done_at)); then drain_status=complete; else drain_status=draining drain_on=1; fi
}

# The eligibility the node has at `now`: ineligible while draining; a cancel makes it eligible unless
# -keep-ineligible (command/node_drain.go `MarkEligible: !keepIneligible`); a completed drain leaves it ineligible.
node_eligibility() {
  eligibility=$elig
  [ "$drain_on" = 1 ] && eligibility=ineligible
  [ "$drain_status" = canceled ] && [ "$keep_inel" = 0 ] && eligibility=eligible
}

err() { printf '%s\n' "$*" >&2; }

# --- reaching the agent: address, TLS, ACL (api/api.go DefaultConfig: NOMAD_ADDR default http://127.0.0.1:4646) ---
# Into $init_error the error building the client gives (api/api.go NewClient -> ConfigureTLS, before any request; each
# command prints "Error initializing client: ..."), else into $transport_error the error the HTTP client gives before
# any answer (empty when the agent answers).
connect() {
  local address=${opt_address:-${NOMAD_ADDR:-http://127.0.0.1:4646}} ca=${opt_ca_cert:-${NOMAD_CACERT:-}}
  local cert=${opt_client_cert:-${NOMAD_CLIENT_CERT:-}} key=${opt_client_key:-${NOMAD_CLIENT_KEY:-}}
  local server_name=${opt_tls_server_name:-${NOMAD_TLS_SERVER_NAME:-}} host
  transport_error='' init_error=''
  url_base=$address
  # api/api.go ConfigureTLS: a client certificate needs both files ("Both client cert and client key must be
  # provided"); Go's crypto/tls LoadX509KeyPair reads the certificate, then the key (os.ReadFile: "open <path>: ...").
  # Then go-rootcerts reads the CA file ("Error loading CA File: ..."). (Readable is enough here: contents are not
  # parsed.)
  if [ -n "$cert$key" ]; then
    if [ -z "$cert" ] || [ -z "$key" ]; then init_error='Both client cert and client key must be provided'; return; fi
    open_error "$cert" || { init_error=$file_error; return; }
    open_error "$key" || { init_error=$file_error; return; }
  fi
  if [ -n "$ca" ]; then open_error "$ca" || { init_error="Error loading CA File: $file_error"; return; }; fi
  case $agent in
    down) transport_error="dial tcp ${address#*://}: connect: connection refused" ;;
    tls)
      if [[ $address == http://* ]]; then
        transport_error='net/http: HTTP/1.x transport connection broken: malformed HTTP response "\x15\x03\x01\x00\x02\x02"'
        return
      fi
      # The agent's certificate, as the client verifies it: Go's crypto/tls handshake_client.go
      # verifyServerCertificate checks it against ServerName (api/api.go ConfigureTLS: TLSServerName when set; else
      # net/http transport.go addTLS takes the address's host) and the CA ("tls: failed to verify certificate: ...");
      # crypto/x509 verify.go Certificate.Verify checks the name (VerifyHostname) before building the chain.
      host=${address#*://} host=${host%%/*}
      if [[ $host == \[* ]]; then host=${host%%]*}]; elif [[ $host == *:* ]]; then host=${host%:*}; fi
      cert_names_match "${server_name:-$host}" || {
        transport_error="tls: failed to verify certificate: $hostname_error"; return; }
      [ -n "$ca" ] || { transport_error='tls: failed to verify certificate: x509: certificate signed by unknown authority'; return; }
      # command/agent/http.go: `verify_https_client` makes helper/tlsutil IncomingTLSConfig require a client
      # certificate (tls.RequireAndVerifyClientCert). Go's crypto/tls handshake_server.go processCertsFromClient
      # answers a client that sent none with the alert certificate_required (TLS 1.3, which Go negotiates: Nomad's
      # tls_min_version only sets the minimum); the client reads it as "remote error: tls: certificate required"
      # (crypto/tls alert.go, conn.go), and net/http transport.go roundTrip returns that read error unwrapped.
      if [ "$tls_verify_client" = 1 ] && [ -z "$cert" ]; then transport_error='remote error: tls: certificate required'; fi ;;
    *) [[ $address == https://* ]] && transport_error='http: server gave HTTP response to HTTPS client' ;;
  esac
}
# os.ReadFile's error for an unreadable $1 (Go's *PathError: "open <path>: <errno text>"), into $file_error.
open_error() {
  file_error=''
  if [ ! -e "$1" ]; then file_error="open $1: no such file or directory"
  elif [ -d "$1" ]; then file_error="read $1: is a directory"
  elif [ ! -r "$1" ]; then file_error="open $1: permission denied"
  else return 0; fi
  return 1
}
# crypto/x509 verify.go VerifyHostname: an IP (brackets stripped) must equal one of the IP SANs; a name, lowercased
# and without a trailing dot, one of the DNS SANs, where `*.` matches exactly one leftmost label (matchHostnames).
# HostnameError.Error gives the message, into $hostname_error.
cert_names_match() {
  local wanted=$1 candidate name sans
  candidate=${wanted#[} candidate=${candidate%]}
  if [[ $candidate =~ ^[0-9]+(\.[0-9]+){3}$ || $candidate == *:* ]]; then
    for name in $tls_ip_names; do [ "$name" = "$candidate" ] && return 0; done
    if [ -z "$tls_ip_names" ]; then
      hostname_error="x509: cannot validate certificate for $wanted because it doesn't contain any IP SANs"
      return 1
    fi
    sans=$tls_ip_names
  else
    candidate=${candidate,,} candidate=${candidate%.}
    for name in $tls_dns_names; do
      name=${name,,}
      [ "$name" = "$candidate" ] && return 0
      [[ $name == \*.* && ${candidate#*.} == "${name#\*.}" && ${candidate%%.*} != "$candidate" && -n ${candidate%%.*} ]] && return 0
    done
    sans=$tls_dns_names
  fi
  if [ -z "$sans" ]; then
    hostname_error="x509: certificate is not valid for any names, but wanted to match $wanted"
  else
    hostname_error="x509: certificate is valid for ${sans// /, }, not $wanted"
  fi
  return 1
}

# The HTTP status and body the agent gives, into $status/$body, for a request needing `capability`.
# command/agent/http.go wrap: an error is a text body with its code; nomad/structs/errors.go "Permission denied".
# A leader loss makes every server RPC answer 500.
answer() {  # $1 capability: agent:read | node:read | node:write | read-job:<namespace>
  local token=${opt_token:-${NOMAD_TOKEN:-}}
  status=200 body=''
  if [ -n "$leader_loss_after" ] && [ -n "$d_start" ]; then
    local from=$((d_start + leader_loss_after)) to
    to=$((from + leader_loss_seconds))
    ((now >= from && now < to)) && { status=500 body=$leader_loss_message; return; }
  fi
  [ -n "$acl_token" ] || return 0
  if [ "$token" != "$acl_token" ]; then
    status=403 body='Permission denied'
    return
  fi
  case $1 in
    agent:read) [ "$token_agent_read" = 1 ] || status=403 ;;
    node:read | node:write) [ "$token_node_write" = 1 ] || status=403 ;;
  esac
  [ "$status" = 403 ] && body='Permission denied'
}
can_read_ns() { [ -z "$acl_token" ] || [ "$token_read_job" = '*' ] || [[ " $token_read_job " == *" $1 "* ]]; }
# api/api.go: a non-2xx answer is "Unexpected response code: N (body)".
api_error() { api_message="Unexpected response code: $status ($body)"; }

# command/helpers.go getLocalNodeID: -self asks /v1/agent/self (agent:read) first.
local_node() {
  connect
  [ -z "$init_error" ] || { err "Error initializing client: $init_error"; return 1; }
  [ -z "$transport_error" ] || { err "Error querying agent info: failed querying self endpoint: Get \"$url_base/v1/agent/self\": $transport_error"; return 1; }
  answer agent:read
  [ "$status" = 200 ] || { api_error; err "Error querying agent info: failed querying self endpoint: $api_message"; return 1; }
}

# --- Go flag parsing (flag package: flags stop at the first non-flag; -x, --x, -x=v, -x v; bools take no value) ---
# command/meta.go FlagSet(FlagSetClient): the client flags every command below accepts.
CLIENT_FLAGS=' address region namespace ca-cert ca-path client-cert client-key tls-server-name token '
CLIENT_BOOLS=' no-color tls-skip-verify '
parse_flags() {  # $1 value flags, $2 bool flags, then args; sets opt_<name> and positional=()
  local values="$CLIENT_FLAGS$1" bools="$CLIENT_BOOLS$2" name value
  shift 2
  positional=()
  while (($#)); do
    case $1 in
      --) shift; break ;;
      -) break ;;
      -*) ;;
      *) break ;;
    esac
    name=${1#-} name=${name#-} value='' ; local has_value=0
    [[ $name == *=* ]] && { value=${name#*=} name=${name%%=*} has_value=1; }
    if [[ $bools == *" $name "* ]]; then
      [ "$has_value" = 1 ] || value=true
      printf -v "opt_${name//-/_}" '%s' "$value"
    elif [[ $values == *" $name "* ]]; then
      if [ "$has_value" = 0 ]; then
        (($# >= 2)) || { err "flag needs an argument: -$name"; usage_error=1; return 1; }
        shift; value=$1
      fi
      printf -v "opt_${name//-/_}" '%s' "$value"
    else
      err "flag provided but not defined: -$name"
      usage_error=1
      return 1
    fi
    shift
  done
  positional=("$@")
}
help_text() { echo "Usage: nomad $1 [options] $2"; echo; echo "  (stand-in: see \`nomad $1 -h\` of a real Nomad)"; }
command_error_text() { err "For additional help try 'nomad $1 -help'"; }

# Go time.ParseDuration, into $duration_us; returns 1 on a malformed value.
parse_go_duration() {
  local text=$1 total=0 number unit int frac scale
  [[ $text =~ ^([0-9]*(\.[0-9]*)?(ns|us|ms|s|m|h))+$ ]] || [ "$text" = 0 ] || return 1
  while [[ $text =~ ^([0-9]*)(\.([0-9]*))?(ns|us|ms|s|m|h) ]]; do
    int=${BASH_REMATCH[1]:-0} frac=${BASH_REMATCH[3]} unit=${BASH_REMATCH[4]}
    [ -z "${BASH_REMATCH[1]}${frac}" ] && return 1
    case $unit in ns) scale=0 ;; us) scale=1 ;; ms) scale=1000 ;; s) scale=1000000 ;; m) scale=60000000 ;; h) scale=3600000000 ;; esac
    frac="${frac}000000000" frac=${frac:0:9}
    total=$((total + 10#$int * scale + 10#$frac * scale / 1000000000))
    text=${text:${#BASH_REMATCH[0]}}
  done
  duration_us=$total
}

# --- Go text/template on *api.Node (command/data_format.go TemplateFormat: template.New("")) ---
# Fields of api.Node this stand-in knows; nomad/structs/extensions.go nodeExt adds Drain = DrainStrategy != nil.
node_field() {  # $1 path (.A.B); into $value/$truthy; returns 1 for an unknown field, 2 for a nil pointer
  truthy=1
  case $1 in
    .ID) value=$node_id ;;
    .Name) value=$instance ;;
    .Status) value=ready ;;
    .Datacenter) value=dc1 ;;
    .SchedulingEligibility) node_eligibility; value=$eligibility ;;
    .Drain) value=false truthy=0; [ "$drain_on" = 1 ] && value=true truthy=1 ;;
    .DrainStrategy) [ "$drain_on" = 1 ] && value="{{ $(((force_at - now) / 1000000))s $ignore_sys }}" || { value='<nil>' truthy=0; } ;;
    .DrainStrategy.*) [ "$drain_on" = 1 ] || { nil_type=api.DrainStrategy; return 2; }
      case ${1#.DrainStrategy.} in
        IgnoreSystemJobs) value=$([ "$ignore_sys" = 1 ] && echo true || echo false) ;;
        *) unknown_type=api.DrainStrategy unknown_field=${1#.DrainStrategy.}; return 1 ;;
      esac ;;
    .LastDrain) [ -n "$drain_status" ] && value="&{$drain_status}" || { value='<nil>' truthy=0; } ;;
    .LastDrain.*) [ -n "$drain_status" ] || { nil_type=api.DrainMetadata; return 2; }
      case ${1#.LastDrain.} in
        Status) value=$drain_status ;;
        *) unknown_type=api.DrainMetadata unknown_field=${1#.LastDrain.}; return 1 ;;
      esac ;;
    *) unknown_type=api.Node unknown_field=${1#.}; unknown_field=${unknown_field%%.*}; return 1 ;;
  esac
  [ -z "$value" ] && truthy=0
  return 0
}
render_template() {  # $1 template; into $rendered; 1 with $template_error on failure
  local rest=$1 out='' action text emit=1 stack=() taken=() code offset=0
  rendered=''
  while [[ $rest == *'{{'* ]]; do
    text=${rest%%'{{'*}
    ((emit)) && out+=$text
    offset=$((offset + ${#text}))
    rest=${rest#*'{{'}
    [[ $rest == *'}}'* ]] || { template_error="template: :1: unclosed action"; return 1; }
    action=${rest%%'}}'*} rest=${rest#*'}}'}
    action=${action#"${action%%[![:space:]]*}"} action=${action%"${action##*[![:space:]]}"}
    case $action in
      if\ * | else\ if\ *)
        # Go evaluates a condition only when its branch is reached.
        local path=${action##* } cond=0 reached=$emit
        if [[ $action == else\ if\ * ]]; then
          local top=$((${#stack[@]} - 1))
          reached=$((stack[top] && !taken[top]))
        fi
        code=0 truthy=0
        ((reached)) && { node_field "$path"; code=$?; }
        ((code == 1)) && { template_error="template: :1:$((offset + 5)): executing \"\" at <$path>: can't evaluate field $unknown_field in type *$unknown_type"; return 1; }
        ((code == 0)) && cond=$truthy
        if [[ $action == if\ * ]]; then
          stack+=("$emit") taken+=("$cond")
          ((emit && cond)) && emit=1 || emit=0
        else
          local top=$((${#stack[@]} - 1))
          if ((taken[top])); then emit=0; else
            ((stack[top] && cond)) && emit=1 || emit=0
            taken[top]=$cond
          fi
        fi ;;
      else)
        local top=$((${#stack[@]} - 1))
        ((stack[top] && !taken[top])) && emit=1 || emit=0
        taken[top]=1 ;;
      end)
        local top=$((${#stack[@]} - 1))
        emit=${stack[top]}
        unset "stack[top]" "taken[top]" ;;
      .*)
        ((emit)) || continue
        node_field "$action"; code=$?
        ((code == 1)) && { template_error="template: :1:$((offset + 3)): executing \"\" at <$action>: can't evaluate field $unknown_field in type *$unknown_type"; return 1; }
        ((code == 2)) && { template_error="template: :1:$((offset + 3)): executing \"\" at <$action>: nil pointer evaluating *$nil_type.${action##*.}"; return 1; }
        ((emit)) && out+=$value ;;
      *) template_error="template: :1: function \"${action%% *}\" not defined"; return 1 ;;
    esac
  done
  rendered=$out$rest
}

# --- the allocations Alloc.List answers ---
# nomad/alloc_endpoint.go Alloc.List: the request's namespace (default "default"; "*" = every namespace the token can
# read-job in); nomad/state/paginator next(): the filter is evaluated on the whole structs.Allocation, so an unknown
# field fails with go-bexpr's "error finding value in datum" (HTTP 400); `and`/`or` short-circuit.
alloc_json() {  # $1 index; into $json (the AllocListStub fields a script reads)
  local i=$1 client=running desired=run
  ((a_end[i] <= now)) && client=complete
  ((a_told[i] <= now)) && desired=stop
  printf -v json '{"ID":"%08d-aaaa-4000-8000-%012d","EvalID":"","Name":"%s","Namespace":"%s","NodeID":"%s","NodeName":"%s","JobID":"%s","JobType":"%s","TaskGroup":"%s","DesiredStatus":"%s","ClientStatus":"%s"}' \
    "$i" "$i" "${alloc_name[i]}" "${alloc_ns[i]}" "$node_id" "$instance" "${alloc_name[i]%%.*}" "${alloc_type[i]}" \
    "${alloc_name[i]#*.}" "$desired" "$client"
}
alloc_value() {  # $1 index, $2 selector; into $value; returns 1 when the Allocation has no such field
  local i=$1
  case $2 in
    ID) alloc_json "$i"; value=${json#*\"ID\":\"} value=${value%%\"*} ;;
    Name) value=${alloc_name[i]} ;; Namespace) value=${alloc_ns[i]} ;; NodeID) value=$node_id ;;
    NodeName) value=$instance ;; JobID) value=${alloc_name[i]%%.*} ;; TaskGroup) value=${alloc_name[i]#*.} ;;
    Job.Type) value=${alloc_type[i]} ;; Job.ID) value=${alloc_name[i]%%.*} ;; Job.Namespace) value=${alloc_ns[i]} ;;
    ClientStatus) value=running; if ((a_end[i] <= now)); then value=complete; fi ;;
    DesiredStatus) value=run; if ((a_told[i] <= now)); then value=stop; fi ;;
    *) return 1 ;;
  esac
}
# A small go-bexpr: `Sel == "v"`, `Sel != "v"`, `and`, `or`, parentheses. Sets $bexpr_error on an unknown field.
bexpr_tokens() {
  local text=$1
  tokens=()
  while [ -n "$text" ]; do
    text=${text#"${text%%[![:space:]]*}"}
    [ -z "$text" ] && break
    if [[ $text =~ ^(\(|\)|==|!=) ]]; then tokens+=("${BASH_REMATCH[1]}")
    elif [[ $text =~ ^\"([^\"]*)\" ]]; then tokens+=("=${BASH_REMATCH[1]}")
    elif [[ $text =~ ^([A-Za-z_][A-Za-z0-9_.]*) ]]; then tokens+=("${BASH_REMATCH[1]}")
    else bexpr_error="failed to read filter expression: syntax error near \"${text:0:10}\""; return 1; fi
    text=${text:${#BASH_REMATCH[0]}}
  done
}
bexpr_or() {  # evaluates tokens from $pos for alloc $1; result in $truth
  local left
  bexpr_and "$1" || return 1
  left=$truth
  while [ "${tokens[pos]:-}" = or ]; do
    pos=$((pos + 1))
    if ((left)); then local saved=$truth; skip=1 bexpr_and "$1" || return 1; truth=1; else bexpr_and "$1" || return 1; left=$truth; fi
  done
  truth=$left
}
bexpr_and() {
  local left
  bexpr_term "$1" || return 1
  left=$truth
  while [ "${tokens[pos]:-}" = and ]; do
    pos=$((pos + 1))
    if ((!left)); then skip=1 bexpr_term "$1" || return 1; truth=0; else bexpr_term "$1" || return 1; left=$truth; fi
  done
  truth=$left
}
bexpr_term() {
  if [ "${tokens[pos]:-}" = '(' ]; then
    pos=$((pos + 1))
    bexpr_or "$1" || return 1
    [ "${tokens[pos]:-}" = ')' ] || { bexpr_error='failed to read filter expression: missing )'; return 1; }
    pos=$((pos + 1))
    return 0
  fi
  local selector=${tokens[pos]:-} operator=${tokens[pos + 1]:-} literal=${tokens[pos + 2]:-}
  [[ $literal == =* ]] && [[ $operator == '==' || $operator == '!=' ]] || { bexpr_error="failed to read filter expression: unexpected \"$selector\""; return 1; }
  pos=$((pos + 3))
  ((${skip:-0})) && { truth=0; return 0; }  # short-circuited: go-bexpr does not evaluate it
  if ! alloc_value "$1" "$selector"; then
    bexpr_error="failed to read result page: error finding value in datum: /${selector//.//} at part 0: couldn't find key: struct field with name \"${selector%%.*}\""
    return 1
  fi
  [ "$value" = "${literal#=}" ] && truth=1 || truth=0
  [ "$operator" = '!=' ] && truth=$((1 - truth))
  return 0
}
list_allocations() {  # $1 namespace, $2 filter; sets status/body
  local namespace=${1:-default} filter=$2 i list='' sep='' truth
  if [ "$namespace" != '*' ] && ! can_read_ns "$namespace"; then status=403 body='Permission denied'; return; fi
  [ -n "$filter" ] && { bexpr_tokens "$filter" || { status=400 body=$bexpr_error; return; }; }
  for i in "${!alloc_name[@]}"; do
    if [ "$namespace" = '*' ]; then can_read_ns "${alloc_ns[i]}" || continue
    else [ "${alloc_ns[i]}" = "$namespace" ] || continue; fi
    if [ -n "$filter" ]; then
      pos=0 skip=0
      bexpr_or "$i" || { status=400 body=$bexpr_error; return; }
      ((truth)) || continue
    fi
    alloc_json "$i"
    list+="$sep$json" sep=,
  done
  status=200 body="[$list]"
}

# --- the blocking drain monitor: api/nodes.go MonitorDrain ---
# monitorDrainNode ends when DrainStrategy is nil ("Drain complete for node ..."); monitorDrainAllocs ends when no
# alloc of a readable namespace (Node.GetAllocs) is pending/running, system ones skipped only with -ignore-system;
# monitorDrainMultiplex stops at the first error. The command exits 0 in every case (command/node_drain.go Run).
monitor_drain() {  # $1 ignore-system
  local node_done=0 allocs_done=0 i running stamp
  while ((!node_done || !allocs_done)); do
    now_us; load_state; evaluate
    answer node:read
    printf -v stamp '%(%Y-%m-%dT%H:%M:%SZ)T' -1
    if [ "$status" != 200 ]; then
      api_error
      ((node_done)) && err "$stamp: Error monitoring allocations: $api_message" || err "$stamp: Error monitoring node: $api_message"
      return 0
    fi
    if ((!node_done)) && [ "$drain_on" = 0 ]; then
      node_done=1
      echo "$stamp: Drain complete for node $node_id"
    fi
    if ((!allocs_done)); then
      running=0
      for i in "${!alloc_name[@]}"; do
        can_read_ns "${alloc_ns[i]}" || continue
        [ "$1" = 1 ] && [ "${alloc_type[i]}" = system ] && continue
        ((a_end[i] > now)) && running=$((running + 1))
      done
      ((running == 0)) && { allocs_done=1; echo "$stamp: All allocations on node \"$node_id\" have stopped"; }
    fi
    ((node_done && allocs_done)) || sleep 0.2
  done
}

# --- commands ---
cmd_node_eligibility() {  # command/node_eligibility.go Run
  opt_enable='' opt_disable='' opt_self=''
  parse_flags '' ' enable disable self ' "$@" || { help_text "node eligibility" "[-enable|-disable] <node>"; return 1; }
  if [ "$opt_enable" = "$opt_disable" ]; then
    err "Either the '-enable' or '-disable' flag must be set"; command_error_text "node eligibility"; return 1
  fi
  if { [ -n "$opt_self" ] && ((${#positional[@]} != 0)); } || { [ -z "$opt_self" ] && ((${#positional[@]} != 1)); }; then
    err "Node ID must be specified if -self isn't being used"; command_error_text "node eligibility"; return 1
  fi
  [ -n "$opt_self" ] || { err "nomad stand-in: only -self is modelled"; return 127; }
  local_node || return 1
  answer node:write
  [ "$status" = 200 ] || { api_error; err "Error updating scheduling eligibility: $api_message"; return 1; }
  evaluate
  if [ "$drain_on" = 1 ] && [ -n "$opt_enable" ]; then  # nomad/node_endpoint.go UpdateEligibility
    err "Error updating scheduling eligibility: Unexpected response code: 500 (can not set node's scheduling eligibility to eligible: node is draining)"
    return 1
  fi
  [ -n "$opt_enable" ] && elig=eligible || elig=ineligible
  save
  [ -n "$opt_enable" ] && echo "Node \"$node_id\" scheduling eligibility set: eligible for scheduling" ||
    echo "Node \"$node_id\" scheduling eligibility set: ineligible for scheduling"
}

cmd_node_drain() {  # command/node_drain.go Run
  opt_enable='' opt_disable='' opt_detach='' opt_force='' opt_no_deadline='' opt_ignore_system='' opt_keep_ineligible=''
  opt_self='' opt_yes='' opt_monitor='' opt_deadline='' opt_m='' opt_meta=''
  parse_flags ' deadline m meta ' ' enable disable detach force no-deadline ignore-system keep-ineligible self yes monitor ' "$@" ||
    { help_text "node drain" "[options] <node>"; return 1; }
  if [ -n "$opt_monitor" ] && [ -n "$opt_enable$opt_disable" ]; then
    err "The -monitor flag cannot be used with the '-enable' or '-disable' flags"; command_error_text "node drain"; return 1
  fi
  if { [ -n "$opt_enable" ] && [ -n "$opt_disable" ]; } || [ -z "$opt_monitor$opt_enable$opt_disable" ]; then
    err "Either the '-enable' or '-disable' flag must be set, unless using '-monitor'"; command_error_text "node drain"; return 1
  fi
  if { [ -n "$opt_self" ] && ((${#positional[@]} != 0)); } || { [ -z "$opt_self" ] && ((${#positional[@]} != 1)); }; then
    err "Node ID must be specified if -self isn't being used"; command_error_text "node drain"; return 1
  fi
  if [ -n "$opt_disable" ] && [ -n "$opt_deadline$opt_force$opt_no_deadline$opt_ignore_system" ]; then
    err "-disable can't be combined with flags configuring drain strategy"; command_error_text "node drain"; return 1
  fi
  if [ -n "$opt_deadline" ] && [ -n "$opt_force$opt_no_deadline" ]; then
    err "-deadline can't be combined with -force or -no-deadline"; command_error_text "node drain"; return 1
  fi
  [ -n "$opt_force" ] && [ -n "$opt_no_deadline" ] && { err "-force and -no-deadline are mutually exclusive"; command_error_text "node drain"; return 1; }
  local deadline_us=3600000000  # defaultDrainDuration = 1h
  if [ -n "$opt_force" ]; then deadline_us=-1000000
  elif [ -n "$opt_no_deadline" ]; then deadline_us=0
  elif [ -n "$opt_deadline" ]; then
    parse_go_duration "$opt_deadline" || { err "Failed to parse deadline \"$opt_deadline\": time: invalid duration \"$opt_deadline\""; return 1; }
    ((duration_us > 0)) || { err "A positive drain duration must be given"; return 1; }
    deadline_us=$duration_us
  fi
  [ -n "$opt_self" ] || { err "nomad stand-in: only -self is modelled"; return 127; }
  local_node || return 1
  answer node:read
  [ "$status" = 200 ] || { api_error; err "Error toggling drain mode: $api_message"; return 1; }
  evaluate
  if [ -n "$opt_monitor" ]; then
    [ "$drain_on" = 1 ] || { err "No drain strategy set"; return 0; }
    local stamp; printf -v stamp '%(%Y-%m-%dT%H:%M:%SZ)T' -1
    echo "$stamp: Monitoring node \"$node_id\": Ctrl-C to detach monitoring"
    monitor_drain "${opt_ignore_system:+1}"
    return 0
  fi
  answer node:write
  [ "$status" = 200 ] || { api_error; err "Error updating drain specification: $api_message"; return 1; }
  if [ -n "$opt_disable" ]; then
    # nomad/node_endpoint.go UpdateDrain with no strategy: LastDrain canceled when one was running.
    if [ "$drain_on" = 1 ]; then
      freeze_ends
      cancel_at=$now keep_inel=${opt_keep_ineligible:+1} keep_inel=${keep_inel:-0}
    fi
    [ -z "$opt_keep_ineligible" ] && elig=eligible
    save
    echo "Node \"$node_id\" drain strategy unset"
    return 0
  fi
  if [ -n "$drain_set_error" ]; then
    err "Error updating drain specification: Unexpected response code: 500 ($drain_set_error)"
    return 1
  fi
  # Enable: a new strategy; a running drain keeps its start, its deadline is recomputed (DrainStrategy.ForceDeadline).
  if [ "$drain_on" = 0 ]; then
    freeze_ends
    d_start=$now cancel_at=$INF
  fi
  if ((deadline_us > 0)); then force_at=$((now + deadline_us)); elif ((deadline_us < 0)); then force_at=$now; else force_at=$INF; fi
  ignore_sys=${opt_ignore_system:+1} ignore_sys=${ignore_sys:-0} elig=ineligible prev_last=''
  save
  local stamp; printf -v stamp '%(%Y-%m-%dT%H:%M:%SZ)T' -1
  if [ -n "$opt_detach" ]; then
    echo "Node \"$node_id\" drain strategy set"
    return 0
  fi
  echo "$stamp: Ctrl-C to stop monitoring: will not cancel the node drain"
  echo "$stamp: Node \"$node_id\" drain strategy set"
  monitor_drain "$ignore_sys"
  return 0
}
# Before a drain cycle starts or is cancelled: what has ended stays ended, what was told to stop keeps stopping.
freeze_ends() {
  local i
  for i in "${!alloc_name[@]}"; do ((a_told[i] <= now)) && base_end[i]=${a_end[i]}; done
  prev_last=$drain_status
  [ -n "$d_start" ] && [ "$drain_on" = 0 ] && d_start=''
}

cmd_node_status() {  # command/node_status.go Run (with -self, -t / -json)
  opt_self='' opt_t='' opt_json='' opt_verbose='' opt_allocs='' opt_short=''
  parse_flags ' t ' ' self json verbose allocs short stats quiet os ' "$@" || { help_text "node status" "[options] <node>"; return 1; }
  ((${#positional[@]} <= 1)) || { err "This command takes either one or no arguments"; command_error_text "node status"; return 1; }
  [ -n "$opt_self" ] || { err "nomad stand-in: only -self is modelled"; return 127; }
  local_node || return 1
  answer node:read
  [ "$status" = 200 ] || { api_error; err "Error querying node info: $api_message"; return 1; }
  evaluate
  if [ -n "$opt_t" ]; then
    [ -n "$opt_json" ] && { err "Both json and template formatting are not allowed"; return 1; }
    render_template "$opt_t" || { err "Error formatting the data: $template_error"; return 1; }
    printf '%s\n' "$rendered"
    return 0
  fi
  node_eligibility
  local drain=false; [ "$drain_on" = 1 ] && drain=true
  if [ -n "$opt_json" ]; then
    printf '{"ID":"%s","Name":"%s","Status":"ready","SchedulingEligibility":"%s","Drain":%s}\n' "$node_id" "$instance" "$eligibility" "$drain"
    return 0
  fi
  printf 'ID              = %s\nName            = %s\nStatus          = ready\nDrain           = %s\nEligibility     = %s\n' \
    "${node_id:0:8}" "$instance" "$drain" "$eligibility"
}

# --- the agent's metrics: GET /v1/metrics (command/agent/http.go; metrics_endpoint.go MetricsRequest: GET only, no ACL
# check) answers the in-memory sink's summary of the most recent *finished* interval (go-metrics inmem_endpoint.go
# DisplayMetrics: data[n-2]), intervals of 10 s (command/agent/config.go inMemoryCollectionInterval) starting on
# multiples of it (inmem.go getInterval: time.Now().Truncate). client/client.go emitClientMetrics sets the gauges
# nomad.client.allocations.{migrating,blocked,pending,running,terminal} every collection interval (1 s: config.go
# collectionInterval) from every alloc runner of the client, whatever its namespace; the host is a label, not part of
# the name (command/agent/command.go setupTelemetry: EnableHostnameLabel). A gauge shows its last value in the
# interval: here the allocations as they were 1 s before the finished interval ended. (The stand-in has no pending
# allocations and gives one label set; Nomad adds one per eligibility the node had in the interval.)
metrics_json() {  # into $body
  local saved=$now interval=10000000 i running=0 terminal=0 name gauges='' sep=''
  now=$(((saved / interval) * interval - 1000000))
  evaluate
  for i in "${!alloc_name[@]}"; do
    if ((a_end[i] > now)); then running=$((running + 1)); else terminal=$((terminal + 1)); fi
  done
  local stamp
  printf -v stamp '%(%Y-%m-%d %H:%M:%S +0000 UTC)T' $(((saved / interval) * interval / 1000000 - 10))
  now=$saved
  evaluate
  for name in migrating blocked pending running terminal; do
    local value=0
    [ "$name" = running ] && value=$running
    [ "$name" = terminal ] && value=$terminal
    gauges+="$sep{\"Name\":\"nomad.client.allocations.$name\",\"Value\":$value,\"Labels\":{\"datacenter\":\"dc1\",\"host\":\"$instance\",\"node_class\":\"none\",\"node_id\":\"$node_id\",\"node_pool\":\"default\",\"node_scheduling_eligibility\":\"$eligibility\",\"node_status\":\"ready\"}}"
    sep=,
  done
  body="{\"Timestamp\":\"$stamp\",\"Gauges\":[$gauges],\"Points\":[],\"Counters\":[],\"Samples\":[]}"
  status=200
}

cmd_operator_api() {  # command/operator_api.go Run
  opt_X='' opt_filter='' opt_H='' opt_dryrun='' opt_verbose='' opt_namespace=''
  parse_flags ' X filter H ' ' dryrun verbose ' "$@" || { err "Error parsing flags: flag provided but not defined"; return 1; }
  ((${#positional[@]} >= 1)) || { err "A path or URL is required"; command_error_text "operator api"; return 1; }
  ((${#positional[@]} == 1)) || { err "operator api accepts exactly 1 argument, but ${#positional[@]} arguments were found"; command_error_text "operator api"; return 1; }
  # Stdin that is not a character device is read and sent as the body of a POST, unless -X names the method.
  local method=$opt_X
  if [ ! -c /dev/stdin ]; then
    local _body; IFS= read -r -d '' _body || true
    method=${method:-POST}
  fi
  method=${method:-GET}
  connect
  [ -z "$init_error" ] || { err "Error initializing client: $init_error"; return 1; }
  local path=${positional[0]} query='' namespace=${opt_namespace:-${NOMAD_NAMESPACE:-}}
  [[ $path == *\?* ]] && { query=${path#*\?} path=${path%%\?*}; }
  path=${path#"$url_base"}
  [ -z "$transport_error" ] || { err "Error performing request: Get \"$url_base$path\": $transport_error"; return 1; }
  local item
  IFS='&' read -r -a items <<<"$query"
  for item in "${items[@]}"; do [[ $item == namespace=* ]] && namespace=${item#namespace=}; done
  namespace=${namespace//%2A/*}
  case $path in
    /v1/allocations)
      # command/agent/alloc_endpoint.go AllocsRequest: GET only.
      if [ "$method" != GET ]; then status=405 body='Invalid method'
      else
        answer "read-job:$namespace"
        [ "$status" = 200 ] && { evaluate; list_allocations "$namespace" "$opt_filter"; }
      fi ;;
    /v1/metrics)
      if [ "$method" != GET ]; then status=405 body='Invalid method'
      else evaluate; node_eligibility; metrics_json; fi ;;
    *) err "nomad stand-in: unsupported API path: $path"; return 127 ;;
  esac
  # The body is copied to stdout whatever the status; the exit code stays 0.
  printf '%s' "$body"
  return 0
}

run() {
  case "${1:-} ${2:-}" in
    "node eligibility") shift 2; cmd_node_eligibility "$@" ;;
    "node drain") shift 2; cmd_node_drain "$@" ;;
    "node status") shift 2; cmd_node_status "$@" ;;
    "operator api") shift 2; cmd_operator_api "$@" ;;
    *)
      case "${1:-}" in version | -version | --version) echo "Nomad v1.9.0 (graceful emulator stand-in)"; return 0 ;; esac
      echo "nomad stand-in: unsupported command: nomad $*" >&2
      return 127 ;;
  esac
}

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

argv=("$@")
run "$@"
code=$?
record "$code"
exit "$code"
