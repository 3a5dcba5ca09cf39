/** The clock port: domain code never reads time itself; adapters pass `now` in from a Clock. */
export interface Clock {
  now(): Date;
}
