//! The `graceful_shutdown_asg` schema: every attribute, with the markdown description users see in docs and editors.

use drain_contract::budget::{HEARTBEAT_MAX_SECONDS, HEARTBEAT_MIN_SECONDS, RECONCILE_INTERVAL_SECONDS};
use tfplugin::{Attribute, Block, NestedBlock, Nesting, Schema, Type, Value};

pub const TYPE_NAME: &str = "graceful_shutdown_asg";

/// Bumped when the stored state's shape changes (then `upgrade_resource_state` must migrate). Version 1 added
/// [`PUBLISHER_ROLE_NAME`] and [`HANDLER_ROLE_NAME`] (roles named per region).
pub const SCHEMA_VERSION: i64 = 1;

/// The computed names of the two IAM roles. They record how the roles are named (`RoleNames::recorded_scope`): a
/// state upgraded from version 0 keeps its account-wide names.
pub const PUBLISHER_ROLE_NAME: &str = "publisher_role_name";
pub const HANDLER_ROLE_NAME: &str = "handler_role_name";

/// The shortest heartbeat timeout the handler can keep alive: two reconcile ticks must fall in every window (the
/// budget refuses shorter ones whenever heartbeats are needed, and every drain budget needs them below this).
pub const MIN_USABLE_HEARTBEAT_SECONDS: u64 = 2 * RECONCILE_INTERVAL_SECONDS;

/// The computed list a refresh fills with out-of-band changes (see its description).
pub const OUT_OF_BAND_CHANGES: &str = "out_of_band_changes";

pub const DEFAULT_PRESET: &str = "nomad";
pub const DEFAULT_TIMEOUT: &str = "1h";
pub const DEFAULT_ON_FAILURE: &str = "continue";
pub const DEFAULT_ARCHITECTURE: &str = "arm64";
pub const DEFAULT_IAM_PATH: &str = "/";
pub const DEFAULT_LOG_RETENTION_DAYS: i64 = 30;
pub const DEFAULT_WAIT_FOR_DRAINS: bool = true;

fn string_set() -> Type {
    Type::Set(Box::new(Type::String))
}

fn string_map() -> Type {
    Type::Map(Box::new(Type::String))
}

/// The `drain.nomad` block: how the nomad preset's script reaches the local agent (attribute names are
/// `NomadSettingsInput`'s fields; the checks are `NomadSettingsInput::parse`'s).
pub const NOMAD_BLOCK: &str = "nomad";

fn nomad_block() -> NestedBlock {
    let default_address = drain_contract::nomad_settings::DEFAULT_ADDRESS;
    let file = |name: &str, what: &str, variable: &str| {
        Attribute::optional(
            name,
            Type::String,
            &format!("Absolute path, on the instance, of {what} (`{variable}`). Requires an `https://` `address`."),
        )
    };
    NestedBlock {
        type_name: NOMAD_BLOCK.into(),
        nesting: Nesting::Single,
        // Terraform requires MinItems = MaxItems for NestingSingle; 0/0 is an optional single block.
        min_items: 0,
        max_items: 0,
        block: Block {
            description: format!(
                "How the `nomad` preset's script reaches the Nomad agent on the instance (not allowed with `preset = \
\"command\"`). SSM runs the script without any `NOMAD_*` variable; without this block it talks to `{default_address}` \
with no token. The settings travel as parameters of the SSM document (paths and names only): the token itself is read \
on the instance, from `token_file` or the SSM SecureString parameter `token_parameter`, and never passes through the \
document or the Lambda environment. Values may hold only letters, digits and `_ . / : @ + = , ~ % [ ] -`."
            ),
            attributes: vec![
                Attribute::optional_computed(
                    "address",
                    Type::String,
                    &format!(
                        "`http(s)://host:port` of the local agent (`NOMAD_ADDR`, default `\"{default_address}\"`)."
                    ),
                )
                .with_default(Value::string(default_address)),
                file("ca_file", "the CA certificate that signed the agent's certificate", "NOMAD_CACERT"),
                file(
                    "client_cert_file",
                    "the client certificate, for agents that verify clients (`verify_https_client`); requires `client_key_file`",
                    "NOMAD_CLIENT_CERT",
                ),
                file(
                    "client_key_file",
                    "the client certificate's key; requires `client_cert_file`",
                    "NOMAD_CLIENT_KEY",
                ),
                Attribute::optional(
                    "tls_server_name",
                    Type::String,
                    "Server name checked in the agent's certificate (`NOMAD_TLS_SERVER_NAME`), e.g. \
`\"client.global.nomad\"` when `address` is an IP. Requires an `https://` `address`.",
                ),
                Attribute::optional(
                    "token_file",
                    Type::String,
                    "Absolute path, on the instance, of a file holding only the Nomad ACL token (readable by root, the \
user SSM runs the script as). Not with `token_parameter`. The token needs the policy in \
`examples/nomad-drain-acl.policy.hcl`: `agent:read`, `node:write` and `read-job` on every namespace.",
                ),
                Attribute::optional(
                    "token_parameter",
                    Type::String,
                    "Name of an SSM `SecureString` parameter holding the Nomad ACL token, read on the instance with \
`aws ssm get-parameter --with-decryption` (the instance needs the AWS CLI, and its profile `ssm:GetParameter` on the \
parameter and `kms:Decrypt` on its key). Not with `token_file`.",
                ),
            ],
            blocks: vec![],
            deprecated: false,
        },
    }
}

