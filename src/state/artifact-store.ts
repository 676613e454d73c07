import {
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../errors.js';
import type { Logger } from '../logger.js';
import { DEFAULT_SESSION } from '../util/default-session.js';

/** A file a call returned, as the sandbox sent it (checked by the session layer). */
export interface ArtifactInput {
  /** Relative, `/`-separated, checked to be safe (src/session/artifact-collector.ts). */
  path: string;
  mimeType: string;
  /** Base64. */
  data: string;
}

/** A returned file kept on the host. */
export interface StoredArtifact {
  uri: string;
  name: string;
  mimeType: string;
  size: number;
  /** Small text, to embed in the result; absent for larger or binary files. */
  text?: string;
}

const URI_SCHEME = 'artifact://';
const EMBED_TEXT_BYTES = 8 * 1024;
const WRITE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;

/**
 * The files calls returned, copied to `<state dir>/artifacts/<session>/<path>` so they
 * outlive the container; read back as MCP resources (`artifact://<session>/<path>`) by
 * this bridge process only. Past the quota the oldest files (of every session sharing the
 * state dir) are removed. Optionally also written to `<copy dir>/<session>/<path>`.
 * `<session>` is the bridge's id; a named session other than `default` (run_python's
 * `session`, `[A-Za-z0-9_.-]`, never `.` or `..`) adds `.<name>`: two sessions writing
 * the same path keep two files.
 */
export class ArtifactStore {
  readonly #root: string;
  readonly #session: string;
  readonly #quotaBytes: number;
  readonly #copyDir: string | undefined;
  readonly #logger: Logger;
  readonly #index = new Map<string, StoredArtifact>();
  /** Each artifact's folder (under the root), by URI. */
  readonly #folders = new Map<string, string>();

  constructor(options: {
    stateDir: string;
    session: string;
    quotaBytes: number;
    copyDir: string | undefined;
    logger: Logger;
  }) {
    this.#root = path.join(options.stateDir, 'artifacts');
    this.#session = options.session;
    this.#quotaBytes = options.quotaBytes;
    this.#copyDir = options.copyDir;
    this.#logger = options.logger;
  }

  /** Stores the files; returns them as stored and notices for those that could not be. */
  save(
    files: ArtifactInput[],
    sessionName: string = DEFAULT_SESSION,
  ): { stored: StoredArtifact[]; notices: string[] } {
    const stored: StoredArtifact[] = [];
    const notices: string[] = [];
    const folder = this.#folderOf(sessionName);
    for (const file of files) {
      const bytes = Buffer.from(file.data, 'base64');
      try {
        writeInside(path.join(this.#root, folder), file.path, bytes);
        if (this.#copyDir) writeInside(path.join(this.#copyDir, folder), file.path, bytes);
      } catch (error: unknown) {
        this.#logger.warn({ err: errorMessage(error), file: file.path }, 'artifact not stored');
        notices.push(`${file.path}: not kept on the host (${errorMessage(error)})`);
        continue;
      }
      const artifact: StoredArtifact = {
        uri: this.uriOf(file.path, sessionName),
        name: file.path,
        mimeType: file.mimeType,
        size: bytes.length,
        ...embeddedText(file.mimeType, bytes),
      };
      this.#index.delete(artifact.uri); // a newer version of a path goes last
      this.#index.set(artifact.uri, artifact);
      this.#folders.set(artifact.uri, folder);
      stored.push(artifact);
    }
    if (stored.length > 0) this.#evictPastQuota();
    return { stored, notices };
  }

  uriOf(relative: string, sessionName: string = DEFAULT_SESSION): string {
    const folder = this.#folderOf(sessionName);
    return `${URI_SCHEME}${folder}/${relative.split('/').map(encodeURIComponent).join('/')}`;
  }

  #folderOf(sessionName: string): string {
    return sessionName === DEFAULT_SESSION ? this.#session : `${this.#session}.${sessionName}`;
  }

  /** This process's artifacts still on disk, oldest first. */
  list(): StoredArtifact[] {
    return [...this.#index.values()];
  }

  /** The bytes of one of this process's artifacts; undefined if unknown or evicted. */
  read(uri: string): { artifact: StoredArtifact; bytes: Buffer } | undefined {
    const artifact = this.#index.get(uri);
    if (!artifact) return undefined;
    try {
      const folder = this.#folders.get(uri) ?? this.#session;
      const file = path.join(this.#root, folder, ...artifact.name.split('/'));
      const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        return { artifact, bytes: readFileSync(fd) };
      } finally {
        closeSync(fd);
      }
    } catch {
      this.#index.delete(uri);
      this.#folders.delete(uri);
      return undefined;
    }
  }

  #evictPastQuota(): void {
    const files = listFiles(this.#root);
    let total = files.reduce((sum, file) => sum + file.size, 0);
    files.sort((a, b) => a.mtimeMs - b.mtimeMs);
    const removed = new Set<string>();
    for (const file of files) {
      if (total <= this.#quotaBytes) break;
      rmSync(file.path, { force: true });
      total -= file.size;
      removed.add(file.path);
    }
    if (removed.size === 0) return;
    for (const [uri, artifact] of this.#index) {
      const folder = this.#folders.get(uri) ?? this.#session;
      if (!removed.has(path.join(this.#root, folder, ...artifact.name.split('/')))) continue;
      this.#index.delete(uri);
      this.#folders.delete(uri);
    }
  }
}

/** Writes `bytes` at `relative` under `folder`, never through a link at the last step. */
function writeInside(folder: string, relative: string, bytes: Buffer): void {
  const target = path.join(folder, ...relative.split('/'));
  if (!target.startsWith(folder + path.sep)) throw new Error('the name leaves its folder');
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  const fd = openSync(target, WRITE_FLAGS, 0o600);
  try {
    for (let offset = 0; offset < bytes.length;) offset += writeSync(fd, bytes, offset);
  } finally {
    closeSync(fd);
  }
}

function embeddedText(mimeType: string, bytes: Buffer): { text?: string } {
  const textual =
    mimeType.startsWith('text/') ||
    /^application\/(json|xml|csv|x-ndjson)|\+json$|\+xml$/.test(mimeType);
  if (!textual || bytes.length > EMBED_TEXT_BYTES) return {};
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? { text } : {};
}

function listFiles(root: string): { path: string; size: number; mtimeMs: number }[] {
  const found: { path: string; size: number; mtimeMs: number }[] = [];
  let entries;
  try {
    entries = readdirSync(root, { recursive: true, withFileTypes: true });
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    try {
      const stats = statSync(file);
      found.push({ path: file, size: stats.size, mtimeMs: stats.mtimeMs });
    } catch {
      // removed meanwhile (another bridge evicting)
    }
  }
  return found;
}
