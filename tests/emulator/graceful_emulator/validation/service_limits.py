"""AWS's documented limits that the service models do not carry, checked on a request's members (after the model
constraints pass) against the state the service already holds. Each rule cites where the limit is documented."""

import json
import re

from moto.iam.models import get_account_id_from, iam_backends
from moto.ssm.models import ssm_backends

from .. import sigv4
from .rejection import Rejection

# Lambda: "The maximum size of the variables object that is stored in the function's configuration must not exceed
# 4096 bytes" (Lambda developer guide, "Troubleshoot deployment issues", and the Lambda quotas page: "Function
# environment variables: 4 KB, for all environment variables associated with the function, in aggregate").
LAMBDA_ENVIRONMENT_BYTES = 4096
# IAM quotas: "Role policy size: 10,240 characters" for the aggregate of a role's inline policies; "IAM doesn't count
# white space when calculating the size of a policy against these quotas" (IAM user guide, reference_iam-quotas).
ROLE_INLINE_POLICY_CHARACTERS = 10240
# SSM: MaxDocumentSizeExceeded "The size limit of a document is 64 KB" (SSM model, error shape documentation).
DOCUMENT_BYTES = 64 * 1024
# SSM quotas: 1,000 versions per document (Systems Manager endpoints and quotas, "Document versions").
DOCUMENT_VERSIONS = 1000
# CreateDocument, Name: "You can't use the following strings as document name prefixes. These are reserved by AWS
# for use as document name prefixes: aws, amazon, amzn, AWSEC2, AWSConfigRemediation, AWSSupport" (SSM model docs).
RESERVED_DOCUMENT_PREFIXES = ("aws", "amazon", "amzn", "AWSEC2", "AWSConfigRemediation", "AWSSupport")


def _caller(environ: dict) -> tuple:
    """(account id, region) of the request, from its SigV4 credential scope."""
    signed = sigv4.scope(environ)
    if not signed:
        return "123456789012", "us-east-1"
    return get_account_id_from(signed.access_key_id), signed.region


def _lambda_environment(members: dict, environ: dict):
    variables = (members.get("Environment") or {}).get("Variables")
    if not variables:
        return None
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) <= LAMBDA_ENVIRONMENT_BYTES:
        return None
    return Rejection("InvalidParameterValueException", 400,
                     "Lambda was unable to configure your environment variables because the environment variables "
                     f"you have provided exceeded the 4KB limit. String measured: {measured}", "lambda-environment-4kb")


def _no_whitespace_length(document: str) -> int:
    return len(re.sub(r"\s", "", document))


def _role_inline_policies(members: dict, environ: dict):
    account, _ = _caller(environ)
    role = next((r for r in iam_backends[account]["aws"].roles.values() if r.name == members["RoleName"]), None)
    if role is None:
        return None  # moto answers NoSuchEntity
    others = [doc for name, doc in role.policies.items() if name != members.get("PolicyName")]
    total = sum(_no_whitespace_length(doc) for doc in others) + _no_whitespace_length(members["PolicyDocument"])
    if total <= ROLE_INLINE_POLICY_CHARACTERS:
        return None
    return Rejection("LimitExceeded", 409, f"Maximum policy size of {ROLE_INLINE_POLICY_CHARACTERS} bytes exceeded "
                     f"for role {members['RoleName']}", "role-inline-policy-size")


def _document_size(members: dict, environ: dict):
    if len(members["Content"].encode()) <= DOCUMENT_BYTES:
        return None
    return Rejection("MaxDocumentSizeExceeded", 400, "The size limit of a document is 64 KB.", "document-size")


def _document_create(members: dict, environ: dict):
    name = members["Name"]
    reserved = next((p for p in RESERVED_DOCUMENT_PREFIXES if name.startswith(p)), None)
    if reserved:
        return Rejection("ValidationException", 400, f"Document name {name} starts with the reserved prefix "
                         f"{reserved!r} (reserved: {', '.join(RESERVED_DOCUMENT_PREFIXES)})", "document-name-prefix")
    return _document_size(members, environ)


def _document_update(members: dict, environ: dict):
    rejection = _document_size(members, environ)
    if rejection:
        return rejection
    account, region = _caller(environ)
    documents = ssm_backends[account][region]._documents.get(members["Name"])
    if documents is not None and len(documents.versions) >= DOCUMENT_VERSIONS:
        return Rejection("DocumentVersionLimitExceeded", 400, "The document has too many versions. Delete one or "
                         "more document versions and try again.", "document-versions")
    return None


RULES = {
    ("lambda", "CreateFunction"): _lambda_environment,
    ("lambda", "UpdateFunctionConfiguration"): _lambda_environment,
    ("iam", "PutRolePolicy"): _role_inline_policies,
    ("ssm", "CreateDocument"): _document_create,
    ("ssm", "UpdateDocument"): _document_update,
}


def check(service: str, operation: str, members: dict, environ: dict):
    rule = RULES.get((service, operation))
    return rule(members, environ) if rule else None
