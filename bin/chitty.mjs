#!/usr/bin/env node
// The `chitty` CLI. Runs the TypeScript source through tsx (a runtime dependency).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/chitty.ts');
