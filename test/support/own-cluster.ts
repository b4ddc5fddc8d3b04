import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { OwnRedis, until } from './redis-server.js'

const exec = promisify(execFile)

/**
 * A Redis Cluster of a test's own: three masters and one replica of the master that serves
 * `replicaOf`'s hash slot, each an OwnRedis on a free port, removed by `remove()`.
 */
export class OwnCluster {
  readonly masters = [new OwnRedis(), new OwnRedis(), new OwnRedis()]
  readonly replica = new OwnRedis()
  /** The master the replica follows (until a failover). */
  primary!: OwnRedis

  async start(replicaOfSlot: number): Promise<void> {
    const all = [...this.masters, this.replica]
    await Promise.all(all.map((node) => node.start(['--cluster-enabled', 'yes', '--cluster-config-file', join(node.dir, 'nodes.conf')])))
    await exec('redis-cli', ['--cluster', 'create', ...this.masters.map((m) => `127.0.0.1:${m.port}`), '--cluster-replicas', '0', '--cluster-yes'])
    await until(async () => (await Promise.all(this.masters.map((m) => m.cli('cluster', 'info')))).every((i) => i.includes('cluster_state:ok')), 'the cluster to form')
    this.primary = await this.masterOf(replicaOfSlot)
    const id = await this.primary.cli('cluster', 'myid')
    await exec('redis-cli', ['--cluster', 'add-node', `127.0.0.1:${this.replica.port}`, `127.0.0.1:${this.masters[0]!.port}`, '--cluster-slave', '--cluster-master-id', id])
    await until(async () => (await this.replica.cli('info', 'replication')).includes('master_link_status:up'), 'the replica to sync', 800)
  }

  get nodes(): Array<{ host: string; port: number }> {
    return [...this.masters, this.replica].map((node) => ({ host: '127.0.0.1', port: node.port }))
  }

  async masterOf(slot: number): Promise<OwnRedis> {
    for (const master of this.masters) {
      const ranges = (await master.cli('cluster', 'nodes')).split('\n').find((line) => line.includes('myself'))!.split(' ').slice(8)
      if (ranges.some((range) => inRange(slot, range))) return master
    }
    throw new Error(`no master serves slot ${slot}`)
  }

  /** Cuts the replica off its master, for good: it can no longer authenticate to it. */
  async cutReplica(): Promise<void> {
    await until(async () => (await this.primary.cli('wait', '1', '1000')) === '1', 'the replica to acknowledge every write')
    await this.replica.cli('config', 'set', 'masteruser', 'nobody')
    await this.replica.cli('config', 'set', 'masterauth', 'wrong')
    await this.replica.cli('client', 'kill', 'type', 'master')
    await until(async () => (await this.replica.cli('info', 'replication')).includes('master_link_status:down'), 'the replica to lose its master')
  }

  /**
   * The replica takes its master's slots: `takeover`, without asking anyone (`CLUSTER FAILOVER
   * TAKEOVER`); `kill`, its master killed first, then elected by the other masters (`FORCE`).
   */
  async failover(how: 'takeover' | 'kill'): Promise<void> {
    if (how === 'kill') await this.primary.kill()
    await this.replica.cli('cluster', 'failover', how === 'kill' ? 'force' : 'takeover')
    const id = await this.replica.cli('cluster', 'myid')
    const alive = this.masters.filter((m) => how === 'takeover' || m !== this.primary)
    await until(
      async () => (await Promise.all(alive.map((m) => m.cli('cluster', 'nodes')))).every((nodes) => nodes.split('\n').some((l) => l.startsWith(id) && l.includes('master'))),
      'every node to see the replica as master',
    )
  }

  async remove(): Promise<void> {
    // a killed node is already gone: kill() and remove() do nothing more for it
    await Promise.all([...this.masters, this.replica].map((node) => node.remove()))
  }
}

function inRange(slot: number, range: string): boolean {
  const [from, to = from] = range.split('-').map(Number)
  return from !== undefined && !Number.isNaN(from) && slot >= from && slot <= to!
}
