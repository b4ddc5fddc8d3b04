import { connect, createServer, type AddressInfo, type Socket } from 'node:net'

/**
 * A TCP proxy to a real server that a test can cut (every connection dropped and refused) and
 * restore, or move to another server (every connection dropped, new ones go there: a failover).
 */
export interface CuttableProxy {
  port: number
  cut(): void
  restore(): void
  move(port: number): void
  close(): Promise<void>
}

export async function cuttableProxy(target: string): Promise<CuttableProxy> {
  const { hostname } = new URL(target)
  let port = Number(new URL(target).port)
  let up = true
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
  }
  const server = createServer((client) => {
    track(client)
    if (!up) return void client.destroy()
    const upstream = connect(port, hostname)
    track(upstream)
    client.pipe(upstream).pipe(client)
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    cut() {
      up = false
      for (const socket of sockets) socket.destroy()
    },
    restore() {
      up = true
    },
    move(to) {
      port = to
      for (const socket of sockets) socket.destroy()
    },
    close() {
      for (const socket of sockets) socket.destroy()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
