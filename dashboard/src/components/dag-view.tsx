// The workflow DAG as SVG, laid out by dagre. Nodes are coloured by their task status on a run page and
// are keyboard-selectable buttons, so a node's logs and evidence are one Enter away.
import { useMemo } from "preact/hooks";
import { definitionGraph, edgePath, type LaidOutNode, layoutGraph } from "../dag-layout.ts";
import { humanize } from "../format.ts";
import { useMediaQuery } from "../hooks.ts";

export interface DagNode {
  id: string;
  type: string;
  needs?: string[];
}

const TYPE_GLYPH: Record<string, string> = {
  script: "ƒ",
  command: "$",
  approval: "✓",
  input: "✎",
  wait: "◷",
};

export function DagView({
  nodes,
  statuses,
  selected,
  onSelect,
  label,
}: {
  nodes: DagNode[];
  statuses?: Record<string, string>;
  selected?: string | undefined;
  onSelect?: (nodeId: string) => void;
  label: string;
}) {
  // On a phone the graph must fit the width: whichever direction gives the narrower drawing (top-to-bottom
  // for a chain, left-to-right for wide parallel branches) is drawn, then scaled down to the screen's width.
  const narrow = useMediaQuery("(max-width: 640px)");
  const layout = useMemo(() => {
    const g = definitionGraph(nodes);
    if (!narrow) return layoutGraph(g.nodes, g.edges, { direction: "LR", nodeHeight: 52, minNodeWidth: 150 });
    const options = { nodeHeight: 52, minNodeWidth: 110, maxNodeWidth: 200 };
    const tb = layoutGraph(g.nodes, g.edges, { ...options, direction: "TB" });
    const lr = layoutGraph(g.nodes, g.edges, { ...options, direction: "LR" });
    return lr.width < tb.width ? lr : tb;
  }, [nodes, narrow]);

  if (nodes.length === 0) return <p class="muted">This workflow has no nodes.</p>;
  return (
    <figure class="graph-scroll" aria-label={label}>
      <svg
        class={narrow ? "dag dag-fit" : "dag"}
        width={narrow ? undefined : layout.width}
        height={narrow ? undefined : layout.height}
        style={narrow ? { maxWidth: `${layout.width}px` } : undefined}
        viewBox={`0 0 ${layout.width} ${layout.height}`}
        data-width={layout.width}
      >
        <title>{label}</title>
        <defs>
          <marker id="dag-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
          </marker>
        </defs>
        <g>
          {layout.edges.map((e) => (
            <path
              key={`${e.from}->${e.to}`}
              d={edgePath(e.points)}
              class={`dag-edge${statuses?.[e.from] === "succeeded" ? " dag-edge-done" : ""}`}
              marker-end="url(#dag-arrow)"
            />
          ))}
        </g>
        {layout.nodes.map((n) => {
          const status = statuses?.[n.id];
          const isSelected = selected === n.id;
          const className = `dag-node status-${status ?? "none"}${isSelected ? " is-selected" : ""}`;
          const name = `${n.id}, ${n.sublabel}${status ? `, ${humanize(status)}` : ""}`;
          const transform = `translate(${n.x},${n.y})`;
          const shape = <NodeShape node={n} status={status} />;
          if (!onSelect) {
            return (
              <g key={n.id} class={className} transform={transform} data-node={n.id} data-status={status}>
                {shape}
              </g>
            );
          }
          return (
            // biome-ignore lint/a11y/useSemanticElements: SVG has no <button>; role, tabIndex and Enter/Space make one
            <g
              key={n.id}
              class={`${className} is-interactive`}
              transform={transform}
              data-node={n.id}
              data-status={status}
              role="button"
              // Lower case on purpose: Preact sets SVG attributes verbatim, and SVG only knows "tabindex".
              tabindex={0}
              aria-pressed={isSelected}
              aria-label={name}
              onClick={() => onSelect(n.id)}
              onKeyDown={(e: KeyboardEvent) => {
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  onSelect(n.id);
                }
              }}
            >
              {shape}
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

function NodeShape({ node: n, status }: { node: LaidOutNode; status: string | undefined }) {
  const maxChars = Math.floor((n.width - 40) / 7.4);
  const name = n.label.length > maxChars ? `${n.label.slice(0, Math.max(1, maxChars - 1))}…` : n.label;
  // The type is carried by the glyph and the tooltip; the second line is for the status.
  const sub = status ? humanize(status) : (n.sublabel ?? "");
  return (
    <>
      <title>{`${n.id} (${n.sublabel})${status ? ` — ${humanize(status)}` : ""}`}</title>
      <rect class="dag-node-box" width={n.width} height={n.height} rx="8" />
      <rect class="dag-node-stripe" width="5" height={n.height} rx="2" />
      <text class="dag-node-glyph" x="18" y={n.height / 2 + 5} text-anchor="middle">
        {TYPE_GLYPH[n.sublabel ?? ""] ?? "•"}
      </text>
      <text class="dag-node-label" x="30" y={n.height / 2 - 3}>
        {name}
      </text>
      <text class="dag-node-sub" x="30" y={n.height / 2 + 13}>
        {sub.length > maxChars + 4 ? `${sub.slice(0, maxChars + 3)}…` : sub}
      </text>
    </>
  );
}
