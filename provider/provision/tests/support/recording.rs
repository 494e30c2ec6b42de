//! An HTTP client wrapper that records the AWS operation of every request, so a test can assert that a converge
//! with nothing to do sends no write call.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// Operations seen, e.g. `iam:GetRole`, `ssm:AmazonSSM.CreateDocument`, `lambda:PUT /2015-03-31/functions/x/code`.
#[derive(Clone, Debug, Default)]
pub struct OperationLog(Arc<Mutex<Vec<String>>>);

impl OperationLog {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// Operations that may change something: everything but Get*/List*/Describe* (and REST GETs).
    pub fn take_writes(&self) -> Vec<String> {
        self.take().into_iter().filter(|op| is_write(op)).collect()
    }
}

fn is_write(operation: &str) -> bool {
    let name = operation.rsplit(['.', ':']).next().unwrap_or(operation);
    if let Some(rest) = operation.strip_prefix("lambda:") {
        return !rest.starts_with("GET ");
    }
    !(name.starts_with("Get") || name.starts_with("List") || name.starts_with("Describe"))
}

fn operation_of(request: &HttpRequest) -> String {
    if let Some(target) = request.headers().get("x-amz-target") {
        // JSON protocols (SSM, CloudWatch Logs, EventBridge): `AmazonSSM.CreateDocument`.
        return format!("json:{target}");
    }
    let body = request.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
    if let Some(action) = body.split('&').find_map(|pair| pair.strip_prefix("Action=")) {
        // Query protocols (IAM, SNS, Auto Scaling, STS).
        return format!("query:{action}");
    }
    // REST (Lambda): method and path.
    let path = request.uri().splitn(4, '/').nth(3).unwrap_or_default();
    format!("lambda:{} /{path}", request.method())
}

#[derive(Debug)]
struct RecordingConnector {
    inner: SharedHttpConnector,
    log: OperationLog,
}

impl HttpConnector for RecordingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.log.0.lock().unwrap().push(operation_of(&request));
        self.inner.call(request)
    }
}

#[derive(Debug)]
pub struct RecordingClient {
    pub inner: SharedHttpClient,
    pub log: OperationLog,
}

impl HttpClient for RecordingClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let inner = self.inner.http_connector(settings, components);
        SharedHttpConnector::new(RecordingConnector { inner, log: self.log.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::is_write;

    #[test]
    fn reads_are_not_writes() {
        assert!(!is_write("query:GetRole"));
        assert!(!is_write("json:AmazonSSM.DescribeDocument"));
        assert!(!is_write("lambda:GET /2015-03-31/functions/x"));
        assert!(is_write("query:PutRolePolicy"));
        assert!(is_write("json:AWSEvents.PutRule"));
        assert!(is_write("lambda:PUT /2015-03-31/functions/x/code"));
    }
}
