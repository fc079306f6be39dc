/** What became of one message; logged, and asserted on by tests. */
export type MessageDisposition =
  | 'dropped:missing'
  | 'dropped:stale'
  | 'deleted'
  | 'deferred'
  | 'waiting'
  | 'committed'
  | 'commit-refused'
  /** Lambda throttled the handler: the step was given back, to be tried again, its attempt unused. */
  | 'throttled';
