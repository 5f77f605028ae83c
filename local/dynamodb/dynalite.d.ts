/** The part of dynalite 4's API Shiplane uses (the package ships no types). */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** How long a new table stays CREATING; dynalite's default is 500. */
    readonly createTableMs?: number;
    readonly deleteTableMs?: number;
    readonly updateTableMs?: number;
    /** A LevelDB folder; in memory without it. */
    readonly path?: string;
  }

  /** An HTTP server speaking DynamoDB's JSON protocol; `listen` it, `close` closes its store too. */
  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
