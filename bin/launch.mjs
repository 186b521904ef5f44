// Starts a bin from its build in out/cli (bin/build-cli.mjs) while that build is newer than
// every source it was made from, and from the TypeScript sources through tsx otherwise: a
// checkout being edited runs what is on disk, an installed one starts without transpiling.
// MQBOARD_FROM_SOURCE=1 always runs the sources (the tests of the sources set it).
import { readFileSync, statSync } from 'node:fs';
import nodeModule from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = new URL('../', import.meta.url);
const outdir = new URL('out/cli/', repo);

function isFresh(bundle) {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(new URL('manifest.json', outdir), 'utf8'));
    if (!statSync(bundle, { throwIfNoEntry: false })) return false;
  } catch {
    return false;
  }
  if (typeof manifest?.startedAt !== 'number' || !Array.isArray(manifest.inputs)) return false;
  try {
    for (const f of manifest.inputs) {
      const st = statSync(fileURLToPath(new URL(f, repo)), { throwIfNoEntry: false });
      if (!st || st.mtimeMs >= manifest.startedAt) return false;
    }
  } catch {
    // A manifest naming something other than a file: the sources are the safe choice.
    return false;
  }
  return true;
}

/** `name` is the bundle (out/cli/<name>.mjs), `source` the TypeScript entry, from the repository root. */
export async function launch(name, source) {
  const bundle = fileURLToPath(new URL(`${name}.mjs`, outdir));
  if (!/^(1|true|yes)$/i.test(process.env.MQBOARD_FROM_SOURCE ?? '') && isFresh(bundle)) {
    // Compiling the bundle's ~1 MB of JavaScript is the largest part of a command's start. Node
    // 22.1+ keeps V8's compiled code between runs (in the temp folder; a folder it cannot write
    // only costs the cache); Node 20 has no such cache and compiles every time.
    nodeModule.enableCompileCache?.();
    await import(pathToFileURL(bundle).href);
    return;
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL(source, repo).href);
}
