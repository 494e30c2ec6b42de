//! The emulator launcher: start on a free port, control API, reset, and a stop that takes every process with it.

use acceptance::emulator::{Emulator, NomadBehaviour};
use serde_json::json;
use std::time::Duration;

#[allow(unsafe_code)] // libc has no safe kill(2)
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[test]
fn starts_resets_and_stops_with_its_process_group() {
    let emulator = Emulator::start().expect("emulator starts");
    assert!(emulator.endpoint().starts_with("http://127.0.0.1:"));
    emulator.set_clock_scale(10.0).unwrap();
    emulator.set_nomad(&NomadBehaviour { drain_seconds: 1.0, ..Default::default() }).unwrap();
    emulator.set_deliveries(&json!({"drop_next": 1})).unwrap();
    let knobs = emulator.control("deliveries", &json!({})).unwrap();
    assert_eq!(knobs["deliveries"]["drop_next"], 1);

    let error = emulator.control("clock", &json!({"scale": -1})).unwrap_err();
    assert!(error.contains("'scale' must be positive"), "{error}");

    emulator.reset().unwrap();
    let knobs = emulator.control("deliveries", &json!({})).unwrap();
    assert_eq!(knobs["deliveries"]["drop_next"], 0, "reset clears the knobs");
    assert!(emulator.events().unwrap().is_empty(), "reset clears the event log");

    let pid = emulator.pid() as i32;
    let log = emulator.log_path().to_path_buf();
    assert!(log.is_file());
    drop(emulator);
    std::thread::sleep(Duration::from_millis(100));
    assert!(!alive(pid), "the emulator process is gone after drop");
    assert!(!log.exists(), "a passing test does not keep the log");
}

#[test]
fn two_emulators_run_side_by_side_on_different_ports() {
    let first = Emulator::start().expect("first emulator starts");
    let second = Emulator::start().expect("second emulator starts");
    assert_ne!(first.endpoint(), second.endpoint());
    first.set_deliveries(&json!({"duplicate_next": 2})).unwrap();
    let other = second.control("deliveries", &json!({})).unwrap();
    assert_eq!(other["deliveries"]["duplicate_next"], 0, "state is per emulator");
}
