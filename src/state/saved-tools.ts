import { mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { BridgeError, errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { fileSize, listJson, readJson, removeFile, writeFileAtomically } from './tool-files.js';
import { TOOL_NAME, toolSourceProblem } from './tool-rule.js';

export interface SavedTool {
  name: string;
  description: string | undefined;
  source: string;
  savedAt: string;
}

export interface QuarantinedTool {
  name: string;
  reason: string;
  quarantinedAt: string | undefined;
}

export const MAX_SAVED_TOOL_SOURCE_BYTES = 64 * 1024;
export const MAX_SAVED_TOOLS = 100;
export const MAX_SAVED_TOOLS_TOTAL_BYTES = 1024 * 1024;
export const QUARANTINE_FOLDER = 'quarantine';

const REASON_SUFFIX = '.reason.json';
/** A tool's file is its source as JSON plus a little: bigger ones are not even read. */
const MAX_FILE_BYTES = 4 * MAX_SAVED_TOOL_SOURCE_BYTES;
const MAX_REASON_CHARS = 1000;

const savedToolSchema = z.object({
  name: z.string().regex(TOOL_NAME),
  description: z.string().max(2000).optional(),
  source: z.string().min(1),
  savedAt: z.string().max(64),
});
const reasonSchema = z.object({ reason: z.string(), quarantinedAt: z.string().optional() });

/** A save_tool request the rule or a limit refuses; the message says why and what to do. */
export class SavedToolError extends BridgeError {
  constructor(message: string) {
    super('saved_tool_refused', message);
  }
}

/** One `<name>.json` in the folder, as read: the tool, or why it cannot be loaded. */
type Entry =
  | { file: string; tool: SavedTool; problem?: undefined }
  | { file: string; tool?: undefined; problem: string };

/**
 * Functions the agent kept with `save_tool`, one JSON file each under
 * `<stateDir>/saved-tools/`. They outlive the sandbox and the bridge: every new session
 * loads them, so only sources that follow the rule (tool-rule.ts) are stored, within
 * limits of size and number. A stored tool that cannot be loaded (it fails the rule,
 * e.g. saved by an older version, or fails or hangs at load) is moved aside to
 * `saved-tools/quarantine/` with the reason next to it, never deleted by the bridge.
 * Writes are atomic (temp file + rename), so a crash never leaves half a tool.
 */
export class SavedToolStore {
  readonly folder: string;
  readonly quarantineFolder: string;
  readonly #logger: Logger;

  constructor(stateDir: string, logger: Logger) {
    this.folder = path.join(stateDir, 'saved-tools');
    this.quarantineFolder = path.join(this.folder, QUARANTINE_FOLDER);
    this.#logger = logger;
  }

  /** The saved (not quarantined) tools that can be read, by name. */
  list(): SavedTool[] {
    return this.#entries().flatMap((entry) => (entry.problem === undefined ? [entry.tool] : []));
  }

  save(input: { name: string; source: string; description?: string | undefined }): SavedTool {
    const { name, source } = input;
    const problem = toolSourceProblem(name, source);
    if (problem) throw new SavedToolError(`Cannot save '${name}': ${problem}.`);
    const bytes = Buffer.byteLength(source);
    if (bytes > MAX_SAVED_TOOL_SOURCE_BYTES) {
      throw new SavedToolError(
        `Cannot save '${name}': its source is ${bytes} bytes; a saved tool may have at most ${MAX_SAVED_TOOL_SOURCE_BYTES} bytes (64 KiB).`,
      );
    }
    const others = this.list().filter((tool) => tool.name !== name);
    if (others.length >= MAX_SAVED_TOOLS) {
      throw new SavedToolError(
        `Cannot save '${name}': there are already ${others.length} saved tools, the limit is ${MAX_SAVED_TOOLS}. Delete one first with runtime.delete_saved_tool(name).`,
      );
    }
    const total = others.reduce((sum, tool) => sum + Buffer.byteLength(tool.source), bytes);
    if (total > MAX_SAVED_TOOLS_TOTAL_BYTES) {
      throw new SavedToolError(
        `Cannot save '${name}': the saved tools would hold ${total} bytes of source, the limit is ${MAX_SAVED_TOOLS_TOTAL_BYTES} bytes (1 MiB) in total. Delete some first with runtime.delete_saved_tool(name).`,
      );
    }
    const tool: SavedTool = {
      name,
      description: input.description?.slice(0, 2000) || undefined,
      source,
      savedAt: new Date().toISOString(),
    };
    try {
      writeFileAtomically(path.join(this.folder, `${name}.json`), JSON.stringify(tool, null, 2));
    } catch (error: unknown) {
      throw new Error(`could not save the tool '${name}': ${errorMessage(error)}`, {
        cause: error,
      });
    }
    return tool;
  }

  /** Forgets a saved tool (not a quarantined one); false if there was none. */
  delete(name: string): boolean {
    return TOOL_NAME.test(name) && removeFile(path.join(this.folder, `${name}.json`));
  }

  /** The tools moved aside, with the reason each was. */
  listQuarantined(): QuarantinedTool[] {
    return listJson(this.quarantineFolder)
      .filter((file) => !file.endsWith(REASON_SUFFIX))
      .map((file) => {
        const name = file.slice(0, -'.json'.length);
        const details = reasonSchema.safeParse(readJson(this.#reasonFile(name)));
        return {
          name,
          reason: details.success ? details.data.reason : 'unknown (no reason was recorded)',
          quarantinedAt: details.success ? details.data.quarantinedAt : undefined,
        };
      });
  }

  /** Removes a saved and/or a quarantined tool of that name (the host's `tools delete`). */
  remove(name: string): { saved: boolean; quarantined: boolean } {
    if (!TOOL_NAME.test(name)) return { saved: false, quarantined: false };
    const quarantined = removeFile(path.join(this.quarantineFolder, `${name}.json`));
    if (quarantined) removeFile(this.#reasonFile(name));
    return { saved: this.delete(name), quarantined };
  }

  /**
   * Moves `<name>.json` to the quarantine folder and records why. False if it was not
   * there any more (deleted, or quarantined by another bridge on the same state dir).
   */
  quarantine(name: string, reason: string): boolean {
    const oneLine = reason.replace(/\s+/g, ' ').trim().slice(0, MAX_REASON_CHARS);
    try {
      mkdirSync(this.quarantineFolder, { recursive: true, mode: 0o700 });
      renameSync(
        path.join(this.folder, `${name}.json`),
        path.join(this.quarantineFolder, `${name}.json`),
      );
    } catch (error: unknown) {
      this.#logger.warn({ tool: name, err: String(error) }, 'could not quarantine a saved tool');
      return false;
    }
    try {
      const details = { reason: oneLine, quarantinedAt: new Date().toISOString() };
      writeFileAtomically(this.#reasonFile(name), JSON.stringify(details, null, 2));
    } catch (error: unknown) {
      this.#logger.warn(
        { tool: name, err: String(error) },
        'could not record why a tool was quarantined',
      );
    }
    this.#logger.warn(
      { tool: name, reason: oneLine, movedTo: this.quarantineFolder },
      'saved tool quarantined: it will not be loaded again',
    );
    return true;
  }

  /**
   * The tools a new session may load, in name order: each read, checked against the rule
   * and the limits; every other one is quarantined and returned with its reason.
   */
  prepareLoad(): { tools: SavedTool[]; quarantined: QuarantinedTool[] } {
    const tools: SavedTool[] = [];
    const quarantined: QuarantinedTool[] = [];
    let total = 0;
    for (const entry of this.#entries()) {
      const problem = entry.problem ?? loadProblem(entry.tool, tools.length, total);
      if (problem === undefined && entry.tool) {
        tools.push(entry.tool);
        total += Buffer.byteLength(entry.tool.source);
        continue;
      }
      const name = entry.file.slice(0, -'.json'.length);
      const reason = problem ?? 'it cannot be read';
      if (this.quarantine(name, reason)) {
        quarantined.push({ name, reason, quarantinedAt: new Date().toISOString() });
      }
    }
    return { tools, quarantined };
  }

  #entries(): Entry[] {
    return listJson(this.folder).map((file): Entry => {
      const name = file.slice(0, -'.json'.length);
      const size = fileSize(path.join(this.folder, file));
      if (size > MAX_FILE_BYTES)
        return { file, problem: `its file is ${size} bytes, too big to be a saved tool` };
      const parsed = savedToolSchema.safeParse(readJson(path.join(this.folder, file)));
      if (!parsed.success) return { file, problem: 'its file is not a readable saved tool' };
      if (parsed.data.name !== name) {
        return {
          file,
          problem: `its file is named ${file} but holds the tool '${parsed.data.name}'`,
        };
      }
      return { file, tool: { ...parsed.data, description: parsed.data.description } };
    });
  }

  #reasonFile(name: string): string {
    return path.join(this.quarantineFolder, `${name}${REASON_SUFFIX}`);
  }
}

/** Why a stored tool may not be loaded after `count` others of `total` bytes, or undefined. */
function loadProblem(tool: SavedTool, count: number, total: number): string | undefined {
  const bytes = Buffer.byteLength(tool.source);
  const problem = toolSourceProblem(tool.name, tool.source);
  if (problem) return problem;
  if (bytes > MAX_SAVED_TOOL_SOURCE_BYTES) {
    return `its source is ${bytes} bytes, over the limit of ${MAX_SAVED_TOOL_SOURCE_BYTES} per tool`;
  }
  if (count >= MAX_SAVED_TOOLS) return `it is over the limit of ${MAX_SAVED_TOOLS} saved tools`;
  if (total + bytes > MAX_SAVED_TOOLS_TOTAL_BYTES) {
    return `it is over the limit of ${MAX_SAVED_TOOLS_TOTAL_BYTES} bytes of source for all saved tools`;
  }
  return undefined;
}
