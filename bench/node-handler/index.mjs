// Benchmark peer of the Rust drain handler (`cargo xtask bench handler`): what a Node.js 20 Lambda does before its
// first `GET /next` - load the AWS SDK v3 Auto Scaling and SSM clients, build them once - then the runtime loop.
import http from "node:http";
import { AutoScalingClient } from "@aws-sdk/client-auto-scaling";
import { SSMClient } from "@aws-sdk/client-ssm";

const config = { region: process.env.AWS_REGION ?? "us-east-1", retryMode: "adaptive", maxAttempts: 3 };
const autoscaling = new AutoScalingClient(config);
const ssm = new SSMClient(config);
const api = process.env.AWS_LAMBDA_RUNTIME_API;
const agent = new http.Agent({ keepAlive: true });

function request(method, path, body) {
  return new Promise((resolve, reject) => {
    const [host, port] = api.split(":");
    const req = http.request({ host, port, method, path, agent }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function handle(event) {
  // The clients are ready for the drain logic; the benchmark only measures start-up.
  return { handled: true, clients: [autoscaling.config.serviceId, ssm.config.serviceId], event };
}

for (;;) {
  const next = await request("GET", "/2018-06-01/runtime/invocation/next");
  const id = next.headers["lambda-runtime-aws-request-id"];
  const result = await handle(JSON.parse(next.body));
  await request("POST", `/2018-06-01/runtime/invocation/${id}/response`, JSON.stringify(result));
}
