//! The Auto Scaling lifecycle states in which an `EC2_INSTANCE_TERMINATING` hook holds an instance (Amazon EC2 Auto
//! Scaling User Guide): `Terminating:Wait` for a termination ("Amazon EC2 Auto Scaling lifecycle hooks"), and with a
//! warm pool ("Use lifecycle hooks with a warm pool", warm-pool-instance-lifecycle.html) `Warmed:Pending:Wait` for an
//! instance returning to the pool on scale-in (instance reuse policy) and `Warmed:Terminating:Wait` for one
//! terminated out of the pool. The handler drains in each; the provider waits for each before deleting a hook.

/// The transition of the one hook kind this project manages (`PutLifecycleHook.LifecycleTransition`), as lifecycle
/// notifications carry it (`LifecycleTransition`).
pub const TERMINATING_TRANSITION: &str = "autoscaling:EC2_INSTANCE_TERMINATING";

pub const TERMINATING_WAIT: &str = "Terminating:Wait";
pub const WARMED_PENDING_WAIT: &str = "Warmed:Pending:Wait";
pub const WARMED_TERMINATING_WAIT: &str = "Warmed:Terminating:Wait";
/// An instance serving in its group, and one an operator set aside (`EnterStandby`): both run workloads.
pub const IN_SERVICE: &str = "InService";
pub const STANDBY: &str = "Standby";

pub const HOOK_WAIT_STATES: [&str; 3] = [TERMINATING_WAIT, WARMED_PENDING_WAIT, WARMED_TERMINATING_WAIT];

/// Whether a terminate hook may be holding an instance in `state`.
pub fn is_hook_wait(state: &str) -> bool {
    HOOK_WAIT_STATES.contains(&state)
}
