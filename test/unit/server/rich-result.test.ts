import { describe, expect, it } from 'vitest';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { RunPayload } from '../../../src/server/payload.js';
import { MAX_RESULT_BYTES, resultBytes } from '../../../src/server/result-size.js';
import {
  applyStructuredMode,
  renderRichResult,
  replacesContent,
} from '../../../src/server/rich-result.js';
import type { CellImage } from '../../../src/session/display-collector.js';

const success: RunPayload = { status: 'success', summary: 'Success', stdout: ['drawn'] };

function image(bytes: number): CellImage {
  return { mimeType: 'image/png', data: 'A'.repeat(Math.ceil(bytes / 3) * 4), bytes };
}

describe('renderRichResult', () => {
  it('puts the images after the text, and the display notices in the text', () => {
    const result = renderRichResult(
      success,
      { images: [image(30)], notices: ['figure 1: downscaled'] },
      'compact',
    );
    expect(result.content.map((block) => block.type)).toEqual(['text', 'image']);
    expect(result.content[0]).toEqual({
      type: 'text',
      text: 'notice: figure 1: downscaled\ndrawn',
    });
  });

  it('an image alone is output: the summary is not "no output"', () => {
    const payload: RunPayload = { status: 'success', summary: 'Success (no output)' };
    const result = renderRichResult(payload, { images: [image(30)], notices: [] }, 'toon');
    expect(result.structuredContent).toMatchObject({ summary: 'Success' });
  });

  it('keeps a result with many large images and much output under 8 MiB, text cut first', () => {
    const stdout = Array.from({ length: 3000 }, () => '\u0001'.repeat(1000));
    const images = Array.from({ length: 8 }, () => image(1024 * 1024));
    const result = renderRichResult({ ...success, stdout }, { images, notices: [] }, 'compact');
    expect(resultBytes(result)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const shown = result.content.filter((block) => block.type === 'image');
    expect(shown).toHaveLength(5);
    const text = result.content[0]?.type === 'text' ? result.content[0].text : '';
    expect(text).toContain('3 images dropped: a result is at most 8,388,608 bytes of JSON');
    expect(text).toContain('[output truncated');
  });
});

describe('applyStructuredMode', () => {
  const plain: CallToolResult = {
    content: [{ type: 'text', text: 'hi' }],
    structuredContent: { stdout: ['hi'] },
  };
  const withImage: CallToolResult = {
    ...plain,
    content: [...plain.content, { type: 'image', data: 'iVBORw0KGgo=', mimeType: 'image/png' }],
  };

  it('auto: kept for plain results, left out with images and for Claude Code', () => {
    expect(applyStructuredMode(plain, 'auto', 'bridge-e2e').structuredContent).toBeDefined();
    expect(applyStructuredMode(plain, 'auto', undefined).structuredContent).toBeDefined();
    expect(applyStructuredMode(withImage, 'auto', 'x').structuredContent).toBeUndefined();
    expect(applyStructuredMode(plain, 'auto', 'claude-code').structuredContent).toBeUndefined();
    expect(applyStructuredMode(withImage, 'auto', 'x').content).toHaveLength(2);
  });

  it('always and never mean what they say', () => {
    expect(applyStructuredMode(withImage, 'always', 'claude-code').structuredContent).toEqual({
      stdout: ['hi'],
    });
    expect(applyStructuredMode(plain, 'never', 'x').structuredContent).toBeUndefined();
  });

  it('recognises Claude Code by the names it gives', () => {
    expect(replacesContent('claude-code')).toBe(true);
    expect(replacesContent('Claude Code')).toBe(true);
    expect(replacesContent('claude-ai')).toBe(false);
    expect(replacesContent('claude-codex-other')).toBe(false);
  });
});
