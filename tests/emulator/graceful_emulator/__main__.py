"""Entry point: patch moto, then run moto's own server main() with the same flags (`-H HOST -p PORT`)."""

import atexit
import os
import sys

from moto import server

from . import (autoscaling_hooks, az_rebalance, dispatch, group_policies, lambda_config, lambda_runtime, refresh, retention, schedules,
               sns_lambda, ssm_commands, state, ticker, warm_pools)


def _listen_address(argv: list) -> tuple:
    host, port = "127.0.0.1", int(os.environ.get("MOTO_PORT", 5000))
    for index, arg in enumerate(argv[:-1]):
        if arg in ("-H", "--host"):
            host = argv[index + 1]
        elif arg in ("-p", "--port"):
            port = int(argv[index + 1])
    return ("127.0.0.1" if host in ("0.0.0.0", "") else host), port


def main() -> None:
    argv = sys.argv[1:]
    state.SERVER["host"], state.SERVER["port"] = _listen_address(argv)
    # warm_pools, retention, refresh and az_rebalance wrap what autoscaling_hooks installs: they come after it, in this
    # order (az_rebalance places the launches refresh marks).
    for module in (dispatch, autoscaling_hooks, group_policies, warm_pools, retention, refresh, az_rebalance,
                   ssm_commands, sns_lambda, lambda_config, schedules):
        module.install()
    atexit.register(ssm_commands.kill_all)
    atexit.register(lambda_runtime.kill_all)
    ticker.start()
    print(f"[graceful] emulator (moto server + graceful extension) on {state.SERVER['host']}:{state.SERVER['port']}",
          flush=True)
    server.main(argv)


if __name__ == "__main__":
    main()
