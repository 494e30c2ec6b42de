"""Instance retention: a termination lifecycle action that ends ABANDON keeps the instance when the group says so.

With the group's InstanceLifecyclePolicy.RetentionTriggers.TerminateHookAbandon = retain (group_policies.py), an
instance whose TERMINATING actions end ABANDON (CompleteLifecycleAction, or a hook's DefaultResult ABANDON applied at
its heartbeat or global timeout, or another hook's ABANDON) is not terminated:
- Terminating:Wait -> Terminating:Proceed -> Terminating:Retained (still listed in the group's Instances, EC2
  instance running, not counted in the desired capacity: the group launches a replacement when it is short);
- out of a warm pool: Warmed:Terminating:Wait -> Warmed:Terminating:Proceed -> Warmed:Terminating:Retained;
- returning to a warm pool: Warmed:Pending:Wait -> Warmed:Pending:Retained (both stay listed by DescribeWarmPool).
A retained instance stays until TerminateInstanceInAutoScalingGroup, which terminates it at once (no hooks run
again; ShouldDecrementDesiredCapacity changes nothing, the instance is not counted) and closes its scaling activity.
Without the policy (or with terminate) ABANDON terminates as before. CONTINUE never retains.

Ledger: `lifecycle-transition` with the *:Retained states, `instance-retained`, then `instance-terminated`.
Not modelled: the retained-instance CloudWatch metrics.
"""

from moto.autoscaling import models as asg_models

from . import autoscaling_hooks as hooks
from . import group_policies, state, warm_pools

# https://docs.aws.amazon.com/autoscaling/ec2/userguide/manage-retained-instances.html: "Terminating" ->
# "Terminating:Wait" -> "Terminating:Proceed" (lifecycle actions wrap up, whether they succeeded or not) ->
# "Terminating:Retained"; "Retained instances do not count toward your ... desired capacity. When an instance enters
# a retained state, Auto Scaling launches a replacement instance to maintain the desired capacity."
# The warm pool states are botocore's LifecycleState enum (Warmed:Terminating:Retained, Warmed:Pending:Retained).
RETAINED = {"terminate": ("Terminating:Proceed", "Terminating:Retained"),
            "warm-terminate": ("Warmed:Terminating:Proceed", "Warmed:Terminating:Retained"),
            "warm-return": (None, "Warmed:Pending:Retained")}

_previous_terminate_instance = None


def _retain(backend, group, path: str, instance_id: str) -> bool:
    pool = group.instance_states if path == "terminate" else warm_pools.warm(group)
    instance_state = next((s for s in pool if s.instance.id == instance_id), None)
    if instance_state is None:
        return False
    proceed, retained = RETAINED[path]
    if proceed:
        state.log_event("lifecycle-transition", group=group.name, instance_id=instance_id, state=proceed,
                        result="ABANDON")
    instance_state.lifecycle_state = retained
    state.log_event("lifecycle-transition", group=group.name, instance_id=instance_id, state=retained)
    state.log_event("instance-retained", group=group.name, instance_id=instance_id, state=retained)
    if path == "terminate":
        group.set_desired_capacity(group.desired_capacity)  # launches a replacement if the group is short
    return True


def _wrap(path: str, finisher):
    # https://docs.aws.amazon.com/autoscaling/ec2/userguide/configure-instance-retention.html: TerminateHookAbandon
    # retains on CompleteLifecycleAction ABANDON, on a heartbeat timeout with default result ABANDON, and on the
    # global timeout with default result ABANDON; "Instance lifecycle policies will only apply when termination
    # lifecycle actions are abandoned, not when they complete successfully with the CONTINUE result."
    def finish(backend, group_name: str, instance_id: str, result: str) -> None:
        group = backend.autoscaling_groups.get(group_name)
        if result == "ABANDON" and group is not None and group_policies.retains_on_abandon(group):
            if _retain(backend, group, path, instance_id):
                return
        finisher(backend, group_name, instance_id, result)
    return finish


def _retained(backend, instance_id: str):
    for group in backend.autoscaling_groups.values():
        for pool in (group.instance_states, warm_pools.warm(group)):
            for instance_state in pool:
                if instance_state.instance.id == instance_id and instance_state.lifecycle_state.endswith(":Retained"):
                    return group, pool, instance_state
    return None


def _terminate_instance(self, instance_id, should_decrement):
    # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RetentionTriggers.html: "Retained instances don't
    # count toward desired capacity and remain until you call TerminateInstanceInAutoScalingGroup."
    with state.LOCK:
        found = _retained(self, instance_id)
        if found is None:
            return _previous_terminate_instance(self, instance_id, should_decrement)
        group, pool, instance_state = found
        pool.remove(instance_state)
        final = "Warmed:Terminated" if instance_state.lifecycle_state.startswith("Warmed:") else "Terminated"
        instance_state.lifecycle_state = final
        hooks.close_activity(self, instance_id)
        self.ec2_backend.terminate_instances([instance_id])
        state.log_event("lifecycle-transition", group=group.name, instance_id=instance_id, state=final)
        state.log_event("instance-terminated", group=group.name, instance_id=instance_id)
        return asg_models.TerminateInstanceActivity(instance_state.instance, group.desired_capacity)


def install() -> None:
    """After autoscaling_hooks and warm_pools: wraps their finishers and TerminateInstanceInAutoScalingGroup."""
    global _previous_terminate_instance
    for path in RETAINED:
        hooks.FINISHERS[path] = _wrap(path, hooks.FINISHERS[path])
    _previous_terminate_instance = asg_models.AutoScalingBackend.terminate_instance
    asg_models.AutoScalingBackend.terminate_instance = _terminate_instance
