"""moto's Auto Scaling backend, patched so that instances leave a group through its TERMINATING hooks: scale-in,
TerminateInstanceInAutoScalingGroup, DeleteAutoScalingGroup (which bypasses them) and DeleteLifecycleHook."""

from moto.autoscaling import models as asg_models
from moto.autoscaling.exceptions import ValidationError

from .. import state
from .hooks import TERMINATING, hooks_for
from .models import actions_of

_original_set_desired_capacity = asg_models.FakeAutoScalingGroup.set_desired_capacity
_original_terminate_instance = asg_models.AutoScalingBackend.terminate_instance
_original_delete_group = asg_models.AutoScalingBackend.delete_auto_scaling_group
_original_delete_hook = asg_models.AutoScalingBackend.delete_lifecycle_hook


def _set_desired_capacity(self, new_capacity):
    backend = self.autoscaling_backend
    actions = actions_of(backend)
    hooks = [] if actions.bypass_hooks else hooks_for(backend, self.name, TERMINATING)
    if hooks and not self.mixed_instances_policy:
        target = self.min_size if new_capacity is None else new_capacity
        active = self.active_instances()
        if len(active) > (target or 0):
            with state.LOCK:
                leaving = [s for s in active if not s.protected_from_scale_in][: len(active) - (target or 0)]
                for instance_state in leaving:
                    actions.begin_termination(backend, self, instance_state, hooks)
    return _original_set_desired_capacity(self, new_capacity)


def _terminate_instance(self, instance_id, should_decrement):
    instance_state = next((s for g in self.autoscaling_groups.values() for s in g.instance_states
                           if s.instance.id == instance_id), None)
    if instance_state is None:
        raise ValidationError(f"Instance Id not found - No managed instance found for instance ID: {instance_id}")
    group = instance_state.auto_scaling_group
    hooks = hooks_for(self, group.name, TERMINATING)
    if not hooks:
        return _original_terminate_instance(self, instance_id, should_decrement)
    original_size = group.desired_capacity
    with state.LOCK:
        if instance_state.lifecycle_state == "InService":
            actions_of(self).begin_termination(self, group, instance_state, hooks)
        if should_decrement:
            group.desired_capacity -= 1
    # Without decrement the group launches a replacement for the instance that left service.
    _original_set_desired_capacity(group, group.desired_capacity)
    return asg_models.TerminateInstanceActivity(instance_state.instance, original_size)


def _delete_group(self, group_name):
    # Deleting a group (moto behaves like ForceDelete) bypasses lifecycle hooks, as AWS's ForceDelete does.
    actions = actions_of(self)
    actions.bypass_hooks = True
    try:
        _original_delete_group(self, group_name)
    finally:
        actions.bypass_hooks = False
    with state.LOCK:
        actions.drop_group(group_name)
        for key in [k for k, h in self.lifecycle_hooks.items() if h.auto_scaling_group_name == group_name]:
            self.lifecycle_hooks.pop(key)


def _delete_lifecycle_hook(self, as_name, name):
    # AWS (API_DeleteLifecycleHook): "If there are any outstanding lifecycle actions, they are completed first
    # (ABANDON for launching instances, CONTINUE for terminating instances)." Only terminating hooks hold instances here.
    actions = actions_of(self)
    for token in actions.outstanding(as_name, name):
        actions.complete_action(self, token, "CONTINUE", "lifecycle hook deleted")
    _original_delete_hook(self, as_name, name)


def install() -> None:
    asg_models.FakeAutoScalingGroup.set_desired_capacity = _set_desired_capacity
    asg_models.AutoScalingBackend.terminate_instance = _terminate_instance
    asg_models.AutoScalingBackend.delete_auto_scaling_group = _delete_group
    asg_models.AutoScalingBackend.delete_lifecycle_hook = _delete_lifecycle_hook
