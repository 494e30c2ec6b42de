"""Availability Zone balance: where a group launches, and the rebalancing that follows a change of its zones.

Sources: Auto Scaling Developer Guide, "Auto Scaling behavior" (docs.amazonwebservices.com/AutoScaling/latest/
DeveloperGuide/AutoScalingBehavior.html, the page the User Guide's "Rebalancing activities" grew from), and the
TerminateInstanceInAutoScalingGroup API reference ("By default, Amazon EC2 Auto Scaling balances instances across
all Availability Zones ... tries to rebalance the group, and rebalancing might terminate instances in other zones"):
- "Auto Scaling uses the Availability Zone with the least number of instances when launching new instances": each
  launch goes to the group's zone with the fewest instances in service (moto picks one zone at random per launch).
- "Certain operations and conditions can cause your Auto Scaling group to become unbalanced... You issue a request
  to change the Availability Zones for your group": after UpdateAutoScalingGroup changes the zones, instances in a
  zone the group no longer uses, and the surplus of an over-full zone, are replaced.
- "Auto Scaling always launches new instances before attempting to terminate old ones, so a rebalancing activity
  will not compromise the performance or availability of your application"; "the system can temporarily exceed the
  specified maximum capacity of a group by a 10% margin": the replacements launch first. The old instances then
  leave through the group's TERMINATING hooks: "How lifecycle hooks work" describes the terminate hook's wait state
  for the instances the group terminates, and the pages above name no rebalancing exception. (An inference from
  what the pages say and do not say; the emulator's other paths make the same one.)
- As a suspendable process (User Guide, "Suspend and resume Amazon EC2 Auto Scaling processes": AZRebalance), a
  group with AZRebalance suspended launches in the least-populated zone but does not rebalance.

Ledger: `az-rebalance` (group, zones, old, new). Not modelled: the rebalancing after a
TerminateInstanceInAutoScalingGroup that decrements the capacity, a zone recovering from insufficient capacity, the
10% ceiling itself (replacements always launch), and the termination policy's choice among a zone's instances (the
earliest launched leave first).
"""

from collections import Counter

from moto.autoscaling import models as asg_models

from . import refresh, state

_original_update = asg_models.FakeAutoScalingGroup.update
_inner_replace = None  # what replace_autoscaling_group_instances was before install (refresh's wrapper of moto's)

_SERVING = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")


def _zone(instance_state) -> str:
    return instance_state.instance.placement.zone


def _serving_per_zone(group) -> Counter:
    counts = Counter({zone: 0 for zone in group.availability_zones})
    for instance_state in group.instance_states:
        if instance_state.lifecycle_state in _SERVING and _zone(instance_state) in counts:
            counts[_zone(instance_state)] += 1
    return counts


def _subnet_in(group, zone: str) -> str | None:
    """The group's subnet in `zone` (moto launches every instance into the first subnet listed)."""
    if not group.vpc_zone_identifier:
        return None
    ec2 = group.autoscaling_backend.ec2_backend
    for subnet_id in group.vpc_zone_identifier.split(","):
        if ec2.get_subnet(subnet_id.strip()).availability_zone == zone:
            return subnet_id.strip()
    return None


def _launch_balanced(self, count_needed, propagated_tags):
    """Launches one instance at a time, each in the group's least-populated zone (ties: the zone listed first)."""
    zones, subnets = self.availability_zones, self.vpc_zone_identifier
    try:
        for _ in range(count_needed):
            counts = _serving_per_zone(self)
            zone = min(zones, key=lambda z: (counts[z], zones.index(z)))
            self.availability_zones = [zone]
            self.vpc_zone_identifier = _subnet_in(self, zone) if subnets else subnets
            _inner_replace(self, 1, dict(propagated_tags))
            self.availability_zones, self.vpc_zone_identifier = zones, subnets
    finally:
        self.availability_zones, self.vpc_zone_identifier = zones, subnets


def leaving(group) -> list:
    """The InService instances a rebalance replaces: every one outside the group's zones, then the surplus of each
    zone above its balanced share (shares differ by at most one), earliest launched first."""
    in_service = [s for s in group.instance_states if s.lifecycle_state == "InService"]
    outside = [s for s in in_service if _zone(s) not in group.availability_zones]
    inside = [s for s in in_service if _zone(s) in group.availability_zones]
    if not group.availability_zones:
        return []
    share, remainder = divmod(len(in_service), len(group.availability_zones))
    chosen = list(outside)
    per_zone = Counter(_zone(s) for s in inside)
    # The fullest zones keep the `remainder` extra instances (the balanced layout with the fewest replacements).
    fullest_first = sorted(group.availability_zones, key=lambda z: (-per_zone[z], group.availability_zones.index(z)))
    allowed = {zone: share + (1 if rank < remainder else 0) for rank, zone in enumerate(fullest_first)}
    for zone in group.availability_zones:
        surplus = per_zone[zone] - allowed[zone]
        if surplus > 0:
            chosen.extend([s for s in inside if _zone(s) == zone][:surplus])
    return chosen


def rebalance(group) -> list:
    """Replaces the instances that unbalance the group, launching first. Answers the new IDs."""
    chosen = leaving(group)
    if not chosen:
        return []
    new = refresh.replace(group.autoscaling_backend, group, chosen, launch_first=True)
    state.log_event("az-rebalance", group=group.name, zones=list(group.availability_zones),
                    old=[s.instance.id for s in chosen], new=new)
    return new


def _update(self, availability_zones, *args, **kwargs):
    zones_before = set(self.availability_zones)
    _original_update(self, availability_zones, *args, **kwargs)
    suspended = "AZRebalance" in (getattr(self, "_suspended_processes", None) or [])
    if set(self.availability_zones) != zones_before and not suspended:
        with state.LOCK:
            rebalance(self)


def install() -> None:
    global _inner_replace
    _inner_replace = asg_models.FakeAutoScalingGroup.replace_autoscaling_group_instances
    asg_models.FakeAutoScalingGroup.replace_autoscaling_group_instances = _launch_balanced
    asg_models.FakeAutoScalingGroup.update = _update
