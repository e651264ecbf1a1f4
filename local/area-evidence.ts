import { wireEvidence } from "../shared/evidence/evidence-service.ts";
import type { LocalAreaWiring } from "./area-wiring.ts";

/** Embedded-mode wiring of the evidence area: run files in and out of tasks, and the root sealed when a run ends. */
export const wire: LocalAreaWiring = async (deps) => {
  wireEvidence(deps);
  return {};
};
