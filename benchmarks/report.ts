// Results of one run: JSON for machines, Markdown for people (a table per scenario).
import type { Verdict } from './correctness.js'
import { formatRatio, formatSpread, formatUs, type Measurement } from './harness.js'

/** One line of a timing table. */
export interface Row {
  contender: string
  label: string
  measurement?: Measurement
  /** database statements, where the scenario counts them */
  queries?: number | string
  verdict?: Verdict
  /** scenario-specific columns, in the scenario's `extraColumns` order */
  extra?: Record<string, string | number>
  note?: string
}

export interface ScenarioResult {
  id: string
  title: string
  /** What was run, in a sentence or two. */
  description: string
  /** The row the ratio column compares with. */
  baseline?: string
  /** Column header of the timing, e.g. 'per call' or 'per resolver run'. */
  unit?: string
  showQueries?: boolean
  extraColumns?: string[]
  rows: Row[]
  /** Free Markdown after the table (custom tables, observations). */
  after?: string[]
  /** Extra data for latest.json. */
  data?: unknown
  seconds?: number
}

export function scenarioMarkdown(s: ScenarioResult): string {
  const out = [`## ${s.title}`, '', s.description, '']
  if (s.rows.length > 0) {
    const baseline = s.rows.find((r) => r.contender === s.baseline)?.measurement
    const headers = ['contender', `median ${s.unit ?? 'per call'}`, 'spread (p10–p90)', 'vs uncached']
    if (s.showQueries) headers.push('DB queries')
    headers.push(...(s.extraColumns ?? []), 'answers vs uncached Prisma')
    out.push(`| ${headers.join(' | ')} |`, `| ${headers.map((_, i) => (i === 0 || i === headers.length - 1 ? '---' : '---:')).join(' | ')} |`)
    for (const r of s.rows) {
      const m = r.measurement
      const cells = [
        r.note ? `${r.label} (${r.note})` : r.label,
        m ? formatUs(m.us) : '–',
        m ? formatSpread(m) : '–',
        m ? formatRatio(m, baseline) : '–',
      ]
      if (s.showQueries) cells.push(r.queries === undefined ? '–' : String(r.queries))
      for (const c of s.extraColumns ?? []) cells.push(String(r.extra?.[c] ?? '–'))
      cells.push(r.verdict === undefined ? '–' : r.verdict.ok ? 'equal' : `**WRONG**: ${escape(r.verdict.detail ?? '')}`)
      out.push(`| ${cells.join(' | ')} |`)
    }
    out.push('')
  }
  if (s.after?.length) out.push(...s.after, '')
  return out.join('\n')
}

export function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

export function markdownTable(headers: string[], rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const a = align ?? headers.map((_, i) => (i === 0 ? 'l' : 'r'))
  return [
    `| ${headers.join(' | ')} |`,
    `| ${a.map((x) => (x === 'l' ? '---' : '---:')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map((c) => escape(String(c))).join(' | ')} |`),
  ].join('\n')
}
