/**
 * Where a local run writes: lines for people on `out`, warnings and progress on `err`. Defined here,
 * not in cli/, because local runs (`shiplane run`, the sandbox) write through it and local/ never
 * imports cli/; the CLI passes the process's streams (`processIo` in cli/io.ts).
 */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}
