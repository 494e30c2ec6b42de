"""Warm pools: instances returning to the pool on scale-in and leaving it, through the TERMINATING hooks.

moto stores PutWarmPool's settings (FakeWarmPool) but keeps no instances in a pool. Here each group has a list of
warm InstanceStates (`group.graceful_warm`), listed by DescribeWarmPool and counted as WarmPoolSize; they are not in
the group's Instances and not in its desired capacity.

- Scale-in with InstanceReusePolicy.ReuseOnScaleIn: InService -> Warmed:Pending:Wait, held by each TERMINATING hook
  (notification Origin "AutoScalingGroup", Destination "WarmPool"); CONTINUE -> Warmed:Pending:Proceed ->
  Warmed:Stopped | Warmed:Running | Warmed:Hibernated (PoolState), the EC2 instance stopped for Stopped and
  Hibernated; ABANDON (explicit or by timeout) -> Warmed:Terminated, the EC2 instance terminated.
- Leaving the pool for EC2 (PutWarmPool shrinking it below its count, DeleteWarmPool): Warmed:Terminating:Wait held
  by each TERMINATING hook (Origin "WarmPool", Destination "EC2"), then Warmed:Terminating:Proceed ->
  Warmed:Terminated. DeleteWarmPool marks the pool PendingDelete until its last instance is gone; ForceDelete
  terminates them at once and drops their lifecycle actions.
- TerminateInstanceInAutoScalingGroup of a warm instance: ValidationError (the API cannot be called on warm pool
  instances); retained ones are the exception (retention.py).

Control: POST /_graceful/warm_pool {"group", "instances": N, "state": "Warmed:Stopped"} puts N new instances in the
group's pool directly (answers their IDs). Ledger: `lifecycle-transition` with the Warmed:* states (and `ec2_state`
when the EC2 state changes), `warm-pool-put` (group, pool_state, min_size, size), `instance-terminated`.

Not modelled: the pool is not filled to its size by launches, scale-out does not draw instances from it, LAUNCHING
hooks do not hold Warmed:Pending:Wait, an instance returning on scale-in is not turned away when the pool is full,
DescribeAutoScalingInstances does not list warm instances.
"""

from moto.autoscaling import models as asg_models
from moto.autoscaling import responses as asg_responses
from moto.autoscaling.exceptions import ValidationError
from moto.autoscaling.models import FakeWarmPool
from moto.autoscaling.responses import ActionResult, EmptyResult

from . import asg_lookup, autoscaling_hooks as hooks
from . import state

# https://docs.aws.amazon.com/autoscaling/ec2/userguide/warm-pools-eventbridge-events.html: an instance returned to
# the warm pool on scale in waits in Warmed:Pending:Wait with "Origin": "AutoScalingGroup", "Destination":
# "WarmPool" (example 4); Origin and Destination take the values EC2 | AutoScalingGroup | WarmPool, naming where the
# instance comes from and goes to. A warm instance terminated out of the pool therefore goes WarmPool -> EC2 (not
# among the page's examples). The Warmed:Terminating:* states are botocore's LifecycleState enum.
hooks.PATHS["warm-return"] = ("Warmed:Pending:Wait", "AutoScalingGroup", "WarmPool", None)
hooks.PATHS["warm-terminate"] = ("Warmed:Terminating:Wait", "WarmPool", "EC2", "Terminating EC2 instance: {}")

SETTLED = ("Warmed:Stopped", "Warmed:Running", "Warmed:Hibernated")
FakeWarmPool.status = None  # WarmPoolConfiguration.Status: PendingDelete while a DeleteWarmPool waits


def warm(group) -> list:
    if not hasattr(group, "graceful_warm"):
        group.graceful_warm = []
    return group.graceful_warm


def find(backend, instance_id: str):
    """(group, warm InstanceState) of a warm instance, or (None, None)."""
    for group in backend.autoscaling_groups.values():
        for instance_state in warm(group):
            if instance_state.instance.id == instance_id:
                return group, instance_state
    return None, None


def _reuse_on_scale_in(group) -> bool:
    pool = group.warm_pool
    reuse = (pool.instance_reuse_policy or {}).get("ReuseOnScaleIn") if pool else None
    return reuse in (True, "true", "True")


def _settle(backend, group, instance_state) -> None:
    """Into the pool's state. https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_WarmPoolConfiguration.html:
    PoolState is "the instance state to transition to after the lifecycle actions are complete"; a hibernated EC2
    instance reads `stopped`, like a stopped one."""
    pool_state = group.warm_pool.pool_state if group.warm_pool else "Stopped"
    instance_state.lifecycle_state = f"Warmed:{pool_state}"
    instance = instance_state.instance
    if pool_state in ("Stopped", "Hibernated") and instance.state == "running":
        instance.stop()
    elif pool_state == "Running" and instance.state == "stopped":
        instance.start()
    state.log_event("lifecycle-transition", group=group.name, instance_id=instance.id,
                    state=instance_state.lifecycle_state, ec2_state=instance.state)


