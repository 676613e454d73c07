/** The manual: served as an MCP resource and by `runtime.capability_summary()` in the sandbox. */
export const CAPABILITIES_URI = 'resource://mcp-server-code-execution-mode/capabilities';

export const CAPABILITY_SUMMARY = `# run_python: a persistent Python sandbox

**Philosophy.** Write code instead of making many tool calls: one run_python call can loop,
branch, retry, combine results and print only what matters.

**Persistence.** One long-lived Python session: variables, imports and functions defined in
one call are there in the next. Top-level \`await\` works. If the sandbox has to be restarted
(timeout that ignores the interrupt, out of memory, idle for a long time) the result says so
and the state starts empty again.

**The sandbox.** No network, read-only filesystem except \`/workspace\` (the working
directory, also HOME) and \`/tmp\`, limited memory, processes and time. Output per stream
per call is capped; long output is truncated with a marker. stdin is empty.

**Results.** stdout and stderr come back as lines; an uncaught exception gives its
traceback on stderr and status error; \`sys.exit(n)\` gives exit code n. The session survives
both.

**MCP servers.** Pass \`servers: ["name", ...]\` to load configured MCP servers for a call;
each is then reachable as \`mcp_<name>\` (await \`mcp_<name>.<tool>(**arguments)\`).

**Discovery.** \`from mcp import runtime\`; \`runtime.capability_summary()\` prints this
manual.
`;
