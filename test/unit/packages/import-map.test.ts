import { describe, expect, it } from 'vitest';
import { distributionForImport, IMPORT_TO_DISTRIBUTION } from '../../../src/packages/import-map.js';
import { normalizePackageName, parsePackageSpec } from '../../../src/packages/package-spec.js';

describe('distributionForImport', () => {
  it.each([
    ['cv2', 'opencv-python'],
    ['PIL', 'pillow'],
    ['sklearn', 'scikit-learn'],
    ['yaml', 'pyyaml'],
    ['bs4', 'beautifulsoup4'],
    ['skimage', 'scikit-image'],
    ['dateutil', 'python-dateutil'],
    ['dotenv', 'python-dotenv'],
    ['jwt', 'PyJWT'],
    ['Crypto', 'pycryptodome'],
    ['serial', 'pyserial'],
    ['docx', 'python-docx'],
    ['pptx', 'python-pptx'],
    ['fitz', 'PyMuPDF'],
    ['attr', 'attrs'],
    ['OpenSSL', 'pyOpenSSL'],
    ['google.protobuf', 'protobuf'],
    ['magic', 'python-magic'],
    ['git', 'GitPython'],
    ['Levenshtein', 'python-Levenshtein'],
  ])('%s → %s', (importName, distribution) => {
    expect(distributionForImport(importName)).toBe(distribution);
  });

  it('matches the longest dotted prefix, then the top-level name', () => {
    expect(distributionForImport('google.protobuf.json_format')).toBe('protobuf');
    expect(distributionForImport('sklearn.linear_model')).toBe('scikit-learn');
    expect(distributionForImport('PIL.Image')).toBe('pillow');
    expect(distributionForImport('mpl_toolkits.mplot3d')).toBe('matplotlib');
  });

  it('falls back to the import name itself (its top-level part)', () => {
    expect(distributionForImport('numpy')).toBe('numpy');
    expect(distributionForImport('requests.adapters')).toBe('requests');
    expect(distributionForImport('tinypkg')).toBe('tinypkg');
  });

  it('is case-sensitive, as Python imports are', () => {
    expect(distributionForImport('pil')).toBe('pil');
    expect(distributionForImport('crypto')).toBe('crypto');
  });

  it('never takes inherited object keys for entries', () => {
    expect(distributionForImport('constructor')).toBe('constructor');
    expect(distributionForImport('__proto__')).toBe('__proto__');
  });
});

describe('IMPORT_TO_DISTRIBUTION', () => {
  it('lists about forty or more real mismatches, each a valid requirement', () => {
    const entries = Object.entries(IMPORT_TO_DISTRIBUTION);
    expect(entries.length).toBeGreaterThanOrEqual(40);
    for (const [importName, distribution] of entries) {
      expect(parsePackageSpec(distribution).ok, distribution).toBe(true);
      // An entry that maps a name to itself (after normalisation) is dead weight.
      expect(normalizePackageName(distribution), importName).not.toBe(
        normalizePackageName(importName),
      );
    }
  });
});
