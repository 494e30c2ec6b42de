//! Runs the real `execute::handle` once against a session: polled on this thread with a no-op waker. The world
//! answers every call at once, so the invocation finishes in one go; it stays pending only when it crashed (every
//! call after a crash never answers), and then it is dropped where it stands, as Lambda drops a dead invocation.

use crate::session::Session;
use drain_contract::HandlerConfig;
use graceful_handler::aws_error::HandlerError;
use graceful_handler::execute::handle;
use serde_json::Value;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// The handler's own bound on an invocation; never reached, as the world takes no time to answer.
const BOUND: Duration = Duration::from_secs(60);
/// Polls before concluding that an invocation that did not crash is stuck: the handler's stream of instances may
/// yield to its caller now and then even when every future is ready.
const MAX_POLLS: usize = 1000;

/// How an invocation ended: its result, or `None` when it crashed.
pub type Ended = Option<Result<Value, HandlerError>>;

/// Runs one invocation to its end.
pub fn invoke(
    runtime: &tokio::runtime::Runtime,
    session: &Session<'_>,
    config: &HandlerConfig,
    payload: &Value,
) -> Ended {
    // `tokio::time::timeout` in `handle` needs a runtime's timer to exist, not to run.
    let _context = runtime.enter();
    let mut invocation = pin!(handle(session, config, payload, BOUND));
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..MAX_POLLS {
        match invocation.as_mut().poll(&mut cx) {
            Poll::Ready(result) => return Some(result),
            Poll::Pending if session.crashed.get() => return None,
            Poll::Pending => continue,
        }
    }
    panic!("an invocation that did not crash is still pending after {MAX_POLLS} polls");
}

/// Two invocations at once: `first` runs until it pauses (see `Session::pausing`), then `second` runs to its end,
/// then `first` resumes and finishes. Their results, in that order.
pub fn invoke_pair(
    runtime: &tokio::runtime::Runtime,
    (first, first_payload): (&Session<'_>, &Value),
    (second, second_payload): (&Session<'_>, &Value),
    config: &HandlerConfig,
) -> (Ended, Ended) {
    let _context = runtime.enter();
    let mut paused = pin!(handle(first, config, first_payload, BOUND));
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..MAX_POLLS {
        match paused.as_mut().poll(&mut cx) {
            Poll::Ready(result) => return (Some(result), invoke(runtime, second, config, second_payload)),
            Poll::Pending if first.paused.get() => break,
            Poll::Pending => continue,
        }
    }
    let second_result = invoke(runtime, second, config, second_payload);
    first.resumed.set(true);
    for _ in 0..MAX_POLLS {
        if let Poll::Ready(result) = paused.as_mut().poll(&mut cx) {
            return (Some(result), second_result);
        }
    }
    panic!("a resumed invocation is still pending after {MAX_POLLS} polls");
}
