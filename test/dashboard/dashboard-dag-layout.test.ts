import { describe, expect, it } from "vitest";
import { definitionGraph, edgePath, layoutGraph } from "../../dashboard/src/dag-layout.ts";

const nodes = [
  { id: "extract", type: "script" },
  { id: "render", type: "command", needs: ["extract"] },
  { id: "check", type: "script", needs: ["extract"] },
  { id: "sign-off", type: "approval", needs: ["render", "check"] },
];

describe("definitionGraph", () => {
  it("turns each needs entry into an edge from the needed node", () => {
    const g = definitionGraph(nodes);
    expect(g.nodes.map((n) => [n.id, n.sublabel])).toEqual([
      ["extract", "script"],
      ["render", "command"],
      ["check", "script"],
      ["sign-off", "approval"],
    ]);
    expect(g.edges).toEqual([
      { from: "extract", to: "render" },
      { from: "extract", to: "check" },
      { from: "render", to: "sign-off" },
      { from: "check", to: "sign-off" },
    ]);
  });
});

describe("layoutGraph", () => {
  it("lays a DAG out left to right: every edge goes from a left node to a right one", () => {
    const g = definitionGraph(nodes);
    const layout = layoutGraph(g.nodes, g.edges, { direction: "LR" });
    const byId = new Map(layout.nodes.map((n) => [n.id, n]));
    for (const e of layout.edges) {
      const from = byId.get(e.from);
      const to = byId.get(e.to);
      expect(from && to && from.x + from.width <= to.x).toBe(true);
      expect(e.points.length).toBeGreaterThanOrEqual(2);
    }
    // Parallel branches sit side by side, not on top of each other.
    expect(byId.get("render")?.x).toBe(byId.get("check")?.x);
    expect(byId.get("render")?.y).not.toBe(byId.get("check")?.y);
  });

  it("fits every node inside the reported size", () => {
    const g = definitionGraph(nodes);
    const layout = layoutGraph(g.nodes, g.edges, { direction: "TB" });
    for (const n of layout.nodes) {
      expect(n.x).toBeGreaterThanOrEqual(0);
      expect(n.y).toBeGreaterThanOrEqual(0);
      expect(n.x + n.width).toBeLessThanOrEqual(layout.width);
      expect(n.y + n.height).toBeLessThanOrEqual(layout.height);
    }
  });

  it("sizes nodes to their labels within bounds", () => {
    const layout = layoutGraph(
      [
        { id: "a", label: "a" },
        { id: "b", label: "a-very-long-node-identifier-that-goes-on-and-on-and-on" },
      ],
      [],
      { minNodeWidth: 100, maxNodeWidth: 200 },
    );
    expect(layout.nodes[0]?.width).toBe(100);
    expect(layout.nodes[1]?.width).toBe(200);
  });

  it("drops edges to unknown nodes and handles an empty graph", () => {
    const layout = layoutGraph([{ id: "a", label: "a" }], [{ from: "ghost", to: "a" }]);
    expect(layout.edges).toEqual([]);
    expect(layoutGraph([], [])).toEqual({ width: 0, height: 0, nodes: [], edges: [] });
  });
});

describe("edgePath", () => {
  it("draws lines and smooth curves through dagre's points", () => {
    expect(edgePath([])).toBe("");
    expect(
      edgePath([
        { x: 0, y: 0 },
        { x: 10, y: 5 },
      ]),
    ).toBe("M0,0 L10,5");
    expect(
      edgePath([
        { x: 0, y: 0 },
        { x: 10, y: 0 },
        { x: 20, y: 10 },
      ]),
    ).toBe("M0,0 Q10,0 15,5 L20,10");
  });
});
