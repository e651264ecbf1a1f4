// Pure formatting helpers: no I/O, no clock, no environment, so every output shape is unit-testable.

const ESC = "\u001b";

export type Color = "red" | "green" | "yellow" | "blue" | "magenta" | "cyan" | "dim" | "bold";

const SGR: Record<Color, [number, number]> = {
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  dim: [2, 22],
  bold: [1, 22],
};

/** Wraps text in an ANSI colour when enabled; returns it unchanged otherwise. */
export function paint(text: string, color: Color | null, enabled: boolean): string {
  if (!enabled || color === null || text === "") return text;
  const [open, close] = SGR[color];
  return `${ESC}[${open}m${text}${ESC}[${close}m`;
}

/** Removes ANSI SGR sequences (ESC [ … m). */
export function stripAnsi(text: string): string {
  if (!text.includes(ESC)) return text;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ESC && text[i + 1] === "[") {
      let j = i + 2;
      while (j < text.length && text[j] !== "m") j++;
      i = j;
      continue;
    }
    out += text[i];
  }
  return out;
}

/** The width a string takes on a terminal, ignoring colour codes. */
export const visibleWidth = (text: string): number => [...stripAnsi(text)].length;

const STATUS_COLORS: Record<string, Color> = {
  succeeded: "green",
  completed: "green",
  approved: "green",
  created: "green",
  failed: "red",
  rejected: "red",
  running: "cyan",
  in_progress: "cyan",
  awaiting_approval: "yellow",
  awaiting_input: "yellow",
  no_action: "magenta",
  queued: "dim",
  pending: "dim",
  skipped: "dim",
  cancelled: "dim",
  unchanged: "dim",
};

/** The colour a run, task or job-run status is shown in. */
export const statusColor = (status: string): Color | null => STATUS_COLORS[status] ?? null;

/** A status word, coloured when colour is enabled. */
export const formatStatus = (status: string, color: boolean): string => paint(status, statusColor(status), color);

/** Terminal run statuses: a run in one of these never changes again. */
export const TERMINAL_RUN_STATUSES: readonly string[] = ["succeeded", "no_action", "failed", "cancelled"];
/** Terminal job-run statuses. */
export const TERMINAL_JOB_RUN_STATUSES: readonly string[] = ["completed", "failed", "cancelled"];

/** Formats milliseconds compactly: `850ms`, `1.2s`, `3m04s`, `2h05m`, `3d04h`; `-` when unknown. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.floor(ms)}ms`;
  // Truncate rather than round so 59.96 s never shows as "60.0s".
  if (ms < 60_000) return `${(Math.floor(ms / 100) / 10).toFixed(1)}s`;
  const seconds = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${two(seconds % 60)}s`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h${two(Math.floor((seconds % 3600) / 60))}m`;
  return `${Math.floor(seconds / 86_400)}d${two(Math.floor((seconds % 86_400) / 3600))}h`;
}

/** Milliseconds between two ISO timestamps; `end` defaults to `nowMs`. Null when the start is unknown. */
export function elapsedMs(
  start: string | null | undefined,
  end: string | null | undefined,
  nowMs?: number,
): number | null {
  if (!start) return null;
  const from = Date.parse(start);
  const to = end ? Date.parse(end) : nowMs;
  if (to === undefined || Number.isNaN(from) || Number.isNaN(to)) return null;
  return Math.max(0, to - from);
}

/** `2026-11-21T10:00:00.123456Z` → `2026-11-21 10:00:00Z`; `-` when absent. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "-";
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(iso);
  return m ? `${m[1]} ${m[2]}Z` : iso;
}

/** `sha256:<64 hex>` → `sha256:<first 12 hex>` for tables. */
export function shortHash(hash: string | null | undefined): string {
  if (!hash) return "-";
  return hash.startsWith("sha256:") && hash.length > 19 ? hash.slice(0, 19) : hash;
}

/** Shows any value on one line: strings as is, everything else as compact JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined || value === null) return "-";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Cuts text to `max` visible characters, ending with `…` when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return max <= 1 ? "…" : `${chars.slice(0, max - 1).join("")}…`;
}

/** Cuts text to `max` visible characters keeping colour codes intact, so a terminal line never wraps. */
export function fitWidth(text: string, max: number): string {
  if (visibleWidth(text) <= max) return text;
  let out = "";
  let shown = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ESC && text[i + 1] === "[") {
      const end = text.indexOf("m", i);
      if (end < 0) break;
      out += text.slice(i, end + 1);
      i = end;
      continue;
    }
    if (shown >= max - 1) break;
    const cp = text.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    out += ch;
    i += ch.length - 1;
    shown++;
  }
  return `${out}…${text.includes(ESC) ? `${ESC}[0m` : ""}`;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: "left" | "right";
}

/** Renders rows as an aligned table with an upper-case header; the last column is never padded. */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], gap = 2): string[] {
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const headers = columns.map((c) => c.header.toUpperCase());
  const widths = columns.map((_, i) =>
    Math.max(visibleWidth(headers[i] ?? ""), ...cells.map((r) => visibleWidth(r[i] ?? ""))),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => {
        const last = i === values.length - 1;
        const pad = " ".repeat(Math.max(0, (widths[i] ?? 0) - visibleWidth(v)));
        if (columns[i]?.align === "right") return pad + v;
        return last ? v : v + pad;
      })
      .join(" ".repeat(gap))
      .trimEnd();
  return [line(headers), ...cells.map(line)];
}

/** Renders `key  value` lines with the keys aligned; entries whose value is undefined are left out. */
export function renderKeyValues(entries: ReadonlyArray<readonly [string, string | undefined]>): string[] {
  const shown = entries.filter((e): e is readonly [string, string] => e[1] !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => visibleWidth(k)));
  return shown.map(([k, v]) => `${k}${" ".repeat(width - visibleWidth(k))}  ${v}`.trimEnd());
}