def _terminate_now(backend, group, instance_state, prior: str | None = None) -> None:
    instance_id = instance_state.instance.id
    if prior:
        state.log_event("lifecycle-transition", group=group.name, instance_id=instance_id, state=prior)
    if instance_state in warm(group):
        warm(group).remove(instance_state)
    instance_state.lifecycle_state = "Warmed:Terminated"
    hooks.close_activity(backend, instance_id)
    backend.ec2_backend.terminate_instances([instance_id])
    state.log_event("lifecycle-transition", group=group.name, instance_id=instance_id, state="Warmed:Terminated")
    state.log_event("instance-terminated", group=group.name, instance_id=instance_id)
    if group.warm_pool is not None and group.warm_pool.status == "PendingDelete" and not warm(group):
        group.warm_pool = None


def _finisher(kind: str):
    def finish(backend, group_name: str, instance_id: str, result: str) -> None:
        group = backend.autoscaling_groups.get(group_name)
        instance_state = next((s for s in warm(group) if s.instance.id == instance_id), None) if group else None
        if instance_state is None:
            return
        if kind == "warm-return" and result == "CONTINUE":
            state.log_event("lifecycle-transition", group=group_name, instance_id=instance_id,
                            state="Warmed:Pending:Proceed", result=result)
            _settle(backend, group, instance_state)
        elif kind == "warm-return":
            # https://docs.aws.amazon.com/autoscaling/ec2/userguide/completing-lifecycle-hooks.html: for a
            # terminating hook, ABANDON lets the instance terminate; a returning instance is not put in the pool.
            _terminate_now(backend, group, instance_state)
        else:
            _terminate_now(backend, group, instance_state, prior="Warmed:Terminating:Proceed")
    return finish


def terminate_from_pool(backend, group, instance_state) -> None:
    """A warm instance leaves the pool for EC2: Warmed:Terminating:Wait under the TERMINATING hooks, or at once."""
    if not hooks.begin(backend, group, instance_state, "warm-terminate"):
        _terminate_now(backend, group, instance_state)


def _counted(group) -> list:
    return [s for s in warm(group) if not s.lifecycle_state.endswith(("Terminating:Wait", "Retained"))]


def _pool_size(group) -> int:
    """https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_PutWarmPool.html, MaxGroupPreparedCapacity:
    without it the pool holds MaxSize - desired capacity, with it MaxGroupPreparedCapacity - desired; 0 when the
    desired capacity is higher, "unless you specify a value for MinSize"."""
    pool = group.warm_pool
    prepared = pool.max_group_prepared_capacity
    ceiling = group.max_size if prepared in (None, -1) else int(prepared)
    return max(int(pool.min_size or 0), (ceiling or 0) - (group.desired_capacity or 0), 0)


def _shrink(backend, group) -> None:
    excess = len(_counted(group)) - _pool_size(group)
    for instance_state in [s for s in _counted(group) if s.lifecycle_state in SETTLED][:max(excess, 0)]:
        terminate_from_pool(backend, group, instance_state)


def put_instances(account: str, region: str, group_name: str, count: int, lifecycle_state: str) -> list:
    """Control API: `count` new instances straight into the group's warm pool in `lifecycle_state`."""
    if lifecycle_state not in SETTLED:
        raise ValueError(f"field 'state' must be one of {', '.join(SETTLED)}, got {lifecycle_state!r}")
    if count < 1:
        raise ValueError(f"field 'instances' must be at least 1, got {count}")
    backend = asg_models.autoscaling_backends[account][region]
    with state.LOCK:
        group = backend.autoscaling_groups.get(group_name)
        if group is None:
            raise ValueError(f"no Auto Scaling group {group_name!r}")
        if group.warm_pool is None:
            raise ValueError(f"group {group_name!r} has no warm pool: call PutWarmPool first")
        before = {s.instance.id for s in group.instance_states}
        group.replace_autoscaling_group_instances(count, group.get_propagated_tags())
        new = [s for s in group.instance_states if s.instance.id not in before]
        for instance_state in new:
            group.instance_states.remove(instance_state)
            warm(group).append(instance_state)
            instance_state.lifecycle_state = lifecycle_state
            instance = instance_state.instance
            if lifecycle_state != "Warmed:Running":
                instance.stop()
            state.log_event("lifecycle-transition", group=group_name, instance_id=instance.id,
                            state=lifecycle_state, ec2_state=instance.state)
        return [s.instance.id for s in new]


# --- backend patches -------------------------------------------------------------------------------------------

_previous_set_desired_capacity = None
_previous_terminate_instance = None
_previous_delete_group = None


