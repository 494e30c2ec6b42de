"""Which command runs a function's bootstrap: directly, or an aarch64 binary under qemu-aarch64-static on x86_64."""

import platform
import shutil
import struct

import pytest
from graceful_emulator.lambda_runtime import binary_machine, command_for


def fake_elf(path, machine: int):
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack("<HH", 2, machine)
    path.write_bytes(header + bytes(64))
    return str(path)


def test_script_and_native_binaries_run_directly(tmp_path):
    script = tmp_path / "bootstrap"
    script.write_text("#!/bin/sh\n")
    assert binary_machine(str(script)) is None
    assert command_for(str(script)) == [str(script)]
    native = {"x86_64": 0x3E, "aarch64": 0xB7}[platform.machine()]
    path = fake_elf(tmp_path / "native", native)
    assert command_for(path) == [path]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="emulating arm64 applies to x86_64 hosts")
def test_arm64_binary_runs_under_qemu_on_x86_64(tmp_path):
    path = fake_elf(tmp_path / "bootstrap", 0xB7)
    assert binary_machine(path) == "aarch64"
    qemu = shutil.which("qemu-aarch64-static")
    assert qemu, "qemu-aarch64-static is missing: install Debian's qemu-user-static (`cargo xtask setup` does)"
    assert command_for(path) == [qemu, path]
