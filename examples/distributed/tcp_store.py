"""The TCPStore backend that the torch at hand can run.

Since PyTorch 2.4 torch.distributed's TCPStore asks for its libuv backend unless USE_LIBUV=0 is
set, and a PyTorch built without libuv (Debian's 2.x) then fails at init_process_group with
"use_libuv was requested but PyTorch was built without libuv support". Called before
init_process_group, this asks the torch at hand once and sets USE_LIBUV=0 where libuv is
missing, so that the users of such a build never meet the error. A USE_LIBUV already set is
left as it is.
"""
import os


def use_available_tcp_store_backend():
    if "USE_LIBUV" in os.environ:
        return
    import torch.distributed as dist

    try:
        # A server store on a free loopback port, alone and not waiting: it only tells whether
        # the libuv backend can be made, and closes when it goes out of scope.
        dist.TCPStore("127.0.0.1", 0, 1, True, use_libuv=True, wait_for_workers=False)
    except TypeError:
        return  # a torch before the libuv backend: nothing to choose
    except RuntimeError as error:
        if "libuv" in str(error):
            os.environ["USE_LIBUV"] = "0"
