"""A stand-in `nomad` CLI for drain scripts run by the emulated SSM agent; tests set its behaviour via the control API.

Reads its behaviour from the JSON file named by GRACEFUL_NOMAD_BEHAVIOUR, keeps node state beside it, and appends
every call (argv, exit code) to GRACEFUL_NOMAD_CALLS. Unsupported commands fail loudly so a script written against
a command this stand-in lacks is noticed.
"""

import json
import re
import os
import sys
import time


def _load(path, default):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return default


def _record(argv, code):
    calls = os.environ.get("GRACEFUL_NOMAD_CALLS")
    if calls:
        with open(calls, "a") as handle:
            handle.write(json.dumps({"argv": argv, "exit_code": code, "time": time.time()}) + "\n")


def _allocations(behaviour, node_state):
    count = int(behaviour.get("remaining_allocations", 0))
    return [{"ID": f"alloc-{i:04d}", "NodeID": node_state["ID"], "ClientStatus": "running", "JobType": "service",
             "JobID": f"job-{i}"} for i in range(count)]


def run(argv):
    behaviour = _load(os.environ.get("GRACEFUL_NOMAD_BEHAVIOUR", ""), {})
    state_path = os.path.join(os.path.dirname(os.environ.get("GRACEFUL_NOMAD_BEHAVIOUR", "/nonexistent")),
                              "nomad-node.json")
    instance = os.environ.get("AWS_SSM_INSTANCE_ID", "i-unknown")
    node = _load(state_path, {"ID": f"node-{instance}", "Name": instance, "Status": "ready",
                              "SchedulingEligibility": "eligible", "Drain": False})
    # Flags that take a value: the value is not a positional word (`operator api -filter EXPR PATH`).
    filter_expression = None
    rest = list(argv)
    if "-filter" in rest and rest.index("-filter") + 1 < len(rest):
        at = rest.index("-filter")
        filter_expression = rest[at + 1]
        del rest[at:at + 2]
    words = [a for a in rest if not a.startswith("-")]
    flags = [a for a in rest if a.startswith("-")]

    def save():
        with open(state_path, "w") as handle:
            json.dump(node, handle)

    if not argv or argv[0] in ("version", "-version", "--version"):
        print("Nomad v1.9.0 (graceful emulator stand-in)")
        return 0
    if words[:2] == ["node", "eligibility"]:
        node["SchedulingEligibility"] = "ineligible" if "-disable" in flags else "eligible"
        save()
        print(f'Node "{node["ID"]}" scheduling eligibility set: {node["SchedulingEligibility"]}')
        return 0
    if words[:2] == ["node", "drain"]:
        if "-disable" in flags:
            node["Drain"] = False
            save()
            print(f'Node "{node["ID"]}" drain strategy unset')
            return 0
        node["Drain"] = True
        node["SchedulingEligibility"] = "ineligible"
        save()
        print(f'{time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}: Ctrl-C to stop monitoring: will not cancel the '
              "node drain")
        sys.stdout.flush()
        time.sleep(float(behaviour.get("drain_seconds", 0)))
        if behaviour.get("fail"):
            print(f"Error: {behaviour.get('fail_message', 'drain failed')}", file=sys.stderr)
            return 1
        node["Drain"] = False
        save()
        print(f'{time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}: Drain complete for node {node["ID"]}')
        return 0
    if words[:2] == ["node", "status"]:
        allocations = _allocations(behaviour, node)
        if "-t" in argv and argv.index("-t") + 1 < len(argv):
            # Go template output, as real Nomad: only `{{ .Field }}` of the node's top-level fields.
            template = argv[argv.index("-t") + 1]
            print(re.sub(r"\{\{\s*\.(\w+)\s*\}\}", lambda m: str(node.get(m.group(1), "<no value>")), template))
            return 0
        if "-json" in flags:
            print(json.dumps({**node, "Allocations": allocations} if "-allocs" in flags else node))
        else:
            print(f"ID              = {node['ID']}\nName            = {node['Name']}\nStatus          = "
                  f"{node['Status']}\nDrain           = {str(node['Drain']).lower()}\nEligibility     = "
                  f"{node['SchedulingEligibility']}")
            if "-allocs" in flags:
                print("\nAllocations")
                print("ID  Node ID  Task Group  Version  Desired  Status   Created  Modified")
                for alloc in allocations:
                    print(f"{alloc['ID']}  {node['ID']}  web  0  run  running  1m ago  1m ago")
        return 0
    if words[:2] == ["operator", "api"] and len(words) >= 3 and words[2].endswith("/allocations"):
        allocations = _allocations(behaviour, node)
        # Every stand-in allocation is a running service job on this node; a filter naming another node matches none.
        named = re.search(r'NodeID\s*==\s*"([^"]*)"', filter_expression or "")
        if named and named.group(1) != node["ID"]:
            allocations = []
        print(json.dumps(allocations))
        return 0
    print(f"nomad stand-in: unsupported command: nomad {' '.join(argv)}", file=sys.stderr)
    return 127


def main():
    code = run(sys.argv[1:])
    _record(sys.argv[1:], code)
    sys.exit(code)


if __name__ == "__main__":
    main()
