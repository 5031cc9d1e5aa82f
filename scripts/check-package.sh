#!/usr/bin/env bash
# The package as a consumer gets it: `npm pack`, install the tarball in an empty project, type-check a strict
# consumer against the shipped .d.ts (skipLibCheck off), import it on this machine's own node (the oldest we
# support, Node 20 here) and on Node 24, require() it on Node 24, and run its bin.
# Run from the repository root: bash scripts/check-package.sh
set -euo pipefail
root=$(pwd)
node24=$(npm exec --silent -- node -p process.execPath)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

npm run --silent build:lib
tarball=$(npm pack --silent --ignore-scripts --pack-destination "$work" | tail -n 1)
mkdir "$work/consumer"
cd "$work/consumer"
echo '{ "name": "consumer", "private": true, "type": "module" }' >package.json
npm install --silent --no-audit --no-fund --prefer-offline "$work/$tarball"

cat >consumer.ts <<'EOF'
import {
  callbackSource,
  detectSource,
  envVarSource,
  exchangeOnline,
  ExchangeApiError,
  tokensFromEnvironment,
  type CmdletRow,
  getExchangeOnlineTokens,
  runWorkers,
  tokenFileSource,
  type ExoTokens,
} from 'exo-login';

export async function mint(): Promise<ExoTokens> {
  const sources = [detectSource({}), tokenFileSource('/var/run/token'), envVarSource('X', {})];
  const first = sources[0] ?? callbackSource(() => Promise.resolve('a.b.c'));
  return getExchangeOnlineTokens({ tenantId: 't', clientId: 'c', resources: ['exchange'], assertion: first });
}
export const runner: typeof runWorkers = runWorkers;
export async function mailboxes(): Promise<CmdletRow[]> {
  const exo = exchangeOnline(tokensFromEnvironment(), { endpoint: 'exchange', maxConcurrency: 2 });
  try {
    return await exo.invoke('Get-Mailbox', { ResultSize: 'Unlimited' }, { select: ['Alias'] }).all();
  } catch (error) {
    if (error instanceof ExchangeApiError && error.reason === 'not-found') return [];
    throw error;
  }
}
EOF
cat >tsconfig.json <<EOF
{
  "compilerOptions": {
    "strict": true, "noUncheckedIndexedAccess": true, "exactOptionalPropertyTypes": true,
    "module": "nodenext", "moduleResolution": "nodenext", "target": "es2022",
    "noEmit": true, "skipLibCheck": false, "types": ["node"], "typeRoots": ["$root/node_modules/@types"]
  },
  "files": ["consumer.ts"]
}
EOF
"$root/node_modules/.bin/tsc" -p tsconfig.json
echo "types: a strict consumer type-checks against the shipped declarations"

probe="const m = await import('exo-login'); if (typeof m.getExchangeOnlineTokens !== 'function' || typeof m.exchangeOnline !== 'function') throw new Error('no getExchangeOnlineTokens or exchangeOnline'); console.log('import: ok on Node ' + process.versions.node);"
node --input-type=module -e "$probe"
"$node24" --input-type=module -e "$probe"
"$node24" -e "const m = require('exo-login'); if (typeof m.detectSource !== 'function') throw new Error('no detectSource'); console.log('require: ok on Node ' + process.versions.node)"
PATH="$(dirname "$node24"):$PATH" ./node_modules/.bin/exo-login --help | head -n 1
# The bundle reads its version from a file the build writes; a wrong one prints 'undefined'.
expected=$(node -p "require('$root/package.json').version")
actual=$(PATH="$(dirname "$node24"):$PATH" ./node_modules/.bin/exo-login --version)
if [ "$actual" != "$expected" ]; then
  echo "exo-login --version printed '$actual', expected '$expected'" >&2
  exit 1
fi
echo "version: exo-login --version prints $actual"
