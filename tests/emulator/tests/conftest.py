"""Fixtures: one emulator process per test session (free port, readiness wait), reset before every test."""

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile

import boto3
import botocore.config
import pytest

from graceful_emulator.seed import LINUX_AMI

EMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Emulator:
    def __init__(self, endpoint: str):
        self.endpoint = endpoint

    def control(self, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.endpoint}/_graceful/{path}", data=data,
                                         method="GET" if body is None else "POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def events(self, kind: str | None = None) -> list:
        events = self.control("events")["events"]
        return [e for e in events if kind is None or e["kind"] == kind]

    def wait_for(self, predicate, timeout: float = 10.0, what: str = "condition"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; event log: "
                             f"{json.dumps(self.events(), default=str)[-3000:]}")

    def client(self, service: str, validate_locally: bool = True):
        """A boto3 client; `validate_locally=False` sends what botocore would refuse (as another SDK might)."""
        return boto3.client(service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="test",
                            aws_secret_access_key="test",
                            config=botocore.config.Config(parameter_validation=validate_locally))


@pytest.fixture(scope="session")
def emulator_process():
    port = _free_port()
    log_path = os.path.join(os.environ.get("PYTEST_EMULATOR_LOG_DIR", "/tmp"), f"graceful-emulator-{port}.log")
    log = open(log_path, "w")
    process = subprocess.Popen([sys.executable, "-m", "graceful_emulator", "-H", "127.0.0.1", "-p", str(port)],
                               cwd=EMULATOR_DIR, stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/_graceful/health", timeout=1).read()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"emulator did not start; log: {open(log_path).read()[-2000:]}")
            time.sleep(0.1)
    yield Emulator(endpoint)
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
    print(f"emulator log: {log_path}")


@pytest.fixture
def emulator(emulator_process):
    emulator_process.control("reset", {})
    return emulator_process


# --- builders shared by the tests ------------------------------------------------------------------------------

def make_group(emulator, name: str = "workers", size: int = 3) -> list:
    ec2 = emulator.client("ec2")
    asg = emulator.client("autoscaling")
    template = ec2.create_launch_template(LaunchTemplateName=f"{name}-lt",
                                          LaunchTemplateData={"ImageId": LINUX_AMI, "InstanceType": "t3.micro"})
    asg.create_auto_scaling_group(AutoScalingGroupName=name, MinSize=0, MaxSize=10, DesiredCapacity=size,
                                  AvailabilityZones=["us-east-1a"],
                                  LaunchTemplate={"LaunchTemplateId": template["LaunchTemplate"]["LaunchTemplateId"]})
    return [i["InstanceId"] for i in group_instances(emulator, name)]


def group_instances(emulator, name: str) -> list:
    groups = emulator.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    return groups["AutoScalingGroups"][0]["Instances"]


def make_role(emulator, name: str = "hook-publisher") -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "autoscaling.amazonaws.com"}}]}
    return emulator.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


def make_publisher_role(emulator, name: str = "hook-publisher", service: str = "autoscaling.amazonaws.com") -> str:
    """A role `service` may assume to publish notifications: what AWS's managed policy AutoScalingNotificationAccessRole
    grants (sqs:SendMessage, sqs:GetQueueUrl, sns:Publish)."""
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": service}}]}
    iam = emulator.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    publish = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:GetQueueUrl", "sns:Publish"], "Resource": "*"}]}
    iam.put_role_policy(RoleName=name, PolicyName="notification-access", PolicyDocument=json.dumps(publish))
    return arn


def topic_with_queue(emulator, name: str = "lifecycle") -> tuple:
    """A topic plus an SQS queue subscribed to it, so a test can read what was published."""
    sns, sqs = emulator.client("sns"), emulator.client("sqs")
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"{name}-watch")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, queue_url


def drain_queue(emulator, queue_url: str) -> list:
    """Every SNS notification waiting in the queue, as dicts (Subject, Message parsed as JSON)."""
    sqs = emulator.client("sqs")
    found = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            envelope = json.loads(message["Body"])
            found.append({"Subject": envelope.get("Subject"), "Message": json.loads(envelope["Message"])})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def zip_bytes(files: dict) -> bytes:
    """A zip whose entries are (name -> (text, mode))."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, (content, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, content)
    return buffer.getvalue()
