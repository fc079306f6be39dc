#!/usr/bin/env node
// The `fsm` command: runs cli/fsm.ts through tsx, so the CLI needs no build step.
require('tsx/cjs');
require('../cli/fsm.ts');
