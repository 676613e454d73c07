import { describe, expect, it } from 'vitest';
import {
  MAX_SPEC_LENGTH,
  normalizePackageName,
  parsePackageSpec,
} from '../../../src/packages/package-spec.js';

function reason(input: unknown): string {
  const result = parsePackageSpec(input);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(input)} as ${result.spec.requirement}`);
  return result.reason;
}

function requirement(input: string): string {
  const result = parsePackageSpec(input);
  if (!result.ok) throw new Error(`refused ${JSON.stringify(input)}: ${result.reason}`);
  return result.spec.requirement;
}

describe('parsePackageSpec: what is refused, and why', () => {
  it.each([
    ['--index-url=https://evil.example/simple', /pip options/],
    ['--index-url https://evil.example/simple', /pip options/],
    ['--extra-index-url=https://evil.example/simple', /pip options/],
    ['-i https://evil.example/simple', /pip options/],
    ['-e .', /pip options/],
    ['-e git+https://github.com/x/y', /pip options/],
    ['-r requirements.txt', /pip options/],
    ['-rrequirements.txt', /pip options/],
    ['-c constraints.txt', /pip options/],
    ['--pre', /pip options/],
    ['--target=/tmp/x', /pip options/],
    ['requests --index-url https://evil.example', /pip options/],
    ['requests --extra-index-url=https://evil.example', /pip options/],
    ['requests -e .', /pip options/],
  ])('options: %s', (input, why) => {
    expect(reason(input)).toMatch(why);
  });

  it.each([
    'git+https://github.com/psf/requests',
    'git+ssh://git@github.com/psf/requests.git',
    'hg+https://hg.example/repo',
    'svn+https://svn.example/repo',
    'bzr+lp:project',
    'file:///tmp/pkg.whl',
    'file:pkg',
    'http://evil.example/pkg.whl',
    'https://evil.example/pkg-1.0.tar.gz',
    'requests:latest',
  ])('URLs and VCS references: %s', (input) => {
    expect(reason(input)).toMatch(/URLs and VCS references/);
  });

  it.each([
    'requests @ https://evil.example/requests.whl',
    'requests@https://evil.example/requests.whl',
    'requests @ file:///tmp/requests.whl',
    'requests @ git+https://github.com/psf/requests',
    'name@version',
  ])('direct references: %s', (input) => {
    expect(reason(input)).toMatch(/direct references/);
  });

  it.each(['./pkg', '../x', '.', '..', '/abs/pkg', '/tmp/pkg.whl', 'pkg/sub', 'C\\pkg', '~/pkg'])(
    'paths: %s',
    (input) => {
      expect(reason(input)).toMatch(/paths are not accepted/);
    },
  );

  it.each(['pkg-1.0-py3-none-any.whl', 'pkg-1.0.tar.gz', 'pkg.zip', 'pkg-1.0.tgz', 'x.egg'])(
    'archive file names: %s',
    (input) => {
      expect(reason(input)).toMatch(/archive file names/);
    },
  );

  it.each(['requests; python_version < "3.8"', 'requests;sys_platform=="linux"'])(
    'environment markers: %s',
    (input) => {
      expect(reason(input)).toMatch(/environment markers/);
    },
  );

  it.each([
    ['requests\n--index-url=https://evil.example', 'U+000A'],
    ['requests\t-e.', 'U+0009'],
    ['requests\r\n-e .', 'U+000D'],
    ['req\u0000uests', 'U+0000'],
    ['requests\u007f', 'U+007F'],
    ['requests\u000b', 'U+000B'],
  ])('control characters and whitespace other than spaces: %j', (input, code) => {
    expect(reason(input)).toContain(`control or whitespace character ${code ?? ''}`);
  });

  it.each([
    ['rеquests', 'U+0435'], // Cyrillic е
    ['nump\u0443', 'U+0443'], // Cyrillic у
    ['ｎｕｍｐｙ', 'U+FF4E'], // full-width letters
    ['numpy\u00a0', 'U+00A0'], // no-break space
    ['numpy\u200b', 'U+200B'], // zero-width space
    ['numpy\u2024', 'U+2024'], // one dot leader, looks like '.'
    ['numpy\uff1d\uff1d1.0', 'U+FF1D'], // full-width '='
    ['requests\u2010', 'U+2010'], // hyphen look-alike
    ['numpy\u037e', 'U+037E'], // Greek question mark, looks like ';'
  ])('non-ASCII look-alikes: %s', (input, code) => {
    expect(reason(input)).toContain(`non-ASCII character ${code}`);
  });

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    [42, /must be a string/],
    [null, /must be a string/],
    [['numpy'], /must be a string/],
    ['x'.repeat(MAX_SPEC_LENGTH + 1), /longer than 200/],
  ])('empty, wrong type, too long: %j', (input, why) => {
    expect(reason(input)).toMatch(why);
  });

  it.each([
    ['numpy$(id)', /'\$'/],
    ['numpy`id`', /'`'/],
    ['numpy|sh', /'\|'/],
    ['numpy&&x', /'&'/],
    ['numpy"', /'"'/],
    ["numpy'", /'''/],
    ['numpy#x', /'#'/],
    ['numpy?', /'\?'/],
    ['numpy%20', /'%'/],
  ])('shell and other stray characters: %s', (input, why) => {
    expect(reason(input)).toMatch(why);
  });

  it.each([
    ['_numpy', /not a valid package name/],
    ['numpy_', /not a valid package name/],
    ['numpy-', /not a valid package name/],
    ['nu*mpy', /not a valid package name/],
    ['num+py', /local version labels/],
  ])('invalid names: %s', (input, why) => {
    expect(reason(input)).toMatch(why);
  });

  it.each([
    ['numpy=1.0', /not a version specifier/],
    ['numpy 1.0', /not a version specifier/],
    ['numpy===1.0', /arbitrary equality/],
    ['numpy==', /not a valid version/],
    ['numpy>=latest', /not a valid version/],
    ['numpy==1.0,', /empty/],
    ['numpy==1.0,,<2', /empty/],
    ['numpy>=1.*', /not a valid version for '>='/],
    ['numpy~=1', /not a valid version for '~='/],
    ['numpy==1.0 <2', /not a valid version/],
    ['numpy[]', /extras list \[\] is empty/],
    ['numpy[a b]', /not a valid extra name/],
    ['numpy[-x]', /pip options|not a valid extra/],
    ['numpy>=1[extra]', /extras must follow the name/],
    ['numpy[x]]', /extras must follow the name/],
  ])('invalid specifiers and extras: %s', (input, why) => {
    expect(reason(input)).toMatch(why);
  });

  it.each([
    'pkg==1.0+local.1',
    'tinypkg==0.1.0+c2VjcmV0',
    'pkg>=1,!=0.0.1+aGVsbG8',
    'pkg~=1.0+x',
    'pkg+x',
    'pkg[extra]==1+x',
  ])('local version labels, which could carry data out: %s', (input) => {
    expect(reason(input)).toMatch(/local version labels .* could carry data out/);
  });
});

describe('parsePackageSpec: what is accepted', () => {
  it.each([
    ['numpy', 'numpy'],
    ['  numpy  ', 'numpy'],
    ['numpy\n', 'numpy'],
    ['NumPy', 'numpy'],
    ['Python_Dateutil', 'python-dateutil'],
    ['zope.interface', 'zope-interface'],
    ['ruamel.yaml', 'ruamel-yaml'],
    ['a', 'a'],
    ['x2', 'x2'],
    ['numpy==1.26.4', 'numpy==1.26.4'],
    ['numpy >= 1.24, < 2', 'numpy>=1.24,<2'],
    ['pandas>=2,<3', 'pandas>=2,<3'],
    ['requests~=2.31', 'requests~=2.31'],
    ['requests!=2.30.0', 'requests!=2.30.0'],
    ['requests<=2.31.0', 'requests<=2.31.0'],
    ['requests>2', 'requests>2'],
    ['requests<3', 'requests<3'],
    ['numpy==1.*', 'numpy==1.*'],
    ['numpy!=1.25.*', 'numpy!=1.25.*'],
    ['pkg==1!2.0', 'pkg==1!2.0'],
    ['pkg==2.0a1', 'pkg==2.0a1'],
    ['pkg==2.0rc2', 'pkg==2.0rc2'],
    ['pkg==2.0.post1', 'pkg==2.0.post1'],
    ['pkg==2.0.dev3', 'pkg==2.0.dev3'],
    ['pkg==2.0-1', 'pkg==2.0-1'],
    ['pkg>=v1.0', 'pkg>=v1.0'],
    ['requests[socks]', 'requests[socks]'],
    ['requests[socks,security]>=2', 'requests[socks,security]>=2'],
    ['requests [ Socks ] >=2', 'requests[socks]>=2'],
    ['requests[socks,socks]', 'requests[socks]'],
  ])('%s → %s', (input, expected) => {
    expect(requirement(input)).toBe(expected);
  });

  it('keeps the name as written, and its PEP 503 form', () => {
    const result = parsePackageSpec('Python_Dateutil[Extra_One]>=2.8');
    expect(result).toEqual({
      ok: true,
      spec: {
        name: 'Python_Dateutil',
        normalizedName: 'python-dateutil',
        extras: ['extra-one'],
        specifiers: ['>=2.8'],
        requirement: 'python-dateutil[extra-one]>=2.8',
      },
    });
  });

  it('accepts a spec of exactly the maximum length', () => {
    expect(requirement('a'.repeat(MAX_SPEC_LENGTH))).toBe('a'.repeat(MAX_SPEC_LENGTH));
  });
});

describe('normalizePackageName', () => {
  it.each([
    ['Django', 'django'],
    ['python_dateutil', 'python-dateutil'],
    ['zope.interface', 'zope-interface'],
    ['Foo__Bar--baz..qux', 'foo-bar-baz-qux'],
    ['PyJWT', 'pyjwt'],
  ])('%s → %s', (input, expected) => {
    expect(normalizePackageName(input)).toBe(expected);
  });
});
