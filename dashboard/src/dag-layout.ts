// Graph layout with dagre, kept free of any rendering so it can be unit tested and reused for both the
// workflow DAG and the lineage graph.
import dagre from "@dagrejs/dagre";

export interface GraphNodeInput {
  id: string;
  label: string;
  /** A second, smaller line (the node type, a file size). */
  sublabel?: string;
}

export interface GraphEdgeInput {
  from: string;
  to: string;
}

export interface LaidOutNode extends GraphNodeInput {
  /** Top-left corner, unlike dagre which reports centres. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutEdge extends GraphEdgeInput {
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
}

export interface LayoutOptions {
  direction?: "LR" | "TB";
  nodeHeight?: number;
  /** Width estimate per character of the label; SVG text cannot be measured before it is drawn. */
  charWidth?: number;
  minNodeWidth?: number;
  maxNodeWidth?: number;
  margin?: number;
}

/** Width that fits a node's label and sublabel, estimated from character counts. */
export function nodeWidth(node: GraphNodeInput, o: Required<LayoutOptions>): number {
  const chars = Math.max(node.label.length, (node.sublabel?.length ?? 0) * 0.85);
  return Math.min(o.maxNodeWidth, Math.max(o.minNodeWidth, Math.ceil(chars * o.charWidth) + 28));
}

/** Lays out a directed graph; edges to unknown nodes are dropped rather than invented. */
export function layoutGraph(
  nodes: GraphNodeInput[],
  edges: GraphEdgeInput[],
  options: LayoutOptions = {},
): GraphLayout {
  const o: Required<LayoutOptions> = {
    direction: "LR",
    nodeHeight: 48,
    charWidth: 7.4,
    minNodeWidth: 96,
    maxNodeWidth: 240,
    margin: 16,
    ...options,
  };
  if (nodes.length === 0) return { width: 0, height: 0, nodes: [], edges: [] };
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({
    rankdir: o.direction,
    nodesep: o.direction === "LR" ? 20 : 28,
    ranksep: o.direction === "LR" ? 48 : 40,
    marginx: o.margin,
    marginy: o.margin,
  });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  for (const n of nodes) {
    ids.add(n.id);
    g.setNode(n.id, { width: nodeWidth(n, o), height: o.nodeHeight });
  }
  const kept = edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to);
  for (const e of kept) g.setEdge(e.from, e.to);
  dagre.layout(g);

  const laidOut: LaidOutNode[] = nodes.map((n) => {
    const l = g.node(n.id) as { x: number; y: number; width: number; height: number };
    return { ...n, x: l.x - l.width / 2, y: l.y - l.height / 2, width: l.width, height: l.height };
  });
  const laidEdges: LaidOutEdge[] = kept.map((e) => {
    const l = g.edge(e.from, e.to) as { points?: { x: number; y: number }[] } | undefined;
    return { ...e, points: l?.points ?? [] };
  });
  const graph = g.graph() as { width?: number; height?: number };
  const width = graph.width ?? Math.max(0, ...laidOut.map((n) => n.x + n.width)) + o.margin;
  const height = graph.height ?? Math.max(0, ...laidOut.map((n) => n.y + n.height)) + o.margin;
  return { width: Math.ceil(width), height: Math.ceil(height), nodes: laidOut, edges: laidEdges };
}

/** Nodes and edges of a workflow definition: an edge from each `needs` entry to the node needing it. */
export function definitionGraph(nodes: readonly { id: string; type: string; needs?: string[] }[]): {
  nodes: GraphNodeInput[];
  edges: GraphEdgeInput[];
} {
  return {
    nodes: nodes.map((n) => ({ id: n.id, label: n.id, sublabel: n.type })),
    edges: nodes.flatMap((n) => (n.needs ?? []).map((need) => ({ from: need, to: n.id }))),
  };
}

/** An SVG path through dagre's edge points, smoothed with quadratic curves through the midpoints. */
export function edgePath(points: readonly { x: number; y: number }[]): string {
  const [first, ...rest] = points;
  if (!first) return "";
  if (rest.length === 0) return `M${r(first.x)},${r(first.y)}`;
  if (rest.length === 1) return `M${r(first.x)},${r(first.y)} L${r(rest[0]!.x)},${r(rest[0]!.y)}`;
  let d = `M${r(first.x)},${r(first.y)}`;
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i]!;
    const next = rest[i + 1]!;
    d += ` Q${r(p.x)},${r(p.y)} ${r((p.x + next.x) / 2)},${r((p.y + next.y) / 2)}`;
  }
  const last = rest[rest.length - 1]!;
  return `${d} L${r(last.x)},${r(last.y)}`;
}

const r = (n: number): string => String(Math.round(n * 10) / 10);
