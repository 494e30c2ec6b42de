//! Every AWS operation the drain handler calls, each with the IAM action that authorises it: the one list the
//! handler's calls are named from and the handler role's policy is checked against.

/// One AWS API operation of the handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    CancelCommand,
    CompleteLifecycleAction,
    DeleteParameter,
    DescribeAutoScalingGroups,
    DescribeAutoScalingInstances,
    DescribeInstanceInformation,
    DescribeScalingActivities,
    DescribeWarmPool,
    GetParametersByPath,
    ListCommands,
    PutParameter,
    RecordLifecycleActionHeartbeat,
    SendCommand,
}

impl Operation {
    pub const ALL: [Operation; 13] = [
        Operation::CancelCommand,
        Operation::CompleteLifecycleAction,
        Operation::DeleteParameter,
        Operation::DescribeAutoScalingGroups,
        Operation::DescribeAutoScalingInstances,
        Operation::DescribeInstanceInformation,
        Operation::DescribeScalingActivities,
        Operation::DescribeWarmPool,
        Operation::GetParametersByPath,
        Operation::ListCommands,
        Operation::PutParameter,
        Operation::RecordLifecycleActionHeartbeat,
        Operation::SendCommand,
    ];

    /// The IAM action (`service:Operation`); for these operations the action is named like the API operation.
    pub fn iam_action(self) -> &'static str {
        match self {
            Operation::CancelCommand => "ssm:CancelCommand",
            Operation::CompleteLifecycleAction => "autoscaling:CompleteLifecycleAction",
            Operation::DeleteParameter => "ssm:DeleteParameter",
            Operation::DescribeAutoScalingGroups => "autoscaling:DescribeAutoScalingGroups",
            Operation::DescribeAutoScalingInstances => "autoscaling:DescribeAutoScalingInstances",
            Operation::DescribeInstanceInformation => "ssm:DescribeInstanceInformation",
            Operation::DescribeScalingActivities => "autoscaling:DescribeScalingActivities",
            Operation::DescribeWarmPool => "autoscaling:DescribeWarmPool",
            Operation::GetParametersByPath => "ssm:GetParametersByPath",
            Operation::ListCommands => "ssm:ListCommands",
            Operation::PutParameter => "ssm:PutParameter",
            Operation::RecordLifecycleActionHeartbeat => "autoscaling:RecordLifecycleActionHeartbeat",
            Operation::SendCommand => "ssm:SendCommand",
        }
    }

    /// The Rust SDK client method that calls it (`aws_sdk_autoscaling` / `aws_sdk_ssm`).
    pub fn sdk_method(self) -> &'static str {
        match self {
            Operation::CancelCommand => "cancel_command",
            Operation::CompleteLifecycleAction => "complete_lifecycle_action",
            Operation::DeleteParameter => "delete_parameter",
            Operation::DescribeAutoScalingGroups => "describe_auto_scaling_groups",
            Operation::DescribeAutoScalingInstances => "describe_auto_scaling_instances",
            Operation::DescribeInstanceInformation => "describe_instance_information",
            Operation::DescribeScalingActivities => "describe_scaling_activities",
            Operation::DescribeWarmPool => "describe_warm_pool",
            Operation::GetParametersByPath => "get_parameters_by_path",
            Operation::ListCommands => "list_commands",
            Operation::PutParameter => "put_parameter",
            Operation::RecordLifecycleActionHeartbeat => "record_lifecycle_action_heartbeat",
            Operation::SendCommand => "send_command",
        }
    }

    /// What the handler was doing, for error messages.
    pub fn doing(self) -> &'static str {
        match self {
            Operation::CancelCommand => "cancelling drain command",
            Operation::CompleteLifecycleAction => "completing lifecycle action",
            Operation::DeleteParameter => "releasing the drain lock",
            Operation::DescribeAutoScalingGroups => "describing Auto Scaling groups",
            Operation::DescribeAutoScalingInstances => "describing Auto Scaling instance",
            Operation::DescribeInstanceInformation => "describing SSM instance information",
            Operation::DescribeScalingActivities => "describing scaling activities",
            Operation::DescribeWarmPool => "describing the warm pool",
            Operation::GetParametersByPath => "reading the drain locks",
            Operation::ListCommands => "listing drain commands",
            Operation::PutParameter => "taking the drain lock",
            Operation::RecordLifecycleActionHeartbeat => "recording lifecycle action heartbeat",
            Operation::SendCommand => "sending drain command",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_operation_is_listed_once_and_named_consistently() {
        let mut seen = std::collections::HashSet::new();
        for operation in Operation::ALL {
            assert!(seen.insert(operation), "{operation:?} twice");
            // The IAM action's name is the API operation's: CamelCase of the SDK method.
            let camel: String =
                operation.sdk_method().split('_').map(|word| word[..1].to_uppercase() + &word[1..]).collect();
            assert_eq!(operation.iam_action().split(':').nth(1), Some(camel.as_str()), "{operation:?}");
        }
    }
}
