import type { ArtifactFrame, DisplayLimits, ImageFrame } from '../channel/frames.js';
import { ArtifactCollector, type CellArtifact } from './artifact-collector.js';
import { MAX_IMAGES_TOTAL_BYTES, type DisplayConfig } from '../config/display-env.js';

/** An image a cell returned, as it goes into the tool result (MCP image content). */
export interface CellImage {
  mimeType: 'image/png' | 'image/jpeg';
  /** Base64, checked: canonical alphabet and padding, and the kind's magic bytes. */
  data: string;
  /** Decoded size. */
  bytes: number;
}

/** What a cell displayed: its images, and notices about what was dropped or shrunk. */
export interface DisplayOutput {
  images: CellImage[];
  notices: string[];
  /** Files from /workspace/out (absent: none). */
  artifacts?: CellArtifact[];
}

/** No images: the bridge's own cells, and calls made without limits. */
export const NO_IMAGES: DisplayLimits = { maxImages: 0, maxImageBytes: 0, maxTotalBytes: 0 };

/** The limits of an agent's call, from the configuration. */
export function displayLimits(config: DisplayConfig): DisplayLimits {
  return {
    maxImages: config.imagesPerCall,
    maxImageBytes: config.imageMaxBytes,
    maxTotalBytes: MAX_IMAGES_TOTAL_BYTES,
    maxFiles: MAX_FILES_PER_CALL,
    maxFileBytes: MAX_FILE_BYTES,
  };
}

/** Files out per call; each fits one channel line (4 MiB) as base64. */
export const MAX_FILES_PER_CALL = 32;
export const MAX_FILE_BYTES = 2 * 1024 * 1024;

const MAX_NOTICES = 8;
const MAX_NOTICE_CHARS = 500;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAGIC: Record<CellImage['mimeType'], Buffer> = {
  'image/png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  'image/jpeg': Buffer.from([0xff, 0xd8, 0xff]),
};

/** Decoded size of a base64 text (its alphabet already checked). */
export function base64Bytes(data: string): number {
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - padding;
}

/**
 * Collects one cell's images within its limits. Security: the sandbox writes these frames
 * and user code can forge them, so every bound is checked here before anything is kept
 * or decoded: past the count only a counter grows, an image over the per-image or total
 * cap is refused by the length of its text, and only the first bytes of a kept one are
 * decoded (to check its kind). At most `maxImages` × `maxImageBytes` (and
 * `maxTotalBytes` together) of base64 is held per cell.
 */
export class DisplayCollector {
  readonly #limits: DisplayLimits;
  readonly #images: CellImage[] = [];
  #totalBytes = 0;
  readonly #refused = { count: 0, size: 0, invalid: 0 };
  readonly #notices: string[] = [];
  #noticesDropped = 0;
  readonly #files: ArtifactCollector;

  constructor(limits: DisplayLimits) {
    this.#limits = limits;
    this.#files = new ArtifactCollector(limits.maxFiles ?? 0, limits.maxFileBytes ?? 0);
  }

  addArtifact(frame: ArtifactFrame): void {
    this.#files.add(frame);
  }

  addImage(frame: ImageFrame): void {
    const limits = this.#limits;
    if (this.#images.length >= limits.maxImages) {
      this.#refused.count += 1;
      return;
    }
    // A base64 text of n characters decodes to at most 3n/4 bytes: checked before the text
    // is even scanned, so a 4 MiB line costs nothing more.
    const roughBytes = Math.floor((frame.data.length / 4) * 3);
    if (roughBytes - 2 > Math.min(limits.maxImageBytes, limits.maxTotalBytes - this.#totalBytes)) {
      this.#refused.size += 1;
      return;
    }
    const image = checkedImage(frame);
    if (!image) {
      this.#refused.invalid += 1;
      return;
    }
    if (image.bytes > Math.min(limits.maxImageBytes, limits.maxTotalBytes - this.#totalBytes)) {
      this.#refused.size += 1;
      return;
    }
    this.#images.push(image);
    this.#totalBytes += image.bytes;
  }

  addNotice(message: string): void {
    if (this.#notices.length >= MAX_NOTICES) {
      this.#noticesDropped += 1;
      return;
    }
    const clipped =
      message.length > MAX_NOTICE_CHARS ? `${message.slice(0, MAX_NOTICE_CHARS - 1)}…` : message;
    this.#notices.push(clipped);
  }

  result(): DisplayOutput {
    const notices = [...this.#notices];
    if (this.#noticesDropped > 0) notices.push(`${this.#noticesDropped} more notices dropped`);
    const { count, size, invalid } = this.#refused;
    const limits = this.#limits;
    if (count > 0 && limits.maxImages > 0) {
      notices.push(
        `${count} more image${plural(count)} dropped: at most ${limits.maxImages} per call (MCP_BRIDGE_IMAGES_PER_CALL)`,
      );
    }
    if (size > 0) {
      notices.push(
        `${size} image${plural(size)} dropped: over ${limits.maxImageBytes.toLocaleString('en-US')} bytes (MCP_BRIDGE_IMAGE_MAX_BYTES) or past the call's ${limits.maxTotalBytes.toLocaleString('en-US')} bytes of images`,
      );
    }
    if (invalid > 0) {
      notices.push(`${invalid} image${plural(invalid)} dropped: not valid base64 PNG or JPEG data`);
    }
    const files = this.#files.result();
    notices.push(...files.notices);
    return {
      images: [...this.#images],
      notices,
      ...(files.artifacts.length > 0 ? { artifacts: files.artifacts } : {}),
    };
  }
}

function checkedImage(frame: ImageFrame): CellImage | undefined {
  const { mimeType, data } = frame;
  if (mimeType !== 'image/png' && mimeType !== 'image/jpeg') return undefined;
  if (data.length === 0 || data.length % 4 !== 0 || !BASE64.test(data)) return undefined;
  const magic = MAGIC[mimeType];
  const head = Buffer.from(data.slice(0, 12), 'base64');
  if (!head.subarray(0, magic.length).equals(magic)) return undefined;
  return { mimeType, data, bytes: base64Bytes(data) };
}

function plural(count: number): string {
  return count === 1 ? '' : 's';
}
