"""The child process that runs llama.cpp's own HTTP server (``python -m chains.local.llama_server``).

``chains.local.supervisor`` starts it, one per app process. It runs in a process of
its own, not in the app's, for three reasons read in xllamacpp's source:
``xllamacpp.Server(params)`` holds the GIL while the model loads (the app could
not draw the loading progress), llama.cpp installs its own SIGINT/SIGTERM
handlers (Streamlit's Ctrl+C would stop only the model), and a process can be
stopped and its memory given back at once.

Everything a default could open is set explicitly: it listens on 127.0.0.1 only,
downloads nothing (``offline``, no Hugging Face repo, no URL), serves no web UI,
no tools and no MCP servers. It prints one JSON line when the model is loaded,
then serves until its standard input closes: when the app stops it, or dies.
"""

from __future__ import annotations

import argparse
import json
import sys

LISTEN_HOST = "127.0.0.1"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True, help="the GGUF file")
    parser.add_argument("--alias", required=True, help="the model name the server reports")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--slots", type=int, default=1, help="llama.cpp's n_parallel: requests decoded together")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for generation and for the prompt")
    parser.add_argument("--context-per-slot", type=int, default=1024)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Load the model, serve on 127.0.0.1 until stdin closes, then stop the server."""
    args = _parse(argv)
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model.hf_repo = ""
    params.model.url = ""
    params.offline = True  # never reach a model hub
    params.model_alias = {args.alias}  # the server names the model by its path otherwise (the host's folders)
    params.hostnames = [LISTEN_HOST]
    params.port = args.port
    params.n_parallel = max(1, args.slots)
    params.n_ctx = max(1, args.slots) * args.context_per_slot  # shared by the slots
    params.cpuparams.n_threads = max(1, args.threads)
    params.cpuparams_batch.n_threads = max(1, args.threads)
    params.ui = False
    params.endpoint_metrics = False
    params.server_tools = []
    params.mcp_servers_config = ""
    params.mcp_servers_json = ""
    params.verbosity = 1
    server = xllamacpp.Server(params)  # returns once the model is loaded and the HTTP server listens
    print(json.dumps({"ready": server.listening_address}), flush=True)
    try:
        sys.stdin.read()  # EOF: the app closed the pipe, or exited
    finally:
        del server  # llama.cpp's destructor ends the main loop and joins its threads
    return 0


if __name__ == "__main__":
    sys.exit(main())
