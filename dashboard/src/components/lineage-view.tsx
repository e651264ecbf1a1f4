// The lineage graph of a run: parameters and files flowing through tasks, laid out like the DAG.
import { useMemo } from "preact/hooks";
import { edgePath, layoutGraph } from "../dag-layout.ts";
import { useMediaQuery } from "../hooks.ts";
import type { Lineage, LineageNode } from "../types.ts";

/** What to print on a lineage node: a name the server gave, else the id without its kind prefix. */
export function lineageLabel(n: LineageNode): string {
  for (const key of ["label", "name", "path", "nodeId"] as const) {
    const v = n[key];
    if (typeof v === "string" && v) return v;
  }
  const prefix = `${n.kind}:`;
  return n.id.startsWith(prefix) ? n.id.slice(prefix.length) : n.id;
}

export function LineageView({ lineage }: { lineage: Lineage }) {
  const narrow = useMediaQuery("(max-width: 640px)");
  const layout = useMemo(
    () =>
      layoutGraph(
        lineage.nodes.map((n) => ({ id: n.id, label: lineageLabel(n), sublabel: n.kind })),
        lineage.edges,
        { direction: narrow ? "TB" : "LR", nodeHeight: 44, minNodeWidth: 110 },
      ),
    [lineage, narrow],
  );
  const kinds = new Map(lineage.nodes.map((n) => [n.id, n.kind]));
  return (
    <figure class="graph-scroll" aria-label={`Lineage: ${lineage.nodes.length} nodes, ${lineage.edges.length} links`}>
      <svg
        class="dag lineage"
        width={layout.width}
        height={layout.height}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
      >
        <title>Lineage of the run</title>
        <defs>
          <marker id="lin-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
          </marker>
        </defs>
        {layout.edges.map((e) => (
          <path key={`${e.from}->${e.to}`} d={edgePath(e.points)} class="dag-edge" marker-end="url(#lin-arrow)" />
        ))}
        {layout.nodes.map((n) => {
          const kind = kinds.get(n.id) ?? "task";
          const maxChars = Math.floor((n.width - 20) / 7.4);
          const label = n.label.length > maxChars ? `…${n.label.slice(-(maxChars - 1))}` : n.label;
          return (
            <g key={n.id} class={`lin-node lin-${kind}`} transform={`translate(${n.x},${n.y})`} data-kind={kind}>
              <title>{`${kind}: ${n.label}`}</title>
              <rect
                width={n.width}
                height={n.height}
                rx={kind === "parameter" ? n.height / 2 : kind === "file" ? 3 : 8}
              />
              <text class="lin-kind" x={n.width / 2} y="16" text-anchor="middle">
                {kind}
              </text>
              <text class="lin-label" x={n.width / 2} y="33" text-anchor="middle">
                {label}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
