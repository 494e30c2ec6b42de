//! Test-side Auto Scaling moves for drain scenarios: change capacity, read each instance's lifecycle state, and
//! publish raw messages to a topic (duplicate or foreign notifications).

// Each test crate that includes `support` uses a different part of it.
#![allow(dead_code)]

use super::aws::Aws;
use aws_sdk_autoscaling::types::Instance;
use std::collections::BTreeMap;

impl Aws {
    /// `SetDesiredCapacity` (honours cooldown-free scale-in: the emulator parks instances in `Terminating:Wait`).
    pub fn set_capacity(&self, group: &str, desired: i32) {
        self.runtime.block_on(async {
            self.autoscaling
                .set_desired_capacity()
                .auto_scaling_group_name(group)
                .desired_capacity(desired)
                .send()
                .await
                .unwrap_or_else(|e| panic!("setting the capacity of {group}: {e:?}"));
        });
    }

    /// Instance id → lifecycle state of every instance still in `group`.
    pub fn instance_states(&self, group: &str) -> BTreeMap<String, String> {
        self.per_instance(group, |i| i.lifecycle_state().map(|s| s.as_str().to_string()).unwrap_or_default())
    }

    /// Instance id → Availability Zone of every instance `group` lists.
    pub fn instance_zones(&self, group: &str) -> BTreeMap<String, String> {
        self.per_instance(group, |i| i.availability_zone().unwrap_or_default().to_string())
    }

    /// Instance id → `pick` of every instance `DescribeAutoScalingGroups` lists in `group`.
    fn per_instance(&self, group: &str, pick: impl Fn(&Instance) -> String) -> BTreeMap<String, String> {
        self.runtime.block_on(async {
            let described = self
                .autoscaling
                .describe_auto_scaling_groups()
                .auto_scaling_group_names(group)
                .send()
                .await
                .unwrap_or_else(|e| panic!("describing group {group}: {e:?}"));
            let group = described.auto_scaling_groups().first().unwrap_or_else(|| panic!("no group {group}"));
            group.instances().iter().map(|i| (i.instance_id().unwrap_or_default().to_string(), pick(i))).collect()
        })
    }

    /// A terminating lifecycle hook without a notification target (what another tool or resource might own).
    pub fn put_plain_hook(&self, group: &str, hook: &str) {
        self.runtime.block_on(async {
            self.autoscaling
                .put_lifecycle_hook()
                .auto_scaling_group_name(group)
                .lifecycle_hook_name(hook)
                .lifecycle_transition("autoscaling:EC2_INSTANCE_TERMINATING")
                .heartbeat_timeout(7200)
                .default_result("CONTINUE")
                .notification_metadata("{\"graceful_shutdown_asg\":\"someone-else\"}")
                .send()
                .await
                .unwrap_or_else(|e| panic!("putting hook {hook} on {group}: {e:?}"));
        });
    }

    /// `CompleteLifecycleAction` of `hook`'s action on `instance`, as the hook's owner would.
    pub fn complete_action(&self, group: &str, hook: &str, instance: &str, result: &str) {
        self.runtime.block_on(async {
            self.autoscaling
                .complete_lifecycle_action()
                .auto_scaling_group_name(group)
                .lifecycle_hook_name(hook)
                .instance_id(instance)
                .lifecycle_action_result(result)
                .send()
                .await
                .unwrap_or_else(|e| panic!("completing {hook}'s action on {instance}: {e:?}"));
        });
    }

    /// Publishes `message` to the topic whose ARN ends with `:topic_name`.
    pub fn publish(&self, topic_name: &str, subject: &str, message: &str) {
        self.runtime.block_on(async {
            let topics = self.sns.list_topics().send().await.expect("listing topics");
            let arn = topics
                .topics()
                .iter()
                .filter_map(|t| t.topic_arn())
                .find(|arn| arn.ends_with(&format!(":{topic_name}")))
                .unwrap_or_else(|| panic!("no topic named {topic_name}"))
                .to_string();
            self.sns
                .publish()
                .topic_arn(arn)
                .subject(subject)
                .message(message)
                .send()
                .await
                .unwrap_or_else(|e| panic!("publishing to {topic_name}: {e:?}"));
        });
    }
}
