/**
 * In-process single flight: concurrent identical misses share one promise. The flight key
 * includes the generations the read saw, so a read that starts after a write never joins a
 * flight that started before it. A failure rejects every waiter together (one shared promise,
 * not retried once per waiter), and the flight is forgotten once settled, so nothing caches an error.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>()

  get(key: string): Promise<T> | undefined {
    return this.flights.get(key)
  }

  run(key: string, load: () => Promise<T>): Promise<T> {
    const flight = load()
    this.flights.set(key, flight)
    const forget = () => void this.flights.delete(key)
    flight.then(forget, forget)
    return flight
  }
}
