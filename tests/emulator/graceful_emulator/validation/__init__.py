"""Server-side request validation against the botocore service models (the same data the AWS SDKs are generated
from): required members, types, lengths, ranges, patterns and enums, answered with each service's validation error."""
