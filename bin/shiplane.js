#!/usr/bin/env node
// The `shiplane` command: registers tsx so Node loads the TypeScript CLI as it is, then runs it.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli/main.ts');
process.exitCode = await run(process.argv);
