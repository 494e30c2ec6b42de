"""Seeds the emulator for the demo: Auto Scaling groups with running instances, and capacity changes.

    python -m graceful_emulator.seed --endpoint URL create-group NAME --instances 3
    python -m graceful_emulator.seed --endpoint URL set-capacity NAME 1
    python -m graceful_emulator.seed --endpoint URL describe-group NAME
    python -m graceful_emulator.seed --endpoint URL time-calls 40

Prints one JSON document per call (instance ids and lifecycle states), so callers parse instead of scraping.
"""

import argparse
import json
import sys
import time

import boto3

# moto's bundled ami-12c6146b is a Windows Server image (EC2 Platform "windows"): the drain document's
# `platformType: Linux` precondition would skip its step there, as the agent does. This is moto's Amazon Linux AMI.
LINUX_AMI = "ami-760aaa0f"


def _client(endpoint: str):
    return boto3.client(
        "autoscaling",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _describe(client, name: str) -> dict:
    groups = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    if not groups:
        raise SystemExit(f"no Auto Scaling group named {name!r}")
    group = groups[0]
    return {
        "name": name,
        "desired": group["DesiredCapacity"],
        "instances": [
            {"id": i["InstanceId"], "state": i["LifecycleState"]} for i in group.get("Instances", [])
        ],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="graceful_emulator.seed")
    parser.add_argument("--endpoint", required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-group")
    create.add_argument("name")
    create.add_argument("--instances", type=int, default=3)
    capacity = commands.add_parser("set-capacity")
    capacity.add_argument("name")
    capacity.add_argument("desired", type=int)
    describe = commands.add_parser("describe-group")
    describe.add_argument("name")
    timing = commands.add_parser("time-calls", help="time N sequential DescribeAutoScalingGroups calls")
    timing.add_argument("count", type=int)
    args = parser.parse_args(argv)

    client = _client(args.endpoint)
    if args.command == "time-calls":
        client.describe_auto_scaling_groups()  # the first call loads the backend; not measured
        started = time.perf_counter()
        for _ in range(args.count):
            client.describe_auto_scaling_groups()
        json.dump({"calls": args.count, "seconds": time.perf_counter() - started}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    if args.command == "create-group":
        config = f"{args.name}-lc"
        client.create_launch_configuration(
            LaunchConfigurationName=config, ImageId=LINUX_AMI, InstanceType="t3.micro"
        )
        client.create_auto_scaling_group(
            AutoScalingGroupName=args.name,
            LaunchConfigurationName=config,
            MinSize=0,
            MaxSize=max(args.instances, 1) * 2,
            DesiredCapacity=args.instances,
            AvailabilityZones=["us-east-1a"],
        )
    elif args.command == "set-capacity":
        client.set_desired_capacity(AutoScalingGroupName=args.name, DesiredCapacity=args.desired, HonorCooldown=False)
    json.dump(_describe(client, args.name), sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
