//! Test-side AWS access to the emulator: seed Auto Scaling groups, change things out of band, and list every piece
//! of ours that is left (what "nothing orphaned" is checked against).

use acceptance::emulator::Emulator;
use serde_json::Value as Json;

pub struct Aws {
    pub region: String,
    pub runtime: tokio::runtime::Runtime,
    pub autoscaling: aws_sdk_autoscaling::Client,
    pub iam: aws_sdk_iam::Client,
    pub sns: aws_sdk_sns::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub events: aws_sdk_eventbridge::Client,
}

impl Aws {
    /// Clients for us-east-1, where the tests' resources live.
    pub fn new(emulator: &Emulator) -> Self {
        Aws::in_region(emulator, "us-east-1")
    }

    pub fn in_region(emulator: &Emulator, region: &str) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        let config = runtime.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(emulator.endpoint())
                .region(aws_config::Region::new(region.to_owned()))
                .credentials_provider(aws_sdk_iam::config::Credentials::new("test", "test", None, None, "tests"))
                .load(),
        );
        Aws {
            autoscaling: aws_sdk_autoscaling::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            sns: aws_sdk_sns::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            events: aws_sdk_eventbridge::Client::new(&config),
            region: region.to_owned(),
            runtime,
        }
    }

    /// An Auto Scaling group with `instances` running instances.
    pub fn create_group(&self, name: &str, instances: i32) {
        self.runtime.block_on(async {
            let config_name = format!("{name}-lc");
            self.autoscaling
                .create_launch_configuration()
                .launch_configuration_name(&config_name)
                // A Linux image: moto's ami-12c6146b is Windows, where the drain step's platformType precondition
                // skips it.
                .image_id("ami-760aaa0f")
                .instance_type("t3.micro")
                .send()
                .await
                .expect("creating a launch configuration");
            self.autoscaling
                .create_auto_scaling_group()
                .auto_scaling_group_name(name)
                .launch_configuration_name(&config_name)
                .min_size(0)
                .max_size(10)
                .desired_capacity(instances)
                .availability_zones(format!("{}a", self.region))
                .send()
                .await
                .expect("creating an Auto Scaling group");
        });
    }

    /// Makes `group` launch its next instances from `image` (a new launch configuration), e.g. moto's Windows
    /// image `ami-12c6146b` (EC2 `Platform` "windows", which SSM reports as platform type Windows).
    pub fn use_image(&self, group: &str, image: &str) {
        self.runtime.block_on(async {
            let config_name = format!("{group}-{image}-lc");
            self.autoscaling
                .create_launch_configuration()
                .launch_configuration_name(&config_name)
                .image_id(image)
                .instance_type("t3.micro")
                .send()
                .await
                .expect("creating a launch configuration");
            self.autoscaling
                .update_auto_scaling_group()
                .auto_scaling_group_name(group)
                .launch_configuration_name(&config_name)
                .send()
                .await
                .expect("updating the group's launch configuration");
        });
    }

    /// Lifecycle hook names on `group`.
    pub fn hooks(&self, group: &str) -> Vec<aws_sdk_autoscaling::types::LifecycleHook> {
        self.runtime.block_on(async {
            self.autoscaling
                .describe_lifecycle_hooks()
                .auto_scaling_group_name(group)
                .send()
                .await
                .expect("describing lifecycle hooks")
                .lifecycle_hooks
                .unwrap_or_default()
        })
    }

    /// Every AWS resource whose name contains `prefix`, per service, across every service the resource uses.
    pub fn leftovers(&self, prefix: &str, groups: &[&str]) -> Vec<String> {
        self.runtime.block_on(async {
            let mut found = Vec::new();
            let topics = self.sns.list_topics().send().await.expect("listing topics");
            for topic in topics.topics() {
                if let Some(arn) = topic.topic_arn().filter(|a| a.contains(prefix)) {
                    found.push(format!("sns topic {arn}"));
                }
            }
            let subscriptions = self.sns.list_subscriptions().send().await.expect("listing subscriptions");
            for sub in subscriptions.subscriptions() {
                if sub.topic_arn().is_some_and(|a| a.contains(prefix))
                    || sub.endpoint().is_some_and(|e| e.contains(prefix))
                {
                    found.push(format!("sns subscription {:?}", sub.subscription_arn()));
                }
            }
            let roles = self.iam.list_roles().send().await.expect("listing roles");
            for role in roles.roles() {
                if role.role_name().contains(prefix) {
                    found.push(format!("iam role {}", role.role_name()));
                }
            }
            let documents = self
                .ssm
                .list_documents()
                .filters(aws_sdk_ssm::types::DocumentKeyValuesFilter::builder().key("Owner").values("Self").build())
                .send()
                .await
                .expect("listing documents");
            for doc in documents.document_identifiers() {
                if doc.name().is_some_and(|n| n.contains(prefix)) {
                    found.push(format!("ssm document {:?}", doc.name()));
                }
            }
            let groups_of_logs = self.logs.describe_log_groups().send().await.expect("listing log groups");
            for group in groups_of_logs.log_groups() {
                if group.log_group_name().is_some_and(|n| n.contains(prefix)) {
                    found.push(format!("log group {:?}", group.log_group_name()));
                }
            }
            let functions = self.lambda.list_functions().send().await.expect("listing functions");
            for function in functions.functions() {
                if function.function_name().is_some_and(|n| n.contains(prefix)) {
                    found.push(format!("lambda function {:?}", function.function_name()));
                }
            }
            let rules = self.events.list_rules().send().await.expect("listing rules");
            for rule in rules.rules() {
                if rule.name().is_some_and(|n| n.contains(prefix)) {
                    found.push(format!("events rule {:?}", rule.name()));
                }
            }
            for group in groups {
                let hooks = self
                    .autoscaling
                    .describe_lifecycle_hooks()
                    .auto_scaling_group_name(*group)
                    .send()
                    .await
                    .expect("describing hooks");
                for hook in hooks.lifecycle_hooks() {
                    if hook.lifecycle_hook_name().is_some_and(|n| n.contains(prefix)) {
                        found.push(format!("lifecycle hook {group}/{:?}", hook.lifecycle_hook_name()));
                    }
                }
            }
            found
        })
    }

    /// The inline policies and trust policy of a role, as JSON.
    pub fn role_policies(&self, role: &str) -> (Json, Vec<Json>) {
        self.runtime.block_on(async {
            let got = self.iam.get_role().role_name(role).send().await.expect("getting role");
            let trust = decode_policy(got.role().and_then(|r| r.assume_role_policy_document()).unwrap_or("{}"));
            let names = self.iam.list_role_policies().role_name(role).send().await.expect("listing role policies");
            let mut inline = Vec::new();
            for name in names.policy_names() {
                let policy = self.iam.get_role_policy().role_name(role).policy_name(name).send().await.expect("policy");
                inline.push(decode_policy(policy.policy_document()));
            }
            (trust, inline)
        })
    }
}

/// IAM returns policy documents URL-encoded (AWS does; the emulator may not).
fn decode_policy(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|_| {
        let decoded = percent_decode(text);
        serde_json::from_str(&decoded).unwrap_or_else(|e| panic!("policy is not JSON ({e}): {text}"))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(byte) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
