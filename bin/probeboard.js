#!/usr/bin/env node
// Entry point of the `probeboard` command. The code base is TypeScript run through
// tsx's loader, so that `npx probeboard` needs no separate compile step.
import { register } from 'tsx/esm/api';
register();
await import('../server/cli/main.ts');
