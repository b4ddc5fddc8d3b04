import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Where a cached read's Prisma error says it was called, as Prisma says it for the plain client.
 *
 * Prisma captures a stack (`new Error()`) when its method is called and, if the query fails,
 * prints the caller's file, line and code frame. A cached read calls Prisma later, from the cache,
 * where no caller is on the stack: the message said "Invalid `prisma.user.count()` invocation:"
 * and no more. Capturing a stack per call as Prisma does costs more than a whole L1 hit (a
 * `new Error()` measured at 1-5 µs on our loaded 2-core machines, an L1 hit ~1 µs), so the
 * caller is found only when an error comes: the cached promise settles through an async function
 * (prisma-promise.ts), and a stack captured there still reaches the caller's `await` through V8's
 * async stack traces. Then the message gets the location and code frame Prisma would have
 * printed (errorFormat "colorless", Prisma's default outside production); under NODE_ENV
 * production Prisma prints none, nor do we; "pretty" and "minimal" messages are left as they are.
 * test/read/error-callsite.test.ts compares the messages with the plain client's.
 */
export function locateCaller(error: unknown, here: Error): unknown {
  if (process.env.NODE_ENV === 'production' || !(error instanceof Error)) return error
  const header = HEADER.exec(error.message)
  if (header === null) return error
  const caller = callerFrame(here.stack)
  if (caller === undefined) return error
  const frame = codeFrame(caller, header[1]!)
  if (frame === undefined) return error
  const body = error.message.slice(header[0].length)
  // Prisma's layout: no call arguments "\n\n\n<message>", with them "\n\n<arguments>\n\n<message>"
  const bare = body.startsWith('\n\n\n')
  const end = bare ? 3 : body.indexOf('\n\n', 2)
  if (end < 0) return error
  const args = bare ? '' : body.slice(2, end)
  const message = body.slice(bare ? 3 : end + 2)
  const located = `\nInvalid \`${frame.code})\` invocation in\n${caller.file}:${caller.line}:${frame.column}\n\n${frame.lines}`
  error.message =
    args === '' ? `${located}\n${message}` : `${located}${args.replace(/\n/g, `\n${' '.repeat(frame.indent)}`)})\n\n${message}`
  return error
}

/** The first line of an unlocated message; the operation is what the caller's line must call. */
const HEADER = /^\nInvalid `prisma\.\w+\.(\w+)\(\)` invocation:/

/** One V8 stack line: `at [async ]name (file:line:column)` or `at file:line:column`. */
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/

/** This library's own folder (src/ or dist/): none of its frames is the caller's. */
const LIBRARY = fileURLToPath(new URL('..', import.meta.url))

interface Caller {
  file: string
  line: number
}

function callerFrame(stack: string | undefined): Caller | undefined {
  for (const text of (stack ?? '').split('\n')) {
    const match = FRAME.exec(text)
    if (match === null) continue
    const file = match[1]!
    if (file.startsWith('node:') || file.startsWith('internal/') || file.includes('@prisma')) continue
    if (pathOf(file).startsWith(LIBRARY)) continue
    return { file, line: Number(match[2]) }
  }
  return undefined
}

function pathOf(file: string): string {
  return file.startsWith('file://') ? fileURLToPath(file) : file
}

/** Prisma's code frame: up to three lines before the caller's, its own cut after the call's `(`. */
function codeFrame(caller: Caller, operation: string): { code: string; column: number; lines: string; indent: number } | undefined {
  let source: string[]
  try {
    source = readFileSync(pathOf(caller.file), 'utf8').split('\n')
  } catch {
    return undefined
  }
  const text = source[caller.line - 1]
  const call = text === undefined ? -1 : text.indexOf(`.${operation}(`)
  if (call < 0) return undefined
  const open = call + operation.length + 2
  const width = String(caller.line).length
  const lines: string[] = []
  for (let n = Math.max(1, caller.line - 3); n <= caller.line; n++) {
    const line = n === caller.line ? text!.slice(0, open) : (source[n - 1] ?? '')
    lines.push(`${n === caller.line ? '→' : ' '} ${String(n).padStart(width)} ${line}`)
  }
  return {
    code: text!.slice(text!.lastIndexOf(' ', call) + 1, open),
    column: call + 2,
    lines: lines.join('\n'),
    indent: text!.length - text!.trimStart().length + width + 3,
  }
}
