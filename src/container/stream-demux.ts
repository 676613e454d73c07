const HEADER_BYTES = 8;

export type DemuxedStream = 'stdout' | 'stderr';

/**
 * Splits the engine's multiplexed attach stream (8-byte header: stream type, 3 zero
 * bytes, big-endian payload length) into stdout and stderr payloads. Written here rather
 * than using docker-modem's demuxStream, which never reports the end of the stream.
 */
export class StreamDemuxer {
  readonly #onPayload: (stream: DemuxedStream, payload: Buffer) => void;
  #buffer: Buffer = Buffer.alloc(0);
  #remaining = 0;
  #current: DemuxedStream | undefined;

  constructor(onPayload: (stream: DemuxedStream, payload: Buffer) => void) {
    this.#onPayload = onPayload;
  }

  push(chunk: Buffer): void {
    let data = this.#buffer.length > 0 ? Buffer.concat([this.#buffer, chunk]) : chunk;
    this.#buffer = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, data.length);
        this.#remaining -= take;
        // A stdin stream type (0) or unknown type is dropped, never misrouted.
        if (this.#current) this.#onPayload(this.#current, data.subarray(0, take));
        data = data.subarray(take);
        continue;
      }
      if (data.length < HEADER_BYTES) {
        this.#buffer = Buffer.from(data);
        return;
      }
      const type = data[0];
      this.#current = type === 1 ? 'stdout' : type === 2 ? 'stderr' : undefined;
      this.#remaining = data.readUInt32BE(4);
      data = data.subarray(HEADER_BYTES);
    }
  }
}
