import type {
  CallToolResult,
  EmbeddedResource,
  ImageContent,
  ResourceLink,
} from '@modelcontextprotocol/sdk/types.js';
import type { StructuredMode } from '../config/display-env.js';
import type { CellImage, DisplayOutput } from '../session/display-collector.js';
import type { StoredArtifact } from '../state/artifact-store.js';
import type { RunPayload } from './payload.js';
import { renderResult, type OutputMode } from './render.js';
import { MAX_RESULT_BYTES } from './result-size.js';

/** What the text of a result keeps at least, however many images come with it. */
const MIN_TEXT_BYTES = 1024 * 1024;

/**
 * A run_python result with the cell's images after its text (MCP `image` content). The
 * images and the text share the 8 MiB result (result-size.ts): the images come first,
 * within all but MIN_TEXT_BYTES of it (the sandbox's limits already keep them to 6 MiB of
 * base64; this holds whatever it sent), and the text is cut to what is left.
 */
export function renderRichResult(
  payload: RunPayload,
  display: DisplayOutput | undefined,
  mode: OutputMode,
  files: StoredArtifact[] = [],
  fileNotices: string[] = [],
): CallToolResult {
  const blocks: (ImageContent | ResourceLink | EmbeddedResource)[] = [];
  let imageBytes = 0;
  let dropped = 0;
  for (const image of display?.images ?? []) {
    const block = imageBlock(image);
    const size = Buffer.byteLength(JSON.stringify(block)) + 1;
    if (imageBytes + size > MAX_RESULT_BYTES - MIN_TEXT_BYTES) {
      dropped += 1;
      continue;
    }
    blocks.push(block);
    imageBytes += size;
  }
  // Files: a link each (the bytes are one resources/read away), small text embedded too.
  for (const file of files) {
    const fileBlocks = fileBlocksOf(file);
    const size = fileBlocks.reduce(
      (sum, block) => sum + Buffer.byteLength(JSON.stringify(block)) + 1,
      0,
    );
    if (imageBytes + size > MAX_RESULT_BYTES - MIN_TEXT_BYTES) continue;
    blocks.push(...fileBlocks);
    imageBytes += size;
  }
  const notices = [...(payload.notices ?? []), ...(display?.notices ?? []), ...fileNotices];
  if (dropped > 0) {
    notices.push(
      `${dropped} image${dropped === 1 ? '' : 's'} dropped: a result is at most ${MAX_RESULT_BYTES.toLocaleString('en-US')} bytes of JSON`,
    );
  }
  const shown: RunPayload = { ...payload, notices };
  // An image is output: "no output" would tell the agent its chart went missing.
  if (blocks.length > 0 && shown.summary === 'Success (no output)') shown.summary = 'Success';
  const result = renderResult(shown, mode, MAX_RESULT_BYTES - imageBytes);
  if (blocks.length > 0) result.content = [...result.content, ...blocks];
  return result;
}

function fileBlocksOf(file: StoredArtifact): (ResourceLink | EmbeddedResource)[] {
  const link: ResourceLink = {
    type: 'resource_link',
    uri: file.uri,
    name: file.name,
    mimeType: file.mimeType,
    size: file.size,
  };
  if (file.text === undefined) return [link];
  const embedded: EmbeddedResource = {
    type: 'resource',
    resource: { uri: file.uri, mimeType: file.mimeType, text: file.text },
  };
  return [link, embedded];
}

function imageBlock(image: CellImage): ImageContent {
  return { type: 'image', data: image.data, mimeType: image.mimeType };
}

/**
 * Clients known to give the model `JSON.stringify(structuredContent)` instead of `content`
 * when a result has both (images dropped with it), by the name they give in `initialize`.
 */
const REPLACES_CONTENT = [/^claude[-_ ]?code\b/i];

/** Whether a client replaces `content` by `structuredContent` (docs/clients.md). */
export function replacesContent(clientName: string | undefined): boolean {
  return clientName !== undefined && REPLACES_CONTENT.some((pattern) => pattern.test(clientName));
}

/**
 * MCP_BRIDGE_STRUCTURED: `always` and `never` say it all; `auto` leaves
 * `structuredContent` out when the result carries images or resource links (a client that
 * prefers it would drop them) and for clients that would show it instead of the text.
 */
export function applyStructuredMode(
  result: CallToolResult,
  mode: StructuredMode,
  clientName: string | undefined,
): CallToolResult {
  if (mode === 'always' || result.structuredContent === undefined) return result;
  const rich = result.content.some(
    (block) => block.type === 'image' || block.type === 'resource_link',
  );
  if (mode === 'auto' && !rich && !replacesContent(clientName)) return result;
  const shown = { ...result };
  delete shown.structuredContent;
  return shown;
}
