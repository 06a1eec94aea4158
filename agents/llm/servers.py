"""Start and stop the local OpenAI-compatible servers (llama-cpp-python, vLLM) on loopback.

A `ManagedServer` is a subprocess on a free 127.0.0.1 port, polled until `/v1/models`
answers. It is stopped by `stop()` (the client's `close()` / context manager, which
also runs on Ctrl-C), by a `weakref.finalize` hook that also runs at interpreter
exit, and, when started from the main thread on Linux, by the kernel
(PR_SET_PDEATHSIG) if our process is killed outright.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

import httpx

from recagora.item_space.errors import ModelError

_PR_SET_PDEATHSIG = 1


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: SIGTERM it when the parent thread dies.
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop_process(process: subprocess.Popen, log_file) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    log_file.close()


class ManagedServer:
    """One server subprocess serving the OpenAI API at `base_url`.

    Args:
        argv: the command line, with the port already in it.
        port: the loopback port it listens on.
        name: a human name for messages ("llama.cpp server").
        ready_timeout_s: seconds to wait for `/v1/models` before giving up.
        env: extra environment variables for the subprocess (a replica's GPU).
    """

    def __init__(
        self,
        argv: list[str],
        port: int,
        name: str,
        ready_timeout_s: float,
        env: dict[str, str] | None = None,
    ) -> None:
        self.argv = argv
        self.port = port
        self.name = name
        self.base_url = f"http://127.0.0.1:{port}/v1"
        log_dir = Path(tempfile.gettempdir()) / "recagora-llm-servers"
        log_dir.mkdir(exist_ok=True)
        self.log_path = log_dir / f"{name.split()[0]}-{port}.log"
        log_file = open(self.log_path, "wb")  # noqa: SIM115 (closed by the finalizer)
        on_main_thread = threading.current_thread() is threading.main_thread()
        self.process = subprocess.Popen(
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env} if env else None,
            preexec_fn=_die_with_parent if on_main_thread and sys.platform == "linux" else None,
        )
        self._finalizer = weakref.finalize(self, _stop_process, self.process, log_file)
        try:
            self._wait_ready(ready_timeout_s)
        except BaseException:  # Ctrl-C while waiting included: never leave it running
            self.stop()
            raise

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        """True while the subprocess runs."""
        return self.process.poll() is None

    def exit_message(self) -> str:
        """One line saying how the server ended, with the tail of its log."""
        return f"{self.name} (pid {self.pid}) exited with code {self.process.poll()}; {self._log_tail()}"

    def stop(self) -> None:
        """Terminate (then kill) the subprocess and close its log; idempotent."""
        self._finalizer()

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                message = self.exit_message()
                self.stop()
                raise ModelError(f"{message}; full log: {self.log_path}")
            if self._answers():
                return
            time.sleep(0.1)
        self.stop()
        raise ModelError(
            f"{self.name} did not answer on {self.base_url} within {timeout_s:.0f} s; "
            f"see {self.log_path} or raise ready_timeout_s"
        )

    def _answers(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return "last log line: " + (lines[-1][:300] if lines else "(empty)")


def start_llamacpp_server(
    gguf_path: Path,
    alias: str,
    *,
    n_ctx: int,
    n_threads: int,
    ready_timeout_s: float,
    n_threads_batch: int | None = None,
) -> ManagedServer:
    """Serve a GGUF with `python -m llama_cpp.server` on a free loopback port.

    n_threads_batch: threads for prompt processing; None = llama-cpp-python's default (all
    cores). Several servers on one machine must set it: N servers each spinning on every
    core for their prompts ran 4.5x SLOWER than one server on 2 cores.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise ModelError(
            "llamacpp: needs llama-cpp-python; run: "
            "CMAKE_ARGS=-DGGML_NATIVE=OFF pip install 'llama-cpp-python[server]==0.3.36'"
        )
    port = free_loopback_port()
    argv = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(gguf_path), "--model_alias", alias,
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", str(n_ctx), "--n_threads", str(n_threads), "--verbose", "False",
    ]  # fmt: skip
    if n_threads_batch is not None:
        argv += ["--n_threads_batch", str(n_threads_batch)]
    return ManagedServer(argv, port, "llama.cpp server", ready_timeout_s)


def start_vllm_server(
    model: str,
    *,
    extra_args: list[str],
    ready_timeout_s: float,
    replica: tuple[int, int] = (0, 1),
) -> ManagedServer:
    """Serve a Hugging Face model with `vllm serve` (prefix caching on) on a free loopback port.

    replica: (index, count) of a fleet of `count` servers: with at least `count` GPUs each
    gets its own (CUDA_VISIBLE_DEVICES); fewer GPUs are shared, each replica taking an equal
    share of their memory (--gpu-memory-utilization 0.9/count) unless extra_args sets it.
    """
    executable = shutil.which("vllm") or (
        str(Path(sys.executable).with_name("vllm"))
        if Path(sys.executable).with_name("vllm").exists()
        else None
    )
    if executable is None or importlib.util.find_spec("vllm") is None:
        raise ModelError(
            "vllm: needs the optional vllm package on a CUDA GPU machine: pip install 'recagora[gpu]'; "
            "without a GPU use --llm llamacpp:smollm2"
        )
    if not _has_cuda_gpu():
        raise ModelError(
            "vllm: no CUDA GPU found (nvidia-smi lists none); use --llm llamacpp:smollm2"
        )
    port = free_loopback_port()
    argv = [
        executable, "serve", model, "--host", "127.0.0.1", "--port", str(port),
        "--served-model-name", model, "--enable-prefix-caching", *extra_args,
    ]  # fmt: skip
    env, share = _replica_placement(replica, extra_args)
    return ManagedServer(argv + share, port, "vllm server", ready_timeout_s, env)


def _replica_placement(
    replica: tuple[int, int], extra_args: list[str]
) -> tuple[dict[str, str], list[str]]:
    """(environment, extra argv) placing replica `index` of `count` on the GPUs."""
    index, count = replica
    if count == 1:
        return {}, []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    devices = visible.split(",") if visible else [str(i) for i in range(_cuda_gpu_count())]
    if len(devices) >= count:
        return {"CUDA_VISIBLE_DEVICES": devices[index].strip()}, []
    if any(arg.startswith("--gpu-memory-utilization") for arg in extra_args):
        return {}, []
    return {}, ["--gpu-memory-utilization", f"{0.9 / count:.3f}"]


def _has_cuda_gpu() -> bool:
    return _cuda_gpu_count() > 0


def _cuda_gpu_count() -> int:
    """GPUs `nvidia-smi -L` lists (0 without it, or with CUDA_VISIBLE_DEVICES="")."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) == "":
        return 0
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return 0
    listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
    if listing.returncode != 0:
        return 0
    return sum(line.startswith("GPU") for line in listing.stdout.splitlines())
