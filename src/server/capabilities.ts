/** The manual: served as an MCP resource and by `runtime.capability_summary()` in the sandbox. */
export const CAPABILITIES_URI = 'resource://mcp-server-code-execution-mode/capabilities';

export const CAPABILITY_SUMMARY = `# run_python: a persistent Python sandbox that reaches MCP servers

**Philosophy.** Write code instead of making many tool calls: one run_python call can
discover tools, call several servers, loop, branch, retry, and print only what matters.

**Persistence.** One long-lived Python session: variables, imports and functions defined in
one call are there in the next. Top-level \`await\` works. If the sandbox has to be restarted
(a timeout the code ignores, out of memory, idle for long) the result says so and the state
starts empty again.

**Sessions.** run_python's \`session\` (1-64 of \`A-Za-z0-9_.-\`, default \`default\`) picks a
named session: each has its own sandbox, state and queue, so calls in different sessions run
in parallel and see nothing of each other. A few can be live at once (the operator's
\`MCP_BRIDGE_MAX_SESSIONS\`, 4 by default); past that a new session is refused with the list
of live ones. \`runtime.reset()\` ends the current session's state on purpose (after the call
answers; the next call starts fresh) and frees its slot; an idle session frees it too.

**The sandbox.** No network, read-only filesystem except \`/workspace\` (cwd and HOME) and
\`/tmp\`; limited memory, processes and time; output per stream per call is capped; stdin is
empty. An uncaught exception gives its traceback and status error; \`sys.exit(n)\` gives exit
code n; the session survives both.

**Figures and images.** matplotlib figures come back as images (PNG) after the text: every
figure still open at the end of a call, and each \`plt.show()\`, is returned and closed
(Agg backend; no \`plt.ion()\` needed). \`display(obj)\` returns PIL images and objects
with \`_repr_png_\`/\`_repr_jpeg_\` as images and prints anything else (a DataFrame's
table); \`Image.show()\` works too. At most N images per call (the operator's
\`MCP_BRIDGE_IMAGES_PER_CALL\`, 8 by default), each at most about 1 MB: larger ones are
downscaled; a \`notice:\` line says what was shrunk or dropped. Close figures you do not
want returned (\`plt.close(fig)\`).

**Files out.** Files you write under \`/workspace/out/\` (or pass to
\`runtime.save_artifact(name, bytes_or_text_or_path)\`) come back at the end of the call:
images as images, other files as resource links (small text files inline too), up to 32
files of 2 MiB per call; the user can open them. Only new or changed files are returned.

**Discover** (no server needs to be loaded):
- \`from mcp import runtime\`
- \`runtime.discovered_servers()\` names every configured server
  (\`detailed=True\`: descriptions and tool counts).
- \`await runtime.search_tool_docs("what you need", limit=5)\` ranks tools of every server
  whose tools are known (named in an earlier call, or cached); typos are fine. Each hit says
  \`server\`, \`tool\`, \`description\` and whether it is \`loaded\`. Search starts no server:
  \`.not_searched\` names the others (name one in \`servers\` to search it).
- \`await runtime.query_tool_docs(server, tool=None, detail="full")\` gives parameters.

**Call:** pass \`servers: ["name", ...]\` to run_python; then in the code
\`await mcp_<alias>.<tool>(arg=value)\` (or \`await runtime.call_tool(server, tool, {...})\`).
Aliases are lower-case with \`_\` for other characters. Results are the tool's CallToolResult
as a dict: \`result["content"][0]["text"]\`; shortcuts \`.text\`, \`.data\` (structured or
parsed JSON), \`.is_error\`, \`.raise_for_error()\`. From sync code: \`mcp_<alias>.<tool>.sync(...)\`.
\`asyncio.gather\` runs calls concurrently. \`help(mcp_<alias>.<tool>)\` shows parameters.
Loaded this call: \`LOADED_MCP_SERVERS\`, \`runtime.list_loaded_server_metadata()\`,
\`runtime.describe_server(name)\` (includes its \`cwd\`). Sync variants: \`*_sync\`.

**Persist helpers:** \`save_tool(func)\` keeps a function you defined; it is loaded into every
later session (even after a restart). It must be one plain \`def\`: no decorators, literal
defaults, annotations that are names or strings, not named like a builtin or \`runtime\`.
\`runtime.list_saved_tools()\`, \`runtime.delete_saved_tool(name)\`.

**Packages and history:** \`runtime.install_package("name")\` installs into a read-only
package store (policy set by the operator; the sandbox itself stays offline; missing
imports may be installed automatically), \`runtime.list_packages()\`. \`runtime.history(20)\`
lists this session's recent executions; \`runtime.calls(20)\` its MCP tool calls (audit trail:
server, tool, argument size and sha256, outcome, duration). \`runtime.check_code_safety(code)\` gives an advisory static report.

**Progress and stopping:** while a call runs, clients that ask for progress see how long it
has run and its last printed line. \`runtime.progress(done, total=None, message=None)\`
reports your own (e.g. \`runtime.progress(i, n, f"file {i}")\`): finite numbers, \`done\`
growing; message cut to 200 characters; rate-limited, so calling it in a loop is fine.
When the user stops a call, the code gets \`KeyboardInterrupt\` as on a timeout: the state
is kept, unless the code ignores it and the sandbox has to be restarted (the next result
says so).

Errors from servers raise \`runtime.MCPError\`.
`;
