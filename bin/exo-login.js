#!/usr/bin/env node
// The CLI is bundled like the action (dist/cli), so `npx exo-login` works from a fresh clone without a build.
import '../dist/cli/index.js';
