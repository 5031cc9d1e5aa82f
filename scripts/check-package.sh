#!/usr/bin/env bash
# The package as a consumer gets it: `npm pack` on a clean checkout (the files git tracks or would track, without
# ignored build output such as a stale lib/), check what the tarball holds, install it in an empty project,
# type-check a strict consumer against the shipped .d.ts (skipLibCheck off), import it on this machine's own node
# (the oldest we support, Node 20 here) and on Node 24, require() it on Node 24, and run `npx exo-login --help`.
# Run from the repository root: bash scripts/check-package.sh
set -euo pipefail
root=$(pwd)
node24=$(npm exec --silent -- node -p process.execPath)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir "$work/checkout"
git ls-files -z --cached --others --exclude-standard |
  tar --null --files-from=- --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$work/checkout"
ln -s "$root/node_modules" "$work/checkout/node_modules"
(cd "$work/checkout" && npm run --silent build:lib)
tarball=$(cd "$work/checkout" && npm pack --silent --ignore-scripts --pack-destination "$work" | tail -n 1)

# What a consumer gets: the action, the CLI, the library with its types, and the documents; no sources or tests.
listing=$(tar -tzf "$work/$tarball" | sed 's|^package/||' | sort)
for file in package.json LICENSE README.md TROUBLESHOOTING.md CHANGELOG.md action.yml bin/exo-login.js \
  dist/index.js dist/cli/index.js lib/index.js lib/index.d.ts lib/pulumi/index.js lib/pulumi/index.d.ts; do
  if ! grep -qx "$file" <<<"$listing"; then
    echo "the package lacks $file" >&2
    exit 1
  fi
done
if unexpected=$(grep -E '^(src|test|scripts|examples|node_modules|\.github|\.ci)/' <<<"$listing"); then
  echo "the package ships files a consumer does not need:" >&2
  echo "$unexpected" >&2
  exit 1
fi
if node -e 'process.exit(require(process.argv[1]).private ? 0 : 1)' "$root/package.json"; then
  echo 'package.json is "private": npm would refuse to publish it' >&2
  exit 1
fi
echo "contents: $(wc -l <<<"$listing") files, the action, CLI, library, types, LICENSE and docs"
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
# As a newcomer runs it, on the oldest Node the CLI supports and on the action's runtime.
npx --no-install exo-login --help | head -n 1
PATH="$(dirname "$node24"):$PATH" npx --no-install exo-login --help | head -n 1
# The bundle reads its version from a file the build writes; a wrong one prints 'undefined'.
expected=$(node -p "require('$root/package.json').version")
actual=$(PATH="$(dirname "$node24"):$PATH" ./node_modules/.bin/exo-login --version)
if [ "$actual" != "$expected" ]; then
  echo "exo-login --version printed '$actual', expected '$expected'" >&2
  exit 1
fi
echo "version: exo-login --version prints $actual"
