import { Cron } from "croner";
import { ValidationError } from "../errors.ts";

/**
 * Cron expressions of schedules: five fields (minute hour day-of-month month day-of-week), evaluated in an IANA time
 * zone, with the same meaning embedded (croner) and in the cloud (EventBridge Scheduler).
 *
 * Daylight saving: a wall-clock time that does not exist on the spring-forward day (02:30 in Europe/Berlin) fires at
 * the first instant after the gap (03:00 local); a time that occurs twice on the fall-back day fires once, at its first
 * occurrence. Schedules that name every hour still fire every real hour.
 */

const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;

const invalid = (path: "cron" | "timezone", message: string) => new ValidationError(message, [{ path, message }]);

/** Throws a 400 naming `timezone` unless it is an IANA time zone this runtime knows. */
export function validateTimezone(timezone: string): void {
  try {
    if (!timezone) throw new RangeError("empty");
    new Intl.DateTimeFormat("en-US", { timeZone: timezone }).format(0);
  } catch {
    throw invalid("timezone", `timezone '${timezone}' is not an IANA time zone (such as Europe/Berlin)`);
  }
}

function fieldsOf(expr: string): string[] {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5)
    throw invalid("cron", `cron '${expr}' must have 5 fields: minute hour day-of-month month day-of-week`);
  return fields;
}

const restricted = (field: string) => field !== "*" && field !== "?";

/** Parses a cron expression for a time zone; throws a 400 naming `cron` or `timezone`. */
export function parseCron(expr: string, timezone: string): Cron {
  validateTimezone(timezone);
  const fields = fieldsOf(expr);
  // Classic cron ORs the two day fields when both are set; EventBridge Scheduler cannot express that.
  if (restricted(fields[2] as string) && restricted(fields[4] as string))
    throw invalid("cron", `cron '${expr}' restricts both day-of-month and day-of-week: use one of them and '*'`);
  const normalized = fields.map((f) => (f === "?" ? "*" : f)).join(" ");
  try {
    const cron = new Cron(normalized, { timezone, paused: true, mode: "5-part" });
    // Catches patterns that parse but never match (30 February).
    if (!cron.nextRun(new Date(0))) throw new Error("it never fires");
    return cron;
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw invalid("cron", `cron '${expr}' is invalid: ${(err as Error).message.replace(/^CronPattern: /, "")}`);
  }
}

/** The first instant strictly after `afterMs` (epoch ms), or null when there is none. */
export function nextInstant(cron: Cron, afterMs: number): number | null {
  const next = cron.nextRun(new Date(afterMs));
  return next ? next.getTime() : null;
}

/** Instants t with afterMs < t <= untilMs, oldest first, at most `max` of them (the newest kept). */
export function instantsBetween(cron: Cron, afterMs: number, untilMs: number, max = 1000): number[] {
  const out: number[] = [];
  let t = nextInstant(cron, afterMs);
  while (t !== null && t <= untilMs) {
    out.push(t);
    if (out.length > max) out.shift();
    t = nextInstant(cron, t);
  }
  return out;
}

function dayNumber(token: string): number {
  const upper = token.toUpperCase();
  const named = DAY_NAMES.indexOf(upper as (typeof DAY_NAMES)[number]);
  if (named >= 0) return named;
  const n = Number(token);
  if (!Number.isInteger(n) || n < 0 || n > 7) throw invalid("cron", `day-of-week '${token}' is not a day`);
  return n % 7;
}

/** The day-of-week field in EventBridge's syntax (1-7 = SUN-SAT), as names where it can. */
function eventBridgeDays(field: string): string {
  const days = new Set<number>();
  for (const item of field.split(",")) {
    const special = /^(\w+)(#\d|L)$/i.exec(item);
    if (special) {
      // EventBridge numbers days 1-7 from Sunday: last Friday is 6L, the second Monday 2#2.
      return `${dayNumber(special[1] as string) + 1}${(special[2] as string).toUpperCase()}`;
    }
    const m = /^(\*|\w+)(?:-(\w+))?(?:\/(\d+))?$/.exec(item);
    if (!m) throw invalid("cron", `day-of-week '${field}' is not supported`);
    const step = m[3] ? Number(m[3]) : 1;
    let from = 0;
    let to = 6;
    if (m[1] !== "*") {
      from = dayNumber(m[1] as string);
      to = m[2] ? dayNumber(m[2] as string) : m[3] ? 6 : from;
      // "5-7" is Friday to Sunday: 7 counts as the end of the week there.
      if (m[2] && to === 0 && m[2] === "7") to = 7;
    }
    for (let d = from; d <= to; d += step) days.add(d % 7);
  }
  if (days.size === 7) return "?";
  return [...days]
    .sort((a, b) => a - b)
    .map((d) => DAY_NAMES[d])
    .join(",");
}

/** The schedule expression for EventBridge Scheduler: `cron(min hour dom month dow *)`, with '?' where it needs one. */
export function toEventBridgeCron(expr: string): string {
  const [minute, hour, dom, month, dow] = fieldsOf(expr) as [string, string, string, string, string];
  const days = restricted(dow) ? eventBridgeDays(dow) : "?";
  const dayOfMonth = days === "?" ? (dom === "?" ? "*" : dom) : "?";
  return `cron(${minute} ${hour} ${dayOfMonth} ${month} ${days} *)`;
}
