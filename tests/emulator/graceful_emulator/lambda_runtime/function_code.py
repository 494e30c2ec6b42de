"""The function's code: its zip unpacked once per code hash, and the architecture check of its `bootstrap`
(binary_machine, command_for)."""

import hashlib
import io
import os
import platform
import shutil
import threading
import zipfile

ELF_MACHINES = {0x3E: "x86_64", 0xB7: "aarch64"}


def code_digest(function) -> str:
    # moto keeps the zip's hex SHA-256; hashing a multi-megabyte zip on every invocation would cost real CPU.
    return getattr(function, "code_digest", "") or hashlib.sha256(function.code_bytes).hexdigest()


class CodeDirectories:
    """The functions' unpacked zips, one directory per function and code hash in the emulator's scratch directory."""

    def __init__(self):
        self.lock = threading.Lock()  # concurrent first deliveries must not unpack (and exec) a half-written zip

    def of(self, function) -> str:
        """Unpacks the function's zip once per code hash and returns the directory holding `bootstrap`."""
        from ..ssm_commands.processes import work_root
        digest = code_digest(function)[:16]
        target = os.path.join(work_root(), "lambda", f"{function.function_name}-{digest}")
        with self.lock:
            if os.path.isdir(target):
                return target
            staging = target + ".partial"
            shutil.rmtree(staging, ignore_errors=True)
            with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
                archive.extractall(staging)
                for info in archive.infolist():
                    mode = info.external_attr >> 16
                    if mode:
                        os.chmod(os.path.join(staging, info.filename), mode & 0o7777)
            os.rename(staging, target)
        return target


def binary_machine(path: str) -> str | None:
    with open(path, "rb") as handle:
        header = handle.read(20)
    if header[:4] != b"\x7fELF":
        return None
    endian = "little" if header[5] == 1 else "big"
    return ELF_MACHINES.get(int.from_bytes(header[18:20], endian), "unknown")


def command_for(bootstrap: str) -> list:
    """Runs an aarch64 binary through qemu-aarch64-static on an x86_64 host (and vice versa it cannot)."""
    machine = binary_machine(bootstrap)
    host = platform.machine()
    host = "aarch64" if host == "arm64" else host
    if machine is None or machine == host:
        return [bootstrap]
    if machine == "aarch64" and host == "x86_64":
        qemu = shutil.which("qemu-aarch64-static")
        if not qemu:
            raise RuntimeError("bootstrap is an aarch64 binary and qemu-aarch64-static is missing (Debian package "
                               "qemu-user-static; `cargo xtask setup` installs it)")
        return [qemu, bootstrap]
    raise RuntimeError(f"bootstrap is built for {machine}; this {host} host cannot run it")
