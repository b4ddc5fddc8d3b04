// The package's build: ESM in dist/ (type-checked), CommonJS in dist/cjs/ (the same sources, a
// second emit), each with the Lua scripts beside its code. `tsx scripts/build.ts [outDir]`.
//
// src/ locates its Lua files with `import.meta.url`, which CommonJS does not have: the CommonJS
// emit is done without re-checking (the ESM run has checked the same sources) and every
// `import.meta.url` in it becomes the file URL of the module's own `__filename`.
import { execFileSync } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const out = resolve(process.argv[2] ?? join(ROOT, 'dist'))
const cjs = join(out, 'cjs')
const tsc = (...args: string[]) =>
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.json'), ...args], { stdio: 'inherit' })

rmSync(out, { recursive: true, force: true })
tsc('--outDir', out)
tsc('--outDir', cjs, '--module', 'commonjs', '--moduleResolution', 'bundler', '--verbatimModuleSyntax', 'false', '--noCheck')
writeFileSync(join(cjs, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`)

const META_URL = 'require("node:url").pathToFileURL(__filename).href'
for (const file of jsFiles(cjs)) {
  const text = readFileSync(file, 'utf8')
  if (!text.includes('import.meta')) continue
  const rewritten = text.replaceAll('import.meta.url', META_URL)
  if (rewritten.includes('import.meta')) throw new Error(`${file}: import.meta other than import.meta.url has no CommonJS equivalent here`)
  writeFileSync(file, rewritten)
}
for (const dir of [out, cjs]) cpSync(join(ROOT, 'src/tiers/lua'), join(dir, 'tiers/lua'), { recursive: true })

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? jsFiles(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : [],
  )
}
