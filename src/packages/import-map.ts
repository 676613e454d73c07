/**
 * Import name → the distribution that provides it, for automatic installs of missing
 * imports (`import cv2` needs `opencv-python`). Only names whose distribution differs
 * from the import name after PEP 503 normalisation are listed; everything else installs
 * under its own name (subject to policy, like any request).
 *
 * Keys are import names exactly as written in code (case matters to Python); dotted keys
 * are matched before their prefixes, so `google.protobuf` wins over `google`.
 */
export const IMPORT_TO_DISTRIBUTION: Readonly<Record<string, string>> = {
  // Imaging, vision, documents
  cv2: 'opencv-python',
  PIL: 'pillow',
  skimage: 'scikit-image',
  fitz: 'PyMuPDF',
  docx: 'python-docx',
  pptx: 'python-pptx',
  pdfminer: 'pdfminer.six',
  tabula: 'tabula-py',
  camelot: 'camelot-py',
  cairo: 'pycairo',
  magic: 'python-magic',
  // Science and data
  sklearn: 'scikit-learn',
  mpl_toolkits: 'matplotlib',
  Bio: 'biopython',
  umap: 'umap-learn',
  faiss: 'faiss-cpu',
  community: 'python-louvain',
  osgeo: 'GDAL',
  Levenshtein: 'python-Levenshtein',
  snappy: 'python-snappy',
  // Formats and parsing
  yaml: 'pyyaml',
  bs4: 'beautifulsoup4',
  dateutil: 'python-dateutil',
  dotenv: 'python-dotenv',
  slugify: 'python-slugify',
  multipart: 'python-multipart',
  markdown_it: 'markdown-it-py',
  ruamel: 'ruamel.yaml',
  'google.protobuf': 'protobuf',
  // `from google.protobuf import …` reports the top-level name only.
  google: 'protobuf',
  googleapiclient: 'google-api-python-client',
  // Crypto and auth
  jwt: 'PyJWT',
  jose: 'python-jose',
  Crypto: 'pycryptodome',
  Cryptodome: 'pycryptodomex',
  OpenSSL: 'pyOpenSSL',
  nacl: 'PyNaCl',
  // Networking and services
  serial: 'pyserial',
  usb: 'pyusb',
  zmq: 'pyzmq',
  socks: 'PySocks',
  dns: 'dnspython',
  websocket: 'websocket-client',
  socketio: 'python-socketio',
  engineio: 'python-engineio',
  telegram: 'python-telegram-bot',
  discord: 'discord.py',
  kafka: 'kafka-python',
  memcache: 'python-memcached',
  whois: 'python-whois',
  ldap: 'python-ldap',
  git: 'GitPython',
  github: 'PyGithub',
  // Databases
  MySQLdb: 'mysqlclient',
  psycopg2: 'psycopg2-binary',
  // Other well-known mismatches
  attr: 'attrs',
  pkg_resources: 'setuptools',
  _cffi_backend: 'cffi',
  gi: 'PyGObject',
  wx: 'wxPython',
  Xlib: 'python-xlib',
  speech_recognition: 'SpeechRecognition',
};

/**
 * The distribution to install for an import name (`cv2` → `opencv-python`,
 * `google.protobuf.json_format` → `protobuf`); the import's top-level name otherwise.
 */
export function distributionForImport(importName: string): string {
  const parts = importName.trim().split('.');
  for (let length = parts.length; length > 0; length -= 1) {
    const key = parts.slice(0, length).join('.');
    if (Object.hasOwn(IMPORT_TO_DISTRIBUTION, key)) {
      return IMPORT_TO_DISTRIBUTION[key] ?? key;
    }
  }
  return parts[0] ?? importName;
}
