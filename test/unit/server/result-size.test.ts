import { describe, expect, it } from 'vitest';
import { renderResult, type OutputMode } from '../../../src/server/render.js';
import { reportToPayload } from '../../../src/server/report-payload.js';
import {
  MAX_RESULT_BYTES,
  renderWithinLimit,
  resultBytes,
  type OutputTexts,
} from '../../../src/server/result-size.js';
import type { RunReport } from '../../../src/session/sandbox-session.js';

const MiB = 1024 * 1024;
const MARKER =
  /\[output truncated: ([\d,]+) more characters dropped; a result is at most 8,388,608 bytes of JSON/;

function renderer(mode: OutputMode) {
  return (texts: OutputTexts) => {
    const report: RunReport = {
      outcome: 'completed',
      exitCode: 0,
      durationMs: 1,
      lostReason: undefined,
      outOfMemory: false,
      notices: [],
      ...texts,
    };
    return renderResult(reportToPayload(report, { timeoutSeconds: 5, servers: [] }), mode);
  };
}

/** The structured stdout/stderr of a compact result, joined back into text. */
function structuredText(result: ReturnType<typeof renderResult>, stream: keyof OutputTexts) {
  const lines = (result.structuredContent as Record<string, string[] | undefined>)[stream] ?? [];
  return lines.join('\n');
}

describe('renderWithinLimit, and renderResult through it', () => {
  it('leaves a result under the limit as rendered', () => {
    const texts = { stdout: 'x'.repeat(MiB), stderr: 'é'.repeat(1000) };
    const render = renderer('compact');
    expect(renderWithinLimit(texts, render)).toEqual(render(texts));
  });

  for (const mode of ['compact', 'toon'] as const) {
    it(`cuts 1 MiB of control characters per stream to fit, keeping the beginning (${mode})`, () => {
      // 6 bytes of JSON each, twice per result: ~26 MB uncut.
      const texts = { stdout: 'a\u0000'.repeat(MiB / 2), stderr: '\u0001b'.repeat(MiB / 2) };
      const result = renderer(mode)(texts);
      const size = resultBytes(result);
      expect(size).toBeLessThanOrEqual(MAX_RESULT_BYTES);
      // Not cut more than needed: most of the allowance is used.
      expect(size).toBeGreaterThan(MAX_RESULT_BYTES * 0.75);
      if (mode === 'compact') {
        for (const stream of ['stdout', 'stderr'] as const) {
          const text = structuredText(result, stream);
          const marker = MARKER.exec(text);
          expect(marker, text.slice(-300)).not.toBeNull();
          const kept = text.slice(0, marker?.index).replace(/\n$/, '');
          expect(texts[stream].startsWith(kept)).toBe(true);
          const dropped = Number(marker?.[1]?.replaceAll(',', ''));
          expect(kept.length + dropped).toBe(MiB);
        }
      }
    });
  }

  it('cuts the costly stream and keeps a cheap one whole', () => {
    const texts = { stdout: 'p'.repeat(MiB), stderr: '\u0000'.repeat(MiB) };
    const result = renderer('compact')(texts);
    expect(resultBytes(result)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const { stdout, stderr } = result.structuredContent as Record<string, string[]>;
    expect(stdout).toEqual(['p'.repeat(MiB)]);
    expect(stderr?.at(-1)).toMatch(MARKER);
  });

  it("keeps the output limit's marker last", () => {
    const limitMarker =
      '[output truncated: 5,000,000 more characters dropped; the limit is 1,048,576 per stream per call (MCP_BRIDGE_OUTPUT_LIMIT)]\n';
    const texts = { stdout: `${'\u0000'.repeat(MiB)}\n${limitMarker}`, stderr: '' };
    const result = renderer('compact')(texts);
    expect(resultBytes(result)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const lines = (result.structuredContent as { stdout: string[] }).stdout;
    expect(lines.at(-1)).toBe(limitMarker.trimEnd());
    expect(lines.at(-2)).toMatch(MARKER);
  });

  it('never leaves half a surrogate pair', () => {
    const texts = { stdout: '😀'.repeat(2 * MiB), stderr: '' };
    const result = renderWithinLimit(texts, renderer('compact'), 1 * MiB);
    expect(resultBytes(result)).toBeLessThanOrEqual(1 * MiB);
    const text = structuredText(result, 'stdout');
    expect(text).toMatch(/^(😀)+\n?\[output truncated/u);
    // A lone surrogate would not survive a trip through UTF-8.
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
  });

  it('keeps only the markers when nothing else fits', () => {
    const texts = { stdout: '\u0000'.repeat(10_000), stderr: '\u0000'.repeat(10_000) };
    const result = renderWithinLimit(texts, renderer('compact'), 100);
    expect(structuredText(result, 'stdout')).toMatch(/^\[output truncated: 10,000 more characters/);
    expect(structuredText(result, 'stderr')).toMatch(/^\[output truncated: 10,000 more characters/);
  });
});