def _set_desired_capacity(self, new_capacity):
    # moto's FakeAutoScalingGroup.__init__ sets the capacity before it has a warm_pool attribute.
    if (getattr(self, "warm_pool", None) is not None and _reuse_on_scale_in(self)
            and not hooks.actions_of(self.autoscaling_backend).bypass_hooks):
        target = (self.min_size if new_capacity is None else new_capacity) or 0
        active = self.active_instances()
        if len(active) > target:
            backend = self.autoscaling_backend
            with state.LOCK:
                for instance_state in [s for s in active if not s.protected_from_scale_in][: len(active) - target]:
                    self.instance_states.remove(instance_state)
                    warm(self).append(instance_state)
                    if not hooks.begin(backend, self, instance_state, "warm-return"):
                        _settle(backend, self, instance_state)
    return _previous_set_desired_capacity(self, new_capacity)


def _terminate_instance(self, instance_id, should_decrement):
    group, instance_state = find(self, instance_id)
    if instance_state is not None:
        # https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_TerminateInstanceInAutoScalingGroup.html:
        # "This operation cannot be called on instances in a warm pool."
        raise ValidationError(f"The instance {instance_id} is in the warm pool of group {group.name}: "
                              "TerminateInstanceInAutoScalingGroup cannot be called on instances in a warm pool.")
    return _previous_terminate_instance(self, instance_id, should_decrement)


def _delete_group(self, group_name):
    group = self.autoscaling_groups.get(group_name)
    if group is not None:
        _force_empty(self, group)
    return _previous_delete_group(self, group_name)


def _force_empty(backend, group) -> None:
    with state.LOCK:
        ids = [s.instance.id for s in warm(group)]
        hooks.actions_of(backend).drop_instances(ids)
        for instance_state in list(warm(group)):
            _terminate_now(backend, group, instance_state)


# --- response patches ------------------------------------------------------------------------------------------

def _put_warm_pool(self):
    group = asg_lookup.requested_group(self)
    reuse = self._get_param("InstanceReusePolicy")
    if reuse and "ReuseOnScaleIn" in reuse:
        reuse = dict(reuse, ReuseOnScaleIn=reuse["ReuseOnScaleIn"] in (True, "true", "True"))
    with state.LOCK:
        group.put_warm_pool(max_group_prepared_capacity=self._get_int_param("MaxGroupPreparedCapacity"),
                            min_size=self._get_int_param("MinSize"), pool_state=self._get_param("PoolState"),
                            instance_reuse_policy=reuse)
        state.log_event("warm-pool-put", group=group.name, pool_state=group.warm_pool.pool_state,
                        min_size=group.warm_pool.min_size, size=_pool_size(group))
        _shrink(self.autoscaling_backend, group)
    return EmptyResult()


def _describe_warm_pool(self):
    group = asg_lookup.requested_group(self)
    with state.LOCK:
        return ActionResult({"WarmPoolConfiguration": group.warm_pool, "Instances": list(warm(group))})


def _delete_warm_pool(self):
    group = asg_lookup.requested_group(self)
    backend = self.autoscaling_backend
    with state.LOCK:
        if group.warm_pool is None:
            return EmptyResult()
        # botocore's model, DeleteWarmPool ForceDelete: "deleted along with all of its associated instances, without
        # waiting for all instances to be terminated. This parameter also deletes any outstanding lifecycle actions";
        # without it the pool waits (WarmPoolConfiguration.Status PendingDelete) for its instances to terminate.
        if self._get_bool_param("ForceDelete", False):
            _force_empty(backend, group)
        elif warm(group):
            group.warm_pool.status = "PendingDelete"
            for instance_state in [s for s in warm(group) if s.lifecycle_state in SETTLED]:
                terminate_from_pool(backend, group, instance_state)
        if not warm(group):
            group.warm_pool = None
    return EmptyResult()


def install() -> None:
    global _previous_set_desired_capacity, _previous_terminate_instance, _previous_delete_group
    _previous_set_desired_capacity = asg_models.FakeAutoScalingGroup.set_desired_capacity
    _previous_terminate_instance = asg_models.AutoScalingBackend.terminate_instance
    _previous_delete_group = asg_models.AutoScalingBackend.delete_auto_scaling_group
    asg_models.FakeAutoScalingGroup.set_desired_capacity = _set_desired_capacity
    asg_models.AutoScalingBackend.terminate_instance = _terminate_instance
    asg_models.AutoScalingBackend.delete_auto_scaling_group = _delete_group
    asg_models.FakeAutoScalingGroup.warm_pool_size = property(
        lambda group: len(_counted(group)) if group.warm_pool is not None else None)
    hooks.FINISHERS["warm-return"] = _finisher("warm-return")
    hooks.FINISHERS["warm-terminate"] = _finisher("warm-terminate")
    asg_responses.AutoScalingResponse.put_warm_pool = _put_warm_pool
    asg_responses.AutoScalingResponse.describe_warm_pool = _describe_warm_pool
    asg_responses.AutoScalingResponse.delete_warm_pool = _delete_warm_pool
