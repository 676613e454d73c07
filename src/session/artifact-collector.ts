import type { ArtifactFrame } from '../channel/frames.js';

/** A file a cell returned from /workspace/out, checked, not yet stored. */
export interface CellArtifact {
  /** Relative to /workspace/out: segments without `.`, `..`, control characters or `\`. */
  path: string;
  mimeType: string;
  /** Base64 (canonical alphabet and padding). */
  data: string;
  bytes: number;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/i;
const MAX_SEGMENT_CHARS = 255;
const MAX_DEPTH = 8;

/**
 * A path the host may use under its own folder: relative, `/`-separated, no empty, `.` or
 * `..` segment, no control character, backslash or colon (which mean something on other
 * hosts), segments of at most 255 characters, at most 8 deep. Security: the sandbox names
 * the file and the host writes it, so this is what keeps the write inside the folder.
 */
export function safeArtifactPath(path: string): boolean {
  if (path === '' || path.length > 1024) return false;
  const segments = path.split('/');
  if (segments.length > MAX_DEPTH) return false;
  return segments.every(
    (segment) =>
      segment !== '' &&
      segment !== '.' &&
      segment !== '..' &&
      segment.length <= MAX_SEGMENT_CHARS &&
      // eslint-disable-next-line no-control-regex
      !/[\u0000-\u001f\u007f\\:]/.test(segment),
  );
}

/**
 * One cell's files, within its limits: past `maxFiles` only a counter grows, a file whose
 * base64 length means more than `maxFileBytes` is refused by its length, and the name,
 * kind and base64 are checked before it is kept.
 */
export class ArtifactCollector {
  readonly #maxFiles: number;
  readonly #maxFileBytes: number;
  readonly #files: CellArtifact[] = [];
  readonly #refused = { count: 0, size: 0, invalid: 0 };

  constructor(maxFiles: number, maxFileBytes: number) {
    this.#maxFiles = maxFiles;
    this.#maxFileBytes = maxFileBytes;
  }

  add(frame: ArtifactFrame): void {
    if (this.#files.length >= this.#maxFiles) {
      this.#refused.count += 1;
      return;
    }
    if (Math.floor((frame.data.length / 4) * 3) - 2 > this.#maxFileBytes) {
      this.#refused.size += 1;
      return;
    }
    const { path, mimeType, data } = frame;
    const valid =
      safeArtifactPath(path) &&
      MIME.test(mimeType) &&
      data.length % 4 === 0 &&
      BASE64.test(data) &&
      !this.#files.some((file) => file.path === path);
    if (!valid) {
      this.#refused.invalid += 1;
      return;
    }
    const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
    this.#files.push({ path, mimeType, data, bytes: (data.length / 4) * 3 - padding });
  }

  result(): { artifacts: CellArtifact[]; notices: string[] } {
    const notices: string[] = [];
    const { count, size, invalid } = this.#refused;
    if (count > 0 && this.#maxFiles > 0)
      notices.push(`${count} more files dropped: at most ${this.#maxFiles} per call`);
    if (size > 0)
      notices.push(
        `${size} files dropped: over ${this.#maxFileBytes.toLocaleString('en-US')} bytes`,
      );
    if (invalid > 0) notices.push(`${invalid} files dropped: an unusable name, type or encoding`);
    return { artifacts: [...this.#files], notices };
  }
}
