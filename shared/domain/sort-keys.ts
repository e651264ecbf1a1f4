/**
 * Index sort key of the lists ordered by time (workflows, schedules, subscriptions): a µs ISO timestamp, which sorts
 * as text, then the name to order two stamped in the same microsecond. Lists read it backwards: newest first, as
 * every list of the API.
 */
export const listSortKey = (at: string, name: string) => `${at}#${name}`;
