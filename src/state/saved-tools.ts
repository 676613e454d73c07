import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../logger.js';

export interface SavedTool {
  name: string;
  description: string | undefined;
  source: string;
  savedAt: string;
}

/** Python identifiers only: the name becomes a global in the sandbox and a file name here. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
export const MAX_SAVED_TOOL_SOURCE_CHARS = 256 * 1024;
export const MAX_SAVED_TOOLS = 500;

const savedToolSchema = z.object({
  name: z.string().regex(NAME),
  description: z.string().max(2000).optional(),
  source: z.string().min(1).max(MAX_SAVED_TOOL_SOURCE_CHARS),
  savedAt: z.string().max(64),
});

/**
 * Functions the agent kept with `save_tool`, one JSON file each under
 * `<stateDir>/saved-tools/`. They outlive the sandbox and the bridge: every new session
 * loads them. Writes are atomic (temp file + rename), so a crash never leaves half a tool.
 */
export class SavedToolStore {
  readonly #folder: string;
  readonly #logger: Logger;

  constructor(stateDir: string, logger: Logger) {
    this.#folder = path.join(stateDir, 'saved-tools');
    this.#logger = logger;
  }

  list(): SavedTool[] {
    let files: string[];
    try {
      files = readdirSync(this.#folder).filter((file) => file.endsWith('.json'));
    } catch {
      return [];
    }
    const tools: SavedTool[] = [];
    for (const file of files.sort()) {
      try {
        const parsed = savedToolSchema.parse(
          JSON.parse(readFileSync(path.join(this.#folder, file), 'utf8')),
        );
        tools.push({ ...parsed, description: parsed.description });
      } catch (error: unknown) {
        this.#logger.warn({ file, err: String(error) }, 'skipping an unreadable saved tool');
      }
    }
    return tools;
  }

  save(input: { name: string; source: string; description?: string | undefined }): SavedTool {
    if (!NAME.test(input.name)) {
      throw new Error(
        `'${input.name}' is not a valid tool name (a Python identifier, at most 100 characters)`,
      );
    }
    if (input.source.length > MAX_SAVED_TOOL_SOURCE_CHARS) {
      throw new Error(
        `The source of '${input.name}' is too long (limit ${MAX_SAVED_TOOL_SOURCE_CHARS} characters)`,
      );
    }
    const existing = this.list();
    if (existing.length >= MAX_SAVED_TOOLS && !existing.some((tool) => tool.name === input.name)) {
      throw new Error(
        `Too many saved tools (limit ${MAX_SAVED_TOOLS}); delete some with delete_saved_tool(name)`,
      );
    }
    const tool: SavedTool = {
      name: input.name,
      description: input.description?.slice(0, 2000) || undefined,
      source: input.source,
      savedAt: new Date().toISOString(),
    };
    const target = path.join(this.#folder, `${tool.name}.json`);
    const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      mkdirSync(this.#folder, { recursive: true, mode: 0o700 });
      writeFileSync(temporary, JSON.stringify(tool, null, 2), { mode: 0o600 });
      renameSync(temporary, target);
    } catch (error: unknown) {
      // E.g. a full disk: the earlier version stays as it was, and no half file is left.
      rmSync(temporary, { force: true });
      throw new Error(
        `could not save the tool '${tool.name}': ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    return tool;
  }

  delete(name: string): boolean {
    if (!NAME.test(name)) return false;
    const target = path.join(this.#folder, `${name}.json`);
    try {
      readFileSync(target);
    } catch {
      return false;
    }
    rmSync(target, { force: true });
    return true;
  }
}
