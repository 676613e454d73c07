/**
 * The session of run_python calls that name none, of the executor toolset and of the
 * pre-warm; also what history rows and returned files written before named sessions mean.
 */
export const DEFAULT_SESSION = 'default';
