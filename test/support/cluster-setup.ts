// Global setup of the `cluster` test project: a real 3-master Redis Cluster on local ports, made
// by `redis-server --cluster-enabled yes` and `redis-cli --cluster create`, torn down after.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    clusterNodes: Array<{ host: string; port: number }>
  }
}

export default async function setup(project: TestProject) {
  const base = 17000 + (process.pid % 2000) * 3
  const ports = [base, base + 1, base + 2]
  const dir = mkdtempSync(join(tmpdir(), 'ptc-cluster-'))
  const stop = () => {
    for (const port of ports) spawnSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' })
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (const port of ports) {
      execFileSync('redis-server', [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir,
        '--save', '', '--appendonly', 'no', '--daemonize', 'yes', '--logfile', join(dir, `${port}.log`),
      ])
    }
    await waitFor(() => ports.every((port) => ping(port)))
    execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
      stdio: 'ignore',
    })
    await waitFor(() => ports.every((port) => clusterOk(port)))
  } catch (error) {
    stop()
    throw new Error(`could not start a local Redis Cluster on ports ${ports.join(', ')}: ${(error as Error).message}`)
  }
  project.provide('clusterNodes', ports.map((port) => ({ host: '127.0.0.1', port })))
  return stop
}

function ping(port: number): boolean {
  return spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG'
}

function clusterOk(port: number): boolean {
  return /cluster_state:ok/.test(spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout ?? '')
}

async function waitFor(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('timed out')
}
