#!/usr/bin/env node
// Builds the `mqboard` CLI and the `mqboard-device` runtime (with its supervised child) into
// plain JavaScript under out/cli, so they start without transpiling TypeScript (`npm ci` runs
// this as the `prepare` script). The bins use the build while it is newer than every source
// it was made from, and the TypeScript sources through tsx otherwise (launch.mjs).
//
//   node bin/build-cli.mjs [--outdir DIR] [--prepare]
//
// With --prepare (npm's `prepare`) a failed build is a warning, not a failed install: the bins
// then run the sources, slower but the same.
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const ENTRIES = {
  mqboard: 'electron/src/cli/main.ts',
  'mqboard-device': 'device-runtime/src/bin.ts',
  // The supervisor forks this one (device-runtime/src/supervisor.ts).
  'device-child': 'device-runtime/src/child.ts',
};
export const MANIFEST = 'manifest.json';

const posix = (p) => p.split(path.sep).join('/');

/**
 * Our modules find files beside themselves with `new URL(…, import.meta.url)` (the demo app,
 * the original board's python helper, package.json). In a bundle import.meta.url names the
 * bundle, so each module's own URL is rebuilt from the bundle's: the files stay where they are.
 * The supervisor forks its child from source through tsx; built, it forks the built child.
 */
const BUNDLE_URL = '__mqboard_bundle_url__';

function ownModuleUrls(outdir, warnings) {
  return {
    name: 'mqboard-own-module-urls',
    setup(b) {
      // protocol/ is pure (no I/O; lint keeps it so): a module of it that nothing uses, such as
      // the app's bridge schemas in the CLI, need not be loaded at all.
      b.onResolve({ filter: /^\./ }, (args) => {
        const base = path.resolve(args.resolveDir, args.path);
        if (!posix(path.relative(repo, base)).startsWith('protocol/src')) return undefined;
        const file = [base, `${base}.ts`, path.join(base, 'index.ts')].find((f) => statSync(f, { throwIfNoEntry: false })?.isFile());
        return file ? { path: file, sideEffects: false } : undefined;
      });
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        let src = readFileSync(args.path, 'utf8');
        if (posix(path.relative(repo, args.path)) === 'device-runtime/src/supervisor.ts') {
          const child = "new URL('./child.ts', import.meta.url)";
          const loader = "execArgv: ['--import', TSX]";
          if (src.includes(child) && src.includes(loader)) {
            src = src.replace(child, `new URL('./device-child.mjs', ${BUNDLE_URL})`).replace(loader, 'execArgv: []');
          } else {
            warnings.push('device-runtime/src/supervisor.ts no longer forks ./child.ts through tsx as expected: the built runtime forks its child from source');
          }
        }
        const own = JSON.stringify(posix(path.relative(outdir, args.path)));
        src = src.replace(/\bimport\.meta\.url\b/g, `new URL(${own}, import.meta.url).href`).replaceAll(BUNDLE_URL, 'import.meta.url');
        return { contents: src, loader: 'ts' };
      });
    },
  };
}

/**
 * zod's namespace object (`import { z } from 'zod'`) carries every translation of its error
 * messages, ~60 modules that esbuild cannot shake out of it and Node parses at every start. The
 * CLI and the runtime speak English (zod's default, set by zod itself): the bundle keeps that one.
 */
function zodEnglishOnly() {
  return {
    name: 'mqboard-zod-english-only',
    setup(b) {
      b.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, (args) => ({
        contents: "export { default as en } from './en.js';\n",
        resolveDir: path.dirname(args.path),
        loader: 'js',
      }));
    },
  };
}

/**
 * Two libraries mqtt.js loads for other platforms, kept out of a Node bundle: `readable-stream`
 * (a copy of Node's own streams for browsers, 210 KB with its helpers; Node's `stream` has the
 * same classes) and `worker-timers` (a Web Worker timer that mqtt.js only picks in a browser).
 */
function nodeOnly() {
  return {
    name: 'mqboard-node-only',
    setup(b) {
      b.onResolve({ filter: /^readable-stream$/ }, () => ({ path: 'node:stream', external: true }));
      b.onResolve({ filter: /^worker-timers$/ }, () => ({ path: 'worker-timers', namespace: 'mqboard-native-timers' }));
      b.onLoad({ filter: /.*/, namespace: 'mqboard-native-timers' }, () => ({
        contents: 'module.exports = { setInterval, clearInterval, setTimeout, clearTimeout };\n',
        loader: 'js',
      }));
    },
  };
}

export async function buildCli(outdir = path.join(repo, 'out/cli')) {
  const startedAt = Date.now();
  // Without a manifest the bins use the sources, so none exists while the bundles are half
  // written; and chunk names carry a content hash, so old ones would pile up.
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  const warnings = [];
  const result = await build({
    absWorkingDir: repo,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, src]) => [name, path.join(repo, src)])),
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.6',
    // Libraries are bundled too: loading mqtt.js's hundred-odd CommonJS files one by one costs
    // more than twice the time of the same code in one file. Their optional native add-ons stay
    // out (ws tries them and goes on without), and CommonJS code gets a `require` for Node's modules.
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: "import { createRequire as __mqboardRequire } from 'node:module'; const require = __mqboardRequire(import.meta.url);" },
    // Commands load the engine and the broker when they run (dynamic imports): separate chunks.
    splitting: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [ownModuleUrls(outdir, warnings), zodEnglishOnly(), nodeOnly()],
  });
  const inputs = Object.keys(result.metafile.inputs)
    // Files only: a plugin's virtual module (`namespace:path`) has no file to compare.
    .filter((f) => !f.includes('node_modules/') && !/^[a-z][a-z-]+:/.test(f))
    .map((f) => posix(path.relative(repo, path.resolve(repo, f))));
  writeFileSync(path.join(outdir, MANIFEST), JSON.stringify({ startedAt, inputs }, null, 1));
  for (const w of warnings) process.stderr.write(`build-cli: warning: ${w}\n`);
  return { outdir, inputs, warnings };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--outdir');
  try {
    const { outdir, inputs } = await buildCli(i > 0 ? path.resolve(process.argv[i + 1]) : undefined);
    process.stdout.write(`built ${Object.keys(ENTRIES).join(', ')} from ${inputs.length} sources into ${path.relative(process.cwd(), outdir) || '.'}\n`);
  } catch (e) {
    process.stderr.write(`build-cli: ${e instanceof Error ? e.message : String(e)}\n`);
    if (!process.argv.includes('--prepare')) process.exit(1);
    process.stderr.write('build-cli: warning: mqboard and mqboard-device will run from the TypeScript sources (slower start)\n');
  }
}
