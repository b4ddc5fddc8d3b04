// `prisma generate` without network: the CLI insists on a schema-engine binary before generating,
// but generate never runs it, so any existing file will do (DESIGN.md, "Prisma 7 specifics").
//
// Prisma 7 clients are provider-specific, so it also generates a MySQL/MariaDB and an SQLite
// client of the same models (generated/prisma-mysql, generated/prisma-sqlite) for the test
// projects that run the suite on those databases. Their schemas are derived from
// prisma/schema.prisma, so the models can never drift apart; only native types (@db.*) differ.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const env = { ...process.env }
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url)
env.PRISMA_HIDE_UPDATE_MESSAGE = '1'
const cli = createRequire(import.meta.url).resolve('prisma/build/index.js')

/** The providers besides PostgreSQL, and the native types each keeps from the main schema. */
const derived = { mysql: /@db\.Decimal\(\d+, *\d+\)/, sqlite: null } as const

function generate(schema: string): void {
  execFileSync(process.execPath, [cli, 'generate', '--schema', schema], { env, stdio: 'inherit' })
}

/** prisma/schema.prisma for another provider: its own output folder, native types dropped. */
export function deriveSchema(text: string, provider: keyof typeof derived): string {
  const keep = derived[provider]
  return text
    .replace(/provider = "postgresql"/, `provider = "${provider}"`)
    .replace(/output\s*=\s*"\.\.\/generated\/prisma"/, `output   = "../../prisma-${provider}"`)
    .replace(/ @db\.\w+(\([^)]*\))?/g, (native) => (keep?.test(native) ? native : ''))
}

generate(join(root, 'prisma', 'schema.prisma'))
const main = readFileSync(join(root, 'prisma', 'schema.prisma'), 'utf8')
for (const provider of Object.keys(derived) as Array<keyof typeof derived>) {
  const file = join(root, 'generated', 'schemas', provider, 'schema.prisma')
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `// Derived from prisma/schema.prisma by scripts/generate.ts: do not edit.\n${deriveSchema(main, provider)}`)
  generate(file)
}
