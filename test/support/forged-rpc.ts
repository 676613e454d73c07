/**
 * Python for attack tests: `forge(fields, exec_id=None)` writes an `rpc_request` frame of
 * the cell's choosing straight onto the channel (the runner's own descriptor, which user
 * code can reach), registered so that the host's answer comes back to it, and returns the
 * answer's payload or "refused: <error>"; `forge_line(bytes)` writes any line. Prepend it
 * to a cell's code.
 */
export const FORGE_RPC = String.raw`
import json, os
from concurrent.futures import Future
from mcp._link import LINK
from mcp_sandbox.rpc import _Request
calls = LINK.transport
forged_ids = iter(range(10**9, 2 * 10**9))
def forge(fields, exec_id=None):
    request_id = next(forged_ids)
    frame = {"type": "rpc_request", "id": request_id,
             "execId": calls._cell if exec_id is None else exec_id, **fields}
    line = (json.dumps(frame) + "\n").encode()
    future = Future()
    with calls._lock:
        calls._waiting[request_id] = _Request(request_id, calls._cell, line, future)
    calls._channel.send_line(line)
    answer = future.result(timeout=60)
    return answer.get("payload") if answer.get("success") else "refused: " + answer.get("error", "")
def forge_line(data):
    calls._channel.send_line(data)
`;
