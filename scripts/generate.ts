// `prisma generate` without network: the CLI insists on a schema-engine binary before generating,
// but generate never runs it, so any existing file will do (DESIGN.md, "Prisma 7 specifics").
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const env = { ...process.env }
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url)
env.PRISMA_HIDE_UPDATE_MESSAGE = '1'
const cli = createRequire(import.meta.url).resolve('prisma/build/index.js')
execFileSync(process.execPath, [cli, 'generate'], { env, stdio: 'inherit' })
