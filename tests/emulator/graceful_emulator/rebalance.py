"""Capacity Rebalancing: replacing a Spot Instance that received an EC2 instance rebalance recommendation.

CreateAutoScalingGroup's CapacityRebalance (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_CreateAutoScalingGroup.html):
"When you turn on Capacity Rebalancing, Amazon EC2 Auto Scaling attempts to launch a Spot Instance whenever Amazon EC2
notifies that a Spot Instance is at an elevated risk of interruption. After launching a new instance, it then
terminates an old instance." The old instance terminates through the group's TERMINATING hooks, which is why the user
guide (ec2-auto-scaling-capacity-rebalancing.html) advises a lifecycle hook to shut the application down gracefully.

POST /_graceful/rebalance_recommendation {"group", "instance_ids": [...]} stands in for EC2's recommendation: the
group must have CapacityRebalance on and the instances must be InService. Ledger: `rebalance-recommendation` (group,
instance_id), then the usual launch and lifecycle events.

Not modelled: Spot versus On-Demand (every instance counts as Spot), the replacement's capacity checks, and the
two-minute interruption notice itself (EC2 reclaims the instance whether or not the hook finished).
"""

from . import asg_lookup, refresh, state


def recommend(account: str, region: str, group_name: str, instance_ids: list) -> list:
    """Launches a replacement for each instance, then terminates it through the hooks. Answers the new IDs."""
    with state.LOCK:
        backend, group = asg_lookup.control_group(account, region, group_name)
        if not getattr(group, "capacity_rebalance", False):
            raise ValueError(f"group {group_name!r} does not have CapacityRebalance on")
        chosen = asg_lookup.in_service(group, instance_ids)
        for instance_state in chosen:
            state.log_event("rebalance-recommendation", group=group_name, instance_id=instance_state.instance.id)
        # "After launching a new instance, it then terminates an old instance": launch first.
        return refresh.replace(backend, group, chosen, launch_first=True)
