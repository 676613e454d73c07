import { describe, expect, it } from 'vitest';
import { parseHostMounts } from '../../../src/config/host-mounts.js';
import { loadConfig } from '../../../src/config/env.js';
import { ConfigError } from '../../../src/errors.js';

const HOME = '/home/alice';
const parse = (value: string) => parseHostMounts(value, HOME);

describe('parseHostMounts', () => {
  it('reads ro (the default) and rw entries, expanding ~', () => {
    expect(
      parse('/srv/data:/workspace/data:ro, ~/exports:/workspace/exports:rw,~:/workspace/home'),
    ).toEqual([
      { source: '/srv/data', target: '/workspace/data', writable: false },
      { source: '/home/alice/exports', target: '/workspace/exports', writable: true },
      { source: '/home/alice', target: '/workspace/home', writable: false },
    ]);
  });

  it('is empty for an empty list', () => {
    expect(parse(' , ')).toEqual([]);
  });

  const refusals: [string, string, RegExp][] = [
    ['a relative host folder', 'data:/workspace/data', /relative/],
    ['a relative ~user folder', '~bob/data:/workspace/data', /relative/],
    ['an empty host folder', ':/workspace/data', /host folder is empty/],
    ['a missing target', '/srv/data', /expected HOST:TARGET/],
    ['too many fields', '/srv/data:/workspace/data:ro:x', /expected HOST:TARGET/],
    ['an unknown mode', '/srv/data:/workspace/data:rwx', /neither ro nor rw/],
    ['a relative target', '/srv/data:workspace/data', /not an absolute path/],
    ['a target outside /workspace', '/srv/data:/data', /inside \/workspace/],
    ['a target that only starts like /workspace', '/srv/data:/workspaces/x', /inside \/workspace/],
    ['/workspace itself', '/srv/data:/workspace', /inside \/workspace/],
    ['a target climbing out with ..', '/srv/data:/workspace/../etc', /normalised/],
    ['a target with //', '/srv/data:/workspace//data', /normalised/],
    ['a target with a final /', '/srv/data:/workspace/data/', /normalised/],
    ['a target with odd characters', '/srv/data:/workspace/da ta', /may use only/],
    ['the sandbox’s /workspace/out', '/srv/data:/workspace/out', /collides with \/workspace\/out/],
    [
      'a folder inside /workspace/out',
      '/srv/data:/workspace/out/x',
      /collides with \/workspace\/out/,
    ],
    ['a dot-folder', '/srv/data:/workspace/.config', /dot-folder/],
    ['a duplicate target', '/srv/a:/workspace/d,/srv/b:/workspace/d', /given twice/],
    ['nested targets', '/srv/a:/workspace/d,/srv/b:/workspace/d/e', /overlaps/],
    ['a duplicate host folder', '/srv/a:/workspace/d,/srv/a/:/workspace/e', /given twice/],
  ];
  it.each(refusals)('refuses %s, naming the variable and the entry', (_what, value, why) => {
    let caught: unknown;
    try {
      parse(value);
    } catch (error: unknown) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toMatch(/MCP_BRIDGE_MOUNTS entry "/);
    expect((caught as Error).message).toMatch(why);
  });

  it('refuses more than 16 mounts', () => {
    const many = Array.from({ length: 17 }, (_, i) => `/srv/d${i}:/workspace/d${i}`).join(',');
    expect(() => parse(many)).toThrow(/at most 16 mounts/);
  });

  it('is read from the environment by loadConfig, and absent means none', () => {
    expect(loadConfig({}).mounts).toEqual([]);
    expect(loadConfig({ MCP_BRIDGE_MOUNTS: '' }).mounts).toEqual([]);
    expect(loadConfig({ MCP_BRIDGE_MOUNTS: '/srv/d:/workspace/d:rw' }).mounts).toEqual([
      { source: '/srv/d', target: '/workspace/d', writable: true },
    ]);
    expect(() => loadConfig({ MCP_BRIDGE_MOUNTS: 'd:/workspace/d' })).toThrow(
      /MCP_BRIDGE_MOUNTS entry "d:\/workspace\/d": the host folder "d" is relative/,
    );
  });
});
