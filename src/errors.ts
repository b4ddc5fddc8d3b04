/** Every error this library raises carries a stable `code`. */
export class CacheError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** Bad configuration, thrown by `withCache()` or by a `cacheStrategy` the caller passed. */
export class CacheConfigError extends CacheError {
  readonly option: string
  constructor(option: string, message: string) {
    super('PTC_CONFIG', `prisma-tiered-cache: ${option} ${message}`)
    this.option = option
  }
}
