/** Where a sandbox lives and how a running one is found; light enough for every CLI start to import. */

/** The work folder, relative to where `shiplane sandbox` starts. */
export const DEFAULT_WORKDIR = '.shiplane/sandbox';
/** Port of the console and the interaction endpoint. */
export const DEFAULT_PORT = 4400;
/** Written in the work folder while the sandbox runs: `{url, pid, workdir}`. */
export const SANDBOX_STATE_FILE = 'sandbox.json';
