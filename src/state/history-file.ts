/**
 * The history's database file on disk: created 0600, opened in WAL mode, told apart from
 * a replacement, and moved aside when it is damaged.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { prepareConnection, type Connection } from './history-queries.js';
import { SchemaTooNewError } from './history-schema.js';

/** Bytes the WAL file is cut back to after a checkpoint (it may grow past it meanwhile). */
const WAL_SIZE_LIMIT = 8 * 1024 * 1024;

/**
 * Opens the history file (folder 0700), ready for queries; undefined, logged, when no file
 * can be used. A damaged or unreadable file is moved aside and replaced, once.
 */
export function openHistoryFile(
  file: string,
  options: { busyTimeoutMs: number; maxEntries: number; logger: Logger },
): Connection | undefined {
  const { logger } = options;
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  } catch (error: unknown) {
    logger.error(
      { err: String(error), file },
      'history: cannot create the state folder; keeping the history in memory only',
    );
    return undefined;
  }
  for (let attempt = 1; ; attempt += 1) {
    const before = fileIdentity(file);
    try {
      const { db, identity } = openDatabaseFile(file, options.busyTimeoutMs, logger);
      try {
        return prepareConnection(db, { identity, maxEntries: options.maxEntries });
      } catch (error: unknown) {
        db.close();
        throw error;
      }
    } catch (error: unknown) {
      if (error instanceof SchemaTooNewError) {
        logger.error(
          { err: error.message, file },
          'history: the database was written by a newer version; leaving it untouched and keeping the history in memory only',
        );
        return undefined;
      }
      if (attempt === 1 && before !== undefined && isUnusableFile(file, error)) {
        logger.error(
          { err: String(error), file },
          'history: the database file is damaged or unreadable; starting a fresh one',
        );
        // Another process may have replaced it already: then just open theirs.
        if (fileIdentity(file) === before && !moveAside(file, logger)) return undefined;
        continue;
      }
      logger.error(
        { err: String(error), file },
        'history: cannot open the database; keeping the history in memory only',
      );
      return undefined;
    }
  }
}

/**
 * Opens (creating if needed) the database file: 0600 from the start, WAL, synchronous
 * NORMAL, and `busyTimeoutMs` to wait for another process's lock. Throws if it cannot.
 *
 * synchronous=NORMAL, not FULL: in WAL mode NORMAL still keeps the database consistent
 * after any crash, and a commit is durable once it is in the OS page cache, which is what
 * survives the bridge being killed (the failure we expect). Only a power cut or kernel
 * crash may undo the last few commits, never corrupt the file; FULL would add an fsync to
 * every execution's bookkeeping for that, and an execution's history entry is not worth it.
 */
function openDatabaseFile(
  file: string,
  busyTimeoutMs: number,
  logger: Logger,
): { db: Database.Database; identity: string } {
  // Create the file ourselves so it is 0600 from the start (SQLite would honour the
  // umask); its -wal and -shm files take the database file's mode. O_NONBLOCK: a FIFO in
  // its place must not hang the bridge.
  const fd = openSync(
    file,
    constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_NONBLOCK,
    0o600,
  );
  let identity: string;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) fchmodSync(fd, 0o600);
    identity = `${stat.dev}:${stat.ino}`;
  } finally {
    closeSync(fd);
  }
  const db = new Database(file, { timeout: busyTimeoutMs });
  try {
    // Only takes effect on a new, empty file: lets clear() hand pages back.
    db.pragma('auto_vacuum = INCREMENTAL');
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') logger.warn({ file, mode }, 'history: WAL mode is not available here');
    db.pragma('synchronous = NORMAL');
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    return { db, identity };
  } catch (error: unknown) {
    db.close();
    throw error;
  }
}

/** Renames the file (and its WAL) to `<file>.corrupt-<time>`; false if that failed. */
export function moveAside(file: string, logger: Logger): boolean {
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(file, aside);
  } catch (error: unknown) {
    logger.error(
      { err: String(error), file },
      'history: cannot move the damaged database aside; keeping the history in memory only',
    );
    return false;
  }
  try {
    renameSync(`${file}-wal`, `${aside}-wal`);
  } catch {
    // No WAL: nothing to keep.
  }
  rmSync(`${file}-shm`, { force: true });
  logger.error({ file, movedTo: aside }, 'history: damaged database moved aside');
  return true;
}

/** Errors that mean the database content is bad, as opposed to the disk, a lock or a full disk. */
export function isCorrupt(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
  );
}

/**
 * When opening failed: is the file itself unusable (corrupt, not a regular file, or one we
 * may not read and write)? Not when the cause lies elsewhere (a read-only folder, no free
 * file descriptors, a lock held too long): a healthy file is never moved aside for that.
 */
function isUnusableFile(file: string, error: unknown): boolean {
  if (isCorrupt(error)) return true;
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r+');
    return !fstatSync(fd).isFile();
  } catch (openError: unknown) {
    const code = (openError as { code?: unknown }).code;
    return code === 'EACCES' || code === 'EPERM' || code === 'EISDIR';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `dev:inode` of the file, or undefined if there is none. */
function fileIdentity(file: string): string | undefined {
  try {
    const stat = statSync(file);
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return undefined;
  }
}

export function sameFile(file: string, identity: string | undefined): boolean {
  return identity !== undefined && fileIdentity(file) === identity;
}
