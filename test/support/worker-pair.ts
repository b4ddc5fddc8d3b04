import { afterAll, beforeAll } from 'vitest'
import { WorkerProcess, type WorkerInit } from './worker.js'

/** Two application processes of the calling test file: started before its tests, stopped after. */
export interface WorkerPair {
  writer: WorkerProcess
  reader: WorkerProcess
  /** Builds both processes' caches with `init` and waits until both buses are up. */
  init(init: WorkerInit): Promise<void>
}

export function useWorkerPair(): WorkerPair {
  const pair = {
    async init(init: WorkerInit) {
      await Promise.all([pair.writer.init(init), pair.reader.init(init)])
      await Promise.all([pair.writer.request({ cmd: 'ready' }), pair.reader.request({ cmd: 'ready' })])
    },
  } as WorkerPair
  beforeAll(async () => {
    ;[pair.writer, pair.reader] = await Promise.all([WorkerProcess.start('writer'), WorkerProcess.start('reader')])
  }, 60_000)
  afterAll(async () => {
    await Promise.all([pair.writer?.stop(), pair.reader?.stop()])
  })
  return pair
}