/// The `spot` block: drains started at a Spot interruption notice (`drain_contract::spot`).
pub const SPOT_BLOCK: &str = "spot";
pub const DEFAULT_ON_INTERRUPTION: &str = "drain";

fn spot_block() -> NestedBlock {
    use drain_contract::spot::{DEFAULT_DEADLINE, MAX_DEADLINE_SECONDS, MIN_DEADLINE_SECONDS, NOTICE_SECONDS};
    NestedBlock {
        type_name: SPOT_BLOCK.into(),
        nesting: Nesting::Single,
        min_items: 0,
        max_items: 0,
        block: Block {
            description: format!(
                "Drains Spot Instances of the managed groups when EC2 announces their interruption ({NOTICE_SECONDS}s ahead). A lifecycle hook cannot hold a Spot interruption, and without Capacity Rebalancing Auto Scaling runs the terminate hook only after the instance is gone. With this block the reconcile rule also matches EventBridge's `EC2 Spot Instance Interruption Warning`, the handler starts the drain at once with `deadline`, and the terminate hook of the same instance, when it comes, waits for that drain instead of starting another. Without the block, notices are ignored."
            ),
            attributes: vec![
                Attribute::optional(
                    "on_interruption",
                    Type::String,
                    "`\"drain\"` (default): drain at the notice. `\"ignore\"`: do nothing at the notice (the same as no block).",
                ),
                Attribute::optional(
                    "deadline",
                    Type::String,
                    &format!(
                        "The deadline of a drain started at the notice, {MIN_DEADLINE_SECONDS}s to {MAX_DEADLINE_SECONDS}s (default `\"{DEFAULT_DEADLINE}\"`): the drain, Nomad's forced stop and the final check must end before EC2 interrupts the instance. The script gets it as the nomad preset's `-deadline` or the command preset's `GRACEFUL_DRAIN_DEADLINE_SECONDS`."
                    ),
                ),
            ],
            blocks: vec![],
            deprecated: false,
        },
    }
}

/// The schema, built once: plan reads each attribute's default and replace rule from it.
pub fn declared() -> &'static Schema {
    static SCHEMA: std::sync::LazyLock<Schema> = std::sync::LazyLock::new(schema);
    &SCHEMA
}

/// The nested block `type_name` of `block`.
pub fn nested<'a>(block: &'a Block, type_name: &str) -> &'a Block {
    &block.blocks.iter().find(|b| b.type_name == type_name).unwrap_or_else(|| panic!("no block {type_name}")).block
}

