#!/usr/bin/env node
// The `chitty` CLI. Runs the TypeScript source through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/chitty.ts');
await main();
