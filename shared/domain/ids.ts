import { monotonicFactory } from "ulid";

const ulid = monotonicFactory();

export type IdPrefix = "run" | "jr" | "wh" | "key" | "dlv" | "evt" | "exp";

/** A new prefixed ULID such as run_01J…; ULIDs sort by creation time. */
export const newId = (prefix: IdPrefix, nowMs = Date.now()): string => `${prefix}_${ulid(Math.floor(nowMs))}`;

export const ID_PATTERN = /^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$/;