export interface StepNode {
  id: string;
  needs?: readonly string[];
}

export interface TreeLine {
  id: string;
  /** Box-drawing prefix to print before the id. */
  prefix: string;
  /** Needs other than the parent the node is drawn under. */
  alsoNeeds: string[];
}

/**
 * Lays a DAG out as a tree: each node is drawn under the need that finishes last on the longest path
 * (ties go to the need defined last), and its other needs are listed in `alsoNeeds`.
 * Siblings keep definition order.
 */
export function layoutStepTree(nodes: readonly StepNode[]): TreeLine[] {
  const index = new Map(nodes.map((n, i) => [n.id, i]));
  const depth = new Map<string, number>();
  const depthOf = (id: string, seen: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    const node = nodes[index.get(id) ?? -1];
    // A cycle or an unknown id would loop forever; the server rejects both, but stay safe.
    if (!node || seen.has(id)) return 0;
    seen.add(id);
    const needs = (node.needs ?? []).filter((n) => index.has(n));
    const d = needs.length ? 1 + Math.max(...needs.map((n) => depthOf(n, seen))) : 0;
    seen.delete(id);
    depth.set(id, d);
    return d;
  };

  const parent = new Map<string, string>();
  for (const node of nodes) {
    let best: string | undefined;
    for (const need of node.needs ?? []) {
      if (!index.has(need) || need === node.id) continue;
      if (best === undefined) {
        best = need;
        continue;
      }
      const a = depthOf(need, new Set());
      const b = depthOf(best, new Set());
      if (a > b || (a === b && (index.get(need) ?? 0) > (index.get(best) ?? 0))) best = need;
    }
    if (best !== undefined) parent.set(node.id, best);
  }

  const children = new Map<string, StepNode[]>();
  const roots: StepNode[] = [];
  for (const node of nodes) {
    const p = parent.get(node.id);
    if (p === undefined) roots.push(node);
    else children.set(p, [...(children.get(p) ?? []), node]);
  }

  const lines: TreeLine[] = [];
  const placed = new Set<string>();
  const visit = (node: StepNode, lead: string, branch: string) => {
    if (placed.has(node.id)) return;
    placed.add(node.id);
    const p = parent.get(node.id);
    lines.push({ id: node.id, prefix: lead + branch, alsoNeeds: (node.needs ?? []).filter((n) => n !== p) });
    const kids = children.get(node.id) ?? [];
    const childLead = branch === "" ? lead : lead + (branch === "└─ " ? "   " : "│  ");
    for (const [i, kid] of kids.entries()) visit(kid, childLead, i === kids.length - 1 ? "└─ " : "├─ ");
  };
  for (const root of roots) visit(root, "", "");
  // Anything unreachable from a root (only possible with a cycle) still gets a line.
  for (const node of nodes) visit(node, "", "");
  return lines;
}

/** The label of a tree line: prefix, id and the extra needs it waits for. */
export const treeLabel = (line: TreeLine): string =>
  `${line.prefix}${line.id}${line.alsoNeeds.length ? ` (also needs ${line.alsoNeeds.join(", ")})` : ""}`;

export interface StepRow {
  id: string;
  type: string;
  status: string;
  attempt: number | null;
  durationMs: number | null;
  exitCode: number | null;
  needs?: readonly string[];
}

/** The step table of a run: nodes drawn as a tree under their needs, with status, attempt, duration and exit code. */
export function renderStepTable(steps: readonly StepRow[], color: boolean): string[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const tree = layoutStepTree(steps);
  return renderTable(tree, [
    { header: "node", value: (l) => treeLabel(l) },
    { header: "type", value: (l) => byId.get(l.id)?.type ?? "-" },
    { header: "status", value: (l) => formatStatus(byId.get(l.id)?.status ?? "-", color) },
    { header: "attempt", value: (l) => formatValue(byId.get(l.id)?.attempt), align: "right" },
    { header: "duration", value: (l) => formatDuration(byId.get(l.id)?.durationMs), align: "right" },
    { header: "exit", value: (l) => formatValue(byId.get(l.id)?.exitCode), align: "right" },
  ]);
}

/** One line per node for the live progress view: tree label, status and duration. */
export function renderProgressLines(steps: readonly StepRow[], color: boolean): string[] {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const tree = layoutStepTree(steps);
  const rows = renderTable(tree, [
    { header: "", value: (l) => treeLabel(l) },
    { header: "", value: (l) => formatStatus(byId.get(l.id)?.status ?? "-", color) },
    { header: "", value: (l) => formatDuration(byId.get(l.id)?.durationMs) },
  ]);
  return rows.slice(1).map((r) => `  ${r}`);
}

/** `{"rows": {"type": "number", "value": 3}}` → `rows=3`, the run context on one line. */
export function formatContext(context: Record<string, unknown> | null | undefined): string | undefined {
  if (!context) return undefined;
  const parts = Object.entries(context).map(([k, v]) => {
    const value = v !== null && typeof v === "object" && "value" in v ? (v as { value: unknown }).value : v;
    return `${k}=${formatValue(value)}`;
  });
  return parts.length ? parts.join(" ") : undefined;
}

/** `{day: "x", limit: 3}` → `day=x limit=3`. */
export function formatParameters(params: Record<string, unknown> | null | undefined): string | undefined {
  if (!params) return undefined;
  const parts = Object.entries(params).map(([k, v]) => `${k}=${formatValue(v)}`);
  return parts.length ? parts.join(" ") : undefined;
}