pub fn schema() -> Schema {
    let max_name = drain_contract::names::max_name_len();
    let min_heartbeat = MIN_USABLE_HEARTBEAT_SECONDS;
    Schema {
        version: SCHEMA_VERSION,
        block: Block {
            description:
                "Drains the instances of one or more Auto Scaling groups before they terminate. One declaration \
creates the lifecycle hook on every group, the SNS topic, the IAM roles, the SSM drain document, the CloudWatch log \
group, the reconcile schedule, and deploys the bundled drain handler as a Lambda function."
                    .into(),
            attributes: vec![
                Attribute::computed("id", Type::String, "The resource's identifier: its `name`."),
                Attribute::required(
                    "name",
                    Type::String,
                    &format!(
                        "Prefix of every AWS name this resource creates. 1 to {max_name} characters: letters, digits, \
`-` and `_` (so that every derived name fits AWS's limits). The IAM role names also carry the region \
(`<name>-<region>-publisher`, see `publisher_role_name`), and IAM takes role names of up to 64 characters: in \
`us-east-1`, for example, `name` may have {in_us_east_1}.",
                        in_us_east_1 = drain_contract::names::max_name_len_in("us-east-1")
                    ),
                )
                .replaced_on_change("Every AWS name derives from it; AWS renames none of them in place."),
                Attribute::required(
                    "autoscaling_group_names",
                    string_set(),
                    "Names of the Auto Scaling groups whose instances are drained before they terminate. One lifecycle \
hook is created on each. Adding or removing a group updates the resource in place.",
                ),
                Attribute::optional_computed(
                    "on_failure",
                    Type::String,
                    "What happens when a drain fails, times out, is cancelled or cannot start: `\"continue\"` (default) \
completes the lifecycle action with `CONTINUE`, `\"abandon\"` with `ABANDON` (with an instance lifecycle policy that \
retains abandoned instances, they are kept for inspection). Both let the instance terminate otherwise.",
                )
                .with_default(Value::string(DEFAULT_ON_FAILURE))
                .one_of(&["continue", "abandon"]),
                Attribute::optional_computed(
                    "heartbeat_timeout",
                    Type::Number,
                    &format!(
                        "The lifecycle hook's heartbeat timeout in seconds ({min_heartbeat} to \
{HEARTBEAT_MAX_SECONDS}: AWS accepts {HEARTBEAT_MIN_SECONDS} and up, but every heartbeat window must hold two of the \
handler's reconcile ticks). Derived from `drain.timeout` unless set: long enough that a drain within its budget needs no \
heartbeat, capped at {HEARTBEAT_MAX_SECONDS}; longer drains are kept alive by heartbeats from the handler."
                    ),
                ),
                Attribute::optional_computed(
                    "wait_for_drains",
                    Type::Bool,
                    "Whether `terraform destroy`, and removing a group from `autoscaling_group_names`, first wait until \
none of the group's instances is held in a lifecycle wait, so that running drains finish (default `true`). The wait is \
bounded by `timeouts.delete` / `timeouts.update`, which default to the longest a drain can hold an instance. `false` \
deletes the hooks at once: AWS then completes the waiting instances' actions with `CONTINUE`, and they terminate with \
their drains cut short.",
                )
                .with_default(Value::Bool(DEFAULT_WAIT_FOR_DRAINS)),
                Attribute::optional_computed(
                    "architecture",
                    Type::String,
                    "Instruction set of the drain handler Lambda: `\"arm64\"` (default) or `\"x86_64\"`.",
                )
                .with_default(Value::string(DEFAULT_ARCHITECTURE))
                .one_of(&["arm64", "x86_64"]),
                Attribute::optional_computed(
                    "log_retention_days",
                    Type::Number,
                    "Retention of the handler's CloudWatch log group, in days (one of the values CloudWatch Logs \
accepts: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653). \
Default 30.",
                )
                .with_default(Value::Number(DEFAULT_LOG_RETENTION_DAYS as f64)),
                Attribute::optional_computed(
                    "iam_path",
                    Type::String,
                    "Path of the two IAM roles (default `\"/\"`). Must begin and end with `/`. AWS cannot move a role to \
another path, so a change replaces the resource.",
                )
                .with_default(Value::string(DEFAULT_IAM_PATH))
                .replaced_on_change("AWS cannot move an IAM role to another path."),
                Attribute::optional(
                    "permissions_boundary",
                    Type::String,
                    "ARN of an IAM policy set as permissions boundary on both roles, for accounts that require one.",
                ),
                Attribute::optional(
                    "kms_key_id",
                    Type::String,
                    "KMS key (id, alias or ARN) that encrypts the SNS topic. Unencrypted when not set.",
                ),
                Attribute::optional(
                    "tags",
                    string_map(),
                    "Tags set on every taggable AWS resource created (topic, roles, document, log group, function, \
schedule rule), besides `graceful:owner` (see `owner_id`), which is reserved: at most 49 tags, the provider's \
`default_tags` included.",
                ),
                Attribute::computed(
                    "tags_all",
                    string_map(),
                    "Every tag the objects carry: the provider's `default_tags` merged with `tags` (a key in both \
takes the value of `tags`).",
                ),
                Attribute::computed(
                    "sns_topic_arn",
                    Type::String,
                    "ARN of the SNS topic the lifecycle hooks and \
drain commands notify.",
                ),
                Attribute::computed("lambda_function_name", Type::String, "Name of the drain handler Lambda function."),
                Attribute::computed("lambda_function_arn", Type::String, "ARN of the drain handler Lambda function."),
                Attribute::computed(
                    "ssm_document_name",
                    Type::String,
                    "Name of the SSM Command document that drains \
one instance.",
                ),
                Attribute::computed("log_group_name", Type::String, "CloudWatch log group of the drain handler."),
                Attribute::computed(
                    "publisher_role_arn",
                    Type::String,
                    "ARN of the role Auto Scaling and SSM assume to publish to the topic.",
                ),
                Attribute::computed("handler_role_arn", Type::String, "ARN of the drain handler's execution role."),
                Attribute::computed(
                    PUBLISHER_ROLE_NAME,
                    Type::String,
                    "Name of the publisher role: `<name>-<region>-publisher`. IAM role names are global to the \
account, so the region keeps two regions' resources of the same `name` apart. A resource created before regional \
role names (state schema version 0) keeps its `<name>-publisher`.",
                ),
                Attribute::computed(
                    HANDLER_ROLE_NAME,
                    Type::String,
                    "Name of the drain handler's execution role: `<name>-<region>-handler` (`<name>-handler` for a \
resource created before regional role names).",
                ),
                Attribute::computed(
                    "lifecycle_hook_names",
                    string_map(),
                    "Lifecycle hook name per managed Auto Scaling group.",
                ),
                Attribute::computed(
                    OUT_OF_BAND_CHANGES,
                    Type::List(Box::new(Type::String)),
                    "Settings of existing pieces that a refresh found changed outside Terraform (a deleted inline \
policy, a changed function timeout, ...), one sentence each. A plan then shows them going away: the next apply sets \
every piece back to what this resource declares.",
                ),
                Attribute::computed(
                    "owner_id",
                    Type::String,
                    "Set when this resource instance creates its AWS objects, and written on each of them as the tag `graceful:owner`. The instance changes and deletes only objects that carry it, and a create refuses objects that already exist under its names (another configuration's, or a `create_before_destroy` replacement with the same `name`) rather than take them over. An import adopts the id of what it imports.",
                ),
                Attribute::computed(
                    "handler_code_sha256",
                    Type::String,
                    "SHA-256 (base64, as Lambda reports `CodeSha256`) of the handler bundled in this provider for the \
chosen architecture. A provider upgrade that changes the handler shows here in `terraform plan`.",
                ),
            ],
            blocks: vec![
                NestedBlock {
                    type_name: "drain".into(),
                    nesting: Nesting::Single,
                    min_items: 1,
                    max_items: 1,
                    block: Block {
                        description: "How one instance is drained, and the one time budget for it.".into(),
                        attributes: vec![
                            Attribute::optional_computed(
                                "preset",
                                Type::String,
                                "`\"nomad\"` (default): make the Nomad client ineligible, drain it with a deadline \
derived from `timeout`, then verify no non-system allocation still runs. `\"command\"`: run `command` instead.",
                            )
                            .with_default(Value::string(DEFAULT_PRESET))
                            .one_of(&["nomad", "command"]),
                            Attribute::optional(
                                "command",
                                Type::String,
                                "Shell script run on the instance when `preset = \"command\"` (required then, not allowed \
otherwise). Exit status 0 means the instance is safe to terminate; anything else is a failed drain. It may be started \
a second time while it runs (a duplicate notification's command, cancelled moments later), so it must be safe to \
start twice.",
                            ),
                            Attribute::optional_computed(
                                "timeout",
                                Type::String,
                                "The drain budget, e.g. `\"90m\"`, `\"1h30m\"`, `\"20m30s\"` or a number of seconds \
(default `\"1h\"`, at least 1m). Every other timeout derives from it; a budget AWS cannot honour (over the smaller of \
48h and 100 x `heartbeat_timeout`, less the agent wait, 3m for a held-back start and 3m to complete) is refused at plan time.",
                            )
                            .with_default(Value::string(DEFAULT_TIMEOUT)),
                            Attribute::computed("timeout_seconds", Type::Number, "`timeout` in seconds."),
                            Attribute::computed(
                                "nomad_deadline_seconds",
                                Type::Number,
                                "The `-deadline` given to `nomad node drain`: `timeout` less a margin for verification.",
                            ),
                        ],
                        blocks: vec![nomad_block()],
                        deprecated: false,
                    },
                },
                spot_block(),
                super::timeouts::block(),
            ],
            deprecated: false,
        },
    }
}
